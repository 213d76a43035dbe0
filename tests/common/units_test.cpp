#include "common/units.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "common/error.hpp"

using meshsim::InputError;
using meshsim::parse_quantity;
using meshsim::QuantityKind;

TEST_CASE("units: the documented examples parse to SI base units", "[units]") {
  CHECK(parse_quantity("1.2 TB/s", QuantityKind::Bandwidth) == Approx(1.2e12));
  CHECK(parse_quantity("32 GiB", QuantityKind::Bytes) == 32.0 * 1024 * 1024 * 1024);
  CHECK(parse_quantity("2 us", QuantityKind::Time) == Approx(2e-6));
  CHECK(parse_quantity("275 TFLOP/s", QuantityKind::FlopRate) == Approx(275e12));
  CHECK(parse_quantity("1GiB", QuantityKind::Bytes) == 1073741824.0);
  CHECK(parse_quantity("4.5e10 B/s", QuantityKind::Bandwidth) == Approx(4.5e10));
  CHECK(parse_quantity("43.49 GFLOP", QuantityKind::Flop) == Approx(43.49e9));
  CHECK(parse_quantity("5 EFLOP", QuantityKind::Flop) == Approx(5e18));
  CHECK(parse_quantity("4096", QuantityKind::Bytes) == 4096.0);  // bare byte counts are allowed
}

TEST_CASE("units: bits and bytes differ by eight", "[units]") {
  // A 400 Gb/s NDR InfiniBand NIC moves 50 GB/s.
  CHECK(parse_quantity("400 Gb/s", QuantityKind::Bandwidth) == Approx(50e9));
  CHECK(parse_quantity("400 Gbps", QuantityKind::Bandwidth) == Approx(50e9));
  CHECK(parse_quantity("50 GB/s", QuantityKind::Bandwidth) == Approx(50e9));
}

TEST_CASE("units: format then parse round-trips within print precision", "[units]") {
  for (double v : {1.0, 1536.0, 3.2e9, 7.5e13, 1.0e18}) {
    for (auto kind : {QuantityKind::Bytes, QuantityKind::Bandwidth, QuantityKind::Flop,
                      QuantityKind::FlopRate}) {
      std::string text = meshsim::format_quantity(v, kind);
      CHECK(parse_quantity(text, kind) == Approx(v).epsilon(1e-3));
    }
  }
  for (double t : {2e-12, 3.5e-9, 1e-6, 0.25, 42.0}) {
    CHECK(parse_quantity(meshsim::format_quantity(t, QuantityKind::Time), QuantityKind::Time) ==
          Approx(t).epsilon(1e-3));
  }
}

TEST_CASE("units: strict rejections name the problem", "[units]") {
  struct Case {
    const char* text;
    QuantityKind kind;
    const char* words;
  };
  const Case cases[] = {
      {"", QuantityKind::Bytes, "empty"},
      {"GiB", QuantityKind::Bytes, "must start with a number"},
      {"-1 GiB", QuantityKind::Bytes, "must start with a number"},
      {"+1 GiB", QuantityKind::Bytes, "must start with a number"},
      {"nan GB/s", QuantityKind::Bandwidth, "must start with a number"},
      {"inf s", QuantityKind::Time, "must start with a number"},
      {"0x10 B", QuantityKind::Bytes, "unknown unit"},
      {"1e999 B", QuantityKind::Bytes, "out of range"},
      {"5 GiB", QuantityKind::Bandwidth, "is a size in bytes, not a bandwidth"},
      {"2 us", QuantityKind::Bytes, "is a time"},
      {"3 parsecs", QuantityKind::Time, "unknown unit"},
      {"1.2", QuantityKind::Bandwidth, "missing unit"},
      {"1.2  TB/s", QuantityKind::Bandwidth, "unknown unit"},
      {"1. GB", QuantityKind::Bytes, "must start with a number"},
      {".5 GB", QuantityKind::Bytes, "must start with a number"},
      {"1 gb", QuantityKind::Bytes, "unknown unit"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    try {
      parse_quantity(c.text, c.kind);
      FAIL("accepted");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find(c.words) != std::string::npos);
      CHECK(std::string(e.what()).find("allowed") != std::string::npos);
    }
  }
}

TEST_CASE("units: sub-unit prefixes are exact in binary where the decimal value is", "[units]") {
  // 10 us must be the double nearest 1e-5 (a JSON report then prints 1e-05, not 9.999e-06).
  CHECK(parse_quantity("10 us", QuantityKind::Time) == 1e-5);
  CHECK(parse_quantity("3 ms", QuantityKind::Time) == 3e-3);
  CHECK(parse_quantity("1 ns", QuantityKind::Time) == 1e-9);
}

TEST_CASE("units: sizes take the count suffixes k, M, G, T as powers of 1000", "[units]") {
  CHECK(parse_quantity("1G", QuantityKind::Bytes) == 1e9);
  CHECK(parse_quantity("64k", QuantityKind::Bytes) == 64e3);
  CHECK(parse_quantity("1.5M", QuantityKind::Bytes) == 1.5e6);
  CHECK(parse_quantity("2T", QuantityKind::Bytes) == 2e12);
  CHECK(parse_quantity("1G", QuantityKind::Bytes) == parse_quantity("1 GB", QuantityKind::Bytes));
  // Only for sizes: a bandwidth or a FLOP count still needs its unit.
  CHECK_THROWS_AS(parse_quantity("1G", QuantityKind::Bandwidth), InputError);
  CHECK_THROWS_AS(parse_quantity("1G", QuantityKind::Flop), InputError);
  CHECK_THROWS_AS(parse_quantity("1K", QuantityKind::Bytes), InputError);
}
