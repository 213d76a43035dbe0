// One layer of one microbatch on one chip, from the step's trace events: see layer_timeline.hpp.
#include "sim/report/layer_timeline.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace meshsim::report {
namespace {

using json = nlohmann::json;

// execution::TraceEvent::track, in order.
constexpr std::array<const char*, 5> kTracks = {"compute", "model-axis sends",
                                                "model-axis collectives", "model-axis receives",
                                                "data-axis collectives"};

// "L24 fwd fused_in_proj" -> "fused_in_proj": the layer and pass are fields of their own.
std::string op_name(const execution::TraceEvent& e) {
  std::string_view name = e.name;
  // The layer ("L24 "), then the pass ("fwd "): each a word of its own.
  for (int words = e.layer >= 0 ? 2 : 1; words > 0; --words) {
    const auto space = name.find(' ');
    if (space == std::string_view::npos)
      break;
    name.remove_prefix(space + 1);
  }
  return std::string(name);
}

}  // namespace

execution::TraceOptions layer_timeline_trace() {
  execution::TraceOptions t;
  t.enabled = true;
  t.chips = 1;
  return t;
}

json layer_timeline_json(const execution::StepResult& traced) {
  if (traced.trace_chips.empty())
    return nullptr;
  const auto& where = traced.trace_chips.front();
  // The chip's events of some layer (link tracks, chip -1, are not the chip's).
  std::set<std::int32_t> layers;
  for (const auto& e : traced.trace)
    if (e.chip == where.chip && e.layer >= 0 && e.track >= 0 &&
        e.track < static_cast<int>(kTracks.size()))
      layers.insert(e.layer);
  if (layers.empty())
    return nullptr;
  const std::int32_t layer = *std::next(layers.begin(), static_cast<long>(layers.size() / 2));
  std::int32_t microbatch = 0;
  for (const auto& e : traced.trace)
    if (e.chip == where.chip && e.layer == layer)
      microbatch = std::max(microbatch, e.microbatch);

  json passes = json::array();
  for (const char* pass : {"forward", "backward"}) {
    const bool backward = std::string(pass) == "backward";
    std::vector<const execution::TraceEvent*> events;
    for (const auto& e : traced.trace) {
      if (e.chip != where.chip || e.layer != layer || e.microbatch != microbatch || e.track < 0 ||
          e.track >= static_cast<int>(kTracks.size()))
        continue;
      const std::string p = e.pass;
      if (p == pass || (backward && p == "recompute"))
        events.push_back(&e);
    }
    double origin = std::numeric_limits<double>::infinity();
    for (const auto* e : events)
      if (e->track == 0)
        origin = std::min(origin, e->start_s);
    if (events.empty() || origin == std::numeric_limits<double>::infinity())
      continue;
    // Trace order is the order of recording; time order (then track, then recording) is the
    // order a reader wants and stays deterministic.
    std::stable_sort(events.begin(), events.end(), [](const auto* a, const auto* b) {
      return a->start_s != b->start_s ? a->start_s < b->start_s : a->track < b->track;
    });
    double end = origin;
    json list = json::array();
    for (const auto* e : events) {
      end = std::max(end, e->start_s + e->duration_s);
      json ev = {{"track", kTracks[static_cast<std::size_t>(e->track)]},
                 {"category", e->category},
                 {"op", op_name(*e)},
                 {"pass", e->pass},
                 {"start_s", e->start_s - origin},
                 {"duration_s", e->duration_s}};
      if (e->flop > 0)
        ev["flop"] = e->flop;
      if (e->bytes > 0)
        ev["bytes"] = e->bytes;
      if (e->peer >= 0)
        ev["peer"] = e->peer;
      list.push_back(std::move(ev));
    }
    passes.push_back({{"pass", pass},
                      {"origin_s", origin},
                      {"span_s", end - origin},
                      {"events", std::move(list)}});
  }
  return {{"chip", where.chip},
          {"data_index", where.data},
          {"model_index", where.model},
          {"stage", where.stage >= 0 ? json(where.stage) : json(nullptr)},
          {"layer", layer},
          {"microbatch", microbatch},
          {"tracks", kTracks},
          {"passes", std::move(passes)}};
}

}  // namespace meshsim::report
