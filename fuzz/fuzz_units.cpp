// Fuzzes the units parser: the first byte picks the quantity kind, the rest is the text.
// Property: it returns a finite non-negative value or throws InputError; nothing else.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/error.hpp"
#include "common/units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  auto kind = static_cast<meshsim::QuantityKind>(data[0] % 5);
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    double value = meshsim::parse_quantity(text, kind);
    if (!std::isfinite(value) || value < 0)
      std::abort();
    // Formatting any accepted value must give text that parses again.
    (void)meshsim::parse_quantity(meshsim::format_quantity(value, kind), kind);
  } catch (const meshsim::InputError&) {
  }
  return 0;
}
