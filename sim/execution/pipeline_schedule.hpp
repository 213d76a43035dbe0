#pragma once
// Pipeline schedules (docs/execution.md "Pipeline parallelism"): the order in which each pipeline
// stage runs the forward and backward passes of its model chunks over the microbatches. Pure: no
// plan, no simulation.
//  GPipe (Huang et al. 2019, arXiv:1811.06965): every forward, then every backward.
//  1F1B (PipeDream-flush, Narayanan et al. 2021, arXiv:2006.09503): stage s runs p-s-1 warm-up
//   forwards, then alternates one forward and one backward, then the remaining backwards.
//  Interleaved 1F1B (Narayanan et al. SC'21, arXiv:2104.04473 §2.2; the order of Megatron-LM's
//   forward_backward_pipelining_with_interleaving): v model chunks per chip, microbatches in
//   groups of p, (p-s-1)*2 + (v-1)*p warm-up forwards.
#include <cstdint>
#include <vector>

#include "sim/plan/plan.hpp"

namespace meshsim::execution {

struct PipelineTask {
  std::int32_t chunk = 0;  // model chunk on this chip (0..v-1): virtual stage chunk * p + stage
  std::int32_t microbatch = 0;
  bool backward = false;
};

// Stage `stage`'s tasks in order; p stages, m microbatches, v chunks per chip (1 unless
// interleaved; interleaved needs m a multiple of p). Every (chunk, microbatch) appears once
// forward and once backward, the forward first.
std::vector<PipelineTask> pipeline_order(PipelineSchedule schedule, std::int64_t p, std::int64_t m,
                                         std::int64_t v, std::int64_t stage);

// The most (chunk, microbatch) forwards whose backward has not run yet, over the order: the
// activations a stage holds at once, in chunk-microbatches (docs/plans.md "Pipeline memory").
std::int64_t max_in_flight(const std::vector<PipelineTask>& order);

// The ideal bubble fraction of the step with uniform stages and free sends: (p-1)/(m+p-1),
// interleaved (p-1)/(v m + p - 1).
double ideal_bubble_fraction(PipelineSchedule schedule, std::int64_t p, std::int64_t m,
                             std::int64_t v);

}  // namespace meshsim::execution
