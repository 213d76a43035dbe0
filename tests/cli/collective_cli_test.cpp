// `meshsim collective` through the real binary (sim/cli/collective_command).
#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/version.hpp"
#include "hardware_profiles/hardware.hpp"
#include "tests/cli_runner.hpp"

using meshsim::testing::run_meshsim;

TEST_CASE("collective CLI: ring all-gather on 64 TPU v4 chips meets its closed form",
          "[cli][collectives]") {
  const auto r = run_meshsim(
      "collective --op all-gather --bytes 1GiB --hardware tpu-v4 --group 64 --algorithm ring "
      "--json");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["schema"] == "meshsim.collective/v1");
  CHECK(j["version"] == meshsim::kVersion);
  const double time_s = j["time_s"];
  const double closed_s = j["closed_form_time_s"];
  // (p-1)/p * S/B + (p-1) a with the profile's 4.5e10 B/s at its achievable fraction
  // (collectives/ici_efficiency) and 1 us per ICI hop (tpu-v4.json); no protocol on a torus.
  const double efficiency = meshsim::load_hardware("tpu-v4").collectives.ici_efficiency;
  const double expected = 63.0 / 64 * 1073741824.0 / (4.5e10 * efficiency) + 63 * 1e-6;
  CHECK(closed_s == Approx(expected).epsilon(1e-9));
  CHECK(time_s == Approx(closed_s).epsilon(0.01));
  // nccl-tests: algbw = S / t, busbw = algbw (p-1)/p.
  CHECK(double(j["algbw_bytes_per_s"]) == Approx(1073741824.0 / time_s));
  CHECK(double(j["busbw_bytes_per_s"]) == Approx(1073741824.0 / time_s * 63 / 64));
  // Every chip sends 63/64 of the buffer over one ICI hop.
  CHECK(j["link_bytes_by_class"]["ici"] == std::int64_t{64} * 63 * (1073741824 / 64));
  CHECK(j["topology"] == "4x4x4 torus, wrap-around on x y z");
}

TEST_CASE("collective CLI: same run twice, byte-identical JSON", "[cli][collectives]") {
  const std::string args =
      "collective --op all-to-all --bytes 64MiB --hardware tpu-v4 --group 16 --chunks 2 --json";
  const auto a = run_meshsim(args);
  const auto b = run_meshsim(args);
  REQUIRE(a.exit_code == 0);
  CHECK(a.out == b.out);
  CHECK(nlohmann::json::parse(a.out)["closed_form_time_s"].is_null());
}

TEST_CASE("collective CLI: GPU cluster all-reduce, hierarchical by default", "[cli][collectives]") {
  const auto r =
      run_meshsim("collective --op all-reduce --bytes 1GiB --hardware h100-sxm --group 32 --json");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["algorithm"] == "hierarchical");
  CHECK(double(j["busbw_bytes_per_s"]) == Approx(double(j["algbw_bytes_per_s"]) * 2 * 31 / 32));
  CHECK(j["link_bytes_by_class"].contains("nvlink"));
  CHECK(j["link_bytes_by_class"].contains("nic"));
  const auto human =
      run_meshsim("collective --op all-reduce --bytes 1GiB --hardware h100-sxm --group 32");
  REQUIRE(human.exit_code == 0);
  CHECK(human.out.find("bus bandwidth") != std::string::npos);
}

TEST_CASE("collective CLI: bad flags exit 2 with one line naming the flag", "[cli][collectives]") {
  auto bad = [](const std::string& args, const std::string& needle) {
    const auto r = run_meshsim(args);
    CAPTURE(args, r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(needle) != std::string::npos);
  };
  const std::string base = "collective --op all-gather --bytes 1GiB --hardware tpu-v4 ";
  bad(base + "--group 1", "--group");
  bad(base + "--group 8192", "4096");   // larger than the largest v4 slice
  bad(base + "--group 17", "--group");  // no 3-D slice of 17 chips within 16x16x16
  bad(base + "--group 8 --algorithm fancy", "ring, bidirectional-ring, torus, hierarchical");
  bad(base + "--group 8 --chunks 0", "--chunks");
  bad("collective --op all-gather --bytes 1GB/s --hardware tpu-v4 --group 8", "--bytes");
  bad("collective --op gather --bytes 1GiB --hardware tpu-v4 --group 8", "all-reduce");
  bad("collective --op all-to-all --bytes 1GiB --hardware tpu-v4 --group 8 --algorithm ring",
      "direct, pairwise");
  bad("collective --op all-reduce --bytes 1GiB --hardware h100-sxm --group 12", "whole nodes");
}

TEST_CASE("collective CLI: --all-chips gives the same JSON as the reduced ring but its events",
          "[cli][collectives][ring_symmetry]") {
  for (const std::string hw : {"tpu-v4 --group 64", "h100-sxm --group 64"}) {
    const std::string args =
        "collective --op all-reduce --bytes 1GiB --algorithm ring --json --hardware " + hw;
    const auto reduced = run_meshsim(args);
    const auto full = run_meshsim(args + " --all-chips");
    REQUIRE(reduced.exit_code == 0);
    REQUIRE(full.exit_code == 0);
    auto a = nlohmann::json::parse(reduced.out);
    auto b = nlohmann::json::parse(full.out);
    CAPTURE(hw);
    // The full run simulates one event per transfer; the reduced one a period's share.
    CHECK(b["events"] == b["transfers"]);
    CHECK(a["events"].get<std::int64_t>() < b["events"].get<std::int64_t>());
    a.erase("events");
    b.erase("events");
    CHECK(a == b);
  }
}
