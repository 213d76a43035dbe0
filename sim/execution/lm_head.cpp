#include "sim/execution/lm_head.hpp"

#include <algorithm>

namespace meshsim::execution {

LmHeadWork lm_head_work(const ModelConfig& model, const Plan& plan,
                        std::int64_t microbatch_images) {
  LmHeadWork w;
  if (model.kind != ModelKind::Decoder)
    return w;
  w.enabled = true;
  const std::int64_t k = std::max<std::int64_t>(1, plan.mesh.model());
  // With sequence parallelism the head sees what the sharded layout's does: the last layer's
  // output split k ways (along the tokens instead of the features: the same elements), gathered
  // for the LM head, and the embedding's output reduce-scattered (docs/plans.md).
  const bool replicated =
      plan.activation_layout == ActivationLayout::Replicated && !plan.sequence_parallel;
  w.ops = lm_head_ops(model, LayerShape{microbatch_images, k, 2, plan.attention, replicated});

  // The vocab-parallel head: row sharding of D -> vocab (padded to k x V_k), whatever the plan's
  // default, as Megatron splits it; the one-model-axis formulas of sharding.hpp.
  Plan head_plan = plan;
  head_plan.sharding = Sharding::Row;
  head_plan.sharding_overrides.clear();
  if (plan.sequence_parallel) {
    // The head's input is gathered along the tokens: the sharded layout's row pattern.
    head_plan.activation_layout = ActivationLayout::Sharded;
    head_plan.sequence_parallel = false;
  }
  head_plan.mesh.model1 = k;
  head_plan.mesh.model2 = 1;
  head_plan.mesh.two_model_axes = false;
  const Linear head{"lm_head", model.width, vocab_per_chip(model, k) * k, false};
  w.linear = resolve_sharding(std::vector<Linear>{head}, head_plan).front();
  if (replicated && k > 1) {
    // Whole input on every chip: nothing moves forward; the input gradient's partial sums are
    // all-reduced (2 x D x (k-1)/k elements per token).
    const double share = static_cast<double>(k - 1) / static_cast<double>(k);
    const double elements = 2.0 * static_cast<double>(model.width) * share;
    w.linear.forward.clear();
    w.linear.backward_weight.clear();
    w.linear.backward_input = {{MeshAxis::Model1, MoveKind::AllReduce, MovedTensor::InputGradient,
                                elements, 2.0 * elements}};
    w.linear.communicates = "all-reduce input gradient";
    w.linear.saved_input_elements_per_token = model.width;
  }

  const std::int64_t rows = microbatch_images * model.tokens;
  const std::int64_t activation_bytes = 2 * rows * model.width;  // [R x D] bf16
  if (k > 1) {
    using K = ModelCollective::Kind;
    if (model.tied_embeddings) {
      w.embedding_forward = {replicated ? K::AllReduce : K::ReduceScatter, activation_bytes};
      w.embedding_backward = {K::AllGather, activation_bytes};
    } else if (plan.activation_layout == ActivationLayout::Replicated) {
      // The D-split lookup made whole; with sequence parallelism each chip then keeps its tokens
      // (a plain all-gather: the all-to-all that would move 1/k of it is not modelled).
      w.embedding_forward = {K::AllGather, activation_bytes};
    }
    w.loss_statistics = {K::AllReduce, 3 * 4 * rows};
  }

  const ParamCounts p = count_params(model);
  const double kd = static_cast<double>(k);
  w.embedding_params_per_chip = static_cast<double>(p.embedding) / kd;
  w.head_params_per_chip = static_cast<double>(p.head) / kd;
  return w;
}

}  // namespace meshsim::execution
