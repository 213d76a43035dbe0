#include "common/count.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <string>
#include <utility>

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

// The grammar's parts: digits, an optional fraction and the suffix's scale. `fail(why)` gives
// the error to throw, `kind` names the thing ("count", "number") in its messages.
struct Lexed {
  std::string whole, fraction;
  std::int64_t scale = 1;
};

template <typename Fail>
Lexed lex(std::string_view text, const char* kind, const Fail& fail) {
  const std::string not_a = std::string("not a ") + kind;
  Lexed out;
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i]))
    out.whole += text[i++];
  if (out.whole.empty())
    throw fail(not_a + " (digits first; no sign, space or other base)");
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && is_digit(text[i]))
      out.fraction += text[i++];
    if (out.fraction.empty())
      throw fail(not_a + " (digits must follow the decimal point)");
  }
  if (i < text.size() && suffix_scale(text[i]) != 0)
    out.scale = suffix_scale(text[i++]);
  if (i != text.size())
    throw fail(not_a + " (unexpected '" + std::string(text.substr(i)) + "')");
  if (out.whole.size() > 1 && out.whole[0] == '0')
    throw fail(not_a + " (a leading zero; octal is not accepted)");
  return out;
}

// 'text', as the messages quote what was found.
std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  out += text;
  out += '\'';
  return out;
}

}  // namespace

std::string count_range_text(std::int64_t min, std::int64_t max) {
  return std::to_string(min) + " to " + std::to_string(max) + " (" + std::string(kGrammar) + ")";
}

std::int64_t parse_count(std::string_view text, std::int64_t min, std::int64_t max) {
  const std::string found = quoted(text);
  const auto not_a_count = [&](const std::string& why) {
    return InputError({}, why, found, "a whole number from " + count_range_text(min, max));
  };
  const Lexed lexed = lex(text, "count", not_a_count);
  const std::string& whole = lexed.whole;
  std::string fraction = lexed.fraction;
  const std::int64_t scale = lexed.scale;

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

namespace {

// An amount in the grammar itself (100k, 10T, 0.001), so that a message's bounds can be typed.
std::string amount_text(double value) {
  static constexpr std::pair<double, char> kSuffixes[] = {
      {1e12, 'T'}, {1e9, 'G'}, {1e6, 'M'}, {1e3, 'k'}};
  for (const auto& [scale, suffix] : kSuffixes) {
    if (value >= scale)
      return fmt::format("{:g}{}", value / scale, suffix);
  }
  return fmt::format("{:g}", value);
}

}  // namespace

std::string amount_range_text(double min, double max, std::string_view unit) {
  return fmt::format(
      "{} from {} to {} (digits with an optional fraction and suffix k, M, G or T, "
      "e.g. 1.5k)",
      unit, amount_text(min), amount_text(max));
}

double parse_amount(std::string_view text, double min, double max, std::string_view unit) {
  const std::string found = quoted(text);
  const auto not_a_number = [&](const std::string& why) {
    return InputError({}, why, found, amount_range_text(min, max, unit));
  };
  const Lexed lexed = lex(text, "number", not_a_number);
  // Digits only (checked above): strtod reads them exactly as written, in the C locale's form.
  const std::string digits = lexed.whole + (lexed.fraction.empty() ? "" : "." + lexed.fraction);
  const double value = std::strtod(digits.c_str(), nullptr) * static_cast<double>(lexed.scale);
  if (!(value >= min && value <= max))
    throw InputError({}, "out of range", found, amount_range_text(min, max, unit));
  return value;
}

}  // namespace meshsim
