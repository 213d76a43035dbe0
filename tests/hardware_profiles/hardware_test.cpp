#include "hardware_profiles/hardware.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "tests/cli_runner.hpp"

using meshsim::HardwareProfile;
using meshsim::InputError;
using meshsim::InterconnectKind;
using meshsim::load_hardware;
using meshsim::matmul_time_s;
using meshsim::MatmulShape;

namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;

std::string zoo_file(const std::string& name) {
  return std::string(MESHSIM_SOURCE_DIR) + "/hardware_profiles/" + name + ".json";
}

nlohmann::json read_zoo_json(const std::string& name) {
  std::ifstream in(zoo_file(name));
  return nlohmann::json::parse(in);
}

// Collects the JSON pointer of every figure of a profile document: each leaf under chip,
// cost_model and interconnect (arrays such as max_shape are one figure), except the
// interconnect's kind and the matmul model's name, plus the price.
void collect_figures(const nlohmann::json& value, const std::string& pointer,
                     std::set<std::string>& out) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      if ((pointer == "/interconnect" && key == "kind") ||
          (pointer == "/cost_model/matmul" && key == "model"))
        continue;
      collect_figures(child, pointer + "/" + key, out);
    }
  } else {
    out.insert(pointer);
  }
}

std::set<std::string> figures_of(const nlohmann::json& document) {
  std::set<std::string> figures;
  for (const char* section : {"chip", "cost_model", "interconnect"}) {
    collect_figures(document.at(section), std::string("/") + section, figures);
  }
  if (document.contains("collectives"))
    collect_figures(document.at("collectives"), "/collectives", figures);
  if (document.contains("price_per_chip_hour_usd"))
    figures.insert("/price_per_chip_hour_usd");
  if (document.contains("stack"))
    collect_figures(document.at("stack"), "/stack", figures);
  if (document.contains("fidelity")) {
    // Each component's status is a word; its error is the figure.
    for (auto it = document.at("fidelity").begin(); it != document.at("fidelity").end(); ++it)
      figures.insert("/fidelity/" + it.key() + "/error");
  }
  return figures;
}

const std::string* source_for(const HardwareProfile& profile, const std::string& field) {
  for (const auto& note : profile.sources) {
    if (note.field == field)
      return &note.source;
  }
  return nullptr;
}

// Sets an environment variable for one scope and restores the previous value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name))
      old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string write_json(const std::string& dir, const std::string& name,
                       const nlohmann::json& document) {
  return meshsim::testing::write_scratch_file(dir, name, document.dump(2));
}

}  // namespace

TEST_CASE("hardware: the zoo holds the six profiles, sorted", "[hardware]") {
  CHECK(meshsim::zoo_hardware_names() == std::vector<std::string>{"a100-sxm-80gb", "h100-sxm",
                                                                  "h200-sxm", "tpu-v4", "tpu-v5e",
                                                                  "tpu-v5p"});
}

// Expected figures typed from shared/docs/HARDWARE.md, not from the profile files.
TEST_CASE("hardware: TPU profiles match the published figures", "[hardware]") {
  struct Expected {
    const char* name;
    double peak_bf16, hbm, hbm_bandwidth;
    int dimensions, links;
    double link_bandwidth;
    int wraparound_multiple;
    std::vector<int> max_shape;
  };
  const std::vector<Expected> expected = {
      {"tpu-v4", 275e12, 32 * kGiB, 1200e9, 3, 6, 4.5e10, 4, {16, 16, 16}},
      {"tpu-v5e", 197e12, 16e9, 819e9, 2, 4, 4.5e10, 16, {16, 16}},
      {"tpu-v5p", 459e12, 95e9, 2765e9, 3, 6, 9e10, 4, {16, 16, 24}},
  };
  for (const auto& e : expected) {
    INFO(e.name);
    HardwareProfile p = load_hardware(e.name);
    CHECK(p.name == e.name);
    REQUIRE(p.kind == InterconnectKind::Torus);
    CHECK(p.chip.peak_bf16_flop_per_s == Approx(e.peak_bf16));
    CHECK(p.chip.hbm_bytes == Approx(e.hbm));
    CHECK(p.chip.hbm_bandwidth_bytes_per_s == Approx(e.hbm_bandwidth));
    CHECK(p.torus.dimensions == e.dimensions);
    CHECK(p.torus.links_per_chip == e.links);
    CHECK(p.torus.link_bandwidth_bytes_per_s == Approx(e.link_bandwidth));
    CHECK(p.torus.link_latency_s == Approx(1e-6));  // about 1 us per ICI hop
    CHECK(p.torus.wraparound_multiple == e.wraparound_multiple);
    CHECK(p.torus.max_shape == e.max_shape);
    // TPU fp32 is emulated with bf16 passes: strictly slower than bf16.
    CHECK(p.chip.peak_fp32_flop_per_s < p.chip.peak_bf16_flop_per_s);
  }
  CHECK(load_hardware("tpu-v4").torus.max_chips == 4096);  // the v4 pod
  CHECK(load_hardware("tpu-v5e").torus.max_chips == 256);  // the v5e pod
}

TEST_CASE("hardware: TPU per-link figures agree with the vendor's per-chip totals", "[hardware]") {
  // v5e: vendor 400 GB/s per chip both ways; v5p: vendor 1200 GB/s per chip both ways
  // (HARDWARE.md). links x 2 directions x per-link one-way bandwidth must be within 10%.
  auto chip_total = [](const HardwareProfile& p) {
    return p.torus.links_per_chip * 2.0 * p.torus.link_bandwidth_bytes_per_s;
  };
  CHECK(chip_total(load_hardware("tpu-v5e")) == Approx(400e9).epsilon(0.1));
  CHECK(chip_total(load_hardware("tpu-v5p")) == Approx(1200e9).epsilon(0.1));
  // v4: 6 links x 9e10 B/s both ways (scaling-book).
  CHECK(chip_total(load_hardware("tpu-v4")) == Approx(6 * 9e10));
}

TEST_CASE("hardware: GPU profiles match the published figures", "[hardware]") {
  struct Expected {
    const char* name;
    double peak_bf16, hbm, hbm_bandwidth, nvlink_one_way, nic_one_way;
  };
  const std::vector<Expected> expected = {
      // A100: NVLink 600 GB/s total = 300 each way; HDR 200 Gb/s = 25 GB/s.
      {"a100-sxm-80gb", 312e12, 80e9, 2039e9, 300e9, 25e9},
      // H100: NVLink 900 GB/s total = 450 each way; NDR 400 Gb/s = 50 GB/s.
      {"h100-sxm", 989e12, 80e9, 3.35e12, 450e9, 50e9},
      {"h200-sxm", 989e12, 141e9, 4.8e12, 450e9, 50e9},
  };
  for (const auto& e : expected) {
    INFO(e.name);
    HardwareProfile p = load_hardware(e.name);
    REQUIRE(p.kind == InterconnectKind::GpuCluster);
    CHECK(p.chip.peak_bf16_flop_per_s == Approx(e.peak_bf16));
    CHECK(p.chip.hbm_bytes == Approx(e.hbm));
    CHECK(p.chip.hbm_bandwidth_bytes_per_s == Approx(e.hbm_bandwidth));
    CHECK(p.gpu.gpus_per_node == 8);
    CHECK(p.gpu.nvlink_bandwidth_bytes_per_s == Approx(e.nvlink_one_way));
    CHECK(p.gpu.nic_bandwidth_bytes_per_s == Approx(e.nic_one_way));
    CHECK(p.gpu.oversubscription == 1.0);  // non-blocking inside a pod
    CHECK(p.gpu.max_gpus % p.gpu.gpus_per_node == 0);
    // Pods are whole leaves (the loader's rule).
    CHECK(p.gpu.pod_nodes % p.gpu.leaf_switch_ports == 0);
    // "a few us" inside a node, "tens of us" across nodes: the network is the slower.
    CHECK(p.gpu.nvlink_latency_s < p.gpu.network_latency_s);
    CHECK(p.chip.peak_fp32_flop_per_s < p.chip.peak_bf16_flop_per_s);
    // A cloud on-demand list price per GPU-hour, within what clouds charged for these GPUs.
    REQUIRE(p.price_per_chip_hour_usd.has_value());
    CHECK(*p.price_per_chip_hour_usd > 1.0);
    CHECK(*p.price_per_chip_hour_usd < 20.0);
  }
  // Issue 15: 100,000 H100 (12,500 nodes) fit, as whole 2048-node pods (the largest two-level
  // tree of 64-port switches, 64 leaves per rail x 32 node ports), the fewest that hold them.
  for (const char* name : {"h100-sxm", "h200-sxm"}) {
    INFO(name);
    const HardwareProfile p = load_hardware(name);
    CHECK(p.gpu.pod_nodes == 64 * p.gpu.leaf_switch_ports);
    const std::int64_t pod_gpus = std::int64_t{p.gpu.pod_nodes} * p.gpu.gpus_per_node;
    CHECK(p.gpu.max_gpus % pod_gpus == 0);
    CHECK(p.gpu.max_gpus >= 100000);
    CHECK(p.gpu.max_gpus - pod_gpus < 100000);
  }
  // The line rate is an upper bound of the 46-48 GB/s nccl-tests achieve per NDR NIC.
  CHECK(load_hardware("h100-sxm").gpu.nic_bandwidth_bytes_per_s >= 48e9);
}

TEST_CASE("hardware: measured GPU ceilings are reproduced by the cost model", "[hardware]") {
  // HARDWARE.md: one H100 reaches about 798 TFLOP/s (bf16 8192^3 matmul) and 3.0 TB/s (copy); one
  // H200 769-798 TFLOP/s and 4.3 TB/s. The matmul model is fitted on shapes up to 4096 only
  // (gemm_h100_xla.csv), so the 8192^3 figure checks it out of its fitted range.
  const MatmulShape big{1, 8192, 8192, 8192};
  const double big_flop = 2.0 * 8192 * 8192 * 8192;
  HardwareProfile h100 = load_hardware("h100-sxm");
  CHECK(big_flop / matmul_time_s(h100.cost, h100.chip, big) == Approx(798e12).epsilon(0.02));
  CHECK(h100.cost.memory_efficiency * h100.chip.hbm_bandwidth_bytes_per_s ==
        Approx(3.0e12).epsilon(0.01));
  HardwareProfile h200 = load_hardware("h200-sxm");
  double h200_matmul = big_flop / matmul_time_s(h200.cost, h200.chip, big);
  CHECK(h200_matmul >= 769e12);
  CHECK(h200_matmul <= 798e12);
  CHECK(h200.cost.memory_efficiency * h200.chip.hbm_bandwidth_bytes_per_s ==
        Approx(4.3e12).epsilon(0.01));
  // mamf-finder's best shapes (kernels_and_links.csv): H100 794.5 TFLOP/s at 2048x2048x13312 (the
  // best of a search, so the model may be at most a little above it), A100 271.2 at
  // 1024x10240x5120 (the A100 fraction is scaled from this figure, docs/fidelity.md).
  CHECK(2.0 * 2048 * 2048 * 13312 / matmul_time_s(h100.cost, h100.chip, {1, 2048, 2048, 13312}) <=
        794.5e12 * 1.02);
  HardwareProfile a100 = load_hardware("a100-sxm-80gb");
  CHECK(2.0 * 1024 * 10240 * 5120 / matmul_time_s(a100.cost, a100.chip, {1, 1024, 10240, 5120}) ==
        Approx(271.2e12).epsilon(0.03));
}

TEST_CASE("hardware: every figure of every zoo profile has exactly one source", "[hardware]") {
  for (const auto& name : meshsim::zoo_hardware_names()) {
    INFO(name);
    const nlohmann::json document = read_zoo_json(name);
    const std::set<std::string> figures = figures_of(document);
    HardwareProfile p = load_hardware(name);
    std::set<std::string> sourced;
    for (const auto& note : p.sources) {
      CHECK(sourced.insert(note.field).second);  // no duplicates
      CHECK(figures.count(note.field) == 1);     // names a real figure
      CHECK(note.source.size() > 10);            // says something
    }
    CHECK(sourced == figures);
    // Efficiencies and overheads are measured, fitted (on a named file), derived (saying how) or
    // labelled assumptions with reasoning.
    std::vector<std::string> fields{"/cost_model/memory_efficiency", "/cost_model/kernel_overhead"};
    for (const char* key : {"tensor_core_fraction", "kernel_overhead", "tile_overhead",
                            "sm_operand_bandwidth", "mxu_fraction", "op_overhead"}) {
      if (figures.count(std::string("/cost_model/matmul/") + key) != 0)
        fields.push_back(std::string("/cost_model/matmul/") + key);
    }
    CHECK(fields.size() >= 4);  // every zoo profile has a matmul shape model
    for (const std::string& field : fields) {
      INFO(field);
      const std::string* text = source_for(p, field);
      REQUIRE(text != nullptr);
      bool labelled = text->rfind("assumption:", 0) == 0 || text->rfind("measured", 0) == 0 ||
                      text->rfind("derived:", 0) == 0 ||
                      text->rfind("fitted on cuda_validation/published/", 0) == 0;
      CHECK(labelled);
    }
  }
}

TEST_CASE("hardware: the loader rejects a profile missing any one source", "[hardware]") {
  const std::string dir = meshsim::testing::scratch_dir("hardware-missing-source");
  for (const auto& name : meshsim::zoo_hardware_names()) {
    const nlohmann::json document = read_zoo_json(name);
    for (std::size_t i = 0; i < document.at("sources").size(); ++i) {
      nlohmann::json broken = document;
      const std::string field = broken["sources"][i]["field"];
      broken["sources"].erase(i);
      INFO(name << " without a source for " << field);
      std::string path = write_json(dir, name + ".json", broken);
      try {
        load_hardware(path);
        FAIL("loaded a profile without a source for " + field);
      } catch (const InputError& e) {
        CHECK(e.site().pointer == field);
        CHECK(std::string(e.what()).find("no source") != std::string::npos);
      }
    }
  }
}

TEST_CASE("hardware: a user file loads by path like the zoo profile it copies", "[hardware]") {
  const std::string dir = meshsim::testing::scratch_dir("hardware-user-file");
  nlohmann::json document = read_zoo_json("tpu-v5p");
  document["name"] = "my-v5p";
  document["interconnect"]["link_bandwidth"] = "100 GB/s";
  std::string path = write_json(dir, "whatever.json", document);
  HardwareProfile p = load_hardware(path);
  CHECK(p.name == "my-v5p");
  CHECK(p.file == path);
  CHECK(p.torus.link_bandwidth_bytes_per_s == Approx(1e11));
  CHECK(p.chip.peak_bf16_flop_per_s == load_hardware("tpu-v5p").chip.peak_bf16_flop_per_s);
}

TEST_CASE("hardware: MESHSIM_DATA_DIR replaces the zoo directory", "[hardware]") {
  const std::string dir = meshsim::testing::scratch_dir("hardware-data-dir");
  const std::string zoo = meshsim::testing::scratch_dir("hardware-data-dir/hardware_profiles");
  nlohmann::json document = read_zoo_json("tpu-v4");
  document["name"] = "my-chip";
  write_json(zoo, "my-chip.json", document);
  document["name"] = "not-its-file-name";
  write_json(zoo, "mismatch.json", document);
  ScopedEnv env("MESHSIM_DATA_DIR", dir);
  CHECK(meshsim::zoo_hardware_names() == std::vector<std::string>{"mismatch", "my-chip"});
  CHECK(load_hardware("my-chip").chip.peak_bf16_flop_per_s == Approx(275e12));
  CHECK_THROWS_WITH(load_hardware("tpu-v4"), Catch::Contains("my-chip"));
  // A zoo file whose "name" differs from its file name is an error at /name.
  CHECK_THROWS_WITH(load_hardware("mismatch"), Catch::Contains("/name"));
}

TEST_CASE("hardware: unknown names list the profiles and suggest the closest", "[hardware]") {
  try {
    load_hardware("tpu-v3");
    FAIL("tpu-v3 is not in the zoo");
  } catch (const InputError& e) {
    std::string message = e.what();
    CHECK(message.find("did you mean 'tpu-v4'") != std::string::npos);
    for (const auto& name : meshsim::zoo_hardware_names()) {
      CHECK(message.find(name) != std::string::npos);
    }
  }
  CHECK_THROWS_AS(load_hardware(""), InputError);
  CHECK_THROWS_AS(load_hardware("no-such.json"), InputError);  // a path: no such file
}

TEST_CASE("hardware: the interconnect summary names the topology", "[hardware]") {
  CHECK_THAT(meshsim::interconnect_summary(load_hardware("tpu-v4")),
             Catch::Contains("3-D torus") && Catch::Contains("16x16x16"));
  CHECK_THAT(meshsim::interconnect_summary(load_hardware("tpu-v5e")), Catch::Contains("2-D torus"));
  CHECK_THAT(meshsim::interconnect_summary(load_hardware("h100-sxm")),
             Catch::Contains("8 GPUs/node") && Catch::Contains("450 GB/s"));
  CHECK(meshsim::torus_shape_text({16, 16, 24}) == "16x16x24");
}
