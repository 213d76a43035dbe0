// Fuzzes the count parser (common/count.hpp): any text, with bounds drawn from the first bytes.
// Property: it returns a value within [min, max] or throws InputError; an accepted value printed
// in decimal parses back to itself; the same text with a suffix k is the value x 1000 or an error.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "common/count.hpp"
#include "common/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  // Bounds: 0 or 1 below, a power of two (or INT64_MAX) above.
  const std::int64_t min = data[0] & 1;
  const int shift = data[1] % 64;
  const std::int64_t max = shift == 63 ? meshsim::kMaxCount : (std::int64_t{1} << shift);
  const std::string text(reinterpret_cast<const char*>(data + 2), size - 2);
  std::int64_t value = 0;
  try {
    value = meshsim::parse_count(text, min, max);
  } catch (const meshsim::InputError&) {
    return 0;
  }
  if (value < min || value > max)
    std::abort();
  if (meshsim::parse_count(std::to_string(value), min, max) != value)
    std::abort();
  if (text.empty() || text.back() < '0' || text.back() > '9')
    return 0;  // already has a suffix (or ends in a point)
  try {
    const std::int64_t thousand = meshsim::parse_count(text + "k", 0, meshsim::kMaxCount);
    if (thousand / 1000 != value || thousand % 1000 != 0)
      std::abort();
  } catch (const meshsim::InputError&) {
    if (value <= meshsim::kMaxCount / 1000 && text.find('.') == std::string::npos)
      std::abort();  // a whole number that fits x 1000 must be accepted with k
  }
  return 0;
}
