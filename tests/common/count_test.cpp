#include "common/count.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "common/error.hpp"

using meshsim::InputError;
using meshsim::parse_count;

TEST_CASE("count: decimal digits with an optional k/M/G/T suffix (powers of 1000)", "[count]") {
  CHECK(parse_count("0", 0) == 0);
  CHECK(parse_count("64", 1) == 64);
  CHECK(parse_count("64k", 1) == 64'000);
  CHECK(parse_count("177k", 1) == 177'000);
  CHECK(parse_count("1.5M", 1) == 1'500'000);
  CHECK(parse_count("11.6G", 1) == 11'600'000'000);
  CHECK(parse_count("3T", 1) == 3'000'000'000'000);
  CHECK(parse_count("2.50k", 1) == 2'500);
  CHECK(parse_count("7.0", 1) == 7);
  // The whole int64 range, exactly (a double would round the last digits).
  CHECK(parse_count("9223372036854775807", 1) == INT64_MAX);
  CHECK(parse_count("9223372036854775806", 1) == INT64_MAX - 1);
}

TEST_CASE("count: every other spelling is refused, never reinterpreted or saturated", "[count]") {
  // Octal, hex, signs, spaces, exponents, fractions, empty, unknown or repeated suffixes.
  for (const char* text : {"010",   "00",      "0x10",
                           "0X10",  "+64",     "-5",
                           " 5",    "5 ",      "1e3",
                           "1E3",   "0.5",     "1e-300",
                           "1.",    ".5",      "",
                           "k",     "64K",     "64kk",
                           "64 k",  "1.0001k", "64KiB",
                           "1,000", "nan",     "inf",
                           "١٢",    "1.5",     "0.0000000000000000000001T"}) {
    INFO(text);
    CHECK_THROWS_AS(parse_count(text, 0), InputError);
  }
}

TEST_CASE("count: beyond the range is an error naming the range, not a saturated value",
          "[count]") {
  for (const std::string& text :
       {std::string("9223372036854775808"), std::string("99999999999999999999"),
        std::string("18446744073709551616"), std::string("9223372036854776k"),
        std::string("10000000T"), "1" + std::string(400, '0')}) {
    INFO(text);
    try {
      parse_count(text, 1);
      FAIL("accepted");
    } catch (const InputError& e) {
      const std::string what = e.what();
      CHECK((what.find("out of range") != std::string::npos ||
             what.find("not a count") != std::string::npos));
    }
  }
  try {
    parse_count("99999999999999999999", 1);
    FAIL("accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("9223372036854775807") != std::string::npos);
  }
  // The caller's bounds apply, with the range in the message.
  CHECK(parse_count("4096", 1, 4096) == 4096);
  try {
    parse_count("4097", 1, 4096);
    FAIL("accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("1 to 4096") != std::string::npos);
  }
  CHECK_THROWS_AS(parse_count("0", 1), InputError);
  CHECK_THROWS_AS(parse_count("5k", 1, 4096), InputError);
}

TEST_CASE("amount: the count grammar with any fraction, within a real range", "[count]") {
  using meshsim::parse_amount;
  CHECK(parse_amount("30", 1e-3, 1e5, "days") == 30);
  CHECK(parse_amount("0.5", 1e-3, 1e5, "days") == 0.5);
  CHECK(parse_amount("2.25", 0, 10, "USD") == 2.25);
  CHECK(parse_amount("1.5M", 1, 1e13, "USD") == 1.5e6);
  CHECK(parse_amount("12.29", 1e-4, 1e4, "USD per chip-hour") == Approx(12.29));
  // The same refusals as a count (no sign, exponent, other base, space, leading zero), one
  // grammar for every flag.
  for (const char* text : {"-1", "+1", "1e3", "0x10", "010", " 1", "1 ", "1.", ".5", "", "k", "1,5",
                           "nan", "inf", "1.5x", "64K"}) {
    INFO(text);
    CHECK_THROWS_AS(parse_amount(text, 0, 1e13, "USD"), InputError);
  }
  // Out of range, with the unit and the range in the message.
  try {
    parse_amount("0.0001", 1e-3, 1e5, "days");
    FAIL("accepted a value below the range");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find("out of range") != std::string::npos);
    CHECK(what.find("days from 0.001 to 100k") != std::string::npos);
  }
}
