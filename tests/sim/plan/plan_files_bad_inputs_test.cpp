// The plan part of the bad-input table (issue 7, docs/hardening.md), through the library API
// until `meshsim run` exists: each plan file is written to disk, read with load_plan_file and
// finalized against a zoo model on a zoo profile. Every case must throw InputError (never another
// exception) whose one-line message names the file, the field or pointer, and the problem.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/plan/plan.hpp"
#include "tests/cli_runner.hpp"

using namespace meshsim;

namespace {

struct PlanCase {
  std::string what;
  std::string text;                // the plan file's contents
  std::vector<std::string> words;  // each must appear in the message
  std::string model = "vit-22b";
  std::string hardware = "tpu-v4";
  std::int64_t chips = 0;  // 0: the mesh's product
};

// An encoder whose model axis of 16 divides heads and D but not F = 4100.
const char* kOddMlpModel = R"({"schema": "meshsim.model/v1", "block": "parallel", "width": 1024,
  "depth": 2, "mlp_dim": 4100, "heads": 16, "patch": 16, "image_size": 224, "train_batch": 4096})";

std::string plan_text(const std::string& fields) {
  return std::string(R"({"schema": "meshsim.plan/v1")") + (fields.empty() ? "" : ", ") + fields +
         "}";
}

}  // namespace

TEST_CASE("bad inputs: plan files are rejected naming file, field and problem",
          "[plan][hardening]") {
  const std::string dir = testing::scratch_dir("bad-plans");
  const std::vector<PlanCase> cases = {
      {"not JSON", "mesh: 256x4", {"not valid JSON", "line 1"}},
      {"truncated", "{\"schema\": \"meshsim.plan/v1\",\n \"mesh\": ", {"not valid JSON", "line 2"}},
      {"empty file", "", {"empty"}},
      {"not an object", "[\"256x4\"]", {"JSON object"}},
      {"missing schema", R"({"mesh": "256x4"})", {"schema", "missing"}},
      {"wrong schema",
       R"({"schema": "meshsim.plan/v2"})",
       {"/schema", "meshsim.plan/v2", "meshsim.plan/v1"}},
      {"unknown field with did-you-mean",
       plan_text(R"("optimiser": "adam")"),
       {"optimiser", "did you mean 'optimizer'"}},
      {"wrong type: string for an integer",
       plan_text(R"("microbatches": "4")"),
       {"/microbatches", "wrong type"}},
      {"wrong type: string for a boolean", plan_text(R"("fsdp": "yes")"), {"/fsdp", "wrong type"}},
      {"wrong type: number for the mesh", plan_text(R"("mesh": 1024)"), {"/mesh", "wrong type"}},
      {"unknown enum value", plan_text(R"("remat": "partial")"), {"/remat", "selective"}},
      {"mesh that does not parse", plan_text(R"("mesh": "256*4")"), {"/mesh", "256*4"}},
      {"mesh with a zero axis", plan_text(R"("mesh": "0x4")"), {"/mesh", "0x4"}},
      {"mesh with a negative axis", plan_text(R"("mesh": "-256x4")"), {"/mesh", "-256x4"}},
      {"mesh with four axes", plan_text(R"("mesh": "4x4x4x4")"), {"/mesh", "2 or 3 axes"}},
      {"mesh whose product overflows",
       plan_text(R"("mesh": "16777216x16777216x16777216")"),
       {"/mesh", "more chips than any machine", "16777216"}},
      {"mesh whose product is beyond any machine",
       plan_text(R"("mesh": "65536x65536")"),
       {"/mesh", "more chips than any machine"}},
      {"microbatches zero", plan_text(R"("microbatches": 0)"), {"/microbatches", "0"}},
      {"microbatches negative", plan_text(R"("microbatches": -2)"), {"/microbatches", "-2"}},
      {"microbatches absurd", plan_text(R"("microbatches": 1e30)"), {"/microbatches"}},
      {"microbatches fractional", plan_text(R"("microbatches": 2.5)"), {"/microbatches"}},
      {"global batch zero", plan_text(R"("global_batch": 0)"), {"/global_batch", "0"}},
      {"global batch beyond int64",
       plan_text(R"("global_batch": 18446744073709551615)"),
       {"/global_batch"}},
      {"momentum with Adam",
       plan_text(R"("optimizer": {"name": "adam", "momentum": true})"),
       {"/optimizer/momentum", "adafactor"}},
      {"torus factor that does not parse",
       plan_text(R"("mesh": "256x4", "mapping": {"torus_shape": [16, 16, 4], "data": ["x", "y"],
                 "model": ["w"]})"),
       {"/mapping/model/0", "\"w\""}},
      {"torus factor beyond int64",
       plan_text(R"("mesh": "256x4", "mapping": {"torus_shape": [16, 16, 4], "data": ["x", "y"],
                 "model": ["z:99999999999999999999"]})"),
       {"/mapping/model/0"}},
      {"torus shape with four dimensions",
       plan_text(R"("mesh": "256x4", "mapping": {"torus_shape": [4, 4, 4, 16]})"),
       {"/mapping/torus_shape", "1 to 3"}},
      // Validation (finalize_plan) against the model and the machine.
      {"mesh product != chip count",
       plan_text(R"("mesh": "256x4")"),
       {"/mesh", "does not equal the chip count", "1024", "512"},
       "vit-22b",
       "tpu-v4",
       512},
      {"beyond the largest slice", plan_text(R"("mesh": "2048x4")"), {"/mesh", "8192", "4096"}},
      {"model axis not dividing the heads",
       plan_text(R"("mesh": "256x5")"),
       {"/mesh", "does not divide the attention heads (48)"}},
      {"two model axes not dividing the heads",
       plan_text(R"("mesh": "16x4x8")"),
       {"/mesh", "32", "48"}},
      {"model axis not dividing the MLP features",
       plan_text(R"("mesh": "4x16")"),
       {"/mesh", "MLP width F (4100)"},
       "odd-mlp"},
      {"batch not divisible by the data axis",
       plan_text(R"("mesh": "256x4", "global_batch": 1000)"),
       {"/global_batch", "not divisible", "1000", "256"}},
      {"batch not divisible by data x microbatches",
       plan_text(R"("mesh": "256x4", "microbatches": 3)"),
       {"global_batch", "microbatches", "65536", "768"}},
      {"model without a published batch",
       plan_text(R"("mesh": "64x4")"),
       {"no published training batch"},
       "vit-e14"},
      {"override of a linear the model lacks",
       plan_text(R"("mesh": "256x4", "sharding": {"linears": {"fused_in_prj": "row"}})"),
       {"/sharding", "did you mean 'fused_in_proj'"}},
      {"mapping that does not hold the chips",
       plan_text(R"("mesh": "256x4", "mapping": {"torus_shape": [16, 8, 4], "data": ["x", "y"],
                 "model": ["z"]})"),
       {"/mapping", "16x8x4"}},
      {"torus mapping on a GPU cluster",
       plan_text(R"("mesh": "128x8", "mapping": {"torus_shape": [16, 8, 8], "data": ["x", "y"],
                 "model": ["z"]})"),
       {"/mapping", "GPU cluster"},
       "vit-22b",
       "h100-sxm"},
      {"more GPUs than the cluster",
       plan_text(R"("mesh": "65536x8")"),
       {"/mesh", "more chips than the largest"},
       "vit-22b",
       "h100-sxm"},
  };
  const HardwareProfile tpu = load_hardware("tpu-v4");
  const HardwareProfile gpu = load_hardware("h100-sxm");
  int index = 0;
  for (const auto& c : cases) {
    const std::string name = "plan-" + std::to_string(index++) + ".json";
    const std::string path = testing::write_scratch_file(dir, name, c.text);
    INFO("case: " << c.what << "\n  file: " << c.text);
    std::string message;
    bool other_exception = false;
    try {
      const ModelConfig model =
          c.model == "odd-mlp" ? parse_model_json(kOddMlpModel, "odd.json") : load_model(c.model);
      const Plan plan = load_plan_file(path);
      finalize_plan(plan, model, c.hardware == "tpu-v4" ? tpu : gpu, c.chips);
      message = "(accepted)";
    } catch (const InputError& e) {
      message = e.what();
    } catch (const std::exception& e) {
      other_exception = true;
      message = e.what();
    }
    INFO("message: " << message);
    CHECK_FALSE(other_exception);
    CHECK(std::count(message.begin(), message.end(), '\n') == 0);
    CHECK_THAT(message, Catch::Contains(name));
    for (const auto& word : c.words)
      CHECK_THAT(message, Catch::Contains(word));
  }
}

TEST_CASE("bad inputs: plan paths that are not readable plan files", "[plan][hardening]") {
  const std::string dir = testing::scratch_dir("bad-plan-paths");
  std::filesystem::create_directories(dir + "/folder.json");
  auto message = [](const std::string& path) -> std::string {
    try {
      load_plan_file(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "(accepted)";
  };
  CHECK_THAT(message(dir + "/folder.json"), Catch::Contains("directory"));
  CHECK_THAT(message(dir + "/absent.json"), Catch::Contains("no such file"));
  CHECK_THAT(message(testing::write_scratch_file(dir, "blank.json", " \n")),
             Catch::Contains("empty"));
}
