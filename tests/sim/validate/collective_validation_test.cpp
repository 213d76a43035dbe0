// Collectives against the committed published measurements (issue 12 targets): within 10% from
// 64 MiB, within 25% from 1 MiB, within 2x below; strict loaders of the CSV formats.
#include "sim/validate/collective_validation.hpp"
#include "sim/validate/error_summary.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.hpp"
#include "tests/cli_runner.hpp"

using namespace meshsim;
using namespace meshsim::validate;

namespace {

const std::string kDir = std::string(MESHSIM_SOURCE_DIR) + "/cuda_validation/published/";

void check_busbw_file(const std::string& file, const std::string& hardware, int gpus,
                      const std::string& algorithm) {
  const auto profile = load_hardware(hardware);
  const auto rows = load_allreduce_busbw(kDir + file, 8);
  const auto results = predict_allreduce_busbw(rows, profile, gpus, algorithm);
  REQUIRE(results.size() == rows.size());
  for (const auto& r : results) {
    INFO(file << " " << algorithm << " size " << r.input.bytes << " gpus " << r.gpus << " measured "
              << r.measured_busbw << " predicted " << r.predicted_busbw);
    CHECK(within_size_target(r.input.bytes, r.predicted_busbw, r.measured_busbw));
    if (r.input.algorithm && algorithm == "auto") {
      CHECK(r.algorithm == *r.input.algorithm);  // NCCL's choice, from the data
    }
  }
}

}  // namespace

TEST_CASE("validate: every nccl-tests all-reduce file meets the size targets",
          "[validate][collectives]") {
  check_busbw_file("nccl_allreduce_8xa100.csv", "a100-sxm-80gb", 8, "auto");
  check_busbw_file("nccl_allreduce_8xh200_nvls.csv", "h200-sxm", 8, "auto");
  check_busbw_file("nccl_allreduce_h200_gpus_8gib.csv", "h200-sxm", 0, "auto");
  check_busbw_file("nccl_allreduce_h200_gpus_8gib.csv", "h200-sxm", 0, "ring");
}

TEST_CASE("validate: the XLA collective table of 8 H100, against the size targets",
          "[validate][collectives]") {
  const auto profile = load_hardware("h100-sxm");
  const auto rows = load_collective_measurements(kDir + "collectives_8xh100_xla.csv", 8);
  REQUIRE(rows.size() == 88);
  const auto results = predict_collectives(rows, profile);
  // Rows no model whose time grows with size can meet: a larger size of the same collective was
  // measured so much faster that the smaller row's lower limit exceeds the larger row's upper one.
  auto limits = [](std::int64_t bytes, double t) {
    if (bytes >= std::int64_t{64} << 20)
      return std::pair{0.9 * t, 1.1 * t};
    if (bytes >= std::int64_t{1} << 20)
      return std::pair{0.75 * t, 1.25 * t};
    return std::pair{0.5 * t, 2.0 * t};
  };
  std::map<std::string, int> misses;
  int infeasible = 0, total_misses = 0;
  for (const auto& r : results) {
    bool monotone_infeasible = false;
    for (const auto& other : rows) {
      if (other.collective == r.input.collective && other.bytes > r.input.bytes &&
          limits(r.input.bytes, r.input.time_s).first > limits(other.bytes, other.time_s).second) {
        monotone_infeasible = true;
      }
    }
    infeasible += monotone_infeasible ? 1 : 0;
    const bool met = within_size_target(r.input.bytes, r.predicted_s, r.input.time_s);
    INFO(r.input.collective << " " << r.input.bytes << " measured " << r.input.time_s
                            << " predicted " << r.predicted_s);
    if (!met && !monotone_infeasible) {
      ++misses[r.input.collective];
      ++total_misses;
    }
    // All-gather and all-reduce meet every target; NVLS from 64 MiB (NCCL's choice inside XLA).
    if (r.input.collective == "all-gather" || r.input.collective == "all-reduce") {
      CHECK(met);
    }
    if (r.input.collective == "all-reduce" && r.input.bytes >= std::int64_t{64} << 20) {
      CHECK(r.algorithm == "nvls");
    }
  }
  CHECK(infeasible == 3);  // all-to-all at 1 KiB, 32 KiB and 1 MiB
  // Known misses (docs/fidelity.md): all-to-all runs 10-40% slower than a ring's bandwidth at
  // 8-128 MiB (3 rows within 2% of the 10% line), and reduce-scatter at 1 MiB was measured at
  // 20 us while 512 KiB took 41 us. A regression adds to these counts.
  CHECK(misses["all-to-all"] <= 5);
  CHECK(misses["reduce-scatter"] <= 1);
  CHECK(total_misses <= 6);
}

TEST_CASE("validate: error summary is count, median, nearest-rank p90 and worst",
          "[validate][collectives]") {
  const auto s =
      meshsim::summarize_rel_errors({0.1, -0.3, 0.2, -0.05, 0.0, 0.4, -0.6, 0.15, 0.25, 0.35});
  CHECK(s.count == 10);
  CHECK(s.median_abs == Approx((0.2 + 0.25) / 2));
  CHECK(s.p90_abs == Approx(0.4));  // the 9th of 10 sorted
  CHECK(s.worst_abs == Approx(0.6));
  CHECK(meshsim::summarize_rel_errors({}).count == 0);
  CHECK(within_size_target(64 << 20, 1.1, 1.0));
  CHECK_FALSE(within_size_target(64 << 20, 1.11, 1.0));
  CHECK(within_size_target(1 << 20, 0.75, 1.0));
  CHECK_FALSE(within_size_target(1 << 20, 0.74, 1.0));
  CHECK(within_size_target(1024, 0.5, 1.0));
  CHECK_FALSE(within_size_target(1024, 2.01, 1.0));
}

TEST_CASE("validate: collective CSV loaders are strict and name file, line and column",
          "[validate][collectives]") {
  const std::string dir = testing::scratch_dir("collective-loaders");
  auto bad_xla = [&](const std::string& body, const std::string& needle) {
    const auto path = testing::write_scratch_file(
        dir, "x.csv", "collective,groups,tensor_size_bytes,time_s\n" + body);
    try {
      load_collective_measurements(path, 8);
      FAIL("no error for " << body);
    } catch (const InputError& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains(path));
      CHECK_THAT(std::string(e.what()), Catch::Contains(needle));
    }
  };
  bad_xla("all-reduce,\"[2,8]\",1024,1e-5\n", "groups");     // 16 GPUs > one node
  bad_xla("all-reduce,\"[1,8\",1024,1e-5\n", "[G,S]");       // malformed
  bad_xla("all-reduce,\"[1,1]\",1024,1e-5\n", "groups");     // a group of one
  bad_xla("all-reduce,\"[01,8]\",1024,1e-5\n", "[G,S]");     // leading zero
  bad_xla("broadcast,\"[1,8]\",1024,1e-5\n", "collective");  // unknown op
  bad_xla("all-reduce,\"[1,8]\",-4,1e-5\n", "tensor_size_bytes");
  bad_xla("all-reduce,\"[1,8]\",1024,0\n", "time_s");
  bad_xla("", "no data rows");
  const auto ok = testing::write_scratch_file(
      dir, "ok.csv",
      "collective,groups,tensor_size_bytes,time_s\nall-gather,\"[2,4]\",4096,2e-5\n");
  const auto rows = load_collective_measurements(ok, 8);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].group_count == 2);
  CHECK(rows[0].group_size == 4);

  auto bad_busbw = [&](const std::string& text, const std::string& needle) {
    const auto path = testing::write_scratch_file(dir, "b.csv", text);
    try {
      load_allreduce_busbw(path, 8);
      FAIL("no error for " << text);
    } catch (const InputError& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains(path));
      CHECK_THAT(std::string(e.what()), Catch::Contains(needle));
    }
  };
  bad_busbw("size_bytes,busbw_gb_per_s\n1024,-1\n", "busbw_gb_per_s");
  bad_busbw("size_bytes,busbw\n1024,1\n", "busbw");
  bad_busbw("gpus,algorithm,busbw_gb_per_s,ring_busbw_gb_per_s\n9,ring,1,1\n", "gpus");
  bad_busbw("gpus,algorithm,busbw_gb_per_s,ring_busbw_gb_per_s\n4,tree,1,1\n", "algorithm");
  bad_busbw("gpus,algorithm,busbw_gb_per_s\n4,ring,1\n", "ring_busbw_gb_per_s");
}

TEST_CASE("validate CLI: collective modes print a table and JSON, and bad flags exit 2",
          "[validate][collectives][cli]") {
  using testing::run_meshsim;
  const auto r = run_meshsim("validate --allreduce-busbw " + kDir +
                             "nccl_allreduce_h200_gpus_8gib.csv --hardware h200-sxm --json");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["rows"].size() == 5);
  CHECK(j["summary"]["count"] == 5);
  for (const char* key : {"median_abs_rel_error", "p90_abs_rel_error", "worst_abs_rel_error"}) {
    CHECK(j["summary"].contains(key));
  }
  CHECK(j["rows"][0].contains("rel_error"));
  const auto x = run_meshsim("validate --collectives " + kDir +
                             "collectives_8xh100_xla.csv --hardware h100-sxm");
  REQUIRE(x.exit_code == 0);
  CHECK_THAT(x.out, Catch::Contains("88 rows"));
  auto bad = [&](const std::string& args, const std::string& needle) {
    const auto b = run_meshsim(args);
    CAPTURE(args, b.err);
    CHECK(b.exit_code == 2);
    CHECK_THAT(b.err, Catch::Contains(needle));
  };
  bad("validate --allreduce-busbw " + kDir + "nccl_allreduce_8xa100.csv --hardware a100-sxm-80gb",
      "--gpus");
  bad("validate --allreduce-busbw " + kDir +
          "nccl_allreduce_8xa100.csv --hardware a100-sxm-80gb --gpus 8 --algorithm nvls",
      "--algorithm");
  bad("validate --collectives " + kDir + "collectives_8xh100_xla.csv", "--hardware");
  bad("validate --collectives " + kDir + "collectives_8xh100_xla.csv --hardware tpu-v4",
      "--hardware");
  bad("validate", "exactly one of");
}
