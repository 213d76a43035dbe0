// Fuzzes the model loader from JSON text (parse_model_json) and, for every model it accepts, the
// code that derives figures from it. Property: InputError or success; an accepted model gives
// finite, non-negative parameter and FLOP counts; nothing else escapes (crash, other exception).
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.hpp"
#include "models/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  meshsim::ModelConfig model;
  try {
    model = meshsim::parse_model_json(text, "fuzz-model.json");
  } catch (const meshsim::InputError&) {
    return 0;
  }
  const meshsim::ParamCounts params = meshsim::count_params(model);
  const meshsim::FlopPerToken flop = meshsim::flop_per_token(model);
  if (params.total < 0 || params.transformer < 0 || !std::isfinite(flop.forward) ||
      flop.forward < 0 || !(flop.train >= flop.forward) || !(flop.train_causal <= flop.train)) {
    std::abort();
  }
  // One layer's ops at a small per-chip shape: model axis 1 always divides.
  try {
    for (const meshsim::Op& op : meshsim::layer_ops(model, {1, 1, 2})) {
      if (!std::isfinite(op.flop) || op.flop < 0 || op.bytes_read < 0 || op.bytes_written < 0)
        std::abort();
    }
  } catch (const meshsim::InputError&) {
  }
  // A decoder's embedding, LM head and loss at the same shape (empty for encoders).
  try {
    const meshsim::LmHeadOps head = meshsim::lm_head_ops(model, {1, 1, 2});
    for (const auto* list : {&head.embedding_forward, &head.head_forward, &head.head_backward,
                             &head.embedding_backward}) {
      for (const meshsim::Op& op : *list) {
        if (!std::isfinite(op.flop) || op.flop < 0 || op.bytes_read < 0 || op.bytes_written < 0)
          std::abort();
      }
    }
  } catch (const meshsim::InputError&) {
  }
  return 0;
}
