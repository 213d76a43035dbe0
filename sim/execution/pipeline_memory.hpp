#pragma once
// Memory per pipeline stage of a finalized plan (docs/plans.md "Pipeline memory"): each stage's
// layers, embedding/LM head, and the activations its schedule holds at the worst moment.
#include <cstdint>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/plan/memory.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim::execution {

// One entry per stage (one, memory_per_chip, without a pipeline).
std::vector<MemoryBreakdown> stage_memories(const ModelConfig& model,
                                            const HardwareProfile& hardware, const Plan& plan);

// The stage that needs the most (what decides whether the plan fits).
MemoryBreakdown largest_stage_memory(const ModelConfig& model, const HardwareProfile& hardware,
                                     const Plan& plan);

}  // namespace meshsim::execution
