#pragma once
// Checks shared by the verbs' flags (internal to sim/cli: include from .cpp files only).
// CLI11 converts integers with strtoll in base 0, so "010" would be 8, "0x40" 64, and a value
// beyond int64 silently becomes INT64_MAX. Every count flag goes through count_flag instead: the
// one count grammar of common/count.hpp (digits, optional k/M/G/T), its range checked as written,
// the text rewritten to plain decimal before CLI11 converts it (docs/hardening.md).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "common/count.hpp"
#include "common/error.hpp"

namespace meshsim::cli {

// A validator for a count flag with values in [min, max]: "--chips: out of range (found '0';
// allowed: 1 to ...)". CLI11 prefixes the flag's name.
inline CLI::Validator count_flag(std::int64_t min, std::int64_t max = kMaxCount) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        try {
          text = std::to_string(parse_count(text, min, max));
        } catch (const InputError& e) {
          return e.what();
        }
        return std::string();
      },
      "", "count");
}

}  // namespace meshsim::cli
