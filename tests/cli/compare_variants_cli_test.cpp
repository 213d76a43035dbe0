// Issue 16 item 2 (and issue 13's tie): compare takes several --mesh and --hardware values, says
// what differs between the columns, and names a winner only outside the model's uncertainty.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli_runner.hpp"
#include "tests/input_errors.hpp"

using meshsim::testing::contains;
using meshsim::testing::run_meshsim;

TEST_CASE("compare: every --mesh x --hardware combination is a column, and what differs is named",
          "[cli][compare]") {
  auto r = run_meshsim(
      "compare --model vit-b16 --batch 64 --mesh 4x2 --mesh 8x1 --hardware a100-sxm-80gb "
      "--hardware h100-sxm --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["plans"].size() == 4);
  CHECK(j["plans"][0]["plan"]["mesh"] == "4x2");
  CHECK(j["plans"][0]["hardware"] == "a100-sxm-80gb");
  CHECK(j["plans"][1]["hardware"] == "h100-sxm");
  CHECK(j["plans"][2]["plan"]["mesh"] == "8x1");
  CHECK(j["differs"]["mesh"] == nlohmann::json({"4x2", "4x2", "8x1", "8x1"}));
  CHECK(j["differs"]["hardware"] ==
        nlohmann::json({"a100-sxm-80gb", "h100-sxm", "a100-sxm-80gb", "h100-sxm"}));
  CHECK_FALSE(j["differs"].contains("remat"));  // the same in every column
  // The winner is the fastest prediction; every tied column's band overlaps the winner's.
  const auto w = j["winner"]["index"].get<std::size_t>();
  for (const auto& p : j["plans"])
    CHECK(p["step_time_s"].get<double>() >= j["plans"][w]["step_time_s"].get<double>());
  for (const auto& name : j["winner"]["tied_with"]) {
    for (const auto& p : j["plans"]) {
      if (p["plan"]["name"] != name)
        continue;
      CHECK(p["step_time_low_s"].get<double>() <= j["plans"][w]["step_time_high_s"].get<double>());
    }
  }
  CHECK((j["winner"]["verdict"] == "winner") == j["winner"]["tied_with"].empty());

  const auto text = run_meshsim(
      "compare --model vit-b16 --batch 64 --mesh 4x2 --mesh 8x1 --hardware a100-sxm-80gb");
  REQUIRE(text.exit_code == 0);
  CHECK(contains(text.out, "differs: mesh (4x2 | 8x1)"));
  CHECK(contains(text.out, "step time band"));
}

TEST_CASE("compare: no winner among plans that fit when none fits; one column is refused",
          "[cli][compare]") {
  auto r = run_meshsim(
      "compare --model vit-22b --hardware tpu-v4 --mesh 4x8 --mesh 8x4 --batch 32 --fsdp off");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "no plan fits in memory"));
  CHECK_FALSE(contains(r.out, "among plans that fit"));
  const auto one = run_meshsim("compare --model vit-b16 --batch 64 --mesh 4x2");
  CHECK(one.exit_code == 2);
  CHECK(contains(one.err, "at least two columns"));
  CHECK(one.out.empty());
}
