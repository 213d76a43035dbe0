#pragma once
// The sweep's proven lower bound on a plan's simulated step (docs/sweep.md "Pruning"): from the
// plan and the cost model alone, without simulating, per chip (its layers, a decoder's embedding
// or LM head, its sync waits, every task's first FSDP gather, data-axis collectives over the NICs
// where a group spans nodes), the pipeline's fill and drain on the last chip, and the bytes each
// chip must send over its links at the rates the step runs them.
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/network/topology.hpp"
#include "sim/plan/memory.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim::sweep {

// A proven lower bound on simulate_step(...).step_time_s (docs/sweep.md "Pruning"): the chip's
// compute stream is serial, so the step is at least its busy time plus the waits that nothing can
// overlap, and at least the time its links need to carry the bytes it must send.
struct StepBound {
  double compute_s = 0;        // the bounding chip's compute stream busy time (ops of the cost
                               // model, as simulated; the optimizer update only without a
                               // pipeline)
  double blocking_comm_s = 0;  // sync model-axis collectives, first FSDP gathers of every task,
                               // a decoder's head gathers, last gradients, the pipeline fill
                               // and drain
  double fill_s = 0;           // the pipeline fill's share of blocking_comm_s (the last chip
                               // waits for microbatch 0's forward through the stages before it)
  double drain_s = 0;          // the pipeline drain's share of blocking_comm_s
  double nic_s = 0;            // ring steps' NIC time (with a topology; link_s is at least it)
  double link_s = 0;           // bytes the chip must send / all its egress bandwidth
  double step_s = 0;           // max(compute + blocking, link) less a rounding margin
};
// `topology` (build_topology of the plan), when given, adds the NIC time of collective-matmul
// ring steps between NVLink nodes (execution::model_ring_nic_bound_s) to the link bound.
StepBound step_lower_bound(const ModelConfig& model, const HardwareProfile& hardware,
                           const Plan& plan, const MemoryBreakdown& memory,
                           const network::Topology* topology = nullptr);

}  // namespace meshsim::sweep
