// Issue 16 item 7: traces a person can read. The trace of `run --trace` checked against the Trace
// Event Format (Chrome's JSON trace format, which Perfetto loads): slices named by layer, pass
// and op with their args, a flow from each send to its receive, tracks labelled with mesh
// coordinates, no empty tracks, and complete events of one thread disjoint or nested.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/cli_runner.hpp"

using meshsim::testing::read_text_file;
using meshsim::testing::run_meshsim;
using meshsim::testing::scratch_dir;
using nlohmann::json;

namespace {

json traced(const std::string& args) {
  const std::string dir = scratch_dir("trace-readable");
  const auto r = run_meshsim("run --quiet " + args + " --trace " + dir + "/t.json");
  REQUIRE(r.exit_code == 0);
  return json::parse(read_text_file(dir + "/t.json"));
}

struct Slice {
  double start = 0, end = 0;
};

// Every property of a readable, well-formed trace; returns the number of flows.
std::size_t check_trace(const json& trace) {
  REQUIRE(trace["traceEvents"].is_array());
  const std::string unit = trace["displayTimeUnit"].get<std::string>();
  CHECK((unit == "ns" || unit == "ms"));
  const std::set<std::string> passes = {"forward", "backward", "recompute", "optimizer"};
  const std::map<std::string, std::string> short_pass = {
      {"forward", "fwd"}, {"backward", "bwd"}, {"recompute", "recompute"}, {"optimizer", "opt"}};
  std::map<std::pair<long long, long long>, std::vector<Slice>> slices;  // (pid, tid)
  std::map<std::pair<long long, long long>, std::string> thread_names;
  std::map<long long, std::string> process_names;
  std::map<unsigned long long, json> starts, finishes;
  std::vector<json> flow_events;
  for (const auto& e : trace["traceEvents"]) {
    // Every event: a phase, integer pid and tid, a name.
    REQUIRE(e.contains("ph"));
    REQUIRE(e["pid"].is_number_integer());
    REQUIRE(e["tid"].is_number_integer());
    REQUIRE(e["name"].is_string());
    const std::string ph = e["ph"];
    const auto key = std::make_pair(e["pid"].get<long long>(), e["tid"].get<long long>());
    if (ph == "M") {
      const std::string what = e["name"];
      if (what == "process_name" || what == "thread_name") {
        const std::string name = e["args"]["name"].get<std::string>();
        CHECK_FALSE(name.empty());
        if (what == "process_name")
          process_names[key.first] = name;
        else
          thread_names[key] = name;
      } else {
        CHECK((what == "process_sort_index" || what == "thread_sort_index"));
        CHECK(e["args"]["sort_index"].is_number_integer());
      }
      continue;
    }
    REQUIRE(e["ts"].is_number());
    CHECK(e["ts"].get<double>() >= 0);
    if (ph == "s" || ph == "f") {
      const auto id = e["id"].get<unsigned long long>();
      CHECK((ph == "s" ? starts : finishes).emplace(id, e).second);  // one of each per id
      flow_events.push_back(e);
      continue;
    }
    REQUIRE(ph == "X");
    CHECK(e["dur"].get<double>() >= 0);
    slices[key].push_back({e["ts"].get<double>(), e["ts"].get<double>() + e["dur"].get<double>()});
    // Layer and pass on every slice; the name says them: "L3 fwd fused_in_proj".
    const auto& args = e["args"];
    REQUIRE(args.contains("layer"));
    REQUIRE(args.contains("microbatch"));
    const std::string pass = args["pass"];
    CHECK(passes.count(pass) == 1);
    const std::string name = e["name"];
    if (args["layer"].is_number_integer() && key.first < (1 << 30)) {
      CHECK(name.rfind(
                "L" + std::to_string(args["layer"].get<int>()) + " " + short_pass.at(pass) + " ",
                0) == 0);
    }
    if (e["cat"] == "compute")
      CHECK(args["flop"].get<double>() >= 0);
    if (name.find(" send to chip ") != std::string::npos) {
      CHECK(args["bytes"].get<double>() > 0);
      CHECK(name.find("chip " + std::to_string(args["peer_chip"].get<long long>())) !=
            std::string::npos);
    }
  }
  // Every track with slices is named, and every named track has slices (no empty tracks).
  for (const auto& [key, list] : slices) {
    CHECK(thread_names.count(key) == 1);
    CHECK(process_names.count(key.first) == 1);
  }
  for (const auto& [key, name] : thread_names)
    CHECK(slices.count(key) == 1);
  // Chips are labelled with their mesh coordinates.
  const std::regex chip_label(R"(chip \d+ \(data \d+, model \d+\))");
  for (const auto& [pid, name] : process_names) {
    if (pid < (1 << 30))
      CHECK(std::regex_match(name, chip_label));
  }
  // Complete events of one thread are disjoint or nested (the format's rule for "X").
  for (auto& [key, list] : slices) {
    std::sort(list.begin(), list.end(), [](const Slice& a, const Slice& b) {
      return a.start < b.start || (a.start == b.start && a.end > b.end);
    });
    std::vector<double> open;  // ends of the enclosing slices
    for (const auto& s : list) {
      while (!open.empty() && open.back() <= s.start + 1e-6)
        open.pop_back();
      if (!open.empty())
        CHECK(s.end <= open.back() + 1e-6);
      open.push_back(s.end);
    }
  }
  // Each flow start has its finish, not before it; each end of a flow lies on a slice of its
  // thread (the send's start inside the send, the finish inside the receive).
  CHECK(starts.size() == finishes.size());
  for (const auto& [id, s] : starts) {
    REQUIRE(finishes.count(id) == 1);
    const auto& f = finishes.at(id);
    CHECK(f["ts"].get<double>() >= s["ts"].get<double>());
    CHECK(f["bp"] == "e");
  }
  for (const auto& e : flow_events) {
    const auto key = std::make_pair(e["pid"].get<long long>(), e["tid"].get<long long>());
    const double ts = e["ts"].get<double>();
    bool inside = false;
    for (const auto& s : slices[key])
      inside = inside || (s.start <= ts + 1e-6 && ts <= s.end + 1e-6);
    CHECK(inside);
  }
  return starts.size();
}

}  // namespace

TEST_CASE("trace: collective matmul sends and receives, every pass, mesh-labelled tracks",
          "[cli][trace][ux]") {
  // 4x4 on TPU v4, async collective matmul: ring sends on the model axis; full remat adds a
  // recompute pass; the first 8 chips are two whole model groups, so every send's receiver is
  // traced.
  const json trace = traced(
      "--model vit-l16 --hardware tpu-v4 --mesh 4x4 --batch 64 --remat full --trace-chips 8");
  CHECK(check_trace(trace) > 0);
  std::set<std::string> seen_passes;
  bool op_named = false;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] == "X") {
      seen_passes.insert(e["args"]["pass"].get<std::string>());
      op_named = op_named || e["name"] == "L3 fwd fused_in_proj" || e["name"] == "L3 fwd qkv";
    }
  }
  CHECK(seen_passes == std::set<std::string>{"forward", "backward", "recompute", "optimizer"});
  // Process labels: chip 4 is data 0, model 1 (the mesh is data-major, model fastest).
  int labelled = 0;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "process_name" &&
        e["args"]["name"].get<std::string>().find("(data 1, model 3)") != std::string::npos)
      ++labelled;
  }
  CHECK(labelled == 1);
}

TEST_CASE("trace: a GPU run with synchronous collectives and microbatches", "[cli][trace][ux]") {
  const json trace = traced(
      "--model vit-b16 --hardware h100-sxm --mesh 4x4 --batch 64 --microbatches 2 --async off "
      "--trace-chips 4");
  check_trace(trace);
  std::set<int> microbatches;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] == "X")
      microbatches.insert(e["args"]["microbatch"].get<int>());
  }
  CHECK(microbatches == std::set<int>{0, 1});
}
