#pragma once
// Counts as written on the command line (issue 16 item 6 "one suffix grammar", issue 17 item 12):
// chips, batches, microbatches, steps, tokens, ... One grammar for every count flag:
//   count := digits ["." digits] [suffix]        suffix := "k" | "M" | "G" | "T"
// The suffixes are powers of 1000 (177k = 177000, 1.5M = 1500000); the value must be a whole
// number. No sign, space, octal ("010" is ten), hex, exponent, or saturation: a value beyond the
// allowed range is an error.
#include <cstdint>
#include <string>
#include <string_view>

namespace meshsim {

// The largest count any flag takes (INT64_MAX).
inline constexpr std::int64_t kMaxCount = INT64_MAX;

// Parses `text` as a count within [min, max]; throws InputError (site left empty, for the caller
// to fill with InputError::located) naming the text and the allowed range otherwise.
std::int64_t parse_count(std::string_view text, std::int64_t min, std::int64_t max = kMaxCount);

// "1 to 9223372036854775807 (digits with an optional suffix k, M, G or T, e.g. 64k)".
std::string count_range_text(std::int64_t min, std::int64_t max);

// An amount (days, dollars, a price) in the same grammar, the fraction unrestricted: a real number
// within [min, max]; throws InputError (site empty, as parse_count) naming the text, the `unit`
// and the range otherwise.
double parse_amount(std::string_view text, double min, double max, std::string_view unit);
std::string amount_range_text(double min, double max, std::string_view unit);

}  // namespace meshsim
