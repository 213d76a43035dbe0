// The overloads that take the model's own linears and parameter counts (models/model.hpp).
// They live in their own file so that code holding the linears already needs nothing else.
#include "sim/plan/memory.hpp"
#include "sim/plan/plan.hpp"
#include "sim/plan/sharding.hpp"

namespace meshsim {

Plan finalize_plan(const Plan& plan, const ModelConfig& model, const HardwareProfile& hardware,
                   std::int64_t chips) {
  return finalize_plan(plan, model, layer_linears(model), hardware, chips);
}

std::vector<ResolvedLinear> resolve_sharding(const ModelConfig& model, const Plan& plan) {
  return resolve_sharding(layer_linears(model), plan);
}

MemoryBreakdown memory_per_chip(const ModelConfig& model, const HardwareProfile& hardware,
                                const Plan& plan) {
  return memory_per_chip(model, layer_linears(model), count_params(model), plan,
                         hardware.chip.hbm_bytes);
}

}  // namespace meshsim
