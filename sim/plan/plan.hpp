#pragma once
// A training plan (DESIGN §2, docs/plans.md): the logical mesh, how its axes lie on the physical
// topology, how every linear is sharded, and the execution and memory choices of one training step.
// Plans come from a plan JSON file (schema meshsim.plan/v1), from command-line flag values, or both
// (flags override the file); finalize_plan fills the defaults and rejects plans that cannot apply.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"

namespace meshsim {

// DESIGN §2's convention (y = A x, A is out x in): `row` all-gathers the input, `column`
// reduce-scatters the output, `auto` picks per linear the one that moves less (tie -> row).
enum class Sharding { Auto, Row, Column };
enum class Remat { None, Full, Selective };
enum class OptimizerKind { Adam, Adafactor, Sgd };
enum class GradientDtype { Bf16, Fp32 };
// The weight-gradient matmul of a linear whose input was all-gathered needs the gathered input
// again: keep it from the forward pass (memory) or all-gather it again (communication).
enum class WeightGradInput { Keep, Regather };
enum class MeshAxis { Data, Model1, Model2 };  // Model1 is "model" on a data x model mesh
// Attention kernels: batched matmuls + softmax (scores in HBM), or one fused FlashAttention kernel
// per pass (AttentionKernel lives in models/model.hpp: the op list depends on it).
// Where norms, residual and element-wise ops run on the model axis: on the D/k slice (ViT-22B:
// inputs all-gathered, outputs reduce-scattered) or on full-width activations replicated across
// the model axis (Megatron: outputs all-reduced, inputs already whole).
enum class ActivationLayout { Sharded, Replicated };
// FSDP gradient reduction with microbatches: reduce-scatter every layer's gradient after every
// microbatch (sharded accumulator), or accumulate the model-shard gradients of all layers and
// reduce-scatter once after the last microbatch.
enum class GradSync { PerMicrobatch, Last };
// Pipeline schedules (docs/execution.md "Pipeline parallelism"): GPipe (all forwards, then all
// backwards), 1F1B (PipeDream-flush: warm-up forwards, then one forward one backward) and
// Megatron's interleaved 1F1B with v virtual stages (model chunks) per chip.
enum class PipelineSchedule { GPipe, OneFOneB, Interleaved };

const char* to_string(Sharding sharding);
const char* to_string(Remat remat);
const char* to_string(OptimizerKind optimizer);
const char* to_string(GradientDtype dtype);
const char* to_string(WeightGradInput choice);
const char* to_string(MeshAxis axis);              // "data", "model", "model2"
const char* to_string(ActivationLayout layout);    // "sharded", "replicated"
const char* to_string(GradSync sync);              // "per-microbatch", "last"
const char* to_string(PipelineSchedule schedule);  // "gpipe", "1f1b", "interleaved"

// Enum values from their names; `site` names the flag or file field in errors.
Sharding parse_sharding(const std::string& text, const ErrorSite& site);
Remat parse_remat(const std::string& text, const ErrorSite& site);
OptimizerKind parse_optimizer(const std::string& text, const ErrorSite& site);
GradientDtype parse_gradient_dtype(const std::string& text, const ErrorSite& site);
WeightGradInput parse_weight_grad_input(const std::string& text, const ErrorSite& site);
AttentionKernel parse_attention(const std::string& text, const ErrorSite& site);
ActivationLayout parse_activation_layout(const std::string& text, const ErrorSite& site);
GradSync parse_grad_sync(const std::string& text, const ErrorSite& site);
PipelineSchedule parse_pipeline_schedule(const std::string& text, const ErrorSite& site);

// data x model, or data x model1 x model2 for 2-D weight sharding, with an optional pipeline
// axis (named form data=8,pipeline=16,model=8). 0 = not given yet.
struct MeshShape {
  std::int64_t data = 0;
  std::int64_t model1 = 0;
  std::int64_t model2 = 1;  // 1 on a 2-axis mesh
  bool two_model_axes = false;
  std::int64_t pipeline = 1;  // p: pipeline stages (1 = no pipeline)

  bool given() const { return data > 0; }
  std::int64_t model() const { return model1 * model2; }  // k: chips that split one layer
  std::int64_t chips() const { return data * pipeline * model1 * model2; }
  std::int64_t size(MeshAxis axis) const;
  // "256x4" or "64x4x4"; with a pipeline the named form "data=8,pipeline=16,model=8".
  std::string text() const;
};

// Parses "256x4", "64x4x4" or the named form "data=8,pipeline=16,model=8" (axes data, pipeline,
// model, model1, model2; any order; a missing axis is 1); `site` names the flag or file field.
MeshShape parse_mesh(const std::string& text, const ErrorSite& site);

// One factor of a logical axis on a torus: `size` consecutive positions of torus dimension `dim`
// (0 = x, 1 = y, 2 = z). An axis spans the product of its factors, innermost first.
struct TorusFactor {
  int dim = 0;
  std::int64_t size = 1;
};

// Where the logical axes lie on the physical machine; the simulator places chips from it.
//  Torus: the slice shape and, per logical axis, its factors. A chip's torus coordinate is built
//  by filling each axis's factors with that axis's index (mixed radix, innermost factor first);
//  when two axes share a dimension, the one listed first (model, then model2, then data) takes
//  the inner (contiguous) positions.
//  GPU cluster: ranks are numbered with the model axis fastest (model-major placement), so a
//  model group of k <= gpus_per_node GPUs lies in one NVLink island; `model_in_node` records
//  whether that holds for this plan.
struct AxisMapping {
  bool given = false;                     // false: finalize_plan chooses the documented default
  std::vector<std::int64_t> torus_shape;  // e.g. {16, 16, 4}
  std::vector<TorusFactor> data, model1, model2;
  bool model_in_node = false;  // GPU clusters only

  std::string text() const;  // "data: x16 y16, model: z4" or "model in node"
};

struct OptimizerPlan {
  OptimizerKind kind = OptimizerKind::Adam;
  bool master_weights_fp32 = true;  // fp32 master copy of the weights (mixed precision)
  bool adafactor_momentum = false;  // Adafactor's optional first moment (off by default)
};

struct Plan {
  std::string name;    // from the file's "name" or its stem; "command line" for flags only
  std::string source;  // the file it came from; empty when only flags
  MeshShape mesh;
  AxisMapping mapping;
  Sharding sharding = Sharding::Auto;                  // default for every linear
  std::map<std::string, Sharding> sharding_overrides;  // per linear name
  bool async_collective_matmul = true;
  bool bidirectional = true;
  // Defaults follow the ViT-22B set-up (DESIGN §2): weights sharded over the data axis and the
  // layer rematerialized, so the flagship model fits without flags.
  bool fsdp = true;  // weights, gradients and optimizer state sharded over the data axis
  Remat remat = Remat::Full;
  OptimizerPlan optimizer;
  GradientDtype gradient_dtype = GradientDtype::Bf16;
  WeightGradInput weight_grad_input = WeightGradInput::Keep;
  AttentionKernel attention = AttentionKernel::Unfused;
  ActivationLayout activation_layout = ActivationLayout::Sharded;
  GradSync grad_sync = GradSync::PerMicrobatch;
  // Megatron sequence parallelism (Korthikanti et al. 2022) on the model axis, with replicated
  // activations only: norms, residual and element-wise ops on tokens/k rows of full width, each
  // all-reduce replaced by a reduce-scatter and an all-gather along the tokens (docs/plans.md).
  bool sequence_parallel = false;
  std::int64_t microbatches = 1;
  std::int64_t global_batch = 0;  // images per step; 0 = the model's train_batch
  // Pipeline (mesh.pipeline > 1, docs/plans.md "Pipeline"): the schedule, virtual stages per chip
  // (interleaved only) and the layers of every stage (p entries, or p x v with virtual stages, in
  // pipeline order); empty = an even split (the first stages take one more when uneven).
  PipelineSchedule schedule = PipelineSchedule::OneFOneB;
  std::int64_t virtual_stages = 1;
  std::vector<std::int64_t> stages;

  // Where each field was set ("--mesh", or "FILE" with pointer "/mesh"): errors name it.
  std::map<std::string, ErrorSite> origins;
  ErrorSite site(const std::string& field) const;

  // The sharding requested for the linear `name` (override, else the default).
  Sharding sharding_for(const std::string& linear_name) const;
};

// Reads a plan JSON file (schema meshsim.plan/v1, strict: unknown fields rejected).
Plan load_plan_file(const std::string& path);
// The same from text; `origin` names it in errors.
Plan parse_plan_json(const std::string& text, const std::string& origin);

// Plan choices as command-line flag values; an empty string means "not given".
struct PlanFlags {
  std::string mesh;               // --mesh 256x4
  std::string sharding;           // --sharding auto|row|column[,LINEAR=row|column|auto...]
  std::string async;              // --async on|off
  std::string bidirectional;      // --bidirectional on|off
  std::string fsdp;               // --fsdp on|off
  std::string remat;              // --remat none|full|selective
  std::string optimizer;          // --optimizer adam|adafactor|sgd
  std::string master_weights;     // --master-weights on|off
  std::string gradient_dtype;     // --grad-dtype bf16|fp32
  std::string weight_grad_input;  // --weight-grad-input keep|regather
  std::string attention;          // --attention unfused|flash
  std::string activation_layout;  // --activation-layout sharded|replicated
  std::string grad_sync;          // --grad-sync per-microbatch|last
  std::string sequence_parallel;  // --sequence-parallel on|off
  std::string microbatches;       // --microbatches N
  std::string batch;              // --batch N (global batch in images)
  std::string schedule;           // --schedule gpipe|1f1b|interleaved
  std::string virtual_stages;     // --virtual-stages V
  std::string mapping;            // --mapping '{"torus_shape": [16,16,4], "data": ["x","y"], ...}'
};

// A mapping written as the plan file's "mapping" object (JSON text); `origin` names it in errors.
AxisMapping parse_mapping_text(const std::string& text, const std::string& origin);

// Applies the given flags on top of `base` (a file's plan, or a default Plan{}).
Plan apply_plan_flags(Plan base, const PlanFlags& flags);

// Fills the defaults (global batch = model.train_batch; mesh = chips x 1 when not given; the
// default axis mapping) and validates against the model, its linears, the hardware and the chip
// count (0 = the mesh's product). Throws InputError with the reason when the plan cannot apply.
Plan finalize_plan(const Plan& plan, const ModelConfig& model, const std::vector<Linear>& linears,
                   const HardwareProfile& hardware, std::int64_t chips);
// The same with the model's own layer_linears(model).
Plan finalize_plan(const Plan& plan, const ModelConfig& model, const HardwareProfile& hardware,
                   std::int64_t chips);

// Layers of every (virtual) stage of a finalized plan, in pipeline order (p x v entries; one
// entry, the model's depth, without a pipeline).
std::vector<std::int64_t> stage_layers(const Plan& plan, std::int64_t depth);

// The default mapping of `mesh` onto `hardware` (docs/plans.md "Mapping").
AxisMapping default_mapping(const MeshShape& mesh, const HardwareProfile& hardware);

}  // namespace meshsim
