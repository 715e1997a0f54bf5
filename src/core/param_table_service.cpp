#include "core/param_table_parts.h"

namespace dw {

void add_service_params(std::vector<ParamSpec>& /*table*/) {}

}  // namespace dw
