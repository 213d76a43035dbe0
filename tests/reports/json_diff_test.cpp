// `meshsim diff` (sim/report/json_diff.hpp, docs/whatif.md "diff"): a document against itself has
// no change; a perturbed copy lists exactly the perturbed fields with their change; different
// schemas are refused; the exit status is diff(1)'s.
#include "sim/report/json_diff.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "tests/cli_runner.hpp"

using namespace meshsim;
using meshsim::testing::run_meshsim;
using meshsim::testing::scratch_dir;
using meshsim::testing::write_scratch_file;

TEST_CASE("json diff: itself equal, a perturbed copy lists each change with its size", "[diff]") {
  const std::string a = R"({"schema": "meshsim.run/v1", "step_time_s": 2.0, "mesh": "8x2",
    "memory": {"fits": true, "per_chip_bytes": 100}, "list": [1, 2], "gone": 1, "zero": 0})";
  const std::string b = R"({"schema": "meshsim.run/v1", "step_time_s": 2.5, "mesh": "16x1",
    "memory": {"fits": false, "per_chip_bytes": 100}, "list": [1, 2, 3], "new": "x", "zero": 1})";
  CHECK(report::diff_json(a, "a.json", a, "a.json").equal());
  CHECK(report::diff_text(report::diff_json(a, "a", a, "a")).empty());
  const auto d = report::diff_json(a, "a.json", b, "b.json");
  CHECK(d.schema == "meshsim.run/v1");
  REQUIRE(d.changes.size() == 7);
  // Keys in sorted order: gone, list, memory, mesh, new, step_time_s, zero.
  CHECK(d.changes[0].path == "/gone");
  CHECK(d.changes[0].kind == report::ChangeKind::Removed);
  CHECK(d.changes[1].path == "/list/2");
  CHECK(d.changes[1].kind == report::ChangeKind::Added);
  CHECK(d.changes[2].path == "/memory/fits");
  CHECK(d.changes[2].before == "true");
  CHECK(d.changes[2].after == "false");
  CHECK(d.changes[3].path == "/mesh");
  CHECK(d.changes[3].after == "\"16x1\"");
  CHECK(d.changes[4].path == "/new");
  CHECK(d.changes[5].path == "/step_time_s");
  REQUIRE(d.changes[5].absolute);
  CHECK(*d.changes[5].absolute == 0.5);
  CHECK(*d.changes[5].relative == 0.25);
  CHECK(d.changes[6].path == "/zero");
  CHECK_FALSE(d.changes[6].relative);  // no relative change from zero
  const std::string text = report::diff_text(d);
  CHECK(text.find("~ /step_time_s: 2.0 -> 2.5 (+0.5, +25%)\n") != std::string::npos);
  CHECK(text.find("- /gone: 1\n") != std::string::npos);
  CHECK(text.find("+ /new: \"x\"\n") != std::string::npos);
  const auto j = nlohmann::json::parse(report::diff_json_output(d, "a.json", "b.json"));
  CHECK(j["schema"] == "meshsim.diff/v1");
  CHECK(j["equal"] == false);
  CHECK(j["changes"].size() == 7);
  CHECK(j["changes"][5]["relative_change"] == 0.25);
  // Integers and floats of the same value are equal.
  CHECK(
      report::diff_json(R"({"schema":"s","x":1})", "a", R"({"schema":"s","x":1.0})", "b").equal());
}

TEST_CASE("json diff: different schemas or no schema are refused, naming both", "[diff]") {
  try {
    report::diff_json(R"({"schema": "meshsim.run/v1"})", "a.json",
                      R"({"schema": "meshsim.sweep/v1"})", "b.json");
    FAIL("no error");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find("meshsim.run/v1") != std::string::npos);
    CHECK(what.find("meshsim.sweep/v1") != std::string::npos);
  }
  CHECK_THROWS_AS(report::diff_json("[1]", "a", "[1]", "b"), InputError);
  CHECK_THROWS_AS(report::diff_json("{", "a", "{}", "b"), InputError);
}

TEST_CASE("cli diff: exit 0 equal, 1 different, 2 bad input; a what-if run against the stock",
          "[cli][diff]") {
  const std::string dir = scratch_dir("diff_cli");
  const std::string plan = "run --model vit-b16 --hardware tpu-v4 --mesh 8x2 --batch 256 --json";
  const auto stock = run_meshsim(plan);
  const auto whatif = run_meshsim(plan + " --set interconnect.link_bandwidth=90GB/s");
  REQUIRE(stock.exit_code == 0);
  REQUIRE(whatif.exit_code == 0);
  const std::string a = write_scratch_file(dir, "a.json", stock.out);
  const std::string b = write_scratch_file(dir, "b.json", whatif.out);
  auto r = run_meshsim("diff " + a + " " + a);
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  r = run_meshsim("diff " + a + " " + b);
  CHECK(r.exit_code == 1);
  CHECK(r.err.empty());
  CHECK(
      r.out.find("~ /hardware: \"tpu-v4\" -> \"tpu-v4+set(interconnect.link_bandwidth=90GB/s)\"") !=
      std::string::npos);
  CHECK(r.out.find("+ /overrides: ") != std::string::npos);
  r = run_meshsim("diff " + a + " " + b + " --json");
  CHECK(r.exit_code == 1);
  const auto j = nlohmann::json::parse(r.out);
  bool step_listed = false;
  for (const auto& c : j["changes"]) {
    if (c["path"] == "/step_time_s") {
      step_listed = true;
      const double before = c["before"], after = c["after"];
      CHECK(c["absolute_change"].get<double>() == Approx(after - before));
      CHECK(c["relative_change"].get<double>() == Approx((after - before) / before));
    }
  }
  CHECK(step_listed);
  const std::string sweep = write_scratch_file(dir, "s.json", R"({"schema": "meshsim.sweep/v1"})");
  r = run_meshsim("diff " + a + " " + sweep);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("meshsim.sweep/v1") != std::string::npos);
}
