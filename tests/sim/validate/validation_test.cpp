#include "sim/validate/validation.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/cli_runner.hpp"
#include "tests/sim/validate/synthetic_measurements.hpp"

using namespace meshsim;

namespace {

MeasurementSet load_synthetic(double noise, std::uint64_t seed) {
  const std::string dir = meshsim::testing::scratch_dir("validation");
  const std::string path = dir + "/synthetic.json";
  std::ofstream(path) << meshsim::testing::synthetic_measurements(meshsim::testing::known_model(),
                                                                  noise, seed)
                             .dump();
  return load_measurements(path);
}

HardwareProfile synthetic_profile() {
  HardwareProfile p;
  p.name = "synthetic-h100";
  p.chip = meshsim::testing::h100_chip();
  p.cost.matmul_efficiency = 0.8;
  p.cost.memory_efficiency = 0.9;
  p.cost.kernel_overhead_s = 3e-6;
  return p;
}

}  // namespace

TEST_CASE("validate: held-out flags, relative errors and layer sums", "[validate]") {
  const MeasurementSet m = load_synthetic(0.02, 11);
  const ValidationReport r = validate_measurements(m, synthetic_profile(), ValidationModel::Fit);
  REQUIRE(r.ops.size() == 15 * 24);
  REQUIRE(r.layers.size() == 15);
  for (const OpComparison& c : r.ops) {
    CHECK(c.held_out == (c.model_axis == 2 || c.model_axis == 8));
    CHECK(c.rel_error == Approx((c.predicted_s - c.measured_s) / c.measured_s));
  }
  // Each layer's prediction is the sum of its ops' in-graph times.
  for (const LayerComparison& l : r.layers) {
    double sum = 0;
    for (const OpComparison& c : r.ops) {
      if (c.batch_images != l.batch_images || c.model_axis != l.model_axis)
        continue;
      sum += r.cost.calibrated->graph_factor * c.predicted_s;
    }
    CHECK(l.predicted_s == Approx(sum).epsilon(1e-9));
  }
  CHECK(r.held_out_ops.count == 6 * 24);
  CHECK(r.held_out_matmuls.count == 6 * 12);
  CHECK(r.held_out_layers.count == 6);
  CHECK(r.fitted_layers.count == 9);
  CHECK(r.held_out_matmuls.worst_abs_error <= r.held_out_ops.worst_abs_error);
  CHECK(r.held_out_ops.median_abs_error <= r.held_out_ops.worst_abs_error);
}

TEST_CASE("validate: the roofline sees no shape, so every shape is held out", "[validate]") {
  const MeasurementSet m = load_synthetic(0.0, 1);
  const ValidationReport r =
      validate_measurements(m, synthetic_profile(), ValidationModel::Roofline);
  CHECK(r.held_out_ops.count == static_cast<std::int64_t>(r.ops.size()));
  CHECK(!r.cost.calibrated);
  // The roofline with efficiencies < 1 and an overhead is above the physical bound.
  for (const OpComparison& c : r.ops)
    CHECK(c.predicted_s > 0);
}

// Issue 8's acceptance test: every committed measurement of a real GPU meets the held-out targets.
TEST_CASE("Committed CUDA measurements meet the held-out targets", "[validate][measured]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(MESHSIM_SOURCE_DIR) / "cuda_validation" / "measurements";
  std::vector<fs::path> files;
  if (fs::is_directory(dir)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (entry.path().extension() == ".json" && name.find(".validate.json") == std::string::npos)
        files.push_back(entry.path());
    }
  }
  if (files.empty()) {
    WARN(
        "SKIPPED: no measurement file in cuda_validation/measurements/ yet; a GPU session must "
        "run cuda_validation/run_sweep.sh and commit its JSON (docs/validation.md)");
    return;
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    INFO(file.string());
    const MeasurementSet m = load_measurements(file.string());
    CHECK_FALSE(m.synthetic);
    std::string device = m.device_name;
    std::transform(device.begin(), device.end(), device.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::string profile = device.find("h200") != std::string::npos ? "h200-sxm" : "h100-sxm";
    const ValidationReport r =
        validate_measurements(m, load_hardware(profile), ValidationModel::Fit);
    INFO("worst held-out matmul " << r.held_out_matmuls.worst << " "
                                  << r.held_out_matmuls.worst_abs_error);
    INFO("held-out median op " << r.held_out_ops.median_abs_error);
    INFO("worst held-out layer " << r.held_out_layers.worst << " "
                                 << r.held_out_layers.worst_abs_error);
    CHECK(r.held_out_matmuls.count > 0);
    CHECK(r.held_out_matmuls.worst_abs_error <= kMatmulTarget);
    CHECK(r.held_out_ops.median_abs_error <= kMedianOpTarget);
    CHECK(r.held_out_layers.worst_abs_error <= kLayerTarget);
  }
}
