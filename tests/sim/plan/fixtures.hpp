#pragma once
// Hand-built inputs for the plan tests (from DESIGN §1 and HARDWARE.md), independent of the
// model zoo and profile loaders.
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"

namespace meshsim::test {

// ViT-22B, Dehghani et al. 2023 Table 1 (DESIGN §1).
inline ModelConfig vit22b() {
  ModelConfig m;
  m.name = "vit-22b";
  m.display_name = "ViT-22B";
  m.block = BlockKind::Parallel;
  m.width = 6144;
  m.depth = 48;
  m.mlp_dim = 24576;
  m.heads = 48;
  m.head_dim = 128;
  m.patch = 14;
  m.image_size = 224;
  m.tokens = 256;
  m.qk_norm = true;
  m.qkv_bias = false;
  m.train_batch = 65536;
  return m;
}

// The parallel block's two fused linears: D -> 3D + F and D + F -> D.
inline std::vector<Linear> vit22b_linears() {
  return {{"fused_in_proj", 6144, 3 * 6144 + 24576, true},
          {"fused_out_proj", 6144 + 24576, 6144, true}};
}

// Transformer weights from DESIGN §1 (48 x 452,984,832); the smaller counts by hand: per layer the
// MLP biases (F + D), the LayerNorm scale (D) and two QK-norm scales (2 x 128); the embedding is
// the 14x14x3 -> D patch projection with bias plus 256 x D position embeddings.
inline ParamCounts vit22b_params() {
  ParamCounts p;
  p.transformer = 48LL * 452984832LL;
  p.biases_and_norms = 48LL * (24576 + 6144 + 6144 + 2 * 128);
  p.embedding = 14LL * 14 * 3 * 6144 + 6144 + 256LL * 6144;
  p.head = 0;
  p.total = p.transformer + p.biases_and_norms + p.embedding + p.head;
  return p;
}

// TPU v4 (HARDWARE.md): 32 GiB HBM, 3-D torus, 4096 chips, slices up to 16x16x16.
inline HardwareProfile tpu_v4() {
  HardwareProfile h;
  h.name = "tpu-v4";
  h.display_name = "TPU v4";
  h.chip.peak_bf16_flop_per_s = 275e12;
  h.chip.hbm_bytes = 32.0 * 1024 * 1024 * 1024;
  h.chip.hbm_bandwidth_bytes_per_s = 1200e9;
  h.kind = InterconnectKind::Torus;
  h.torus.dimensions = 3;
  h.torus.links_per_chip = 6;
  h.torus.link_bandwidth_bytes_per_s = 4.5e10;
  h.torus.wraparound_multiple = 4;
  h.torus.max_shape = {16, 16, 16};
  h.torus.max_chips = 4096;
  return h;
}

// H100 SXM5 80GB nodes of 8 GPUs (HARDWARE.md).
inline HardwareProfile h100() {
  HardwareProfile h;
  h.name = "h100";
  h.display_name = "H100";
  h.chip.hbm_bytes = 80e9;
  h.kind = InterconnectKind::GpuCluster;
  h.gpu.gpus_per_node = 8;
  h.gpu.max_gpus = 32768;
  return h;
}

}  // namespace meshsim::test
