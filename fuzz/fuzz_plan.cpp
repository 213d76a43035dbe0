// Fuzzes the plan parser (parse_plan_json) and the validation behind it: every plan the parser
// accepts is finalized against ViT-22B on TPU v4 (and, for the GPU mapping rules, H100) and its
// memory computed. Property: InputError or success; a finalized plan's mesh has as many chips as
// asked and its memory adds up without NaN or negative parts; nothing else escapes.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.hpp"
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/plan/memory.hpp"
#include "sim/plan/plan.hpp"

namespace {

struct Setting {
  meshsim::ModelConfig model = meshsim::load_model("vit-22b");
  meshsim::HardwareProfile tpu = meshsim::load_hardware("tpu-v4");
  meshsim::HardwareProfile gpu = meshsim::load_hardware("h100-sxm");
};

void check(const meshsim::Plan& plan, const Setting& s, const meshsim::HardwareProfile& hw) {
  try {
    const meshsim::Plan final_plan =
        meshsim::finalize_plan(plan, s.model, hw, plan.mesh.given() ? 0 : 1024);
    const meshsim::MemoryBreakdown m = meshsim::memory_per_chip(s.model, hw, final_plan);
    const double parts = m.weights_bytes + m.weight_gather_buffer_bytes + m.gradient_buffer_bytes +
                         m.master_weights_bytes + m.optimizer_state_bytes + m.gradients_bytes +
                         m.activations_bytes + m.runtime_reserve_bytes;
    if (!std::isfinite(m.total_bytes) || m.total_bytes < 0 ||
        std::abs(parts - m.total_bytes) > 1e-9 * m.total_bytes ||
        m.fits != (m.total_bytes <= m.capacity_bytes)) {
      std::abort();
    }
  } catch (const meshsim::InputError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Setting setting;
  std::string text(reinterpret_cast<const char*>(data), size);
  meshsim::Plan plan;
  try {
    plan = meshsim::parse_plan_json(text, "fuzz-plan.json");
  } catch (const meshsim::InputError&) {
    return 0;
  }
  check(plan, setting, setting.tpu);
  check(plan, setting, setting.gpu);
  return 0;
}
