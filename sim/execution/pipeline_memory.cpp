#include "sim/execution/pipeline_memory.hpp"

#include <algorithm>

#include "sim/execution/pipeline_schedule.hpp"

namespace meshsim::execution {

std::vector<MemoryBreakdown> stage_memories(const ModelConfig& model,
                                            const HardwareProfile& hardware, const Plan& plan) {
  const std::int64_t p = plan.mesh.pipeline, v = plan.virtual_stages;
  if (p == 1)
    return {memory_per_chip(model, hardware, plan)};
  const auto layers = stage_layers(plan, model.depth);
  std::vector<MemoryBreakdown> out;
  for (std::int64_t s = 0; s < p; ++s) {
    StageShare share;
    std::vector<std::int64_t> chunk(static_cast<std::size_t>(v));
    for (std::int64_t c = 0; c < v; ++c) {
      chunk[static_cast<std::size_t>(c)] = layers[static_cast<std::size_t>(c * p + s)];
      share.layers += chunk[static_cast<std::size_t>(c)];
    }
    // Layers held at the worst moment: each forward adds its chunk's layers until its backward.
    double now = 0;
    for (const auto& task : pipeline_order(plan.schedule, p, plan.microbatches, v, s)) {
      const auto n = static_cast<double>(chunk[static_cast<std::size_t>(task.chunk)]);
      now += task.backward ? -n : n;
      share.in_flight_layers = std::max(share.in_flight_layers, now);
    }
    share.first = s == 0;
    share.last = s == p - 1;
    out.push_back(memory_per_stage(model, hardware, plan, share));
  }
  return out;
}

MemoryBreakdown largest_stage_memory(const ModelConfig& model, const HardwareProfile& hardware,
                                     const Plan& plan) {
  const auto all = stage_memories(model, hardware, plan);
  std::size_t best = 0;
  for (std::size_t i = 1; i < all.size(); ++i) {
    if (all[i].total_bytes > all[best].total_bytes)
      best = i;
  }
  return all[best];
}

}  // namespace meshsim::execution
