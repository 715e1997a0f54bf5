// The parameter table's rows by area, one builder per file (param_table_<area>.cpp), called by
// build_table() in param_table.cpp in the order the sections appear in --print-config.
#pragma once

#include <vector>

#include "core/params.h"

namespace dw {

void add_remote_params(std::vector<ParamSpec>& table);    // remote.*   param_table_remote.cpp
void add_osc_params(std::vector<ParamSpec>& table);       // osc.*      param_table_osc.cpp
void add_service_params(std::vector<ParamSpec>& table);   // service.*  param_table_service.cpp
void add_schedule_params(std::vector<ParamSpec>& table);  // schedule.* param_table_schedule.cpp
void add_outputs_params(
    std::vector<ParamSpec>& table);                     // canvas.*, kiosk.* param_table_outputs.cpp
void add_record_params(std::vector<ParamSpec>& table);  // record.*   param_table_record.cpp
void add_kiosk_params(std::vector<ParamSpec>& table);   // kiosk.*    param_table_kiosk.cpp

}  // namespace dw
