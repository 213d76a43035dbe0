#pragma once
// A decoder's work outside its layers in one training step (docs/execution.md "Decoders"): the
// embedding lookup before the first layer, the final norm, LM head and softmax cross-entropy
// after the last, their backward ops, the model-axis traffic they need, and the data-axis sync of
// the embedding and LM-head weights. The step simulator emits them; this file decides what they
// are. Encoders have none (`enabled` false).
#include <cstdint>
#include <vector>

#include "models/model.hpp"
#include "sim/plan/plan.hpp"
#include "sim/plan/sharding.hpp"

namespace meshsim::execution {

// A synchronous model-axis collective (the compute stream waits for it); bytes = the full buffer
// of each chip; 0 = none.
struct ModelCollective {
  enum class Kind { None, AllGather, ReduceScatter, AllReduce } kind = Kind::None;
  std::int64_t bytes = 0;
};

struct LmHeadWork {
  bool enabled = false;
  LmHeadOps ops;  // per microbatch, at the chip's shape
  // The LM head as a linear of D -> vocab with the vocabulary split over the model axis: its
  // input all-gathered (row sharding; replicated activations: already whole, its input gradient
  // all-reduced), its input gradient reduce-scattered.
  ResolvedLinear linear;
  // Around the embedding lookup: tied embeddings use the vocab-parallel table, whose partial
  // [R x D] output the model axis reduces to the layer input (reduce-scatter to the D/k slices,
  // all-reduce when activations are replicated), and whose gradient it all-gathers back. An
  // untied table is split along D and moves nothing (replicated activations: all-gather the D/k
  // lookups, the gradient needs nothing back).
  ModelCollective embedding_forward, embedding_backward;
  // Cross-entropy over the split vocabulary: each row's maximum, sum of exponentials and target
  // logit all-reduced over the model axis (three fp32 per row).
  ModelCollective loss_statistics;
  // Parameters of this chip's model shard (bf16 weights, gradients in the plan's dtype) that the
  // data axis syncs: the LM head's (untied) and the embedding table's, with the final norm.
  double head_params_per_chip = 0;       // LM head and final norm (0 head matrix when tied)
  double embedding_params_per_chip = 0;  // token (and learned position) embeddings
};

// `microbatch_images`: sequences per microbatch on each chip. `plan` finalized.
LmHeadWork lm_head_work(const ModelConfig& model, const Plan& plan, std::int64_t microbatch_images);

}  // namespace meshsim::execution
