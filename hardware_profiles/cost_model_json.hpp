#pragma once
// Internal (include from .cpp only): reads a profile's "cost_model" object.
#include "common/json_fields.hpp"
#include "hardware_profiles/cost_model.hpp"

namespace meshsim {

// Fields: matmul_efficiency (0, 1], memory_efficiency (0, 1], kernel_overhead ("5 us", a time).
CostModel parse_cost_model(JsonObject& object);

}  // namespace meshsim
