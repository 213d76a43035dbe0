#pragma once
// One training step of a plan, simulated on every chip of the physical machine (DESIGN §4
// "Execution", docs/execution.md). Each chip runs the same program (forward through every layer,
// backward, data-axis gradient sync, optimizer update) on one compute stream; sends go over the
// shared network, so model- and data-axis traffic contend where they share links. When the data
// replicas provably run alike, replica 0 is simulated chip by chip and stands for the others
// (docs/execution.md "Replica symmetry"); the results are those of every chip.
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/plan/memory.hpp"
#include "sim/plan/plan.hpp"
#include "sim/plan/sharding.hpp"

namespace meshsim::execution {

// Per linear of one layer (averaged over layers and microbatches, on the slowest chip).
struct LinearTiming {
  std::string name;
  std::string sharding;      // "row" / "column"
  std::string communicates;  // "all-gather input", "reduce-scatter output", "nothing"
  double forward_compute_s = 0, backward_compute_s = 0;
  double forward_comm_s = 0, backward_comm_s = 0;  // model-axis transfer time (busy, not exposed)
  double forward_exposed_s = 0, backward_exposed_s = 0;  // compute stream waiting on it
  double bytes_per_layer = 0;  // model-axis bytes this chip sends for it, forward + backward
};

struct AxisTraffic {
  double bytes_sent_per_chip = 0;  // average over chips
  double exposed_s = 0;            // on the slowest chip: compute stream stalled on this axis
};

// A chip's timeline, summed.
struct ChipBreakdown {
  std::int32_t chip = 0;
  std::int64_t data_index = 0, model_index = 0;
  double finish_s = 0;
  double compute_s = 0;  // busy compute stream (forward, backward, recompute, optimizer)
  double exposed_model_s = 0;
  double exposed_data_s = 0;
  double optimizer_s = 0;
  double recompute_s = 0;
};

struct TraceOptions {
  bool enabled = false;
  // The first N chips (mesh order) get tracks. When they all lie in replica 0, which replica
  // symmetry simulates chip by chip anyway, the symmetry stays on; more chips switch it off.
  int chips = 8;
};

struct TraceEvent {
  std::string name;       // "L3 fwd fused_in_proj", "L3 bwd send", "weights all-gather", ...
  std::string category;   // "compute", "model-comm", "data-comm", "wait"
  std::int32_t chip = 0;  // -1: the "links" process, `track` is then the link class
  // 0 compute stream, 1 model-axis sends, 2 model-axis collectives, 3 model-axis receives,
  // 4 data-axis collectives
  int track = 0;
  double start_s = 0, duration_s = 0;
  // What a person reading the trace needs (docs/execution.md "Trace"):
  std::int32_t layer = -1;  // -1: not one layer's (embedding, head, optimizer, step-level)
  std::int32_t microbatch = 0;
  const char* pass = "";   // "forward", "backward", "recompute", "optimizer"
  double bytes = 0;        // sends, receives, collectives (this chip's buffer)
  double flop = 0;         // compute
  std::int32_t peer = -1;  // sends: the receiving chip; receives: the sending chip
  std::uint64_t flow = 0;  // a send and its receive share this id (0: none)
};

// A traced chip and its place in the mesh (trace track labels).
struct TraceChip {
  std::int32_t chip = 0;  // physical id (the trace's pid)
  std::int64_t data = 0, model = 0;
  std::int64_t stage = -1;  // pipeline stage (-1: no pipeline)
};

// One pipeline stage (replica 0, model index 0), docs/execution.md "Pipeline parallelism".
struct PipelineStage {
  std::int64_t stage = 0;
  std::int64_t layers = 0;
  std::int64_t in_flight = 0;  // chunk-microbatches whose activations it holds at the worst moment
  double compute_s = 0;        // busy compute stream
  double bubble_s = 0;         // step - compute - exposed model/data-axis waits
  MemoryBreakdown memory;
};

struct PipelineResult {
  std::int64_t stages = 1;  // p
  std::string schedule;     // gpipe / 1f1b / interleaved
  std::int64_t virtual_stages = 1;
  std::int64_t microbatches = 1;
  double bubble_s = 0;               // mean over stages
  double bubble_fraction = 0;        // bubble_s / step time
  double ideal_bubble_fraction = 0;  // (p-1)/(m+p-1), interleaved (p-1)/(v m+p-1)
  double send_bytes_per_chip = 0;    // activations and gradients sent between stages
  double exposed_s = 0;  // slowest chip's compute stream waiting on its stage neighbours
  std::vector<PipelineStage> per_stage;
};

struct StepResult {
  double step_time_s = 0;
  std::int64_t chips = 0;
  std::int64_t global_batch = 0;
  std::int64_t microbatch_images = 0;  // per chip-group per microbatch
  double tokens_per_s = 0, images_per_s = 0;
  double tokens_per_s_per_chip = 0, images_per_s_per_chip = 0;
  double model_flop = 0;     // per step, all chips: train FLOP per token x tokens (DESIGN §1)
  double executed_flop = 0;  // per step, all chips: with recomputation
  double mfu = 0, hfu = 0;
  double compute_only_s = 0;  // one chip's compute stream busy time: the step with free links
  double lower_bound_s = 0;   // max(FLOP / peak, bytes / link bandwidth) per chip
  double compute_lower_bound_s = 0, comm_lower_bound_s = 0;
  AxisTraffic model_axis, data_axis;
  std::array<double, 4> bytes_per_link_class{};  // ici, nvlink, nic, leaf-spine (link crossings)
  std::array<double, 4> link_utilization{};      // busiest link of each class: busy / step time
  std::vector<LinearTiming> linears;
  double other_compute_per_layer_s = 0;  // norms, attention, GELU, residual: fwd + bwd per layer
  // Decoders: the embedding lookup, final norm, LM head and cross-entropy on the slowest chip,
  // forward and backward of the whole step (compute busy, and compute stalled on their model-axis
  // traffic); 0 for encoders.
  double lm_head_compute_s = 0, lm_head_exposed_s = 0;
  ChipBreakdown slowest;   // the critical chip
  std::string bottleneck;  // what dominates the slowest chip: compute / model-axis / data-axis
                           // communication, or the input pipeline
  // One chip's compute-stream busy time by cost component (indexed by FidelityComponent: matmul,
  // attention, memory-bound ops incl. the optimizer; the collectives and stack entries are 0).
  std::array<double, kFidelityComponents> component_busy_s{};
  double input_pipeline_s = 0;  // the stack's input time per image x images per chip per step
  MemoryBreakdown memory;       // with a pipeline: the stage that needs the most
  PipelineResult pipeline;      // stages == 1: no pipeline
  std::string topology;
  std::string mapping;
  std::uint64_t events = 0;
  std::int64_t transfers = 0;
  std::int64_t simulated_chips =
      0;                 // chips simulated one by one (all, replica 0's k, or a leaf group's)
  std::string symmetry;  // "on: ..." or "off: why" (docs/execution.md)
  // With symmetry: data-axis collectives (per group) taken from a memoized run alone on their
  // links, and those simulated transfer by transfer because they may overlap the next ones.
  std::int64_t memoized_data_collectives = 0, stepwise_data_collectives = 0;
  std::vector<TraceEvent> trace;
  std::vector<TraceChip> trace_chips;  // the traced chips, mesh order
};

struct StepOptions {
  // Simulate replica 0 alone when every data replica provably runs alike (docs/execution.md
  // "Replica symmetry"); false simulates every chip (`meshsim run --all-chips`).
  bool replica_symmetry = true;
  // On a GPU cluster whose replicas are not alike on links of their own, simulate the first leaf
  // group's replicas when the others are shifts of them by whole leaf groups (issue 15; false:
  // only the replica symmetry above, for tests comparing the two).
  bool leaf_group_symmetry = true;
  // On a GPU cluster, simulate only each model group's chip at model index 0 when turning every
  // model group one ring position maps the machine and the step onto themselves (issue 15,
  // docs/execution.md "Model-axis rotation"; false: off, for tests comparing the two).
  bool model_rotation = true;
  // Called once the step's limits are checked, before it simulates (from then on no bad-input
  // error can come): `meshsim run` lets its progress heartbeat speak only then.
  std::function<void()> checked;
};

// Simulates one step. `plan` must be finalized (finalize_plan) for `model` and `hardware`.
StepResult simulate_step(const ModelConfig& model, const HardwareProfile& hardware,
                         const Plan& plan, const TraceOptions& trace = {},
                         const StepOptions& options = {});

// The engine events simulate_step would take with replica symmetry (its own estimate, made after
// building the program and before running it), without simulating: what a sweep's work bound adds
// up. Throws the InputErrors simulate_step throws before simulating.
double estimate_step_events(const ModelConfig& model, const HardwareProfile& hardware,
                            const Plan& plan);

}  // namespace meshsim::execution
