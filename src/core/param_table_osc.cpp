#include "core/param_table_parts.h"

namespace dw {

void add_osc_params(std::vector<ParamSpec>& /*table*/) {}

}  // namespace dw
