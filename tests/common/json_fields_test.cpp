#include "common/json_fields.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "common/error.hpp"
#include "tests/input_errors.hpp"

using meshsim::InputError;
using meshsim::JsonObject;

using meshsim::testing::contains;
using meshsim::testing::error_of;

TEST_CASE("json: syntax errors give line and column", "[json]") {
  std::string msg =
      error_of([] { meshsim::parse_json_text("{\n  \"a\": 1,\n  oops\n}", "m.json"); });
  CHECK(contains(msg, "m.json"));
  CHECK(contains(msg, "line 3"));
  CHECK(contains(msg, "not valid JSON"));
  CHECK(contains(error_of([] { meshsim::parse_json_text("  \n", "e.json"); }), "empty"));
}

TEST_CASE("json: a number beyond double's range is bad input, not a crash", "[json][regression]") {
  // Found by fuzz_json (fuzz/corpus/json/regression-number-overflow): nlohmann throws
  // out_of_range 406 for 444444444444E4444, which escaped as a non-InputError exception.
  std::string msg =
      error_of([] { meshsim::parse_json_text("{\"a\": 444444444444E4444}", "n.json"); });
  CHECK(contains(msg, "number overflow"));
}

TEST_CASE("json: fields are checked for type, range and unit kind", "[json]") {
  auto doc = meshsim::parse_json_text(
      R"({"width": 6144, "ratio": 1.5, "half": 2.5, "name": 3, "bw": "5 GiB", "kind": "cube",
          "nan": "NaN", "big": 1e300, "neg": -4})",
      "f.json");
  JsonObject o(doc, "f.json", "");
  CHECK(o.integer("width", 1, 1 << 20) == 6144);
  CHECK(contains(error_of([&] { o.number("ratio", 0, 1); }), "/ratio"));
  CHECK(contains(error_of([&] { o.integer("half", 0, 10); }), "not an integer"));
  CHECK(contains(error_of([&] { o.string("name"); }), "wrong type"));
  CHECK(contains(error_of([&] { o.quantity("bw", meshsim::QuantityKind::Bandwidth, 0, 1e15); }),
                 "not a bandwidth"));
  CHECK(contains(error_of([&] {
                   o.enumeration("kind", {"torus", "gpu_cluster"});
                 }),
                 "torus, gpu_cluster"));
  CHECK(contains(error_of([&] { o.number("nan", 0, 1); }), "wrong type"));
  CHECK(contains(error_of([&] { o.number("big", 0, 1e12); }), "out of range"));
  CHECK(contains(error_of([&] { o.integer("neg", 1, 10); }), "out of range"));
  CHECK(contains(error_of([&] { o.integer("missing", 1, 10); }), "missing required field"));
}

TEST_CASE("json: unknown fields are rejected with a did-you-mean", "[json]") {
  auto doc = meshsim::parse_json_text(R"({"width": 1, "hedas": 2})", "f.json");
  JsonObject o(doc, "f.json", "");
  o.integer("width", 1, 10);
  o.integer_or("heads", 1, 1, 10);
  std::string msg = error_of([&] { o.reject_unknown_fields(); });
  CHECK(contains(msg, "unknown field"));
  CHECK(contains(msg, "did you mean 'heads'"));
  CHECK(meshsim::did_you_mean("zzzzzz", {"heads", "width"}).empty());
}

TEST_CASE("json: missing files, directories and invalid UTF-8 are bad input", "[json]") {
  CHECK(contains(error_of([] { meshsim::read_json_file("/nonexistent/x.json"); }), "no such file"));
  CHECK(contains(error_of([] { meshsim::read_json_file("/tmp"); }), "is a directory"));
  std::string bad_utf8 = "{\"name\": \"x\xff\xfe\"}";
  CHECK(
      contains(error_of([&] { meshsim::parse_json_text(bad_utf8, "u.json"); }), "not valid JSON"));
}

TEST_CASE("json: nesting deeper than 256 levels is bad input, not a crash", "[json][regression]") {
  // 100,000 levels used to overflow the stack when a message or the plan loader serialised the
  // value (issue 17, item 1); depth is now checked before parsing, without recursion.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string msg = error_of([&] { meshsim::parse_json_text(deep, "deep.json"); });
  CHECK(contains(msg, "deep.json"));
  CHECK(contains(msg, "line 1, column 257"));
  CHECK(contains(msg, "nested too deeply"));
  // 256 levels are fine, and brackets inside strings do not count.
  const std::string ok = std::string(256, '[') + std::string(256, ']');
  CHECK(meshsim::parse_json_text(ok, "ok.json").is_array());
  const std::string quoted = "{\"a\": \"" + std::string(1000, '[') + "\\\"\"}";
  CHECK(meshsim::parse_json_text(quoted, "q.json").is_object());
}

TEST_CASE("json: a key twice in one object and a NUL byte are bad input", "[json][regression]") {
  // Duplicates used to keep the last value ("synthetic": true, "synthetic": false bypassed the
  // synthetic-data guard of calibrate), and text after a NUL byte was ignored (issue 17, item 15).
  const std::string dup = error_of([] {
    meshsim::parse_json_text(R"({"a": 1, "synthetic": true, "synthetic": false})", "d.json");
  });
  CHECK(contains(dup, "d.json"));
  CHECK(contains(dup, "'synthetic'"));
  CHECK(contains(dup, "given twice"));
  // The same key in two different objects is fine.
  CHECK(meshsim::parse_json_text(R"({"a": {"x": 1}, "b": {"x": 2}})", "ok.json").size() == 2);
  const std::string nul = error_of(
      [] { meshsim::parse_json_text(std::string("{\"a\": 1}\0{\"b\": 2}", 17), "n.json"); });
  CHECK(contains(nul, "n.json"));
  CHECK(contains(nul, "NUL"));
}

TEST_CASE("json: a fraction that rounds to a whole number is refused, judged on its digits",
          "[json][hardening]") {
  // 1.0000000000000000001 is 1.0 as a double: an integer field would take it as 1.
  for (const char* literal :
       {"1.0000000000000000001", "0.99999999999999999999", "65535.9999999999999999",
        "-2.00000000000000000001", "1.00000000000000000001e3"}) {
    INFO(literal);
    const std::string msg = error_of(
        [&] { meshsim::parse_json_text(std::string("{\n  \"a\": ") + literal + "\n}", "m.json"); });
    CHECK(contains(msg, "m.json"));
    CHECK(contains(msg, "line 2"));
    CHECK(contains(msg, "reads as the whole number"));
  }
  // Whole numbers in any spelling, and fractions a double keeps apart from an integer, stay.
  for (const char* literal : {"1", "4.0", "1e3", "2.50e1", "1.5", "0.1", "1e-300", "123.456e2",
                              "1.0000000001", "-7.000", "0e5"}) {
    INFO(literal);
    CHECK(error_of([&] {
            meshsim::parse_json_text(std::string("{\"a\": ") + literal + "}", "m.json");
          }) == "<no error>");
  }
  // An integer field reading a whole-number literal still works; a true fraction does not.
  const auto doc = meshsim::parse_json_text("{\"a\": 4.0, \"b\": 4.5}", "m.json");
  JsonObject object(doc, "m.json", "");
  CHECK(object.integer("a", 0, 10) == 4);
  CHECK(contains(error_of([&] { object.integer("b", 0, 10); }), "not an integer"));
}
