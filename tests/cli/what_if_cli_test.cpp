// What-if overrides (`--set PATH=VALUE`, docs/whatif.md) and loading `show --json` outputs back:
// the overridden figure changes results by its closed form, the output cannot be taken for the
// stock profile, bad paths and values are one line naming --set.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "hardware_profiles/hardware.hpp"
#include "tests/cli_runner.hpp"

using meshsim::testing::run_meshsim;
using meshsim::testing::scratch_dir;
using meshsim::testing::write_scratch_file;

TEST_CASE(
    "what-if --set link bandwidth: the ring all-gather follows its closed form at 2x the links",
    "[cli][whatif]") {
  const std::string base =
      "collective --op all-gather --bytes 1GiB --hardware tpu-v4 --group 64 --algorithm ring "
      "--json";
  const auto stock = run_meshsim(base);
  const auto fast = run_meshsim(base + " --set interconnect.link_bandwidth=90GB/s");
  REQUIRE(stock.exit_code == 0);
  REQUIRE(fast.exit_code == 0);
  const auto a = nlohmann::json::parse(stock.out);
  const auto b = nlohmann::json::parse(fast.out);
  const double efficiency = meshsim::load_hardware("tpu-v4").collectives.ici_efficiency;
  // (p-1)/p S/B + (p-1) a with B = 9e10 B/s (2x the stock 4.5e10) at the profile's efficiency.
  const double expected = 63.0 / 64 * 1073741824.0 / (9e10 * efficiency) + 63 * 1e-6;
  CHECK(b["closed_form_time_s"].get<double>() == Approx(expected).epsilon(1e-9));
  CHECK(b["time_s"].get<double>() == Approx(expected).epsilon(0.01));
  // The bandwidth term halves, the latency term stays.
  const double a_bw = a["closed_form_time_s"].get<double>() - 63e-6;
  const double b_bw = b["closed_form_time_s"].get<double>() - 63e-6;
  CHECK(b_bw == Approx(a_bw / 2).epsilon(1e-9));
  // Recorded: the profile's name carries the override, the JSON lists it with the old value.
  CHECK(b["hardware"] == "tpu-v4+set(interconnect.link_bandwidth=90GB/s)");
  REQUIRE(b.contains("overrides"));
  CHECK(
      b["overrides"] ==
      nlohmann::json::parse(
          R"([{"path": "interconnect.link_bandwidth", "value": "90GB/s", "was": "4.5e10 B/s"}])"));
  CHECK_FALSE(a.contains("overrides"));  // stock outputs are unchanged
}

TEST_CASE("what-if --set chip.hbm on hardware show: the figure, its source, the name",
          "[cli][whatif]") {
  const auto r = run_meshsim("hardware show h100-sxm --json --set chip.hbm=96GiB");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["chip"]["hbm_bytes"].get<double>() == 96.0 * 1024 * 1024 * 1024);
  CHECK(j["name"] == "h100-sxm+set(chip.hbm=96GiB)");
  CHECK(j["display_name"].get<std::string>().find("what-if: chip.hbm=96GiB") != std::string::npos);
  std::string source;
  for (const auto& note : j["sources"]) {
    if (note["field"] == "/chip/hbm")
      source = note["source"];
  }
  CHECK(source.rfind("--set on the command line", 0) == 0);
  CHECK(source.find("was 80 GB") != std::string::npos);
  // Text output says it too.
  const auto text = run_meshsim("hardware show h100-sxm --set chip.hbm=96GiB");
  CHECK(text.out.find("what-if") != std::string::npos);
}

TEST_CASE("what-if --set model.depth: parameters follow the layer count", "[cli][whatif]") {
  const auto stock = nlohmann::json::parse(run_meshsim("model show vit-b16 --json").out);
  const auto r = run_meshsim("model show vit-b16 --json --set depth=24");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(stock["depth"] == 12);
  CHECK(j["depth"] == 24);
  CHECK(j["params"]["transformer"].get<double>() ==
        2 * stock["params"]["transformer"].get<double>());
  // On a verb with both, model.PATH goes to the model and the run records both overrides.
  const auto run = run_meshsim(
      "run --model vit-b16 --hardware tpu-v4 --mesh 8x2 --batch 256 --json --set model.depth=24 "
      "--set chip.hbm=64GiB");
  REQUIRE(run.exit_code == 0);
  const auto rj = nlohmann::json::parse(run.out);
  CHECK(rj["model"] == "vit-b16+set(model.depth=24)");
  CHECK(rj["hardware"] == "tpu-v4+set(chip.hbm=64GiB)");
  REQUIRE(rj["overrides"].size() == 2);
  CHECK(rj["overrides"][0]["path"] == "model.depth");
  CHECK(rj["overrides"][0]["was"] == "12");
  CHECK(rj["memory"]["capacity_bytes"].get<double>() == 64.0 * 1024 * 1024 * 1024);
}

TEST_CASE("what-if --set: bad paths and values are one line naming --set, exit 2",
          "[cli][whatif]") {
  struct Case {
    std::string args, expect;
  };
  const Case cases[] = {
      {"hardware show tpu-v4 --set interconnect.link_bandwith=90GB/s",
       "did you mean 'link_bandwidth'"},
      {"hardware show tpu-v4 --set interconect.link_bandwidth=90GB/s",
       "did you mean 'interconnect'"},
      {"hardware show tpu-v4 --set chip.hbm=lots", "chip.hbm=lots"},
      {"hardware show tpu-v4 --set chip.hbm=0GiB", "chip.hbm=0GiB"},
      {"hardware show tpu-v4 --set chip.hbm", "not PATH=VALUE"},
      {"hardware show tpu-v4 --set model.depth=3", "takes no model"},
      {"model show vit-b16 --set layers=64", "unknown path 'layers'"},
      {"model show vit-b16 --set depth=many", "the value does not fit the field depth"},
      {"run --model vit-b16 --mesh 8x2 --batch 256 --set interconnect..x=1", "empty part"},
  };
  for (const auto& c : cases) {
    INFO(c.args);
    const auto r = run_meshsim(c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find("--set") != std::string::npos);
    CHECK(r.err.find(c.expect) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("show --json loads back: the same run from the dumped profile and model",
          "[cli][whatif]") {
  const std::string dir = scratch_dir("whatif_loadback");
  const auto hw = run_meshsim("hardware show tpu-v4 --json");
  const auto model = run_meshsim("model show vit-b16 --json");
  REQUIRE(hw.exit_code == 0);
  REQUIRE(model.exit_code == 0);
  const std::string hw_file = write_scratch_file(dir, "hw.json", hw.out);
  const std::string model_file = write_scratch_file(dir, "model.json", model.out);
  const std::string plan = " --mesh 8x2 --batch 256 --json";
  const auto stock = run_meshsim("run --model vit-b16 --hardware tpu-v4" + plan);
  const auto loaded = run_meshsim("run --model " + model_file + " --hardware " + hw_file + plan);
  REQUIRE(stock.exit_code == 0);
  REQUIRE(loaded.exit_code == 0);
  CHECK(stock.out == loaded.out);  // names come from the files' "name": byte for byte
  // A what-if dump loads back as the what-if (renamed so that it is not the stock profile).
  const auto whatif = run_meshsim("hardware show tpu-v4 --json --set chip.hbm=16GiB");
  REQUIRE(whatif.exit_code == 0);
  const std::string whatif_file = write_scratch_file(dir, "whatif.json", whatif.out);
  const auto direct =
      run_meshsim("run --model vit-b16 --hardware tpu-v4 --set chip.hbm=16GiB" + plan);
  const auto dumped = run_meshsim("run --model vit-b16 --hardware " + whatif_file + plan);
  REQUIRE(direct.exit_code == 0);
  REQUIRE(dumped.exit_code == 0);
  auto a = nlohmann::json::parse(direct.out);
  auto b = nlohmann::json::parse(dumped.out);
  CHECK(b["hardware"] == "tpu-v4-whatif");
  CHECK(a["memory"]["capacity_bytes"].get<double>() == 16.0 * 1024 * 1024 * 1024);
  // Everything else is the same: the name and the override list are what differ.
  a.erase("hardware");
  a.erase("overrides");
  b.erase("hardware");
  CHECK(a.dump() == b.dump());
}
