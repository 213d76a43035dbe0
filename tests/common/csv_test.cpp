#include "common/csv.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "common/error.hpp"
#include "tests/input_errors.hpp"

using meshsim::CsvRow;
using meshsim::InputError;
using meshsim::parse_csv_text;

using meshsim::testing::contains;
using meshsim::testing::error_of;

TEST_CASE("csv: quoted fields, doubled quotes and CRLF round-trip", "[csv]") {
  const auto t = parse_csv_text("a,b,c\r\n1,\"x, \"\"y\"\"\",\r\n", "t.csv");
  REQUIRE(t.header == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0][1] == "x, \"y\"");
  CHECK(t.rows[0][2].empty());
  CHECK(t.line_of_row[0] == 2);
}

TEST_CASE("csv: malformed text names the file and the line", "[csv]") {
  CHECK(contains(error_of([] { parse_csv_text("a,b\n1\n", "f.csv"); }), "line 2"));
  CHECK(contains(error_of([] { parse_csv_text("a,b\n1,\"x\n", "f.csv"); }), "unterminated"));
  CHECK(contains(error_of([] { parse_csv_text("a,b\n1,x\"y\n", "f.csv"); }), "quote"));
  CHECK(contains(error_of([] { parse_csv_text("a,b\n\n1,2\n", "f.csv"); }), "empty line"));
  CHECK(contains(error_of([] { parse_csv_text("a,b\n", "f.csv"); }), "no data rows"));
  CHECK(contains(error_of([] { parse_csv_text("", "f.csv"); }), "empty file"));
  CHECK(contains(error_of([] { parse_csv_text(std::string("a\n1\0\n", 5), "f.csv"); }), "NUL"));
}

TEST_CASE("csv: columns are checked strictly, with did-you-mean", "[csv]") {
  const auto t = parse_csv_text("size_bytes,tme_us\n1,2\n", "f.csv");
  const auto msg = error_of([&] { meshsim::check_csv_columns(t, {"size_bytes", "time_us"}); });
  CHECK(contains(msg, "tme_us"));
  CHECK(contains(msg, "time_us"));
  const auto twice = parse_csv_text("a,a\n1,2\n", "f.csv");
  CHECK(contains(error_of([&] { meshsim::check_csv_columns(twice, {"a"}); }), "twice"));
}

TEST_CASE("csv: numbers and integers are strict", "[csv]") {
  const auto t = parse_csv_text("x,n\n1e-5,010\n", "f.csv");
  CsvRow r(t, 0);
  CHECK(r.number("x", 0) == Approx(1e-5));
  CHECK(contains(error_of([&] { r.integer("n", 1, 100); }), "line 2, column n"));
  const auto bad = parse_csv_text("x\nnan\n-1\n+1\n1.5x\n", "f.csv");
  for (std::size_t i = 0; i < bad.rows.size(); ++i) {
    CsvRow row(bad, i);
    CHECK(contains(error_of([&] { row.number("x", 0); }), "column x"));
  }
}
