// `meshsim run` and `meshsim compare` end to end through the binary.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli_runner.hpp"

using meshsim::testing::run_meshsim;
using nlohmann::json;

TEST_CASE("run: the done-when command of ViT-22B on 1024 TPU v4 chips", "[cli][run]") {
  auto r = run_meshsim("run --model vit-22b --hardware tpu-v4 --mesh 256x4 --json");
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["schema"] == "meshsim.run/v1");
  CHECK(j["step_time_s"].get<double>() > 0);
  CHECK(j["mfu"].get<double>() > 0);
  CHECK(j["mfu"].get<double>() < 1);
  CHECK(j["tokens_per_s_per_chip"].get<double>() > 0);
  CHECK(j["memory"]["per_chip_bytes"].get<double>() > 0);
  CHECK(j["memory"]["fits"].get<bool>());
  REQUIRE(j["linears"].size() == 2);
  // DESIGN §2: the fused input projection (6144 -> 43008) gathers its input, the fused output
  // projection (30720 -> 6144) reduce-scatters its output.
  CHECK(j["linears"][0]["name"] == "fused_in_proj");
  CHECK(j["linears"][0]["communicates"] == "all-gather input");
  CHECK(j["linears"][0]["sharding"] == "row");
  CHECK(j["linears"][1]["name"] == "fused_out_proj");
  CHECK(j["linears"][1]["communicates"] == "reduce-scatter output");
  CHECK(j["linears"][1]["sharding"] == "column");
  for (const auto& l : j["linears"]) {
    CHECK(l["compute_s"].get<double>() > 0);
    CHECK(l["comm_s"].get<double>() > 0);
    CHECK(l["exposed_s"].get<double>() >= 0);
  }
}

TEST_CASE("run: async off is slower, and the JSON is byte-identical run to run", "[cli][run]") {
  const std::string base = "run --model vit-l16 --hardware tpu-v4 --mesh 16x4 --batch 1024 --json";
  auto on = run_meshsim(base);
  auto again = run_meshsim(base);
  auto off = run_meshsim(base + " --async off");
  REQUIRE(on.exit_code == 0);
  REQUIRE(off.exit_code == 0);
  CHECK(on.out == again.out);
  CHECK(json::parse(off.out)["step_time_s"].get<double>() >
        json::parse(on.out)["step_time_s"].get<double>());
}

TEST_CASE("run: a plan that does not fit is reported as not fitting", "[cli][run]") {
  auto r = run_meshsim(
      "run --model vit-22b --hardware tpu-v4 --mesh 64x1 --fsdp off --batch 64 --remat none "
      "--json");
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK_FALSE(j["memory"]["fits"].get<bool>());
  CHECK(j["memory"]["overflow_bytes"].get<double>() ==
        Approx(j["memory"]["per_chip_bytes"].get<double>() -
               j["memory"]["capacity_bytes"].get<double>()));
  CHECK(r.err.find("does not fit") != std::string::npos);
}

TEST_CASE("run: --trace writes a Chrome trace-event file, -o the JSON report", "[cli][run]") {
  const std::string dir = meshsim::testing::scratch_dir("run-trace");
  auto r = run_meshsim("run --model vit-b16 --hardware h100-sxm --mesh 4x4 --batch 64 --trace " +
                       dir + "/t.json -o " + dir + "/r.json --trace-chips 4");
  REQUIRE(r.exit_code == 0);
  std::ifstream trace_file(dir + "/t.json");
  json trace = json::parse(trace_file);
  REQUIRE(trace["traceEvents"].is_array());
  int complete = 0, named_chips = 0;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] == "X") {
      ++complete;
      CHECK(e["dur"].get<double>() >= 0);
      CHECK(e["ts"].get<double>() >= 0);
    }
    if (e["ph"] == "M" && e["name"] == "process_name")
      ++named_chips;
  }
  CHECK(complete > 0);
  // Four chips; no links process: this plan's model-axis traffic is collectives, so no traced
  // send has a first hop to show, and empty link tracks are left out (issue 16 item 7).
  CHECK(named_chips == 4);
  std::ifstream report_file(dir + "/r.json");
  CHECK(json::parse(report_file)["schema"] == "meshsim.run/v1");
}

TEST_CASE("run: bad input exits 2 before simulating and writes nothing", "[cli][run]") {
  const std::string dir = meshsim::testing::scratch_dir("run-bad");
  struct Case {
    std::string args, words;
  };
  const Case cases[] = {
      {"run --mesh 100x4", "mesh"},
      {"run --mesh 256x5", "heads"},
      {"run --mesh 256x4 --batch 1000", "batch"},
      {"run --mesh 256x4 --async maybe", "--async"},
      {"run --mesh 256x4 --remat some", "--remat"},
      {"run --mesh 256x4 --model no-such-model", "no-such-model"},
      {"run --mesh 256x4 -o " + dir + "/missing/r.json", "directory does not exist"},
      {"run --mesh 256x4 --trace " + dir + "/missing/t.json", "directory does not exist"},
      {"run --mesh 256x4 --trace-chips 0", "--trace-chips"},
      {"compare --plan plans/vit22b-tpuv4-256x4.json", "at least two columns"},
      {"run --mesh 256x4 --microbatches 512 --batch 131072 --all-chips", "simulation events"},
      {"run --mesh 256x4 --chips 0x40", "not a count"},
      {"run --mesh 256x4 --chips 4096", "mesh"},
      {"run --mesh 1024x4 --hardware tpu-v4 --chips 8192", "8192"},
      {"run --model vit-22b --hardware h100-sxm --mesh 4x5", "heads"},
  };
  for (const auto& c : cases) {
    INFO(c.args);
    auto r = run_meshsim(c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find(c.words) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK_FALSE(std::filesystem::exists(dir + "/missing"));
}

TEST_CASE("compare: one object per plan and the winner marked", "[cli][run]") {
  const std::string dir = meshsim::testing::scratch_dir("compare");
  const std::string head =
      R"({"schema": "meshsim.plan/v1", "mesh": "16x4", "global_batch": 1024, )";
  const auto a =
      meshsim::testing::write_scratch_file(dir, "a.json", head + R"("name": "a", "async": true})");
  const auto b =
      meshsim::testing::write_scratch_file(dir, "b.json", head + R"("name": "b", "async": false})");
  auto r = run_meshsim("compare --model vit-l16 --hardware tpu-v4 --plan " + a + " --plan " + b +
                       " --json");
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["schema"] == "meshsim.compare/v1");
  REQUIRE(j["plans"].size() == 2);
  CHECK(j["winner"]["name"] == "a");  // async wins at this batch
  CHECK(j["plans"][0]["step_time_s"].get<double>() < j["plans"][1]["step_time_s"].get<double>());
  auto text = run_meshsim("compare --model vit-l16 --hardware tpu-v4 --plan " + a + " --plan " + b);
  CHECK(text.out.find("*a") != std::string::npos);
}

TEST_CASE("run: --mapping places the axes as a plan file's mapping does", "[cli][run]") {
  const std::string mapping = R"('{"torus_shape": [4, 4, 4], "data": ["x", "y"], "model": ["z"]}')";
  auto r = run_meshsim("run --model vit-l16 --hardware tpu-v4 --mesh 16x4 --batch 256 --mapping " +
                       mapping + " --json");
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["plan"]["mapping"] == "data: x4 y4, model: z4");
  auto bad = run_meshsim(
      "run --model vit-l16 --hardware tpu-v4 --mesh 16x4 --batch 256 --mapping "
      R"('{"torus_shape": [4, 4, 4], "data": ["x"], "model": ["z"]}')");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--mapping") != std::string::npos);
}
