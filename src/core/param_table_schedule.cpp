#include "core/param_table_parts.h"

namespace dw {

void add_schedule_params(std::vector<ParamSpec>& /*table*/) {}

}  // namespace dw
