#pragma once
// Per-linear sharding of a plan (DESIGN §2): the concrete choice for every linear of a layer and
// what it moves over which mesh axis, forward and backward, per token of the chip's microbatch.
#include <cstdint>
#include <string>
#include <vector>

#include "models/model.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim {

enum class MoveKind { AllGather, ReduceScatter, AllReduce };
enum class MovedTensor { Input, Output, InputGradient, OutputGradient };
const char* to_string(MoveKind kind);  // "all-gather", "reduce-scatter", "all-reduce"
const char* to_string(
    MovedTensor tensor);  // "input", "output", "input gradient", "output gradient"

// One collective of a linear over one mesh axis. Each chip of the axis's group sends and receives
// `elements_per_token` elements for every token of its microbatch (tokens are not split over the
// model axes): in x (k-1)/k for a row all-gather, out x (k-1)/k for a column reduce-scatter, and
// 2 x out x (k-1)/k for an all-reduce (a reduce-scatter then an all-gather).
struct LinearMove {
  MeshAxis axis = MeshAxis::Model1;
  MoveKind kind = MoveKind::AllGather;
  MovedTensor tensor = MovedTensor::Input;
  double elements_per_token = 0;
  double bytes_per_token = 0;  // bf16: 2 bytes per element
};

struct ResolvedLinear {
  std::string name;
  std::int64_t in_features = 0;
  std::int64_t out_features = 0;
  Sharding requested = Sharding::Auto;
  Sharding chosen = Sharding::Row;  // Row or Column, never Auto
  std::string communicates;      // "all-gather input", "reduce-scatter output", "nothing", or both
  std::int64_t weight_rows = 0;  // the chip's block of A (out x in)
  std::int64_t weight_cols = 0;
  // Input elements per token that the weight-gradient matmul reads: the gathered input when the
  // plan keeps it, else the chip's own slice (re-gathered in the backward pass).
  std::int64_t saved_input_elements_per_token = 0;
  std::vector<LinearMove> forward;          // before/around the forward matmul
  std::vector<LinearMove> backward_input;   // mirrors forward: all-gather <-> reduce-scatter
  std::vector<LinearMove> backward_weight;  // the input re-gathered (weight_grad_input = regather)
  double forward_bytes_per_token = 0;
  double backward_bytes_per_token = 0;  // input- plus weight-gradient passes
};

// The moves of `r` around a matmul of pass `pass` (forward, backward_input or backward_weight),
// and among them the one over the model axis (Model1; "model" on a data x model mesh), or null.
const std::vector<LinearMove>& moves_of(const ResolvedLinear& r, Pass pass);
const LinearMove* model_axis_move(const ResolvedLinear& r, Pass pass);
// The linear named `name` among `linears` (an op's linear); std::logic_error if none: every op
// of a layer names one of its linears.
const ResolvedLinear& find_linear(const std::vector<ResolvedLinear>& linears,
                                  const std::string& name);

// Whether `linear_name` reads the layer's boundary activations (fused_in_proj, qkv, mlp_in) or
// writes them (fused_out_proj, attn_out, mlp_out): with replicated activations the first kind is
// `row` with a whole input and the second `column` with an all-reduced output (Megatron).
bool reads_boundary_activations(const std::string& linear_name);

// Per linear of `linears` (one layer), in their order. Model axes of size 1 move nothing; such
// moves are left out. With two model axes (k1 x k2) a `row` linear all-gathers its input over
// model (in/k2 x (k1-1)/k1) and reduce-scatters its output over model2 (out/k1 x (k2-1)/k2);
// `column` swaps the two axes' roles. With k2 = 1 these are DESIGN §2's one-axis formulas.
// With plan.activation_layout = replicated (one model axis; finalize_plan checks the sharding):
// input-side linears move nothing forward and all-reduce their input gradient; output-side
// linears all-reduce their output and move nothing in the backward pass. With
// plan.sequence_parallel as well, each all-reduce becomes its reduce-scatter and all-gather
// along the tokens: input-side linears are `row` (all-gather input, reduce-scatter input
// gradient), output-side ones `column` (reduce-scatter output, all-gather output gradient),
// "(tokens)" in `communicates`; per linear the same bytes as the all-reduce.
std::vector<ResolvedLinear> resolve_sharding(const std::vector<Linear>& linears, const Plan& plan);
// The same for layer_linears(model).
std::vector<ResolvedLinear> resolve_sharding(const ModelConfig& model, const Plan& plan);

}  // namespace meshsim
