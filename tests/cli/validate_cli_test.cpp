#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli_runner.hpp"
#include "tests/sim/validate/synthetic_measurements.hpp"

using meshsim::testing::run_meshsim;

namespace {

std::string synthetic_file(const std::string& dir, double noise) {
  const std::string path = dir + "/synthetic.json";
  std::ofstream(path)
      << meshsim::testing::synthetic_measurements(meshsim::testing::known_model(), noise, 5).dump();
  return path;
}

}  // namespace

TEST_CASE("meshsim validate --json: ops, layers and summary", "[cli][validate]") {
  const std::string dir = meshsim::testing::scratch_dir("validate-cli");
  const auto r = run_meshsim("validate --measurements " + synthetic_file(dir, 0.02) +
                             " --hardware h100-sxm --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["schema"] == "meshsim.validation/v1");
  CHECK(j["synthetic"] == true);
  REQUIRE(j["ops"].size() == 15 * 24);
  for (const auto& op : j["ops"]) {
    for (const char* key :
         {"op", "shape", "k", "held_out", "measured_s", "predicted_s", "rel_error"})
      CHECK(op.contains(key));
    CHECK(op["held_out"] == (op["k"] == 2 || op["k"] == 8));
    const double want = (op["predicted_s"].get<double>() - op["measured_s"].get<double>()) /
                        op["measured_s"].get<double>();
    CHECK(op["rel_error"].get<double>() == Approx(want));
  }
  CHECK(j["layers"].size() == 15);
  for (const char* part : {"ops", "matmuls", "layers"}) {
    const auto& s = j["summary"]["held_out"][part];
    CHECK(s["count"].get<int>() > 0);
    CHECK(s["median_abs_rel_error"].get<double>() <= s["worst_abs_rel_error"].get<double>());
  }
  CHECK(j["summary"]["targets"]["layer_target_met"] == true);
}

TEST_CASE("meshsim validate prints a table that says the data are synthetic", "[cli][validate]") {
  const std::string dir = meshsim::testing::scratch_dir("validate-cli-table");
  const auto r =
      run_meshsim("validate --measurements " + synthetic_file(dir, 0.0) + " --hardware h100-sxm");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("SYNTHETIC") != std::string::npos);
  CHECK(r.out.find("held-out shapes") != std::string::npos);
  CHECK(r.out.find("fused_in_proj") != std::string::npos);
}

TEST_CASE("meshsim validate: malformed measurements exit 2 with one line", "[cli][validate]") {
  const std::string dir = meshsim::testing::scratch_dir("validate-cli-bad");
  auto j =
      meshsim::testing::synthetic_measurements(meshsim::testing::known_model(), 0, 1, {1}, {1});
  j["shapes"][0]["ops"][0]["median_s"] = "fast";
  const std::string path = dir + "/bad.json";
  std::ofstream(path) << j.dump();
  for (const std::string& args :
       {"validate --measurements " + path + " --hardware h100-sxm",
        "validate --measurements " + dir + "/missing.json --hardware h100-sxm",
        "validate --measurements " + path + " --hardware no-such-gpu",
        "calibrate --measurements " + path + " --hardware h100-sxm -o " + dir + "/out.json"}) {
    INFO(args);
    const auto r = run_meshsim(args);
    CHECK(r.exit_code == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  const auto r = run_meshsim("validate --measurements " + path + " --hardware h100-sxm");
  CHECK(r.err.find("/shapes/0/ops/0") != std::string::npos);
}

TEST_CASE("meshsim calibrate writes a profile that validate reads back", "[cli][validate]") {
  const std::string dir = meshsim::testing::scratch_dir("calibrate-cli");
  const std::string measurements = synthetic_file(dir, 0.0);
  const std::string out = dir + "/h100-calibrated.json";
  // Synthetic data must not calibrate a real profile by accident.
  CHECK(run_meshsim("calibrate --measurements " + measurements + " --hardware h100-sxm -o " + out)
            .exit_code == 2);
  const auto r = run_meshsim("calibrate --measurements " + measurements +
                             " --hardware h100-sxm --allow-synthetic -o " + out);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::ifstream in(out);
  const auto profile = nlohmann::json::parse(in);
  CHECK(profile["cost_model"]["calibrated"]["source"] == measurements);
  CHECK(profile["cost_model"].contains("matmul"));  // the profile's own fields stay
  // The written profile loads, and with --cost-model profile the fit axes are not held out.
  const auto v = run_meshsim("validate --measurements " + measurements + " --hardware " + out +
                             " --cost-model profile --json");
  INFO(v.err);
  REQUIRE(v.exit_code == 0);
  const auto j = nlohmann::json::parse(v.out);
  for (const auto& op : j["ops"])
    CHECK(op["held_out"] == (op["k"] == 2 || op["k"] == 8));
  // Noise-free data from the model's own form: held-out errors are tiny.
  CHECK(j["summary"]["held_out"]["ops"]["worst_abs_rel_error"].get<double>() < 1e-6);
}
