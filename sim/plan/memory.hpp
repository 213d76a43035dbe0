#pragma once
// Memory per chip of one training step under a plan (DESIGN §2; formulas and sources in
// docs/plans.md "Memory model"). Every figure is bytes on one chip.
#include <cstdint>
#include <string>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim {

// One transformer layer's parameters on a chip (its weight matrices, biases and norms, every
// layer alike, split k ways over the model axis), as bf16 weights and as gradients in the plan's
// gradient dtype: what FSDP gathers and reduce-scatters per layer.
struct LayerShard {
  double params = 0;
  double weight_bytes = 0;
  double gradient_bytes = 0;
};
LayerShard layer_shard(const ParamCounts& params, std::int64_t depth, const Plan& plan);
LayerShard layer_shard(const ModelConfig& model, const Plan& plan);  // count_params(model)
// Bytes of one gradient element: 4 (fp32) or 2 (bf16).
double gradient_element_bytes(const Plan& plan);

// The ops selective rematerialization recomputes before a layer's backward: those producing the
// tensors Remat::Selective does not keep (QkNorm, Softmax, AttentionOrGelu and the head splits
// around them; docs/plans.md "Activations"). The step runs them, the sweep's bound counts them.
const std::vector<std::string>& selective_recompute_ops();

// Fixed allowance for the runtime (XLA/CUDA context, collective and matmul workspaces,
// allocator fragmentation); see docs/plans.md.
inline constexpr double kRuntimeReserveBytes = 1024.0 * 1024.0 * 1024.0;

// What produced a kept tensor; the remat policy decides by it (docs/plans.md "Activations"):
// none keeps all, full keeps LayerInput only, selective keeps LayerInput, Residual, NormOutput and
// LinearOutput and recomputes QkNorm, Softmax and AttentionOrGelu.
enum class ActivationSource {
  LayerInput,
  Residual,
  NormOutput,
  LinearOutput,
  QkNorm,
  Softmax,
  AttentionOrGelu
};
const char* to_string(ActivationSource source);

// One tensor of a layer that the backward pass reads, per token of the chip's microbatch.
struct ActivationTensor {
  std::string name;  // "layer_input", "fused_in_proj.input", "softmax.output", ...
  ActivationSource source = ActivationSource::LayerInput;
  double elements_per_token = 0;  // on this chip (features split over the model axes)
  bool kept = true;               // kept from the forward pass for all layers (else recomputed)
  // Split along the tokens by sequence parallelism (1/k of the replicated layout's tensor).
  bool sequence_split = false;
};

struct MemoryBreakdown {
  double weights_bytes = 0;               // bf16 working copy of this chip's shard
  double weight_gather_buffer_bytes = 0;  // FSDP: gathered layers in flight (current + prefetch)
  // FSDP: gradients before their reduce-scatter: one layer's, or with grad_sync last and
  // microbatches > 1 every layer's model-shard gradient accumulated over the microbatches.
  double gradient_buffer_bytes = 0;
  double master_weights_bytes = 0;   // fp32 master copy (optional)
  double optimizer_state_bytes = 0;  // moments, by optimizer
  double gradients_bytes = 0;        // sharded like the optimizer state
  double activations_bytes = 0;      // kept for backward + one layer being recomputed
  double runtime_reserve_bytes = kRuntimeReserveBytes;
  double total_bytes = 0;
  double capacity_bytes = 0;  // the chip's HBM
  bool fits = false;
  double headroom_bytes = 0;  // capacity - total when it fits, else 0
  double overflow_bytes = 0;  // total - capacity when it does not fit, else 0

  // The quantities the figures were computed from.
  double params_per_chip = 0;          // parameters whose shard this chip owns
  std::int64_t microbatch_images = 0;  // images per microbatch on this chip
  std::int64_t microbatch_tokens = 0;
  double kept_bytes_per_layer = 0;       // activations kept across the step, per layer
  double recompute_bytes_one_layer = 0;  // rebuilt for the layer being back-propagated
  double lm_head_activation_bytes = 0;   // decoders: final norm input, LM head input, logits
  // Sequence parallelism: the activations the same plan without it needs, minus these.
  double sequence_parallel_saving_bytes = 0;
  std::vector<ActivationTensor> layer_activations;
};

// The tensors of one layer the backward pass needs and which of them the plan's remat policy keeps.
std::vector<ActivationTensor> layer_activations(const ModelConfig& model,
                                                const std::vector<Linear>& linears,
                                                const Plan& plan);

// `plan` must be finalized (finalize_plan). `params` from count_params(model).
MemoryBreakdown memory_per_chip(const ModelConfig& model, const std::vector<Linear>& linears,
                                const ParamCounts& params, const Plan& plan, double capacity_bytes);
// The same with layer_linears(model), count_params(model) and the hardware's HBM capacity.
MemoryBreakdown memory_per_chip(const ModelConfig& model, const HardwareProfile& hardware,
                                const Plan& plan);

// One pipeline stage's share (docs/plans.md "Pipeline memory"): its layers, the layers whose
// activations it holds at once under the schedule (layers of each chunk x the chunk-microbatches
// in flight at the worst moment), and whether it holds the embedding (first) and the LM head
// (last).
struct StageShare {
  std::int64_t layers = 0;
  double in_flight_layers = 0;
  bool first = true, last = true;
};

// Memory per chip of one pipeline stage of a finalized plan with mesh.pipeline > 1.
MemoryBreakdown memory_per_stage(const ModelConfig& model, const HardwareProfile& hardware,
                                 const Plan& plan, const StageShare& share);

}  // namespace meshsim
