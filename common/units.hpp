#pragma once
// Quantities with units, as written in files and flags: "1.2 TB/s", "32 GiB", "2 us", "275
// TFLOP/s". Values come back in SI base units (bytes, bytes/s, seconds, FLOP, FLOP/s). The grammar
// is strict:
//   quantity := number [space] unit        number := digits ["." digits] [("e"|"E") ["+"|"-"]
//   digits]
// No sign, no NaN/inf, no hex; the unit must be of the kind the caller asked for.
#include <string>
#include <string_view>

namespace meshsim {

enum class QuantityKind { Bytes, Bandwidth, Time, Flop, FlopRate };

const char* to_string(QuantityKind kind);
// The units accepted for a kind, for error messages ("B, kB, MB, ... KiB, MiB, ...").
std::string accepted_units(QuantityKind kind);

// Parses `text` as a quantity of `kind`; throws InputError (site left empty for the caller to fill
// with InputError::located) when it does not parse, has a unit of another kind, or is not finite.
// A bare number is accepted only for Bytes (a count of bytes).
double parse_quantity(std::string_view text, QuantityKind kind);

// Formats a value in SI base units with a readable prefix, e.g. 4.5e10 B/s -> "45 GB/s".
std::string format_quantity(double value, QuantityKind kind);

}  // namespace meshsim
