// `meshsim validate --matmuls` and `meshsim calibrate --matmuls` (issue 12, docs/fidelity.md).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli_runner.hpp"

using meshsim::testing::run_meshsim;

namespace {

const std::string kGemmFile =
    std::string(MESHSIM_SOURCE_DIR) + "/cuda_validation/published/gemm_h100_xla.csv";

}  // namespace

TEST_CASE("meshsim validate --matmuls --json: rows and summary", "[cli][validate][matmul]") {
  const auto r = run_meshsim("validate --matmuls " + kGemmFile + " --hardware h100-sxm --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["rows"].size() == 238);
  std::vector<double> abs_errors;
  for (const auto& row : j["rows"]) {
    for (const char* key : {"b", "m", "n", "k", "bf16_flop_per_s", "tf32_flop_per_s", "measured_s",
                            "predicted_s", "rel_error"})
      CHECK(row.contains(key));
    // measured_s = 2 b m n k / flop_per_s; rel_error = (predicted - measured) / measured.
    const double flop = 2.0 * row["b"].get<double>() * row["m"].get<double>() *
                        row["n"].get<double>() * row["k"].get<double>();
    const double measured = row["measured_s"].get<double>();
    CHECK(measured == Approx(flop / row["bf16_flop_per_s"].get<double>()));
    CHECK(row["rel_error"].get<double>() ==
          Approx((row["predicted_s"].get<double>() - measured) / measured));
    abs_errors.push_back(std::abs(row["rel_error"].get<double>()));
  }
  const auto& s = j["summary"];
  CHECK(s["count"] == 238);
  std::sort(abs_errors.begin(), abs_errors.end());
  CHECK(s["worst_abs_rel_error"].get<double>() == Approx(abs_errors.back()));
  CHECK(s["median_abs_rel_error"].get<double>() == Approx((abs_errors[118] + abs_errors[119]) / 2));
  CHECK(s["p90_abs_rel_error"].get<double>() == Approx(abs_errors[214]));  // ceil(0.9 x 238) = 215
  CHECK(s["median_abs_rel_error"].get<double>() <= 0.05);
  CHECK(s["p90_abs_rel_error"].get<double>() <= 0.12);
}

TEST_CASE("meshsim validate --matmuls prints a table and its summary", "[cli][validate][matmul]") {
  const auto r = run_meshsim("validate --matmuls " + kGemmFile + " --hardware h100-sxm");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("measured_us") != std::string::npos);
  CHECK(r.out.find("238 rows: median |error|") != std::string::npos);
  CHECK(r.out.find("90th percentile") != std::string::npos);
  // TF32 column: the same model at the TF32 rate (not fitted on it); runs, TPU refuses it.
  CHECK(run_meshsim("validate --matmuls " + kGemmFile + " --hardware h100-sxm --dtype tf32")
            .exit_code == 0);
  const auto tpu =
      run_meshsim("validate --matmuls " + kGemmFile + " --hardware tpu-v4 --dtype tf32");
  CHECK(tpu.exit_code == 2);
  CHECK(tpu.err.find("--dtype") != std::string::npos);
}

TEST_CASE("meshsim validate --matmuls: bad input exits 2 with one line naming the place",
          "[cli][validate][matmul]") {
  const std::string dir = meshsim::testing::scratch_dir("validate-matmuls-bad");
  const std::string header = "b,m,n,k,bf16_flop_per_s,tf32_flop_per_s\n";
  const std::string bad_rate = meshsim::testing::write_scratch_file(
      dir, "bad_rate.csv", header + "1,256,256,256,6.4e12,5.6e12\n1,512,512,512,-1,5e12\n");
  const std::string bad_column = meshsim::testing::write_scratch_file(
      dir, "bad_column.csv", "b,m,n,kk,bf16_flop_per_s,tf32_flop_per_s\n1,2,3,4,5,6\n");
  struct Case {
    std::string args;
    std::vector<std::string> want;
  };
  for (const Case& c : std::vector<Case>{
           {"validate --matmuls " + bad_rate + " --hardware h100-sxm",
            {bad_rate, "line 3", "bf16_flop_per_s"}},
           {"validate --matmuls " + bad_column + " --hardware h100-sxm", {bad_column, "kk"}},
           {"validate --matmuls " + dir + "/missing.csv --hardware h100-sxm", {"missing.csv"}},
           {"validate --matmuls " + kGemmFile, {"--hardware"}},
           {"validate --matmuls " + kGemmFile + " --measurements x.json --hardware h100-sxm",
            {"--measurements", "--matmuls"}},
           {"validate --hardware h100-sxm", {"--measurements"}},
           {"calibrate --matmuls " + bad_rate + " --hardware h100-sxm", {bad_rate, "line 3"}},
           {"calibrate --matmuls " + kGemmFile + " --hardware tpu-v4", {"tpu-v4"}},
       }) {
    INFO(c.args);
    const auto r = run_meshsim(c.args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    for (const auto& w : c.want)
      CHECK(r.err.find(w) != std::string::npos);
  }
}

TEST_CASE("meshsim calibrate --matmuls: fitted parameters, and a profile that loads back",
          "[cli][validate][matmul]") {
  const std::string dir = meshsim::testing::scratch_dir("calibrate-matmuls");
  const std::string out = dir + "/h100-fitted.json";
  const auto r = run_meshsim("calibrate --matmuls " + kGemmFile + " --hardware h100-sxm -o " + out);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("tensor_core_fraction") != std::string::npos);
  std::ifstream in(out);
  const auto profile = nlohmann::json::parse(in);
  CHECK(profile["cost_model"]["matmul"]["model"] == "gpu_tiles");
  CHECK(!profile["cost_model"].contains("matmul_efficiency"));
  for (const auto& entry : profile["sources"]) {
    if (entry["field"] == "/cost_model/matmul/tile_overhead")
      CHECK(entry["source"].get<std::string>().rfind("fitted on " + kGemmFile, 0) == 0);
  }
  // The written profile loads and validates to the same figures as the zoo's (rounded) values.
  const auto v = run_meshsim("validate --matmuls " + kGemmFile + " --hardware " + out + " --json");
  INFO(v.err);
  REQUIRE(v.exit_code == 0);
  const auto zoo = run_meshsim("validate --matmuls " + kGemmFile + " --hardware h100-sxm --json");
  const auto a = nlohmann::json::parse(v.out)["summary"];
  const auto b = nlohmann::json::parse(zoo.out)["summary"];
  CHECK(a["median_abs_rel_error"].get<double>() ==
        Approx(b["median_abs_rel_error"].get<double>()).margin(0.005));
  CHECK(a["p90_abs_rel_error"].get<double>() ==
        Approx(b["p90_abs_rel_error"].get<double>()).margin(0.005));
}
