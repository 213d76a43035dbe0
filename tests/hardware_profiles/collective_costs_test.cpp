// The profile's optional "collectives" section (issue 12): bounds, groups, kinds, sources.
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.hpp"
#include "hardware_profiles/hardware.hpp"
#include "sim/network/topology.hpp"

using meshsim::HardwareProfile;
using meshsim::InputError;
using meshsim::parse_hardware_json;

namespace {

nlohmann::json zoo(const std::string& name) {
  std::ifstream in(std::string(MESHSIM_SOURCE_DIR) + "/hardware_profiles/" + name + ".json");
  return nlohmann::json::parse(in);
}

void expect_error(const std::string& name, const std::function<void(nlohmann::json&)>& mutate,
                  const std::string& needle) {
  auto document = zoo(name);
  mutate(document);
  try {
    parse_hardware_json(document.dump(), "case.json");
    FAIL("no error for " << needle);
  } catch (const InputError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("case.json"));
    CHECK_THAT(std::string(e.what()), Catch::Contains(needle));
  }
}

}  // namespace

TEST_CASE("collectives section: optional, bounded, grouped, per interconnect kind", "[hardware]") {
  // Absent: line rate, no protocols, no NVLS, no overhead.
  auto bare = zoo("h100-sxm");
  bare.erase("collectives");
  auto& sources = bare["sources"];
  for (auto it = sources.begin(); it != sources.end();) {
    it = it->at("field").get<std::string>().rfind("/collectives/", 0) == 0 ? sources.erase(it)
                                                                           : it + 1;
  }
  const HardwareProfile plain = parse_hardware_json(bare.dump(), "bare.json");
  CHECK(plain.collectives.nvlink_efficiency == 1.0);
  CHECK_FALSE(plain.collectives.has_protocols);
  CHECK(plain.collectives.nvls_bandwidth_bytes_per_s == 0);
  CHECK(plain.collectives.call_overhead_s == 0);

  expect_error(
      "h100-sxm", [](auto& d) { d["collectives"]["nvlink_efficiency"] = 1.2; },
      "nvlink_efficiency");
  expect_error(
      "h100-sxm", [](auto& d) { d["collectives"].erase("ll128_step_latency"); },
      "all or none of: ll_step_latency, ll128_step_latency, simple_step_latency");
  expect_error(
      "h100-sxm", [](auto& d) { d["collectives"]["nvls_bandwidth"] = "900 GB/s"; },
      "nvls_bandwidth");  // above the 450 GB/s NVLink line rate
  expect_error(
      "h100-sxm", [](auto& d) { d["collectives"]["nvls_min_gpus"] = 9; },
      "nvls_min_gpus");  // more than a node
  expect_error(
      "h100-sxm", [](auto& d) { d["collectives"]["ici_efficiency"] = 0.9; },
      "ici_efficiency");  // a torus field on a GPU cluster
  expect_error(
      "tpu-v4", [](auto& d) { d["collectives"]["nvlink_efficiency"] = 0.9; }, "nvlink_efficiency");
  expect_error(
      "tpu-v4", [](auto& d) { d["collectives"]["call_overhead"] = "1 s"; }, "call_overhead");
  // A field without its source is refused like any other figure.
  expect_error(
      "tpu-v4",
      [](auto& d) {
        auto& notes = d["sources"];
        for (auto it = notes.begin(); it != notes.end(); ++it) {
          if ((*it)["field"] == "/collectives/call_overhead") {
            notes.erase(it);
            break;
          }
        }
      },
      "/collectives/call_overhead");
}

TEST_CASE("collectives section: links run at line rate x their class's efficiency",
          "[hardware][network]") {
  const auto profile = meshsim::load_hardware("h100-sxm");
  const auto topology = meshsim::network::make_topology(profile, 16);
  for (const auto& link : topology.links()) {
    const double line = link.link_class == meshsim::network::LinkClass::NvLink
                            ? profile.gpu.nvlink_bandwidth_bytes_per_s
                            : profile.gpu.nic_bandwidth_bytes_per_s;
    const double efficiency = link.link_class == meshsim::network::LinkClass::NvLink
                                  ? profile.collectives.nvlink_efficiency
                              : link.link_class == meshsim::network::LinkClass::Nic
                                  ? profile.collectives.nic_efficiency
                                  : profile.collectives.leaf_spine_efficiency;
    CHECK(link.bandwidth_bytes_per_s == Approx(line * efficiency));
  }
}
