#include "common/count.hpp"

#include <string>

#include "common/error.hpp"

namespace meshsim {
namespace {

constexpr std::string_view kGrammar = "digits with an optional suffix k, M, G or T, e.g. 64k";

// Scale of a suffix, 0 when `c` is not one.
std::int64_t suffix_scale(char c) {
  switch (c) {
    case 'k':
      return 1'000;
    case 'M':
      return 1'000'000;
    case 'G':
      return 1'000'000'000;
    case 'T':
      return 1'000'000'000'000;
    default:
      return 0;
  }
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::string count_range_text(std::int64_t min, std::int64_t max) {
  return std::to_string(min) + " to " + std::to_string(max) + " (" + std::string(kGrammar) + ")";
}

std::int64_t parse_count(std::string_view text, std::int64_t min, std::int64_t max) {
  const std::string found = "'" + std::string(text) + "'";
  const auto not_a_count = [&](const std::string& why) {
    return InputError({}, why, found, "a whole number from " + count_range_text(min, max));
  };
  std::size_t i = 0;
  std::string whole, fraction;
  while (i < text.size() && is_digit(text[i]))
    whole += text[i++];
  if (whole.empty())
    throw not_a_count("not a count (digits first; no sign, space or other base)");
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && is_digit(text[i]))
      fraction += text[i++];
    if (fraction.empty())
      throw not_a_count("not a count (digits must follow the decimal point)");
  }
  std::int64_t scale = 1;
  if (i < text.size() && suffix_scale(text[i]) != 0)
    scale = suffix_scale(text[i++]);
  if (i != text.size())
    throw not_a_count("not a count (unexpected '" + std::string(text.substr(i)) + "')");
  if (whole.size() > 1 && whole[0] == '0')
    throw not_a_count("not a count (a leading zero; octal is not accepted)");

  // value = whole x scale + fraction x scale / 10^digits, exactly, in unsigned 64 bits (every
  // overflow detected); anything past 2^64 is out of range whatever the limits.
  std::uint64_t value = 0;
  bool overflow = false;
  for (char c : whole) {
    overflow = overflow || __builtin_mul_overflow(value, 10u, &value) ||
               __builtin_add_overflow(value, static_cast<unsigned>(c - '0'), &value);
  }
  overflow = overflow || __builtin_mul_overflow(value, static_cast<std::uint64_t>(scale), &value);
  if (!overflow && !fraction.empty()) {
    while (fraction.size() > 1 && fraction.back() == '0')
      fraction.pop_back();
    // The fraction x scale must be whole: scale <= 10^12, so at most 12 significant digits.
    if (fraction.size() > 12 && fraction != "0")
      throw not_a_count("not a whole number");
    std::uint64_t numerator = 0, denominator = 1;
    for (char c : fraction) {
      numerator = numerator * 10 + static_cast<unsigned>(c - '0');
      denominator *= 10;
    }
    numerator *= static_cast<std::uint64_t>(scale);  // < 10^12 x 10^12: no overflow
    if (numerator % denominator != 0)
      throw not_a_count("not a whole number");
    overflow = __builtin_add_overflow(value, numerator / denominator, &value);
  }
  if (overflow || value > static_cast<std::uint64_t>(max) ||
      value < static_cast<std::uint64_t>(min < 0 ? 0 : min)) {
    throw InputError({}, "out of range", found, count_range_text(min, max));
  }
  return static_cast<std::int64_t>(value);
}

}  // namespace meshsim
