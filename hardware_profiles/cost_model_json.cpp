#include "hardware_profiles/cost_model_json.hpp"

namespace meshsim {

CostModel parse_cost_model(JsonObject& object) {
  CostModel cost;
  cost.matmul_efficiency = object.number("matmul_efficiency", 1e-3, 1.0);
  cost.memory_efficiency = object.number("memory_efficiency", 1e-3, 1.0);
  cost.kernel_overhead_s = object.quantity("kernel_overhead", QuantityKind::Time, 0.0, 1e-2);
  return cost;
}

}  // namespace meshsim
