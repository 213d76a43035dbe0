#pragma once
// Checks shared by the verbs' integer flags (internal to sim/cli: include from .cpp files only).
// CLI11 converts integers with strtoll in base 0, so "010" would be 8, "0x40" 64, and a value
// beyond int64 silently becomes INT64_MAX; these checks accept plain decimal integers only and
// reject out-of-range text as written (docs/hardening.md).
#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <string>

namespace meshsim::cli {

// A validator for an integer flag: decimal digits with an optional '-', within int64.
inline CLI::Validator decimal_integer() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::int64_t value = 0;
        const char* begin = text.data();
        const char* end = text.data() + text.size();
        auto [stop, ec] = std::from_chars(begin, end, value);
        if (text.empty() || ec == std::errc::invalid_argument || stop != end) {
          return "not a decimal integer (found '" + text + "')";
        }
        if (ec == std::errc::result_out_of_range) {
          return "integer out of range (found " + text + ")";
        }
        return std::string();
      },
      "", "decimal integer");
}

}  // namespace meshsim::cli
