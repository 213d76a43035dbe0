// Issue 13: every stock profile states how far each cost component can be trusted, and the
// published-fit errors are what the cited `meshsim validate` commands compute today.
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "hardware_profiles/fidelity.hpp"
#include "hardware_profiles/hardware.hpp"
#include "tests/cli_runner.hpp"
#include "tests/input_errors.hpp"

using meshsim::FidelityComponent;
using meshsim::FidelityStatus;
using meshsim::testing::contains;
using meshsim::testing::error_of;
using meshsim::testing::run_meshsim;

namespace {

const std::string kPublished = std::string(MESHSIM_SOURCE_DIR) + "/cuda_validation/published/";

double median_of(const std::string& args) {
  const auto r = run_meshsim("validate " + args + " --json");
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out)["summary"]["median_abs_rel_error"].get<double>();
}

}  // namespace

TEST_CASE("fidelity: published-fit errors equal today's validation medians", "[fidelity]") {
  struct Case {
    const char* profile;
    FidelityComponent component;
    std::string args;
  };
  const Case cases[] = {
      {"h100-sxm", FidelityComponent::Matmul,
       "--matmuls " + kPublished + "gemm_h100_xla.csv --hardware h100-sxm"},
      {"h200-sxm", FidelityComponent::Matmul,
       "--matmuls " + kPublished + "gemm_h100_xla.csv --hardware h100-sxm"},
      {"h100-sxm", FidelityComponent::Collectives,
       "--collectives " + kPublished + "collectives_8xh100_xla.csv --hardware h100-sxm"},
      {"a100-sxm-80gb", FidelityComponent::Collectives,
       "--allreduce-busbw " + kPublished +
           "nccl_allreduce_8xa100.csv --hardware a100-sxm-80gb "
           "--gpus 8"},
      {"h200-sxm", FidelityComponent::Collectives,
       "--allreduce-busbw " + kPublished +
           "nccl_allreduce_8xh200_nvls.csv --hardware h200-sxm "
           "--gpus 8"},
  };
  for (const auto& c : cases) {
    INFO(c.profile << " " << meshsim::to_string(c.component));
    const auto hw = meshsim::load_hardware(c.profile);
    const auto& f = hw.fidelity.of(c.component);
    CHECK(f.status == FidelityStatus::PublishedFit);
    CHECK(f.error == Approx(median_of(c.args)).margin(5e-4));
  }
}

TEST_CASE("fidelity: every stock profile states every component with a source", "[fidelity]") {
  for (const auto& name : meshsim::zoo_hardware_names()) {
    INFO(name);
    const auto hw = meshsim::load_hardware(name);
    for (int i = 0; i < meshsim::kFidelityComponents; ++i) {
      const auto component = static_cast<FidelityComponent>(i);
      const std::string field =
          std::string("/fidelity/") + meshsim::to_string(component) + "/error";
      bool sourced = false;
      for (const auto& s : hw.sources)
        sourced = sourced || s.field == field;
      CHECK(sourced);
      CHECK(hw.fidelity.of(component).error > 0);
      CHECK(hw.fidelity.of(component).error < 1);
    }
    // The stock stacks are the ideal one, so their stack is assumed (and the band one-sided).
    CHECK(hw.fidelity.of(FidelityComponent::Stack).status == FidelityStatus::Assumed);
  }
}

TEST_CASE("fidelity and stack sections: bad values name the field and what is allowed",
          "[fidelity]") {
  const std::string file = std::string(MESHSIM_SOURCE_DIR) + "/hardware_profiles/h100-sxm.json";
  auto with = [&](const std::function<void(nlohmann::json&)>& edit) {
    std::ifstream in(file);
    nlohmann::json d = nlohmann::json::parse(in);
    edit(d);
    return error_of([&] { meshsim::parse_hardware_json(d.dump(), "edited.json"); });
  };
  auto e = with([](nlohmann::json& d) { d["fidelity"]["matmul"]["status"] = "guess"; });
  CHECK(contains(e, "/fidelity/matmul/status"));
  CHECK(contains(e, "published-fit"));
  e = with([](nlohmann::json& d) { d["fidelity"]["matmul"]["error"] = 1.5; });
  CHECK(contains(e, "/fidelity/matmul/error"));
  e = with([](nlohmann::json& d) { d["fidelity"]["matmull"] = d["fidelity"]["matmul"]; });
  CHECK(contains(e, "matmull"));
  e = with([](nlohmann::json& d) { d["stack"] = {{"launch_gap", "1 ms"}}; });
  CHECK(contains(e, "/stack/launch_gap"));
  e = with([](nlohmann::json& d) { d["stack"] = {{"memory_traffic_factor", 0.1}}; });
  CHECK(contains(e, "/stack/memory_traffic_factor"));
  // A stack figure needs its source like any other.
  e = with([](nlohmann::json& d) { d["stack"] = {{"gradient_overlap", 0.5}}; });
  CHECK(contains(e, "/stack/gradient_overlap"));
  CHECK(contains(e, "sources"));
  // With its source it loads.
  e = with([](nlohmann::json& d) {
    d["stack"] = {{"gradient_overlap", 0.5}, {"launch_gap", "7 us"}};
    d["sources"].push_back({{"field", "/stack/gradient_overlap"}, {"source", "test"}});
    d["sources"].push_back({{"field", "/stack/launch_gap"}, {"source", "test"}});
  });
  CHECK(e == "<no error>");
}
