// Fuzzes the hardware profile loader from JSON text (parse_hardware_json). Property: InputError or
// success; an accepted profile has positive finite chip figures and an interconnect that can hold
// at least one chip; nothing else escapes.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.hpp"
#include "hardware_profiles/hardware.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  meshsim::HardwareProfile profile;
  try {
    profile = meshsim::parse_hardware_json(text, "fuzz-hardware.json");
  } catch (const meshsim::InputError&) {
    return 0;
  }
  const meshsim::ChipSpec& chip = profile.chip;
  for (double figure : {chip.peak_bf16_flop_per_s, chip.peak_fp32_flop_per_s, chip.hbm_bytes,
                        chip.hbm_bandwidth_bytes_per_s}) {
    if (!std::isfinite(figure) || figure <= 0)
      std::abort();
  }
  const std::int64_t max_chips = profile.kind == meshsim::InterconnectKind::Torus
                                     ? profile.torus.max_chips
                                     : profile.gpu.max_gpus;
  if (max_chips < 1)
    std::abort();
  (void)meshsim::interconnect_summary(profile);
  return 0;
}
