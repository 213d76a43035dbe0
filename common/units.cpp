#include "common/units.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <string>

#include "common/error.hpp"

namespace meshsim {
namespace {

struct UnitEntry {
  std::string_view symbol;
  QuantityKind kind;
  double factor;       // to SI base units: value * factor / divisor
  double divisor = 1;  // sub-unit prefixes divide, so "10 us" is exactly 1e-5, not 9.999e-06
};

// Decimal prefixes are powers of 1000, binary ones (Ki, Mi, ...) powers of 1024 (IEC 80000-13).
// Lower-case "b" is a bit, upper-case "B" a byte: "Gb/s" is 1/8 of "GB/s".
constexpr double kKi = 1024.0, kMi = kKi * 1024, kGi = kMi * 1024, kTi = kGi * 1024,
                 kPi = kTi * 1024;
constexpr std::array kUnits = {
    UnitEntry{"B", QuantityKind::Bytes, 1},
    UnitEntry{"kB", QuantityKind::Bytes, 1e3},
    UnitEntry{"KB", QuantityKind::Bytes, 1e3},
    UnitEntry{"MB", QuantityKind::Bytes, 1e6},
    UnitEntry{"GB", QuantityKind::Bytes, 1e9},
    UnitEntry{"TB", QuantityKind::Bytes, 1e12},
    UnitEntry{"PB", QuantityKind::Bytes, 1e15},
    UnitEntry{"KiB", QuantityKind::Bytes, kKi},
    UnitEntry{"MiB", QuantityKind::Bytes, kMi},
    UnitEntry{"GiB", QuantityKind::Bytes, kGi},
    UnitEntry{"TiB", QuantityKind::Bytes, kTi},
    UnitEntry{"PiB", QuantityKind::Bytes, kPi},
    // Bare count suffixes (powers of 1000), the grammar of every count flag (common/count.hpp):
    // `collective --bytes 1G` is 1e9 bytes (issue 16 item 6).
    UnitEntry{"k", QuantityKind::Bytes, 1e3},
    UnitEntry{"M", QuantityKind::Bytes, 1e6},
    UnitEntry{"G", QuantityKind::Bytes, 1e9},
    UnitEntry{"T", QuantityKind::Bytes, 1e12},
    UnitEntry{"B/s", QuantityKind::Bandwidth, 1},
    UnitEntry{"kB/s", QuantityKind::Bandwidth, 1e3},
    UnitEntry{"KB/s", QuantityKind::Bandwidth, 1e3},
    UnitEntry{"MB/s", QuantityKind::Bandwidth, 1e6},
    UnitEntry{"GB/s", QuantityKind::Bandwidth, 1e9},
    UnitEntry{"TB/s", QuantityKind::Bandwidth, 1e12},
    UnitEntry{"PB/s", QuantityKind::Bandwidth, 1e15},
    UnitEntry{"EB/s", QuantityKind::Bandwidth, 1e18},
    UnitEntry{"KiB/s", QuantityKind::Bandwidth, kKi},
    UnitEntry{"MiB/s", QuantityKind::Bandwidth, kMi},
    UnitEntry{"GiB/s", QuantityKind::Bandwidth, kGi},
    UnitEntry{"TiB/s", QuantityKind::Bandwidth, kTi},
    UnitEntry{"bit/s", QuantityKind::Bandwidth, 1, 8},
    UnitEntry{"b/s", QuantityKind::Bandwidth, 1, 8},
    UnitEntry{"kb/s", QuantityKind::Bandwidth, 1e3, 8},
    UnitEntry{"Kb/s", QuantityKind::Bandwidth, 1e3, 8},
    UnitEntry{"Mb/s", QuantityKind::Bandwidth, 1e6, 8},
    UnitEntry{"Gb/s", QuantityKind::Bandwidth, 1e9, 8},
    UnitEntry{"Tb/s", QuantityKind::Bandwidth, 1e12, 8},
    UnitEntry{"bps", QuantityKind::Bandwidth, 1, 8},
    UnitEntry{"kbps", QuantityKind::Bandwidth, 1e3, 8},
    UnitEntry{"Mbps", QuantityKind::Bandwidth, 1e6, 8},
    UnitEntry{"Gbps", QuantityKind::Bandwidth, 1e9, 8},
    UnitEntry{"Tbps", QuantityKind::Bandwidth, 1e12, 8},
    UnitEntry{"s", QuantityKind::Time, 1},
    UnitEntry{"ms", QuantityKind::Time, 1, 1e3},
    UnitEntry{"us", QuantityKind::Time, 1, 1e6},
    UnitEntry{"\xC2\xB5s", QuantityKind::Time, 1, 1e6},  // "µs" in UTF-8
    UnitEntry{"ns", QuantityKind::Time, 1, 1e9},
    UnitEntry{"ps", QuantityKind::Time, 1, 1e12},
    UnitEntry{"min", QuantityKind::Time, 60},
    UnitEntry{"h", QuantityKind::Time, 3600},
    UnitEntry{"FLOP", QuantityKind::Flop, 1},
    UnitEntry{"kFLOP", QuantityKind::Flop, 1e3},
    UnitEntry{"MFLOP", QuantityKind::Flop, 1e6},
    UnitEntry{"GFLOP", QuantityKind::Flop, 1e9},
    UnitEntry{"TFLOP", QuantityKind::Flop, 1e12},
    UnitEntry{"PFLOP", QuantityKind::Flop, 1e15},
    UnitEntry{"EFLOP", QuantityKind::Flop, 1e18},
    UnitEntry{"FLOP/s", QuantityKind::FlopRate, 1},
    UnitEntry{"kFLOP/s", QuantityKind::FlopRate, 1e3},
    UnitEntry{"MFLOP/s", QuantityKind::FlopRate, 1e6},
    UnitEntry{"GFLOP/s", QuantityKind::FlopRate, 1e9},
    UnitEntry{"TFLOP/s", QuantityKind::FlopRate, 1e12},
    UnitEntry{"PFLOP/s", QuantityKind::FlopRate, 1e15},
    UnitEntry{"EFLOP/s", QuantityKind::FlopRate, 1e18},
    UnitEntry{"FLOPS", QuantityKind::FlopRate, 1},
    UnitEntry{"GFLOPS", QuantityKind::FlopRate, 1e9},
    UnitEntry{"TFLOPS", QuantityKind::FlopRate, 1e12},
    UnitEntry{"PFLOPS", QuantityKind::FlopRate, 1e15},
};

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Scans the strict number grammar; returns the length consumed (0 when there is no number).
std::size_t scan_number(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && is_digit(s[i]))
      ++i;
    return i - start;
  };
  if (digits() == 0)
    return 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0)
      return 0;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t mark = i++;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
      ++i;
    if (digits() == 0)
      i = mark;  // "5 EFLOP": the 'E' starts the unit, not an exponent
  }
  return i;
}

}  // namespace

const char* to_string(QuantityKind kind) {
  switch (kind) {
    case QuantityKind::Bytes:
      return "a size in bytes";
    case QuantityKind::Bandwidth:
      return "a bandwidth";
    case QuantityKind::Time:
      return "a time";
    case QuantityKind::Flop:
      return "a FLOP count";
    case QuantityKind::FlopRate:
      return "a FLOP rate";
  }
  return "a quantity";
}

std::string accepted_units(QuantityKind kind) {
  std::string out;
  for (const auto& unit : kUnits) {
    if (unit.kind != kind)
      continue;
    if (!out.empty())
      out += ", ";
    out += unit.symbol;
  }
  return out;
}

double parse_quantity(std::string_view text, QuantityKind kind) {
  const std::string allowed = std::string(to_string(kind)) + " such as '" +
                              (kind == QuantityKind::Bytes       ? "32 GiB"
                               : kind == QuantityKind::Bandwidth ? "1.2 TB/s"
                               : kind == QuantityKind::Time      ? "2 us"
                               : kind == QuantityKind::Flop      ? "43.5 GFLOP"
                                                                 : "275 TFLOP/s") +
                              "'; units: " + accepted_units(kind);
  if (text.empty())
    throw InputError({}, "empty quantity", "''", allowed);
  std::size_t n = scan_number(text);
  if (n == 0)
    throw InputError({}, "not a quantity: it must start with a number", quoted(text), allowed);
  std::string number(text.substr(0, n));
  std::string_view rest = text.substr(n);
  if (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  double value = std::strtod(number.c_str(), nullptr);
  if (!std::isfinite(value))
    throw InputError({}, "number out of range", quoted(text), allowed);
  if (rest.empty()) {
    if (kind == QuantityKind::Bytes)
      return value;
    throw InputError({}, "missing unit", quoted(text), allowed);
  }
  for (const auto& unit : kUnits) {
    if (unit.symbol != rest)
      continue;
    if (unit.kind != kind) {
      throw InputError({},
                       "unit '" + std::string(rest) + "' is " + to_string(unit.kind) + ", not " +
                           to_string(kind),
                       quoted(text), allowed);
    }
    double si = value * unit.factor / unit.divisor;
    if (!std::isfinite(si))
      throw InputError({}, "number out of range", quoted(text), allowed);
    return si;
  }
  throw InputError({}, "unknown unit '" + std::string(rest) + "'", quoted(text), allowed);
}

std::string format_quantity(double value, QuantityKind kind) {
  struct Scale {
    double factor;
    const char* prefix;
  };
  static constexpr std::array kDecimal = {Scale{1e18, "E"}, Scale{1e15, "P"}, Scale{1e12, "T"},
                                          Scale{1e9, "G"},  Scale{1e6, "M"},  Scale{1e3, "k"},
                                          Scale{1, ""}};
  char buf[64];
  if (kind == QuantityKind::Time) {
    static constexpr std::array kTime = {Scale{1, ""}, Scale{1e-3, "m"}, Scale{1e-6, "u"},
                                         Scale{1e-9, "n"}, Scale{1e-12, "p"}};
    for (const auto& s : kTime) {
      if (std::fabs(value) >= s.factor || s.factor == 1e-12) {
        std::snprintf(buf, sizeof buf, "%.4g %ss", value / s.factor, s.prefix);
        return buf;
      }
    }
  }
  const char* base = kind == QuantityKind::Bytes       ? "B"
                     : kind == QuantityKind::Bandwidth ? "B/s"
                     : kind == QuantityKind::Flop      ? "FLOP"
                                                       : "FLOP/s";
  if (kind == QuantityKind::Bytes && value >= kKi) {
    static constexpr std::array kBinary = {Scale{kPi, "Pi"}, Scale{kTi, "Ti"}, Scale{kGi, "Gi"},
                                           Scale{kMi, "Mi"}, Scale{kKi, "Ki"}};
    for (const auto& s : kBinary) {
      if (value >= s.factor) {
        std::snprintf(buf, sizeof buf, "%.4g %s%s", value / s.factor, s.prefix, base);
        return buf;
      }
    }
  }
  for (const auto& s : kDecimal) {
    if (std::fabs(value) >= s.factor || s.factor == 1) {
      std::snprintf(buf, sizeof buf, "%.4g %s%s", value / s.factor, s.prefix, base);
      return buf;
    }
  }
  return std::to_string(value);
}

}  // namespace meshsim
