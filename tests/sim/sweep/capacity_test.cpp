// Capacity report: time to train = steps x best step time, chip-hours and cost follow, the scaling
// curve grows where links are not saturated, and the output file is written atomically.
#include "sim/sweep/capacity.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/cli_runner.hpp"

using namespace meshsim;

TEST_CASE("capacity report: time to train, chip-hours, scaling", "[report]") {
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  sweep::CapacityOptions o;
  o.chips = 64;
  o.threads = 2;
  o.global_batch = 4096;
  o.target_kind = sweep::TargetKind::Steps;
  o.target_value = 1000;
  o.max_scaling_chips = 256;
  const auto rep = sweep::build_capacity_report(m, hw, o);
  REQUIRE(rep.has_best);
  const auto& best = rep.sweep.top.front().result;
  CHECK(rep.time_to_train_s == 1000 * best.step_time_s);
  CHECK(rep.chip_hours == Approx(64 * rep.time_to_train_s / 3600));
  REQUIRE(hw.price_per_chip_hour_usd);
  CHECK(*rep.cost_usd == Approx(rep.chip_hours * *hw.price_per_chip_hour_usd));
  // Largest batch: more recomputation never fits fewer images.
  REQUIRE(rep.largest_batch.size() == 3);
  CHECK(rep.largest_batch[1].images_per_replica >= rep.largest_batch[0].images_per_replica);
  CHECK(rep.largest_batch[2].images_per_replica >= rep.largest_batch[1].images_per_replica);
  // Scaling: total throughput grows with the chip count wherever links are not saturated.
  const sweep::ScalingPoint* prev = nullptr;
  int simulated = 0;
  for (const auto& pt : rep.scaling) {
    if (!pt.simulated)
      continue;
    ++simulated;
    if (prev && !pt.links_saturated && !prev->links_saturated)
      CHECK(pt.result.tokens_per_s >= prev->result.tokens_per_s);
    prev = &pt;
  }
  CHECK(simulated >= 3);
}

TEST_CASE("meshsim report writes meshsim.report/v1 and a summary", "[report][cli]") {
  const auto dir = testing::scratch_dir("report_cli");
  const auto path = dir + "/r.json";
  const auto r = testing::run_meshsim(
      "report --model vit-b16 --hardware tpu-v4 --chips 16 --global-batch 1024 --steps 10k "
      "--max-scaling-chips 32 -j 2 -o " +
      path);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("Best plan") != std::string::npos);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto j = nlohmann::json::parse(ss.str());
  CHECK(j["schema"] == "meshsim.report/v1");
  CHECK(j["inputs"]["steps"] == 10000);
  CHECK(j["time_to_train_s"].get<double>() == 10000 * j["best_plan"]["step_time_s"].get<double>());
  CHECK(j["scaling"]["points"].is_array());
  CHECK(j["chip_hours"].is_number());
  // --json without -o: the same document on standard output (issue 16 item 3).
  const auto printed = testing::run_meshsim(
      "report --model vit-b16 --hardware tpu-v4 --chips 16 --global-batch 1024 --steps 10k "
      "--max-scaling-chips 32 -j 2 --json");
  REQUIRE(printed.exit_code == 0);
  CHECK(nlohmann::json::parse(printed.out) == j);
  // Output path checked before any simulation.
  const auto bad = testing::run_meshsim(
      "report --model vit-b16 --chips 16 --global-batch 1024 -o /no/such/dir/r.json");
  CHECK(bad.exit_code == 2);
  CHECK(testing::run_meshsim("report --model vit-b16 --chips 16 --global-batch 1024 --steps 1 "
                             "--tokens 1 -o " +
                             path)
            .exit_code == 2);
}
