#include "sim/validate/measurements.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <functional>

#include "common/error.hpp"
#include "tests/cli_runner.hpp"
#include "tests/sim/validate/synthetic_measurements.hpp"

using namespace meshsim;

namespace {

std::string write(const nlohmann::json& j, const std::string& name) {
  const std::string dir = meshsim::testing::scratch_dir("measurements");
  const std::string path = dir + "/" + name;
  std::ofstream(path) << j.dump(1);
  return path;
}

nlohmann::json small_file() {
  return meshsim::testing::synthetic_measurements(meshsim::testing::known_model(), 0.0, 3, {1},
                                                  {1, 2});
}

// Applies `edit` to a valid file and expects the loader to reject it, naming `pointer_part`.
void expect_rejected(const std::function<void(nlohmann::json&)>& edit,
                     const std::string& message_part) {
  nlohmann::json j = small_file();
  edit(j);
  const std::string path = write(j, "bad.json");
  try {
    load_measurements(path);
    FAIL("accepted a malformed file; expected: " << message_part);
  } catch (const InputError& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(message_part) != std::string::npos);
    CHECK(std::string(e.what()).find(path) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("A generated measurement file loads with every op and layer",
          "[validate][measurements]") {
  const MeasurementSet m = load_measurements(write(small_file(), "ok.json"));
  CHECK(m.synthetic);
  CHECK(m.device_name.find("SYNTHETIC") != std::string::npos);
  REQUIRE(m.shapes.size() == 2);
  CHECK(m.shapes[0].model_axis == 1);
  CHECK(m.shapes[1].model_axis == 2);
  REQUIRE(m.shapes[1].ops.size() == 24);
  const MeasuredOp& in_proj = m.shapes[1].ops[1];
  CHECK(in_proj.op == "fused_in_proj");
  CHECK(in_proj.kind == OpKind::Matmul);
  // Per-chip shape at k = 2: 256 tokens x 6144 -> (3 x 6144 + 24576) / 2 = 21504.
  CHECK(in_proj.m == 256);
  CHECK(in_proj.n == 21504);
  CHECK(in_proj.k == 6144);
  CHECK(in_proj.flop == 2.0 * 256 * 21504 * 6144);
  CHECK(m.shapes[1].layer_median_s > 0);
}

TEST_CASE("The measurement loader rejects malformed files", "[validate][measurements]") {
  expect_rejected([](auto& j) { j["schema"] = "meshsim.cuda-measurements/v0"; }, "/schema");
  expect_rejected([](auto& j) { j["shapes"][0]["ops"][0]["medain_s"] = 1; }, "median_s");
  expect_rejected([](auto& j) { j["shapes"][0]["ops"][0]["min_s"] = 1.0; }, "out of order");
  expect_rejected([](auto& j) { j["shapes"][0]["ops"][0]["kind"] = "conv"; }, "/kind");
  expect_rejected([](auto& j) { j["shapes"][0]["ops"][0]["k"] = 5; }, "/shapes/0/ops/0");
  expect_rejected([](auto& j) { j["shapes"][0]["ops"][1]["median_s"] = -1; }, "median_s");
  expect_rejected([](auto& j) { j["shapes"][0]["ops"][1].erase("flop"); }, "flop");
  expect_rejected([](auto& j) { j["shapes"][0]["correctness"]["passed"] = false; },
                  "correctness check");
  expect_rejected([](auto& j) { j["all_checks_passed"] = false; }, "all_checks_passed");
  expect_rejected([](auto& j) { j["shapes"][1]["model_axis"] = 1; }, "the same shape twice");
  expect_rejected([](auto& j) { j["shapes"][0]["ops"][2] = j["shapes"][0]["ops"][0]; },
                  "the same op and pass twice");
  expect_rejected([](auto& j) { j["shapes"] = nlohmann::json::array(); }, "no shapes");
  expect_rejected([](auto& j) { j["device"]["name"] = 7; }, "/device/name");
  expect_rejected([](auto& j) { j["shapes"][0]["layer"]["kernels"] = 200000; }, "kernels");
  // A model axis must divide the measured model's heads, width and MLP features (issue 17 item
  // 15): from the zoo model the file names, or from the dimensions the harness writes.
  expect_rejected([](auto& j) { j["shapes"][0]["model_axis"] = 7; }, "/shapes/0/model_axis");
  expect_rejected(
      [](auto& j) {
        j["model"] = {{"name", "x"}, {"width", 6144}, {"mlp_dim", 24576}, {"heads", 48}};
        j["shapes"][1]["model_axis"] = 5;
      },
      "heads (48)");
  expect_rejected(
      [](auto& j) {
        j["model"] = {{"name", "x"}, {"width", 6152}, {"mlp_dim", 24576}, {"heads", 48}};
        j["shapes"][1]["model_axis"] = 16;
      },
      "width (6152)");
}

TEST_CASE("Broken JSON is an InputError naming the file", "[validate][measurements]") {
  const std::string dir = meshsim::testing::scratch_dir("measurements-broken");
  const std::string path =
      meshsim::testing::write_scratch_file(dir, "broken.json", "{\"schema\": ");
  CHECK_THROWS_AS(load_measurements(path), InputError);
}
