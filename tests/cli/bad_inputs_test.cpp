// The table of bad inputs (issue 7, docs/hardening.md): every case runs the real meshsim binary
// and must exit 2 (never 1, never a signal), print nothing on stdout and exactly one line on
// stderr that holds the key words naming the problem: the file or flag, the field, what was found
// or what is allowed.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/cli_runner.hpp"

using meshsim::testing::run_meshsim;
using meshsim::testing::scratch_dir;
using meshsim::testing::write_scratch_file;

namespace {

struct BadInput {
  std::string what;
  std::string args;                // meshsim arguments; "{dir}" is the scratch directory
  std::vector<std::string> words;  // each must appear in the one stderr line
};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Runs every case and checks the contract: exit 2, empty stdout, one line, the key words.
void check_cases(const std::vector<BadInput>& cases, const std::string& dir) {
  for (const auto& c : cases) {
    const std::string args = replace_all(c.args, "{dir}", dir);
    const auto r = run_meshsim(args);
    INFO("case: " << c.what << "\n  meshsim " << args << "\n  stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.rfind("meshsim: ", 0) == 0);
    for (const auto& word : c.words) {
      INFO("key word: " << word);
      CHECK(r.err.find(word) != std::string::npos);
    }
  }
}

nlohmann::json read_source_json(const std::string& relative) {
  std::ifstream in(std::string(MESHSIM_SOURCE_DIR) + "/" + relative);
  return nlohmann::json::parse(in);
}

// A small valid model; each case changes one thing.
nlohmann::json small_model() {
  return {{"schema", "meshsim.model/v1"},
          {"block", "parallel"},
          {"width", 64},
          {"depth", 2},
          {"mlp_dim", 256},
          {"heads", 4},
          {"patch", 16},
          {"image_size", 224}};
}

// Writes `document` (or `raw` text) as dir/name and returns the path.
std::string write_json(const std::string& dir, const std::string& name,
                       const nlohmann::json& document) {
  return write_scratch_file(dir, name, document.dump(2));
}

}  // namespace

TEST_CASE("bad inputs: model files exit 2 naming file, field and problem", "[cli][hardening]") {
  const std::string dir = scratch_dir("bad-models");
  using J = nlohmann::json;
  struct ModelCase {
    std::string what;
    std::function<void(J&)> mutate;  // applied to small_model()
    std::vector<std::string> words;
    const char* raw = nullptr;  // written instead of the JSON when set
  };
  const std::vector<ModelCase> model_cases = {
      {"not JSON", nullptr, {"not valid JSON", "line 1"}, "width: 64"},
      {"truncated JSON", nullptr, {"not valid JSON", "line 3"}, "{\n \"schema\": \"x\",\n"},
      {"NaN literal", nullptr, {"not valid JSON"}, "{\"width\": NaN}"},
      {"infinite literal", nullptr, {"not valid JSON"}, "{\"width\": Infinity}"},
      {"number beyond double", nullptr, {"line 1"}, "{\"width\": 1e999}"},
      {"not an object", nullptr, {"JSON object"}, "[64, 2]"},
      {"wrong schema",
       [](J& m) { m["schema"] = "meshsim.model/v2"; },
       {"/schema", "meshsim.model/v2", "meshsim.model/v1"}},
      {"missing required field", [](J& m) { m.erase("depth"); }, {"/depth", "missing"}},
      {"missing image size and tokens",
       [](J& m) { m.erase("image_size"); },
       {"image_size", "tokens"}},
      {"string for an integer", [](J& m) { m["width"] = "64"; }, {"/width", "wrong type"}},
      {"number for a boolean", [](J& m) { m["qk_norm"] = 1; }, {"/qk_norm", "wrong type"}},
      {"fraction for an integer", [](J& m) { m["heads"] = 4.5; }, {"/heads"}},
      {"unknown field with did-you-mean",
       [](J& m) { m["mlp_dmi"] = 256; },
       {"mlp_dmi", "did you mean 'mlp_dim'"}},
      {"unknown enum value", [](J& m) { m["block"] = "paralel"; }, {"/block", "parallel"}},
      {"zero width", [](J& m) { m["width"] = 0; }, {"/width", "0"}},
      {"negative depth", [](J& m) { m["depth"] = -3; }, {"/depth", "-3"}},
      {"huge width", [](J& m) { m["width"] = 1e12; }, {"/width"}},
      {"integer beyond int64", [](J& m) { m["depth"] = 18446744073709551615ULL; }, {"/depth"}},
      {"heads not dividing width", [](J& m) { m["heads"] = 7; }, {"heads", "divide"}},
      {"image not a multiple of patch",
       [](J& m) { m["image_size"] = 225; },
       {"/image_size", "multiple of patch"}},
      {"too many tokens",
       [](J& m) {
         m["patch"] = 1;
         m["image_size"] = 1'000'000;
       },
       {"/image_size", "too many tokens"}},
      {"tokens disagree with the image",
       [](J& m) { m["tokens"] = 100; },
       {"/tokens", "100", "196"}},
      {"empty name", [](J& m) { m["name"] = ""; }, {"/name", "empty"}},
  };
  std::vector<BadInput> cases;
  int index = 0;
  for (const auto& mc : model_cases) {
    std::string text;
    if (mc.raw != nullptr) {
      text = mc.raw;
    } else {
      J m = small_model();
      mc.mutate(m);
      text = m.dump(2);
    }
    const std::string name = "model-" + std::to_string(index++) + ".json";
    write_scratch_file(dir, name, text);
    std::vector<std::string> words = mc.words;
    words.push_back(name);  // the message names the file
    cases.push_back({"model: " + mc.what, "model show {dir}/" + name, words});
  }
  write_scratch_file(dir, "empty.json", "");
  write_scratch_file(dir, "blank.json", "  \n\t\n");
  std::filesystem::create_directories(dir + "/folder.json");
  cases.push_back({"model: empty file", "model show {dir}/empty.json", {"empty.json", "empty"}});
  cases.push_back(
      {"model: whitespace only", "model show {dir}/blank.json", {"blank.json", "empty"}});
  cases.push_back(
      {"model: a directory", "model show {dir}/folder.json", {"folder.json", "directory"}});
  cases.push_back({"model: missing file", "model show {dir}/absent.json", {"absent.json"}});
  cases.push_back({"model: unknown zoo name with did-you-mean",
                   "model show vit-22",
                   {"vit-22", "did you mean 'vit-22b'"}});
  cases.push_back({"model: empty model argument", "model show ''", {"model"}});
  check_cases(cases, dir);
}

TEST_CASE("bad inputs: unreadable files exit 2", "[cli][hardening]") {
  const std::string dir = scratch_dir("bad-unreadable");
  const std::string model = write_json(dir, "locked-model.json", small_model());
  const std::string profile =
      write_json(dir, "locked-hw.json", read_source_json("hardware_profiles/tpu-v4.json"));
  ::chmod(model.c_str(), 0);
  ::chmod(profile.c_str(), 0);
  // root reads files whatever their mode (CI runs as root): then there is nothing to test.
  if (std::FILE* probe = std::fopen(model.c_str(), "rb")) {
    std::fclose(probe);
    WARN("running as root (or with CAP_DAC_OVERRIDE): chmod 000 does not stop reads; SKIPPED");
    return;
  }
  check_cases({{"model: unreadable", "model show " + model, {"locked-model.json", "read"}},
               {"hardware: unreadable", "hardware show " + profile, {"locked-hw.json", "read"}}},
              dir);
}

TEST_CASE("bad inputs: hardware profiles exit 2 naming file, field and problem",
          "[cli][hardening]") {
  const std::string dir = scratch_dir("bad-hardware");
  using J = nlohmann::json;
  struct HardwareCase {
    std::string what;
    const char* base;
    std::function<void(J&)> mutate;
    std::vector<std::string> words;
  };
  const std::vector<HardwareCase> hardware_cases = {
      {"size where a bandwidth is due",
       "tpu-v4",
       [](J& d) { d["chip"]["hbm_bandwidth"] = "5 GiB"; },
       {"/chip/hbm_bandwidth", "5 GiB", "B/s"}},
      {"time where a bandwidth is due",
       "h100-sxm",
       [](J& d) { d["interconnect"]["nvlink_bandwidth"] = "450 us"; },
       {"/interconnect/nvlink_bandwidth", "450 us"}},
      {"unit that does not parse",
       "tpu-v4",
       [](J& d) { d["chip"]["hbm"] = "32 GiBs"; },
       {"/chip/hbm", "32 GiBs"}},
      {"words instead of a quantity",
       "tpu-v4",
       [](J& d) { d["interconnect"]["link_latency"] = "fast"; },
       {"/interconnect/link_latency", "fast"}},
      {"NaN quantity",
       "tpu-v4",
       [](J& d) { d["chip"]["peak_bf16"] = "nan TFLOP/s"; },
       {"/chip/peak_bf16", "nan"}},
      {"infinite quantity",
       "tpu-v4",
       [](J& d) { d["chip"]["peak_bf16"] = "inf TFLOP/s"; },
       {"/chip/peak_bf16", "inf"}},
      {"quantity beyond double",
       "tpu-v4",
       [](J& d) { d["chip"]["hbm"] = "1e999 B"; },
       {"/chip/hbm", "1e999"}},
      {"negative quantity",
       "tpu-v4",
       [](J& d) { d["chip"]["hbm_bandwidth"] = "-1200 GB/s"; },
       {"/chip/hbm_bandwidth", "-1200"}},
      {"zero bandwidth",
       "tpu-v4",
       [](J& d) { d["interconnect"]["link_bandwidth"] = "0 B/s"; },
       {"/interconnect/link_bandwidth", "out of range"}},
      {"huge HBM",
       "tpu-v4",
       [](J& d) { d["chip"]["hbm"] = "1e30 B"; },
       {"/chip/hbm", "out of range"}},
      {"efficiency above one",
       "tpu-v4",
       [](J& d) { d["cost_model"]["matmul"]["mxu_fraction"] = 1.5; },
       {"/cost_model/matmul/mxu_fraction"}},
      {"number where a quantity string is due",
       "tpu-v4",
       [](J& d) { d["chip"]["hbm_bandwidth"] = 1.2e12; },
       {"/chip/hbm_bandwidth", "wrong type"}},
      {"string where an integer is due",
       "tpu-v4",
       [](J& d) { d["interconnect"]["max_chips"] = "4096"; },
       {"/interconnect/max_chips", "wrong type"}},
      {"missing required field",
       "h100-sxm",
       [](J& d) { d["chip"].erase("hbm"); },
       {"/chip/hbm", "missing"}},
      {"unknown field with did-you-mean",
       "tpu-v4",
       [](J& d) { d["chip"]["hbm_bandwith"] = "1 TB/s"; },
       {"hbm_bandwith", "did you mean 'hbm_bandwidth'"}},
      {"unknown interconnect kind",
       "tpu-v4",
       [](J& d) { d["interconnect"]["kind"] = "mesh"; },
       {"/interconnect/kind", "torus", "gpu_cluster"}},
      {"max_chips not the product of max_shape",
       "tpu-v4",
       [](J& d) { d["interconnect"]["max_chips"] = 4000; },
       {"/interconnect/max_chips", "max_shape"}},
      {"zero torus side",
       "tpu-v4",
       [](J& d) {
         d["interconnect"]["max_shape"] = J::array({0, 16, 16});
       },
       {"/interconnect/max_shape/0"}},
      {"GPUs not a whole number of nodes",
       "h100-sxm",
       [](J& d) { d["interconnect"]["max_gpus"] = 1001; },
       {"/interconnect/max_gpus", "gpus_per_node"}},
      {"figure without a source",
       "tpu-v4",
       [](J& d) { d["sources"].erase(0); },
       {"/chip/peak_bf16", "source"}},
  };
  std::vector<BadInput> cases;
  int index = 0;
  for (const auto& hc : hardware_cases) {
    J d = read_source_json(std::string("hardware_profiles/") + hc.base + ".json");
    hc.mutate(d);
    const std::string name = "hw-" + std::to_string(index++) + ".json";
    write_json(dir, name, d);
    std::vector<std::string> words = hc.words;
    words.push_back(name);
    cases.push_back({"hardware: " + hc.what, "hardware show {dir}/" + name, words});
  }
  write_scratch_file(dir, "empty.json", "");
  std::filesystem::create_directories(dir + "/folder.json");
  cases.push_back(
      {"hardware: empty file", "hardware show {dir}/empty.json", {"empty.json", "empty"}});
  cases.push_back(
      {"hardware: a directory", "hardware show {dir}/folder.json", {"folder.json", "directory"}});
  cases.push_back({"hardware: not JSON", "hardware show {dir}/hw-text.json", {"hw-text.json"}});
  write_scratch_file(dir, "hw-text.json", "chip: tpu");
  cases.push_back({"hardware: unknown name with did-you-mean",
                   "hardware show tpu-v5",
                   {"tpu-v5", "did you mean"}});
  // The same loader behind `collective --hardware`.
  cases.push_back({"collective: broken profile file",
                   "collective --op all-gather --bytes 1GiB --group 8 --hardware {dir}/hw-0.json",
                   {"hw-0.json", "/chip/hbm_bandwidth"}});
  check_cases(cases, dir);
}

TEST_CASE("bad inputs: flags of every verb exit 2 naming the flag", "[cli][hardening]") {
  const std::string dir = scratch_dir("bad-flags");
  // A 2-D torus profile that declares more chips than one simulation may hold (sim/limits.hpp).
  nlohmann::json big = read_source_json("hardware_profiles/tpu-v5e.json");
  big["name"] = "big-torus";
  big["interconnect"]["max_shape"] = nlohmann::json::array({2048, 1024});
  big["interconnect"]["max_chips"] = 2048 * 1024;
  write_json(dir, "big-torus.json", big);

  const std::string ag = "collective --op all-gather --hardware tpu-v4 ";
  const std::string ag64 = ag + "--bytes 1GiB --group 64 ";
  const std::vector<BadInput> cases = {
      // collective --bytes
      {"bytes negative", ag + "--group 64 --bytes -1", {"--bytes", "-1"}},
      {"bytes zero", ag + "--group 64 --bytes 0", {"--bytes", "whole number of bytes"}},
      {"bytes fraction", ag + "--group 64 --bytes 1.5", {"--bytes", "whole number"}},
      {"bytes as a bandwidth", ag + "--group 64 --bytes '5 GB/s'", {"--bytes", "5 GB/s"}},
      {"bytes as a time", ag + "--group 64 --bytes 2us", {"--bytes", "2us"}},
      {"bytes unit that does not parse", ag + "--group 64 --bytes 5GiBB", {"--bytes", "5GiBB"}},
      {"bytes NaN", ag + "--group 64 --bytes nan", {"--bytes", "nan"}},
      {"bytes infinite", ag + "--group 64 --bytes inf", {"--bytes", "inf"}},
      {"bytes beyond double", ag + "--group 64 --bytes 1e999", {"--bytes", "1e999"}},
      {"bytes huge", ag + "--group 64 --bytes 1e30", {"--bytes", "1e30"}},
      {"bytes empty", ag + "--group 64 --bytes ''", {"--bytes"}},
      // collective --group
      {"group zero", ag + "--bytes 1GiB --group 0", {"--group", "2 or more"}},
      {"group negative", ag + "--bytes 1GiB --group -8", {"--group", "-8"}},
      {"group one", ag + "--bytes 1GiB --group 1", {"--group", "at least two"}},
      {"group not a number", ag + "--bytes 1GiB --group many", {"--group", "many"}},
      {"group beyond int64",
       ag + "--bytes 1GiB --group 99999999999999999999",
       {"--group", "99999999999999999999"}},
      {"group beyond the largest slice", ag + "--bytes 1GiB --group 8192", {"--group", "4096"}},
      {"group with no torus slice", ag + "--bytes 1GiB --group 17", {"--group", "17"}},
      {"group beyond the GPU cluster",
       "collective --op all-reduce --bytes 1GiB --hardware h100-sxm --group 1000000",
       {"--group", "1000000"}},
      {"group not whole GPU nodes",
       "collective --op all-reduce --bytes 1GiB --hardware h100-sxm --group 12",
       {"--group", "whole nodes"}},
      {"group beyond the simulation limit",
       "collective --op all-gather --bytes 1GiB --hardware {dir}/big-torus.json --group 2097152",
       {"--group", "2097152", "1048576"}},
      // collective --op / --algorithm
      {"op unknown",
       "collective --op nope --bytes 1GiB --hardware tpu-v4 --group 8",
       {"--op", "nope", "all-gather", "all-to-all"}},
      {"algorithm unknown", ag64 + "--algorithm nope", {"--algorithm", "nope", "ring"}},
      {"algorithm of another op",
       "collective --op all-to-all --bytes 1GiB --hardware tpu-v4 --group 8 --algorithm torus",
       {"--algorithm", "torus", "direct, pairwise"}},
      // collective --chunks
      {"chunks zero", ag64 + "--chunks 0", {"--chunks", "0", "65536"}},
      {"chunks negative", ag64 + "--chunks -3", {"--chunks", "-3"}},
      {"chunks absurd", ag64 + "--chunks 1000000", {"--chunks", "1000000", "65536"}},
      {"chunks beyond int", ag64 + "--chunks 99999999999", {"--chunks"}},
      {"chunks not a number", ag64 + "--chunks lots", {"--chunks", "lots"}},
      // collective limits (sim/limits.hpp)
      // (--all-chips: the full schedule; rotation symmetry would reduce it to one member's)
      {"schedule with too many transfers",
       "collective --op all-reduce --algorithm ring --bytes 1GiB --hardware tpu-v4 --group 4096 "
       "--chunks 65536 --all-chips",
       {"--group", "transfers", "200000000"}},
      {"all-to-all with too many transfers",
       "collective --op all-to-all --bytes 1GiB --hardware tpu-v4 --group 4096 --chunks 64",
       {"transfers", "docs/limits.md"}},
      // collective: missing and unknown flags
      {"collective missing --bytes",
       "collective --op all-gather --hardware tpu-v4 --group 8",
       {"--bytes"}},
      {"collective unknown flag", ag64 + "--chunk 4", {"--chunk"}},
      {"collective unknown hardware",
       "collective --op all-gather --bytes 1GiB --group 8 "
       "--hardware tpu-v9",
       {"tpu-v9"}},
      // model show
      {"model show batch zero", "model show vit-22b --batch 0", {"--batch"}},
      {"model show batch negative", "model show vit-22b --batch -4", {"--batch"}},
      {"model show batch absurd", "model show vit-22b --batch 99999999999999", {"--batch"}},
      {"model show batch not a number", "model show vit-22b --batch two", {"--batch"}},
      {"model show model axis zero", "model show vit-22b --model-axis 0", {"--model-axis"}},
      {"model show model axis not dividing heads",
       "model show vit-22b --model-axis 5",
       {"--model-axis", "48", "5"}},
      {"model show missing model", "model show", {"model"}},
      {"model without a verb", "model", {"needs a verb", "show"}},
      // models / hardware
      {"models with an argument", "models vit-22b", {"vit-22b"}},
      {"models unknown flag", "models --jsn", {"--jsn"}},
      {"hardware unknown flag", "hardware --all", {"--all"}},
      {"hardware show missing profile", "hardware show", {"profile"}},
      // no verb, unknown verb
      {"no verb", "", {"needs a verb", "collective", "models"}},
      {"unknown verb", "simulate", {"unknown verb 'simulate'", "collective"}},
      {"misspelt verb", "colective --op all-gather", {"did you mean 'collective'"}},
      {"misspelt sub-verb", "model shwo vit-22b", {"'meshsim model'", "did you mean 'show'"}},
      {"octal-looking group", ag + "--bytes 1GiB --group 010x", {"--group", "010x"}},
      {"hex group", ag + "--bytes 1GiB --group 0x40", {"--group", "0x40"}},
      {"model show batch hex", "model show vit-22b --batch 0x10", {"--batch", "0x10"}},
  };
  check_cases(cases, dir);
}

TEST_CASE("bad inputs: deeply nested JSON in every input kind exits 2, no crash",
          "[cli][hardening][regression]") {
  // A field nested 100,000 levels, and a plan that is only brackets, used to segfault (issue 17,
  // item 1: recursive serialisation in the error path and in the plan loader).
  const std::string dir = meshsim::testing::scratch_dir("deep-json");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string field = "{\"name\": " + deep + "}";
  meshsim::testing::write_scratch_file(dir, "field.json", field);
  meshsim::testing::write_scratch_file(dir, "brackets.json", deep);
  check_cases({{"model", "model show {dir}/field.json", {"field.json", "nested too deeply"}},
               {"hardware", "hardware show {dir}/field.json", {"field.json", "nested too deeply"}},
               {"plan",
                "run --model vit-b16 --hardware tpu-v4 --plan {dir}/brackets.json",
                {"brackets.json", "nested too deeply"}},
               {"measurements",
                "validate --measurements {dir}/field.json",
                {"field.json", "nested too deeply"}}},
              dir);
}

TEST_CASE("bad inputs: an unwritable standard output is an error, not a silent success",
          "[cli][hardening][regression]") {
  // `meshsim run --json > /dev/full` and a closed stdout used to exit 0 (issue 17, item 5).
  const std::string dir = meshsim::testing::scratch_dir("stdout-full");
  const std::string err = dir + "/err";
  for (const std::string args :
       {"models --json >/dev/full", "hardware show tpu-v4 >/dev/full", "--help >/dev/full",
        "run --model vit-b16 --hardware tpu-v4 --mesh 8x1 --batch 64 --json >&-"}) {
    INFO("meshsim " << args);
    const std::string command =
        std::string(MESHSIM_BINARY) + " " + args + " 2>" + err + " </dev/null";
    const int status = std::system(command.c_str());
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    std::ifstream in(err);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.rfind("meshsim: standard output: cannot write", 0) == 0);
    CHECK(line_count(text) == 1);
  }
}

TEST_CASE("bad inputs: devices and FIFOs are refused, never read", "[cli][hardening][regression]") {
  // A symlink to /dev/zero used to be read until bad_alloc and a FIFO blocked forever (issue 17,
  // item 2): inputs must be regular files.
  namespace fs = std::filesystem;
  const std::string dir = meshsim::testing::scratch_dir("special-files");
  fs::remove(dir + "/zero.json");
  fs::create_symlink("/dev/zero", dir + "/zero.json");
  fs::remove(dir + "/fifo.json");
  REQUIRE(mkfifo((dir + "/fifo.json").c_str(), 0600) == 0);
  check_cases({{"device model", "model show {dir}/zero.json", {"zero.json", "not a regular file"}},
               {"device profile", "hardware show {dir}/zero.json", {"zero.json", "regular file"}},
               {"fifo plan",
                "run --model vit-b16 --hardware tpu-v4 --plan {dir}/fifo.json",
                {"fifo.json", "regular file"}},
               {"fifo measurements",
                "validate --measurements {dir}/fifo.json",
                {"fifo.json", "regular file"}}},
              dir);
}

TEST_CASE("bad inputs: an empty flag value exits 2 naming the flag",
          "[cli][hardening][regression]") {
  // `--async ''`, `-o ''` and the like used to mean "not given" and exit 0 with the defaults;
  // `run --plan ''` named neither the flag nor a file (issue 17, items 14 and 18).
  const std::string dir = meshsim::testing::scratch_dir("empty-values");
  const std::string run = "run --model vit-b16 --hardware tpu-v4 --mesh 8x1 --batch 64 ";
  check_cases({{"async", run + "--async ''", {"--async", "empty value"}},
               {"fsdp", run + "--fsdp ''", {"--fsdp", "empty value"}},
               {"microbatches", run + "--microbatches ''", {"--microbatches", "empty value"}},
               {"output", run + "-o ''", {"--output", "empty value"}},
               {"batch",
                "run --model vit-b16 --hardware tpu-v4 --mesh 8x1 --batch ''",
                {"--batch", "empty value"}},
               {"plan", "run --plan ''", {"--plan", "empty value"}},
               {"sweep batch",
                "sweep --model vit-b16 --hardware tpu-v4 --chips 8 --batch ''",
                {"--batch", "empty value"}},
               {"collective bytes",
                "collective --op all-gather --bytes '' --hardware tpu-v4 --group 4",
                {"--bytes", "empty value"}}},
              dir);
}
