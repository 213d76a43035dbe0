#include "sim/validate/runs.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.hpp"
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"
#include "tests/cli_runner.hpp"
#include "tests/input_errors.hpp"

using meshsim::testing::run_meshsim;
using meshsim::testing::scratch_dir;
using meshsim::testing::write_scratch_file;

using meshsim::testing::contains;
using meshsim::testing::error_of;

namespace {

const std::string kPublished =
    std::string(MESHSIM_SOURCE_DIR) + "/cuda_validation/published/end_to_end_calibration.csv";
const std::string kHeader =
    "id,model,hardware,chips,mesh,global_batch,microbatches,fsdp,remat,measured_images_per_s,"
    "source";

}  // namespace

TEST_CASE("measured runs: the published file loads with its plan cells", "[runs]") {
  const auto set = meshsim::load_measured_runs(kPublished);
  REQUIRE(set.runs.size() == 1);
  const auto& r = set.runs[0];
  CHECK(r.id == "jaxtoolbox_vitb16_8xa100");
  CHECK(r.chips == 8);
  CHECK(r.flags.mesh == "8x1");
  CHECK(r.flags.batch == "4096");
  CHECK(r.flags.fsdp == "off");
  CHECK(r.flags.async == "off");
  CHECK(r.flags.remat.empty());  // empty cell: meshsim's default
  CHECK(r.measured_images_per_s == Approx(7200.38));
}

TEST_CASE("measured runs: a row predicts what simulate_step gives for the same plan", "[runs]") {
  const auto set = meshsim::load_measured_runs(kPublished);
  const auto rows = meshsim::predict_measured_runs(set, "");
  REQUIRE(rows.size() == 1);
  const auto model = meshsim::load_model("vit-b16");
  const auto hw = meshsim::load_hardware("a100-sxm-80gb");
  meshsim::PlanFlags flags;
  flags.mesh = "8x1";
  flags.batch = "4096";
  flags.fsdp = "off";
  flags.async = "off";
  const auto p =
      meshsim::finalize_plan(meshsim::apply_plan_flags(meshsim::Plan{}, flags), model, hw, 8);
  const auto want = meshsim::execution::simulate_step(model, hw, p);
  CHECK(rows[0].predicted_images_per_s == want.images_per_s);
  CHECK(rows[0].rel_error == Approx((want.images_per_s - 7200.38) / 7200.38));
}

TEST_CASE("measured runs: an optional flag column sets that flag for its row", "[runs]") {
  const auto dir = scratch_dir("runs-optional");
  const auto path = write_scratch_file(dir, "r.csv",
                                       kHeader +
                                           ",optimizer\n"
                                           "a,vit-b16,a100-sxm-80gb,8,8x1,4096,1,off,,100,x,adam\n"
                                           "b,vit-b16,a100-sxm-80gb,8,8x1,4096,1,off,,100,x,sgd\n");
  const auto rows = meshsim::predict_measured_runs(meshsim::load_measured_runs(path), "");
  REQUIRE(rows.size() == 2);
  // SGD updates fewer bytes per parameter than Adam: the step can only get faster.
  CHECK(rows[1].predicted_images_per_s > rows[0].predicted_images_per_s);
}

TEST_CASE("measured runs: bad files name the file, the line and the column", "[runs]") {
  const auto dir = scratch_dir("runs-bad");
  auto load = [&](const std::string& text) {
    const auto path = write_scratch_file(dir, "r.csv", text);
    return error_of([&] { meshsim::predict_measured_runs(meshsim::load_measured_runs(path), ""); });
  };
  CHECK(contains(load(kHeader + ",asyn\na,vit-b16,a100-sxm-80gb,8,8x1,4096,1,off,,1,x,on\n"),
                 "did you mean 'async'"));
  CHECK(contains(load(kHeader + "\na,vit-b16,a100-sxm-80gb,8,8x1,4096,1,off,,1,x\n"
                                "a,vit-b16,a100-sxm-80gb,8,8x1,4096,1,off,,1,x\n"),
                 "id given twice"));
  CHECK(contains(load(kHeader + "\na,vit-b16,a100-sxm-80gb,8,8x1,4096,1,off,,-3,x\n"),
                 "line 2, column measured_images_per_s"));
  const auto mesh = load(kHeader + "\na,vit-b16,a100-sxm-80gb,8,8y1,4096,1,off,,1,x\n");
  CHECK(contains(mesh, "r.csv"));
  CHECK(contains(mesh, "line 2, column mesh"));
  CHECK(contains(load(kHeader + "\na,vit-zz,a100-sxm-80gb,8,8x1,4096,1,off,,1,x\n"), "line 2"));
}

TEST_CASE("meshsim validate --runs --json: rows and summary", "[cli][runs]") {
  const auto r = run_meshsim("validate --runs " + kPublished + " --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["schema"] == "meshsim.validation.runs/v1");
  REQUIRE(j["rows"].size() == 1);
  const auto& row = j["rows"][0];
  for (const char* key : {"id", "measured_images_per_s", "predicted_images_per_s", "rel_error"})
    CHECK(row.contains(key));
  CHECK(j["summary"]["count"] == 1);
  CHECK(j["summary"]["median_abs_rel_error"].get<double>() ==
        Approx(std::abs(row["rel_error"].get<double>())));
  const auto bad = run_meshsim("validate --runs " + kPublished + " --measurements x.json");
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.empty());
}
