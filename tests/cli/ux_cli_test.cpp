// Issue 16 items 1 and 6 through the binary: no-plan sweeps, batch columns, progress on standard
// error only, the run header's plan values and placement, one flag name per concept.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/cli_runner.hpp"

using meshsim::testing::run_meshsim;
using nlohmann::json;

namespace {
bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("sweep: no plan on 1000 chips names the real reasons and the chip counts to try",
          "[cli][ux]") {
  const auto text = run_meshsim("sweep --model vit-22b --hardware tpu-v4 --chips 1000");
  REQUIRE(text.exit_code == 0);
  CHECK_FALSE(has(text.out, "No plan fits in memory"));
  CHECK(has(text.out, "none was rejected for memory"));
  CHECK(has(text.out, "model_axis_does_not_divide"));
  const auto j = run_meshsim("sweep --model vit-22b --hardware tpu-v4 --chips 1000 --json");
  REQUIRE(j.exit_code == 0);
  const json doc = json::parse(j.out);
  REQUIRE(doc["plans"].empty());
  const auto& np = doc["no_plan"];
  CHECK(np["why"].get<std::string>() == text.out.substr(text.out.find("No plan")));
  for (const char* side : {"nearest_chips_below", "nearest_chips_above"}) {
    REQUIRE(np[side].is_number_integer());
    const auto chips = np[side].get<long long>();
    CHECK(has(text.out, "--chips " + std::to_string(chips)));
    // A sweep there ranks plans.
    const auto there = run_meshsim(
        "sweep --model vit-22b --hardware tpu-v4 --top 1 --json --chips " + std::to_string(chips));
    REQUIRE(there.exit_code == 0);
    CHECK_FALSE(json::parse(there.out)["plans"].empty());
  }
}

TEST_CASE("sweep: a batch range shows a batch column, a single batch none", "[cli][ux]") {
  const std::string args = "sweep --model vit-b16 --hardware tpu-v4 --chips 64 --top 5";
  const auto range = run_meshsim(args + " --batch 1024:4096");
  const auto range_json = run_meshsim(args + " --batch 1024:4096 --json");
  const auto single = run_meshsim(args + " --batch 4096");
  REQUIRE(range.exit_code == 0);
  REQUIRE(range_json.exit_code == 0);
  REQUIRE(single.exit_code == 0);
  CHECK_FALSE(has(single.out, " batch "));
  const json plans = json::parse(range_json.out)["plans"];
  REQUIRE(plans.size() == 5);
  // Each row's batch cell (third column) is the JSON plan's global batch.
  std::istringstream in(range.out.substr(range.out.find("rank  mesh")));
  std::string line;
  std::getline(in, line);
  std::istringstream header(line);
  std::string rank, mesh, batch;
  header >> rank >> mesh >> batch;
  CHECK(batch == "batch");
  for (const auto& plan : plans) {
    REQUIRE(std::getline(in, line));
    std::istringstream row(line);
    long long r = 0, b = 0;
    row >> r >> mesh >> b;
    CHECK(r == plan["rank"].get<long long>());
    CHECK(mesh == plan["mesh"].get<std::string>());
    CHECK(b == plan["global_batch"].get<long long>());
  }
  // The ranking has more than one batch in it, so the column carries information.
  CHECK(plans[0]["global_batch"] != plans[2]["global_batch"]);
}

TEST_CASE("report: progress names every phase on standard error, never on standard output",
          "[cli][ux]") {
  const std::string args =
      "report --model vit-b16 --hardware tpu-v4 --chips 64 --batch 4096 --steps 1000";
  const auto loud = run_meshsim(args);  // stderr is a file here, not a terminal
  const auto quiet = run_meshsim(args + " --quiet");
  REQUIRE(loud.exit_code == 0);
  REQUIRE(quiet.exit_code == 0);
  CHECK(loud.out == quiet.out);
  CHECK(quiet.err.empty());
  CHECK(has(loud.err, "report: phase 1/3: sweep"));
  CHECK(has(loud.err, "report: phase 2/3: largest batch that fits"));
  CHECK(has(loud.err, "report: phase 3/3: scaling curve"));
  CHECK_FALSE(has(loud.err, "\r"));  // whole lines when not a terminal
  CHECK_FALSE(has(loud.out, "phase"));
  // The same for sweep and run: --quiet changes no byte of standard output.
  const std::string sw = "sweep --model vit-b16 --hardware tpu-v4 --chips 64 --batch 4096";
  const auto sweep_loud = run_meshsim(sw), sweep_quiet = run_meshsim(sw + " --quiet");
  CHECK(sweep_loud.out == sweep_quiet.out);
  CHECK(has(sweep_loud.err, "sweep: enumerating"));
  CHECK(sweep_quiet.err.empty());
  const std::string run = "run --model vit-b16 --hardware tpu-v4 --mesh 16x4 --batch 1024";
  CHECK(run_meshsim(run).out == run_meshsim(run + " --quiet").out);
}

TEST_CASE("run: the header states every non-default plan value and where it came from",
          "[cli][ux]") {
  const auto flags = run_meshsim("run --model vit-22b --hardware tpu-v4 --mesh 256x4");
  const auto file = run_meshsim("run --plan plans/vit22b-tpuv4-256x4.json");
  const auto both = run_meshsim("run --plan plans/vit22b-tpuv4-256x4.json --remat none");
  REQUIRE(flags.exit_code == 0);
  REQUIRE(file.exit_code == 0);
  REQUIRE(both.exit_code == 0);
  // The difference between the two (issue 16): the plan file's fp32 gradients.
  CHECK(has(flags.out, "gradient dtype bf16"));
  CHECK(has(flags.out, "not default: nothing"));
  CHECK(has(file.out, "gradient dtype fp32, fp32 master weights on, weight-grad input keep"));
  CHECK(has(file.out, "not default: gradient dtype fp32 (plans/vit22b-tpuv4-256x4.json)\n"));
  CHECK(has(both.out,
            "not default: remat none (--remat), gradient dtype fp32 "
            "(plans/vit22b-tpuv4-256x4.json)\n"));
  CHECK(has(file.out, "mapping data: x16 y16, model: z4 from plans/vit22b-tpuv4-256x4.json"));
  // A pipeline's microbatches, when not given, are chosen for it, and the header says so.
  const auto pipe =
      run_meshsim("run --model vit-b16 --hardware tpu-v4 --mesh data=4,pipeline=4 --batch 256");
  REQUIRE(pipe.exit_code == 0);
  CHECK(has(pipe.out, "microbatches 16 (chosen for the pipeline: the most up to 4 x 4 stages"));
  CHECK(!has(pipe.out, "(default)"));
}

TEST_CASE("run: a default torus shape and mapping is called the default, with how to choose",
          "[cli][ux]") {
  const auto flags = run_meshsim("run --model vit-22b --hardware tpu-v4 --mesh 128x8");
  const auto file = run_meshsim("run --plan plans/vit22b-tpuv4-128x8.json");
  REQUIRE(flags.exit_code == 0);
  REQUIRE(file.exit_code == 0);
  CHECK(has(flags.out, "on 16x8x8 torus"));
  CHECK(has(flags.out, "the default for this mesh"));
  CHECK(has(flags.out, "--mapping"));
  CHECK(has(file.out, "on 16x16x4 torus"));
  CHECK(has(file.out, "from plans/vit22b-tpuv4-128x8.json"));
  CHECK_FALSE(has(file.out, "the default for this mesh"));
}

TEST_CASE("flags: one name per concept across verbs", "[cli][ux]") {
  // validate's cost model is --cost-model; --model (the model file elsewhere) says so.
  const auto old =
      run_meshsim("validate --measurements cuda_validation/measurements/none.json --model fit");
  CHECK(old.exit_code == 2);
  CHECK(has(old.err, "--cost-model"));
  CHECK(old.out.empty());
  const auto help = run_meshsim("validate --help");
  CHECK(has(help.out, "--cost-model"));
  // collective: --chips as everywhere, --group the same.
  const std::string ag = "collective --op all-gather --bytes 1MiB --hardware tpu-v4 --json ";
  const auto chips = run_meshsim(ag + "--chips 16");
  const auto group = run_meshsim(ag + "--group 16");
  REQUIRE(chips.exit_code == 0);
  CHECK(chips.out == group.out);
  CHECK(json::parse(chips.out)["group_size"] == 16);
  const auto bad = run_meshsim(ag + "--chips 1");
  CHECK(bad.exit_code == 2);
  CHECK(has(bad.err, "--chips"));
  // report: --batch as run and sweep, --global-batch the same.
  const std::string rp =
      "report --model vit-b16 --hardware tpu-v4 --chips 16 --steps 1000 --quiet ";
  const auto batch = run_meshsim(rp + "--batch 1024 --json");
  const auto global = run_meshsim(rp + "--global-batch 1024 --json");
  REQUIRE(batch.exit_code == 0);
  CHECK(batch.out == global.out);
  CHECK(json::parse(batch.out)["inputs"]["global_batch"] == 1024);
}
