// `meshsim hardware` and `meshsim hardware show` through the real binary
// (sim/cli/hardware_commands).
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/version.hpp"
#include "tests/cli_runner.hpp"

using meshsim::testing::run_meshsim;

namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;

nlohmann::json read_zoo_json(const std::string& name) {
  std::ifstream in(std::string(MESHSIM_SOURCE_DIR) + "/hardware_profiles/" + name + ".json");
  return nlohmann::json::parse(in);
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Removes the source entry of `field`.
void drop_source(nlohmann::json& document, const std::string& field) {
  auto& sources = document["sources"];
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (sources[i]["field"] == field) {
      sources.erase(i);
      return;
    }
  }
}

}  // namespace

TEST_CASE("cli hardware: the table lists every profile with its key figures", "[cli]") {
  auto r = run_meshsim("hardware");
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  for (const char* name :
       {"tpu-v4", "tpu-v5e", "tpu-v5p", "a100-sxm-80gb", "h100-sxm", "h200-sxm"}) {
    CHECK_THAT(r.out, Catch::Contains(name));
  }
  CHECK_THAT(r.out, Catch::Contains("275 TFLOP/s") && Catch::Contains("32 GiB") &&
                        Catch::Contains("989 TFLOP/s") && Catch::Contains("3.35 TB/s") &&
                        Catch::Contains("3-D torus"));
}

TEST_CASE("cli hardware --json: one object with every profile in SI units", "[cli]") {
  auto r = run_meshsim("hardware --json");
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["schema"] == "meshsim.hardware_list/v1");
  CHECK(j["version"] == meshsim::kVersion);
  REQUIRE(j["profiles"].size() == 6);
  std::vector<std::string> names;
  for (const auto& p : j["profiles"])
    names.push_back(p["name"]);
  CHECK(std::is_sorted(names.begin(), names.end()));
  const auto& v4 = j["profiles"][3];
  REQUIRE(v4["name"] == "tpu-v4");
  CHECK(v4["chip"]["peak_bf16_flop_per_s"].get<double>() == Approx(275e12));
}

TEST_CASE("cli hardware show --json: figures in SI base units with sources", "[cli]") {
  auto r = run_meshsim("hardware show tpu-v4 --json");
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["schema"] == "meshsim.hardware/v1");
  CHECK(j["version"] == meshsim::kVersion);
  CHECK(j["name"] == "tpu-v4");
  CHECK(j["chip"]["peak_bf16_flop_per_s"].get<double>() == Approx(275e12));
  CHECK(j["chip"]["hbm_bytes"].get<double>() == 32 * kGiB);
  CHECK(j["chip"]["hbm_bandwidth_bytes_per_s"].get<double>() == Approx(1200e9));
  const auto& ici = j["interconnect"];
  CHECK(ici["kind"] == "torus");
  CHECK(ici["links_per_chip"] == 6);
  CHECK(ici["link_bandwidth_bytes_per_s"].get<double>() == Approx(4.5e10));
  CHECK(ici["link_latency_s"].get<double>() == Approx(1e-6));
  CHECK(ici["max_shape"] == nlohmann::json::array({16, 16, 16}));
  CHECK(ici["max_chips"] == 4096);
  // Every source entry points at a figure that exists in the profile file.
  const nlohmann::json file = read_zoo_json("tpu-v4");
  REQUIRE(j["sources"].size() == file["sources"].size());
  for (const auto& note : j["sources"]) {
    CHECK(file.contains(nlohmann::json::json_pointer(note["field"].get<std::string>())));
  }

  auto h100 = nlohmann::json::parse(run_meshsim("hardware show h100-sxm --json").out);
  CHECK(h100["interconnect"]["kind"] == "gpu_cluster");
  CHECK(h100["interconnect"]["gpus_per_node"] == 8);
  CHECK(h100["interconnect"]["nvlink_bandwidth_bytes_per_s"].get<double>() == Approx(450e9));
  // Pods of the three-level tree as the file gives them (docs/network.md), and its sizing.
  const nlohmann::json h100_file = read_zoo_json("h100-sxm");
  CHECK(h100["interconnect"]["pod_nodes"] == h100_file["interconnect"]["pod_nodes"]);
  CHECK(h100["interconnect"]["max_gpus"] == h100_file["interconnect"]["max_gpus"]);
  CHECK(h100["chip"]["peak_bf16_flop_per_s"].get<double>() == Approx(989e12));
  // A public on-demand list price per GPU-hour (instance price / 8), with its source.
  CHECK(h100["price_per_chip_hour_usd"].get<double>() == Approx(98.32 / 8).epsilon(1e-3));
  bool cited = false;
  for (const auto& note : h100["sources"]) {
    if (note["field"] == "/price_per_chip_hour_usd")
      cited = note["source"].get<std::string>().find("not re-checked") != std::string::npos;
  }
  CHECK(cited);
}

TEST_CASE("cli hardware show --json: the collectives section is the profile's", "[cli]") {
  for (const std::string name : {"h100-sxm", "a100-sxm-80gb", "tpu-v4"}) {
    const auto r = run_meshsim("hardware show " + name + " --json");
    REQUIRE(r.exit_code == 0);
    const auto shown = nlohmann::json::parse(r.out)["collectives"];
    std::ifstream in(std::string(MESHSIM_SOURCE_DIR) + "/hardware_profiles/" + name + ".json");
    const auto file = nlohmann::json::parse(in)["collectives"];
    INFO(name);
    // Every efficiency of the file is shown as given; the times and rates are in SI units.
    for (const auto& [key, value] : file.items()) {
      if (key.find("efficiency") != std::string::npos)
        CHECK(shown[key].get<double>() == value.get<double>());
    }
    CHECK(shown.contains("call_overhead_s"));
    CHECK(shown.contains("nvls_bandwidth_bytes_per_s") == file.contains("nvls_bandwidth"));
    CHECK(shown.contains("ll_step_latency_s") == file.contains("ll_step_latency"));
  }
  const auto text = run_meshsim("hardware show h100-sxm");
  CHECK(text.out.find("NVLS") != std::string::npos);
  CHECK(text.out.find("call overhead") != std::string::npos);
}

TEST_CASE("cli hardware show: the human view gives units and sources", "[cli]") {
  auto r = run_meshsim("hardware show h100-sxm");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("989 TFLOP/s") && Catch::Contains("3.35 TB/s") &&
                        Catch::Contains("450 GB/s per GPU one way") && Catch::Contains("sources") &&
                        Catch::Contains("/chip/peak_bf16") &&
                        Catch::Contains("NVIDIA H100 datasheet"));
  auto v4 = run_meshsim("hardware show tpu-v4");
  REQUIRE(v4.exit_code == 0);
  CHECK_THAT(v4.out, Catch::Contains("45 GB/s one way per link") && Catch::Contains("16x16x16") &&
                         Catch::Contains("USD 3.22"));
}

TEST_CASE("cli hardware show: a file path works", "[cli]") {
  const std::string dir = meshsim::testing::scratch_dir("cli-hardware-path");
  nlohmann::json document = read_zoo_json("tpu-v5e");
  document["name"] = "my-v5e";
  std::string path = meshsim::testing::write_scratch_file(dir, "mine.json", document.dump());
  auto r = run_meshsim("hardware show " + path + " --json");
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["name"] == "my-v5e");
}

TEST_CASE("cli hardware show: an unknown name exits 2 and lists the profiles", "[cli]") {
  auto r = run_meshsim("hardware show no-such");
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(line_count(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("no-such") && Catch::Contains("tpu-v4") &&
                        Catch::Contains("h200-sxm"));
  auto close = run_meshsim("hardware show h100-sxn");
  CHECK(close.exit_code == 2);
  CHECK_THAT(close.err, Catch::Contains("did you mean 'h100-sxm'"));
  CHECK(run_meshsim("hardware show").exit_code == 2);  // the profile is required
}

TEST_CASE("cli hardware show: malformed profiles exit 2 naming the field", "[cli]") {
  struct Case {
    const char* what;
    const char* base;  // zoo profile to start from
    std::function<void(nlohmann::json&)> mutate;
    std::vector<const char*> expected;  // substrings of the one-line message
    const char* raw_text = nullptr;     // when set, written instead of the mutated JSON
  };
  using J = nlohmann::json;
  const std::vector<Case> cases = {
      {"not JSON", "tpu-v4", nullptr, {"not valid JSON", "line 1"}, "{\"schema\": "},
      {"empty", "tpu-v4", nullptr, {"empty"}, ""},
      {"not an object", "tpu-v4", nullptr, {"expected a JSON object"}, "[1, 2]"},
      {"missing field",
       "tpu-v4",
       [](J& d) { d["chip"].erase("hbm"); },
       {"/chip/hbm", "missing required field"}},
      {"missing section",
       "h100-sxm",
       [](J& d) { d.erase("interconnect"); },
       {"/interconnect", "missing required field"}},
      {"wrong type",
       "tpu-v4",
       [](J& d) { d["chip"]["peak_bf16"] = 275; },
       {"/chip/peak_bf16", "wrong type"}},
      {"wrong type integer",
       "tpu-v4",
       [](J& d) { d["interconnect"]["dimensions"] = "3"; },
       {"/interconnect/dimensions", "wrong type"}},
      {"size where a bandwidth is due",
       "tpu-v4",
       [](J& d) { d["chip"]["hbm_bandwidth"] = "5 GiB"; },
       {"/chip/hbm_bandwidth", "not a bandwidth"}},
      {"bandwidth where a size is due",
       "tpu-v4",
       [](J& d) { d["chip"]["hbm"] = "32 GiB/s"; },
       {"/chip/hbm", "not a size"}},
      {"time unit for a GPU NIC",
       "h100-sxm",
       [](J& d) { d["interconnect"]["nic_bandwidth"] = "400 us"; },
       {"/interconnect/nic_bandwidth", "not a bandwidth"}},
      {"negative quantity",
       "tpu-v4",
       [](J& d) { d["interconnect"]["link_latency"] = "-1 us"; },
       {"/interconnect/link_latency"}},
      {"negative integer",
       "tpu-v4",
       [](J& d) { d["interconnect"]["max_chips"] = -4096; },
       {"/interconnect/max_chips", "out of range"}},
      {"negative price",
       "tpu-v4",
       [](J& d) { d["price_per_chip_hour_usd"] = -1; },
       {"/price_per_chip_hour_usd", "out of range"}},
      {"zero peak",
       "tpu-v4",
       [](J& d) { d["chip"]["peak_bf16"] = "0 TFLOP/s"; },
       {"/chip/peak_bf16", "out of range"}},
      {"zero link bandwidth",
       "tpu-v5e",
       [](J& d) { d["interconnect"]["link_bandwidth"] = "0 GB/s"; },
       {"/interconnect/link_bandwidth", "out of range"}},
      {"huge HBM",
       "tpu-v4",
       [](J& d) { d["chip"]["hbm"] = "1e30 GiB"; },
       {"/chip/hbm", "out of range"}},
      {"huge NVLink",
       "a100-sxm-80gb",
       [](J& d) { d["interconnect"]["nvlink_bandwidth"] = "300 PB/s"; },
       {"/interconnect/nvlink_bandwidth", "out of range"}},
      {"efficiency above 1",
       "h200-sxm",
       [](J& d) { d["cost_model"]["matmul"]["tensor_core_fraction"] = 1.5; },
       {"/cost_model/matmul/tensor_core_fraction", "out of range"}},
      {"unknown interconnect kind",
       "tpu-v4",
       [](J& d) { d["interconnect"]["kind"] = "mesh"; },
       {"/interconnect/kind", "torus, gpu_cluster"}},
      {"links_per_chip inconsistent",
       "tpu-v4",
       [](J& d) { d["interconnect"]["links_per_chip"] = 4; },
       {"/interconnect/links_per_chip", "6 for 3 dimensions"}},
      {"max_shape of the wrong rank",
       "tpu-v5p",
       [](J& d) {
         d["interconnect"]["max_shape"] = J::array({16, 16});
       },
       {"/interconnect/max_shape", "3 entries"}},
      {"max_shape entry zero",
       "tpu-v5p",
       [](J& d) { d["interconnect"]["max_shape"][2] = 0; },
       {"/interconnect/max_shape/2", "out of range"}},
      {"max_chips not the product",
       "tpu-v5p",
       [](J& d) { d["interconnect"]["max_chips"] = 8960; },
       {"/interconnect/max_chips", "6144"}},
      {"max_gpus not whole nodes",
       "h100-sxm",
       [](J& d) { d["interconnect"]["max_gpus"] = 1001; },
       {"/interconnect/max_gpus", "multiple of gpus_per_node"}},
      {"pod_nodes not whole leaves",
       "h100-sxm",
       [](J& d) { d["interconnect"]["pod_nodes"] = 1000; },
       {"/interconnect/pod_nodes", "not a whole number of leaves",
        "multiple of leaf_switch_ports (32)"}},
      {"pod_nodes zero",
       "h100-sxm",
       [](J& d) { d["interconnect"]["pod_nodes"] = 0; },
       {"/interconnect/pod_nodes", "out of range"}},
      {"pod_nodes a string",
       "h100-sxm",
       [](J& d) { d["interconnect"]["pod_nodes"] = "2048"; },
       {"/interconnect/pod_nodes", "wrong type"}},
      {"missing source of pod_nodes",
       "h100-sxm",
       [](J& d) { drop_source(d, "/interconnect/pod_nodes"); },
       {"/interconnect/pod_nodes", "no source"}},
      {"matmul model and the single efficiency together",
       "h100-sxm",
       [](J& d) { d["cost_model"]["matmul_efficiency"] = 0.8; },
       {"/cost_model/matmul_efficiency", "together"}},
      {"unknown matmul model",
       "h100-sxm",
       [](J& d) { d["cost_model"]["matmul"]["model"] = "roofline"; },
       {"/cost_model/matmul/model", "gpu_tiles"}},
      {"unknown field of the matmul model",
       "tpu-v4",
       [](J& d) { d["cost_model"]["matmul"]["mxu_count"] = 8; },
       {"/cost_model/matmul", "mxu_count"}},
      {"zero SMs",
       "a100-sxm-80gb",
       [](J& d) { d["cost_model"]["matmul"]["sms"] = 0; },
       {"/cost_model/matmul/sms", "out of range"}},
      {"SM operand bandwidth with a stray exponent",
       "h100-sxm",
       [](J& d) { d["cost_model"]["matmul"]["sm_operand_bandwidth"] = "1e30 B/s"; },
       {"/cost_model/matmul/sm_operand_bandwidth", "out of range"}},
      {"missing source of a fitted matmul parameter",
       "h100-sxm",
       [](J& d) { drop_source(d, "/cost_model/matmul/tile_overhead"); },
       {"/cost_model/matmul/tile_overhead", "no source"}},
      {"missing source",
       "tpu-v4",
       [](J& d) { drop_source(d, "/chip/hbm"); },
       {"/chip/hbm", "no source"}},
      {"missing source of a GPU latency (an assumption)",
       "h100-sxm",
       [](J& d) { drop_source(d, "/interconnect/network_latency"); },
       {"/interconnect/network_latency", "no source"}},
      {"source naming no figure",
       "tpu-v4",
       [](J& d) {
         d["sources"].push_back({{"field", "/chip/hbm_bw"}, {"source", "x"}});
       },
       {"/sources/27/field", "names no figure"}},
      {"empty source text",
       "tpu-v4",
       [](J& d) { d["sources"][0]["source"] = " "; },
       {"/sources/0/source", "empty source"}},
      {"duplicate source",
       "tpu-v4",
       [](J& d) { d["sources"].push_back(d["sources"][0]); },
       {"/sources/27/field", "second source"}},
      {"unknown field with did-you-mean",
       "tpu-v4",
       [](J& d) { d["chip"]["peak_bf61"] = "1 TFLOP/s"; },
       {"/chip/peak_bf61", "did you mean 'peak_bf16'"}},
      {"torus field in a GPU cluster",
       "h100-sxm",
       [](J& d) { d["interconnect"]["dimensions"] = 3; },
       {"/interconnect/dimensions", "unknown field"}},
      {"unknown top-level field",
       "tpu-v5e",
       [](J& d) { d["displayname"] = "x"; },
       {"/displayname", "did you mean 'display_name'"}},
      {"wrong schema",
       "tpu-v4",
       [](J& d) { d["schema"] = "meshsim.hardware/v2"; },
       {"/schema", "meshsim.hardware/v1"}},
  };
  const std::string dir = meshsim::testing::scratch_dir("cli-hardware-malformed");
  int index = 0;
  for (const auto& c : cases) {
    INFO(c.what);
    std::string text;
    if (c.raw_text != nullptr) {
      text = c.raw_text;
    } else {
      nlohmann::json document = read_zoo_json(c.base);
      c.mutate(document);
      text = document.dump(2);
    }
    std::string path =
        meshsim::testing::write_scratch_file(dir, "case" + std::to_string(index++) + ".json", text);
    auto r = run_meshsim("hardware show " + path);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(line_count(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(path));
    for (const char* part : c.expected)
      CHECK_THAT(r.err, Catch::Contains(part));
  }
}
