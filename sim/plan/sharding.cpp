#include "sim/plan/sharding.hpp"

#include <algorithm>
#include <stdexcept>

namespace meshsim {
namespace {

constexpr double kBytesPerElement = 2;  // bf16 activations (DESIGN §1)

struct Pattern {
  std::vector<LinearMove> forward;
  std::int64_t weight_rows = 0, weight_cols = 0;
  std::int64_t gathered_input = 0;  // input elements per token after the all-gather
  double elements = 0;
};

void add(std::vector<LinearMove>& moves, MeshAxis axis, MoveKind kind, MovedTensor tensor,
         double elements) {
  if (elements <= 0)
    return;  // an axis of size 1 moves nothing
  moves.push_back({axis, kind, tensor, elements, elements * kBytesPerElement});
}

// `gather_axis` (size kg) all-gathers the input, `scatter_axis` (size ks) reduce-scatters the
// output.
Pattern pattern(const Linear& linear, MeshAxis gather_axis, std::int64_t kg, MeshAxis scatter_axis,
                std::int64_t ks) {
  Pattern p;
  const double in = static_cast<double>(linear.in_features);
  const double out = static_cast<double>(linear.out_features);
  const double gather =
      in / static_cast<double>(ks) * static_cast<double>(kg - 1) / static_cast<double>(kg);
  const double scatter =
      out / static_cast<double>(kg) * static_cast<double>(ks - 1) / static_cast<double>(ks);
  add(p.forward, gather_axis, MoveKind::AllGather, MovedTensor::Input, gather);
  add(p.forward, scatter_axis, MoveKind::ReduceScatter, MovedTensor::Output, scatter);
  p.weight_rows = linear.out_features / kg;
  p.weight_cols = linear.in_features / ks;
  p.gathered_input = linear.in_features / ks;
  p.elements = gather + scatter;
  return p;
}

}  // namespace

const char* to_string(MoveKind kind) {
  switch (kind) {
    case MoveKind::AllGather:
      return "all-gather";
    case MoveKind::ReduceScatter:
      return "reduce-scatter";
    case MoveKind::AllReduce:
      return "all-reduce";
  }
  return "?";
}

bool reads_boundary_activations(const std::string& linear_name) {
  return linear_name == "fused_in_proj" || linear_name == "qkv" || linear_name == "mlp_in";
}

const char* to_string(MovedTensor tensor) {
  switch (tensor) {
    case MovedTensor::Input:
      return "input";
    case MovedTensor::Output:
      return "output";
    case MovedTensor::InputGradient:
      return "input gradient";
    case MovedTensor::OutputGradient:
      return "output gradient";
  }
  return "?";
}

std::vector<ResolvedLinear> resolve_sharding(const std::vector<Linear>& linears, const Plan& plan) {
  const std::int64_t k1 = std::max<std::int64_t>(1, plan.mesh.model1);
  const std::int64_t k2 = std::max<std::int64_t>(1, plan.mesh.model2);
  std::vector<ResolvedLinear> out;
  for (const auto& linear : linears) {
    ResolvedLinear r;
    r.name = linear.name;
    r.in_features = linear.in_features;
    r.out_features = linear.out_features;
    r.requested = plan.sharding_for(linear.name);
    Pattern row = pattern(linear, MeshAxis::Model1, k1, MeshAxis::Model2, k2);
    Pattern column = pattern(linear, MeshAxis::Model2, k2, MeshAxis::Model1, k1);
    if (r.requested == Sharding::Auto) {
      r.chosen = column.elements < row.elements ? Sharding::Column : Sharding::Row;  // tie -> row
    } else {
      r.chosen = r.requested;
    }
    const bool replicated = plan.activation_layout == ActivationLayout::Replicated;
    if (replicated && plan.sequence_parallel) {
      // Megatron with sequence parallelism (Korthikanti et al. 2022, §4.2.2): the boundary
      // activations are split along the tokens, so the input-side linear all-gathers its input
      // (the tokens) and the output-side linear reduce-scatters its output partial sums onto the
      // token split: DESIGN §2's row and column patterns, moving along the tokens instead of the
      // features (the same bytes per token).
      r.chosen = reads_boundary_activations(linear.name) ? Sharding::Row : Sharding::Column;
    } else if (replicated) {
      // Megatron: the input-side linear splits its outputs over the model axis and reads the
      // whole (replicated) input; its input gradient is a sum over the chips (all-reduce). The
      // output-side linear splits its inputs and all-reduces its output partial sums; the output
      // gradient is already whole on every chip.
      const std::int64_t k = k1 * k2;
      const double share = static_cast<double>(k - 1) / static_cast<double>(k);
      const double in_f = static_cast<double>(linear.in_features);
      const double out_f = static_cast<double>(linear.out_features);
      if (reads_boundary_activations(linear.name)) {
        r.chosen = Sharding::Row;
        r.weight_rows = linear.out_features / k;
        r.weight_cols = linear.in_features;
        r.saved_input_elements_per_token = linear.in_features;
        add(r.backward_input, MeshAxis::Model1, MoveKind::AllReduce, MovedTensor::InputGradient,
            2 * in_f * share);
        r.communicates = k > 1 ? "all-reduce input gradient" : "nothing";
      } else {
        r.chosen = Sharding::Column;
        r.weight_rows = linear.out_features;
        r.weight_cols = linear.in_features / k;
        r.saved_input_elements_per_token = linear.in_features / k;
        add(r.forward, MeshAxis::Model1, MoveKind::AllReduce, MovedTensor::Output,
            2 * out_f * share);
        r.communicates = k > 1 ? "all-reduce output" : "nothing";
      }
      for (const auto& m : r.forward)
        r.forward_bytes_per_token += m.bytes_per_token;
      for (const auto& m : r.backward_input)
        r.backward_bytes_per_token += m.bytes_per_token;
      out.push_back(std::move(r));
      continue;
    }
    const Pattern& p = r.chosen == Sharding::Row ? row : column;
    r.forward = p.forward;
    r.weight_rows = p.weight_rows;
    r.weight_cols = p.weight_cols;
    const std::int64_t local_input = linear.in_features / (k1 * k2);
    bool gathers = false;
    for (const auto& move : p.forward) {
      // DESIGN §2: the input gradient mirrors the forward collective on the same axis.
      if (move.kind == MoveKind::AllGather) {
        gathers = true;
        add(r.backward_input, move.axis, MoveKind::ReduceScatter, MovedTensor::InputGradient,
            move.elements_per_token);
        if (plan.weight_grad_input == WeightGradInput::Regather) {
          add(r.backward_weight, move.axis, MoveKind::AllGather, MovedTensor::Input,
              move.elements_per_token);
        }
      } else {
        add(r.backward_input, move.axis, MoveKind::AllGather, MovedTensor::OutputGradient,
            move.elements_per_token);
      }
    }
    r.saved_input_elements_per_token =
        gathers && plan.weight_grad_input == WeightGradInput::Keep ? p.gathered_input : local_input;
    std::string text;
    for (const auto& move : p.forward) {
      std::string part = std::string(to_string(move.kind)) + " " + to_string(move.tensor);
      if (replicated && plan.sequence_parallel)
        part += " (tokens)";
      if (plan.mesh.two_model_axes)
        part += std::string(" (") + to_string(move.axis) + ")";
      text += (text.empty() ? "" : " + ") + part;
    }
    r.communicates = text.empty() ? "nothing" : text;
    for (const auto& m : r.forward)
      r.forward_bytes_per_token += m.bytes_per_token;
    for (const auto& m : r.backward_input)
      r.backward_bytes_per_token += m.bytes_per_token;
    for (const auto& m : r.backward_weight)
      r.backward_bytes_per_token += m.bytes_per_token;
    out.push_back(std::move(r));
  }
  return out;
}

const std::vector<LinearMove>& moves_of(const ResolvedLinear& r, Pass pass) {
  return pass == Pass::BackwardInput    ? r.backward_input
         : pass == Pass::BackwardWeight ? r.backward_weight
                                        : r.forward;
}

const ResolvedLinear& find_linear(const std::vector<ResolvedLinear>& linears,
                                  const std::string& name) {
  for (const auto& r : linears) {
    if (r.name == name)
      return r;
  }
  throw std::logic_error("the layer has no linear named " + name);
}

const LinearMove* model_axis_move(const ResolvedLinear& r, Pass pass) {
  const LinearMove* found = nullptr;
  for (const auto& m : moves_of(r, pass)) {
    if (m.axis == MeshAxis::Model1)
      found = &m;
  }
  return found;
}

}  // namespace meshsim
