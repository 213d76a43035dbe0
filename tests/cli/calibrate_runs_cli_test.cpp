// Issue 13: `meshsim calibrate --runs` end to end: the published ViT-B/16 run calibrates an A100
// profile that reproduces it within 5% and works with every verb; bad input is one line, exit 2.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli_runner.hpp"
#include "tests/input_errors.hpp"

using meshsim::testing::contains;
using meshsim::testing::run_meshsim;
using meshsim::testing::scratch_dir;
using meshsim::testing::write_scratch_file;

namespace {

const std::string kRuns =
    std::string(MESHSIM_SOURCE_DIR) + "/cuda_validation/published/end_to_end_calibration.csv";

void require_one_line_error(const meshsim::testing::CliResult& r, const std::string& part) {
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("meshsim: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(contains(r.err, part));
}

}  // namespace

TEST_CASE("calibrate --runs: the published run calibrates a profile that reproduces it",
          "[calibrate_runs][cli]") {
  const std::string dir = scratch_dir("calibrate_runs");
  const std::string out = dir + "/a100-jax.json";
  const auto fit = run_meshsim("calibrate --runs " + kRuns + " --hardware a100-sxm-80gb -o " + out);
  INFO(fit.err);
  REQUIRE(fit.exit_code == 0);
  CHECK(contains(fit.out, "jaxtoolbox_vitb16_8xa100"));
  CHECK(contains(fit.out, "kept"));  // one row: the other parameters keep their values
  CHECK(contains(fit.out, "wrote " + out));

  std::ifstream in(out);
  const auto profile = nlohmann::json::parse(in);
  CHECK(profile["name"] == "a100-sxm-80gb-calibrated");
  CHECK(profile["fidelity"]["stack"]["status"] == "measured");
  bool sourced = false;
  for (const auto& s : profile["sources"]) {
    if (s["field"].get<std::string>().rfind("/stack/", 0) == 0) {
      sourced = true;
      CHECK(contains(s["source"].get<std::string>(), "end_to_end_calibration.csv"));
      CHECK(contains(s["source"].get<std::string>(), "jaxtoolbox_vitb16_8xa100"));
    }
  }
  CHECK(sourced);

  // validate --runs with the calibrated profile: within 5% (it was +33% before).
  const auto before = run_meshsim("validate --runs " + kRuns + " --json");
  const auto after = run_meshsim("validate --runs " + kRuns + " --hardware " + out + " --json");
  REQUIRE(before.exit_code == 0);
  REQUIRE(after.exit_code == 0);
  const double e0 = nlohmann::json::parse(before.out)["rows"][0]["rel_error"].get<double>();
  const double e1 = nlohmann::json::parse(after.out)["rows"][0]["rel_error"].get<double>();
  CHECK(std::abs(e0) > 0.2);
  CHECK(std::abs(e1) <= 0.05);

  // The derived profile works with every verb, and its band is the calibrated one.
  const auto run = run_meshsim("run --model vit-b16 --hardware " + out +
                               " --mesh 8x1 --batch 4096 --fsdp off --async off --json");
  REQUIRE(run.exit_code == 0);
  const auto r = nlohmann::json::parse(run.out);
  CHECK(r["hardware"] == "a100-sxm-80gb-calibrated");
  CHECK(r["step_time_low_s"].get<double>() < r["step_time_s"].get<double>());
  CHECK(r["step_time_high_s"].get<double>() > r["step_time_s"].get<double>());
  CHECK(r["uncertainty"]["components"]["stack"]["status"] == "measured");
  CHECK(run_meshsim("compare --plan plans/vit22b-tpuv4-256x4.json --hardware " + out).exit_code !=
        1);
  CHECK(run_meshsim("sweep --model vit-b16 --hardware " + out + " --chips 8 --batch 4096 --json")
            .exit_code == 0);
  CHECK(run_meshsim("report --model vit-b16 --hardware " + out +
                    " --chips 8 --global-batch 4096 --images 1M --json -o " + dir + "/report.json")
            .exit_code == 0);
  CHECK(run_meshsim("hardware show " + out).exit_code == 0);
}

TEST_CASE("calibrate --runs: leave-one-out prints a held-out error per row",
          "[calibrate_runs][cli]") {
  const std::string dir = scratch_dir("calibrate_runs_loo");
  // Two runs of the same stack at different batches (measured: the published row and the same
  // plan at a quarter of the batch, both taken from meshsim with a known launch gap).
  const std::string truth = dir + "/truth.json";
  {
    std::ifstream in(std::string(MESHSIM_SOURCE_DIR) + "/hardware_profiles/a100-sxm-80gb.json");
    auto d = nlohmann::json::parse(in);
    d["name"] = "a100-truth";
    d["stack"] = {{"launch_gap", "30 us"}};
    d["sources"].push_back({{"field", "/stack/launch_gap"}, {"source", "test truth"}});
    write_scratch_file(dir, "truth.json", d.dump(2));
  }
  std::string csv =
      "id,model,hardware,chips,mesh,global_batch,microbatches,fsdp,remat,measured_images_per_s,"
      "source\n";
  for (const char* batch : {"4096", "1024", "256"}) {
    const auto r = run_meshsim("run --model vit-b16 --hardware " + truth +
                               " --mesh 8x1 --fsdp off --json --batch " + batch);
    REQUIRE(r.exit_code == 0);
    const double ips = nlohmann::json::parse(r.out)["images_per_s"].get<double>();
    csv += std::string("b") + batch + ",vit-b16,a100-sxm-80gb,8,8x1," + batch + ",,off,," +
           std::to_string(ips) + ",test\n";
  }
  const std::string runs = write_scratch_file(dir, "runs.csv", csv);
  const auto r = run_meshsim("calibrate --runs " + runs +
                             " --hardware a100-sxm-80gb --fit launch_gap --leave-one-out --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["held_out"].size() == 3);
  for (const auto& row : j["held_out"])
    CHECK(std::abs(row["rel_error"].get<double>()) < 0.01);
  CHECK(j["parameters"][0]["name"] == "launch_gap");
  CHECK(j["parameters"][0]["value"].get<double>() == Approx(30e-6).epsilon(0.02));
  CHECK(j["parameters"][1]["fitted"] == false);
}

TEST_CASE("calibrate --runs: bad input is one line naming the flag or file",
          "[calibrate_runs][cli]") {
  const std::string dir = scratch_dir("calibrate_runs_bad");
  require_one_line_error(
      run_meshsim("calibrate --runs " + kRuns + " --hardware a100-sxm-80gb --fit launch_gapp"),
      "--fit");
  require_one_line_error(
      run_meshsim("calibrate --runs " + kRuns + " --hardware a100-sxm-80gb --leave-one-out"),
      "--leave-one-out");
  const std::string empty = write_scratch_file(
      dir, "empty.csv",
      "id,model,hardware,chips,mesh,global_batch,microbatches,fsdp,remat,measured_images_per_s,"
      "source\n");
  require_one_line_error(run_meshsim("calibrate --runs " + empty + " --hardware a100-sxm-80gb"),
                         "empty.csv");
  require_one_line_error(
      run_meshsim("calibrate --measurements x.json --runs " + kRuns + " --hardware a100-sxm-80gb"),
      "more than one input");
}
