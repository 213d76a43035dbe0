// Loads and validates hardware profiles (docs/hardware.md has the schema field by field).
#include "hardware_profiles/hardware.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <set>
#include <utility>

#include "common/data_dir.hpp"
#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/json_override_apply.hpp"
#include "common/units.hpp"
#include "hardware_profiles/cost_model_json.hpp"

namespace meshsim {
namespace {

namespace fs = std::filesystem;

// Bounds on figures: wide physical envelopes (several orders of magnitude around today's chips), so
// that a wrong prefix or a stray exponent ("275 PFLOP/s", "1e30 GB/s") is caught, while any
// plausible what-if machine still loads. Zero is never a valid rate or size.
constexpr double kMinFlopRate = 1e9, kMaxFlopRate = 1e17;            // 1 GFLOP/s .. 100 PFLOP/s
constexpr double kMinHbmBytes = 1 << 20, kMaxHbmBytes = 1e14;        // 1 MiB .. 100 TB
constexpr double kMinHbmBandwidth = 1e9, kMaxHbmBandwidth = 1e15;    // 1 GB/s .. 1 PB/s
constexpr double kMinLinkBandwidth = 1e6, kMaxLinkBandwidth = 1e13;  // 1 MB/s .. 10 TB/s
constexpr double kMaxLatency_s = 1e-2;  // 10 ms; zero is allowed (an ideal link, for what-ifs)
constexpr std::int64_t kMaxChips = 10'000'000;
constexpr std::int64_t kMaxShapeSide = 4096;

// $MESHSIM_DATA_DIR/hardware_profiles, else the source tree's (common/data_dir.hpp).
fs::path zoo_dir() {
  return data_folder("hardware_profiles");
}

bool looks_like_path(const std::string& text) {
  return text.find('/') != std::string::npos ||
         (text.size() >= 5 && text.compare(text.size() - 5, 5, ".json") == 0);
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : separator) + item;
  return out;
}

// Reads the figures and remembers the JSON pointer of each one read, so that the sources check
// knows exactly which figures this profile has.
class FigureReader {
 public:
  double quantity(JsonObject& object, std::string_view key, QuantityKind kind, double lo,
                  double hi) {
    double value = object.quantity(key, kind, lo, hi);
    figures_.push_back(object.child_pointer(key));
    return value;
  }
  std::int64_t integer(JsonObject& object, std::string_view key, std::int64_t lo, std::int64_t hi) {
    std::int64_t value = object.integer(key, lo, hi);
    figures_.push_back(object.child_pointer(key));
    return value;
  }
  double number(JsonObject& object, std::string_view key, double lo, double hi) {
    double value = object.number(key, lo, hi);
    figures_.push_back(object.child_pointer(key));
    return value;
  }
  void add(std::string pointer) { figures_.push_back(std::move(pointer)); }
  const std::vector<std::string>& figures() const { return figures_; }

 private:
  std::vector<std::string> figures_;
};

ChipSpec parse_chip(JsonObject object, FigureReader& reader) {
  ChipSpec chip;
  chip.peak_bf16_flop_per_s =
      reader.quantity(object, "peak_bf16", QuantityKind::FlopRate, kMinFlopRate, kMaxFlopRate);
  chip.peak_fp32_flop_per_s =
      reader.quantity(object, "peak_fp32", QuantityKind::FlopRate, kMinFlopRate, kMaxFlopRate);
  chip.hbm_bytes = reader.quantity(object, "hbm", QuantityKind::Bytes, kMinHbmBytes, kMaxHbmBytes);
  chip.hbm_bandwidth_bytes_per_s = reader.quantity(object, "hbm_bandwidth", QuantityKind::Bandwidth,
                                                   kMinHbmBandwidth, kMaxHbmBandwidth);
  object.reject_unknown_fields();
  return chip;
}

CostModel parse_cost(JsonObject object, FigureReader& reader) {
  CostModel cost = parse_cost_model(object);
  for (const char* key : {"memory_efficiency", "kernel_overhead"}) {
    reader.add(object.child_pointer(key));
  }
  if (cost.matmul.kind == MatmulModelKind::Roofline)
    reader.add(object.child_pointer("matmul_efficiency"));
  for (const std::string& key : matmul_model_fields(cost.matmul))
    reader.add(object.child_pointer("matmul") + "/" + key);
  for (const char* key : {"flash_attention_efficiency", "flash_attention_backward_efficiency"}) {
    if (object.has(key))
      reader.add(object.child_pointer(key));
  }
  object.reject_unknown_fields();
  return cost;
}

std::vector<int> parse_shape(JsonObject& object, std::string_view key, std::int64_t dimensions) {
  const nlohmann::json& array = object.array(key);
  const std::string pointer = object.child_pointer(key);
  if (static_cast<std::int64_t>(array.size()) != dimensions) {
    throw InputError(object.site(key), "needs one entry per torus dimension",
                     std::to_string(array.size()) + " entries " + array.dump(),
                     std::to_string(dimensions) + " entries (\"dimensions\" is " +
                         std::to_string(dimensions) + ")");
  }
  std::vector<int> shape;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const auto& side = array[i];
    ErrorSite site{object.file(), pointer + "/" + std::to_string(i), std::string(key)};
    const std::string allowed = "an integer in [1, " + std::to_string(kMaxShapeSide) + "]";
    if (!side.is_number_integer() && !side.is_number_unsigned()) {
      throw InputError(site, "wrong type", json_type_name(side) + " " + side.dump(), allowed);
    }
    bool in_range =
        side.is_number_unsigned()
            ? side.get<std::uint64_t>() <= static_cast<std::uint64_t>(kMaxShapeSide)
            : side.get<std::int64_t>() >= 1 && side.get<std::int64_t>() <= kMaxShapeSide;
    if (!in_range || side.get<std::int64_t>() < 1) {
      throw InputError(site, "out of range", side.dump(), allowed);
    }
    shape.push_back(side.get<int>());
  }
  return shape;
}

TorusInterconnect parse_torus(JsonObject& object, FigureReader& reader) {
  TorusInterconnect torus;
  torus.dimensions = static_cast<int>(reader.integer(object, "dimensions", 1, 3));
  torus.links_per_chip = static_cast<int>(reader.integer(object, "links_per_chip", 1, 12));
  // A torus chip has one link to each neighbour: + and - along every dimension.
  if (torus.links_per_chip != 2 * torus.dimensions) {
    throw InputError(object.site("links_per_chip"),
                     "inconsistent with \"dimensions\": a torus chip has 2 links per dimension",
                     std::to_string(torus.links_per_chip),
                     std::to_string(2 * torus.dimensions) + " for " +
                         std::to_string(torus.dimensions) + " dimensions");
  }
  torus.link_bandwidth_bytes_per_s = reader.quantity(
      object, "link_bandwidth", QuantityKind::Bandwidth, kMinLinkBandwidth, kMaxLinkBandwidth);
  torus.link_latency_s =
      reader.quantity(object, "link_latency", QuantityKind::Time, 0.0, kMaxLatency_s);
  torus.wraparound_multiple =
      static_cast<int>(reader.integer(object, "wraparound_multiple", 1, kMaxShapeSide));
  torus.max_shape = parse_shape(object, "max_shape", torus.dimensions);
  reader.add(object.child_pointer("max_shape"));
  torus.max_chips = reader.integer(object, "max_chips", 1, kMaxChips);
  std::int64_t product = 1;
  for (int side : torus.max_shape)
    product *= side;
  if (product != torus.max_chips) {
    throw InputError(object.site("max_chips"), "inconsistent with \"max_shape\"",
                     std::to_string(torus.max_chips),
                     std::to_string(product) + ", the product of max_shape " +
                         torus_shape_text(torus.max_shape));
  }
  return torus;
}

GpuClusterInterconnect parse_gpu_cluster(JsonObject& object, FigureReader& reader) {
  GpuClusterInterconnect gpu;
  gpu.gpus_per_node = static_cast<int>(reader.integer(object, "gpus_per_node", 1, 256));
  gpu.nvlink_bandwidth_bytes_per_s = reader.quantity(
      object, "nvlink_bandwidth", QuantityKind::Bandwidth, kMinLinkBandwidth, kMaxLinkBandwidth);
  gpu.nvlink_latency_s =
      reader.quantity(object, "nvlink_latency", QuantityKind::Time, 0.0, kMaxLatency_s);
  gpu.nic_bandwidth_bytes_per_s = reader.quantity(object, "nic_bandwidth", QuantityKind::Bandwidth,
                                                  kMinLinkBandwidth, kMaxLinkBandwidth);
  gpu.network_latency_s =
      reader.quantity(object, "network_latency", QuantityKind::Time, 0.0, kMaxLatency_s);
  gpu.leaf_switch_ports = static_cast<int>(reader.integer(object, "leaf_switch_ports", 1, 4096));
  gpu.oversubscription = reader.number(object, "oversubscription", 1.0, 1024.0);
  if (object.has("pod_nodes")) {
    gpu.pod_nodes = static_cast<int>(reader.integer(object, "pod_nodes", 1, 1'000'000));
    if (gpu.pod_nodes % gpu.leaf_switch_ports != 0) {
      throw InputError(
          object.site("pod_nodes"), "not a whole number of leaves", std::to_string(gpu.pod_nodes),
          "a multiple of leaf_switch_ports (" + std::to_string(gpu.leaf_switch_ports) + ")");
    }
  }
  gpu.max_gpus = reader.integer(object, "max_gpus", 1, kMaxChips);
  if (gpu.max_gpus % gpu.gpus_per_node != 0) {
    throw InputError(object.site("max_gpus"), "not a whole number of nodes",
                     std::to_string(gpu.max_gpus),
                     "a multiple of gpus_per_node (" + std::to_string(gpu.gpus_per_node) + ")");
  }
  return gpu;
}

void parse_interconnect(JsonObject object, HardwareProfile& profile, FigureReader& reader) {
  std::string kind = object.enumeration("kind", {"torus", "gpu_cluster"});
  if (kind == "torus") {
    profile.kind = InterconnectKind::Torus;
    profile.torus = parse_torus(object, reader);
  } else {
    profile.kind = InterconnectKind::GpuCluster;
    profile.gpu = parse_gpu_cluster(object, reader);
  }
  object.reject_unknown_fields();
}

// The optional "collectives" section (CollectiveCostSpec): fields by interconnect kind, each
// optional; the protocol latencies and the NVLS figures come as groups.
CollectiveCostSpec parse_collectives(JsonObject object, const HardwareProfile& profile,
                                     FigureReader& reader) {
  CollectiveCostSpec spec;
  auto efficiency = [&](std::string_view key, double& out) {
    if (object.has(key)) {
      out = reader.number(object, key, 0.01, 1.0);
    }
  };
  auto latency = [&](std::string_view key) {
    return reader.quantity(object, key, QuantityKind::Time, 0.0, kMaxLatency_s);
  };
  auto all_or_none = [&](std::initializer_list<std::string_view> keys) {
    int present = 0;
    for (auto key : keys) {
      present += object.has(key) ? 1 : 0;
    }
    if (present != 0 && present != static_cast<int>(keys.size())) {
      std::string names;
      for (auto key : keys) {
        names += (names.empty() ? "" : ", ") + std::string(key);
      }
      throw InputError(ErrorSite{object.file(), object.pointer(), "collectives"},
                       "incomplete group of fields", std::to_string(present) + " of them",
                       "all or none of: " + names);
    }
    return present != 0;
  };
  if (object.has("call_overhead")) {
    spec.call_overhead_s = latency("call_overhead");
  }
  if (profile.kind == InterconnectKind::Torus) {
    efficiency("ici_efficiency", spec.ici_efficiency);
    object.reject_unknown_fields();
    return spec;
  }
  efficiency("nvlink_efficiency", spec.nvlink_efficiency);
  efficiency("nic_efficiency", spec.nic_efficiency);
  efficiency("leaf_spine_efficiency", spec.leaf_spine_efficiency);
  if (all_or_none({"ll_step_latency", "ll128_step_latency", "simple_step_latency"})) {
    spec.has_protocols = true;
    spec.ll_step_latency_s = latency("ll_step_latency");
    spec.ll128_step_latency_s = latency("ll128_step_latency");
    spec.simple_step_latency_s = latency("simple_step_latency");
  }
  if (all_or_none({"nvls_bandwidth", "nvls_latency", "nvls_min_gpus"})) {
    // NVLS cannot beat the NVLink line rate: each GPU sends its buffer up once.
    spec.nvls_bandwidth_bytes_per_s =
        reader.quantity(object, "nvls_bandwidth", QuantityKind::Bandwidth, kMinLinkBandwidth,
                        profile.gpu.nvlink_bandwidth_bytes_per_s);
    spec.nvls_latency_s = latency("nvls_latency");
    spec.nvls_min_gpus =
        static_cast<int>(reader.integer(object, "nvls_min_gpus", 2, profile.gpu.gpus_per_node));
  }
  object.reject_unknown_fields();
  return spec;
}

// Every figure read must have exactly one entry in "sources", and every entry must name a figure.
std::vector<SourceNote> parse_sources(JsonObject& top, const FigureReader& reader) {
  const nlohmann::json& array = top.array("sources");
  const std::set<std::string> figures(reader.figures().begin(), reader.figures().end());
  std::vector<SourceNote> notes;
  std::map<std::string, std::size_t> index_of;
  for (std::size_t i = 0; i < array.size(); ++i) {
    JsonObject entry(array[i], top.file(), "/sources/" + std::to_string(i));
    SourceNote note{entry.string("field"), entry.string("source")};
    entry.reject_unknown_fields();
    if (figures.count(note.field) == 0) {
      std::string suggestion = did_you_mean(note.field, figures);
      throw InputError(entry.site("field"),
                       "names no figure of this profile" +
                           (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"),
                       "'" + note.field + "'",
                       "the JSON pointer of a figure, e.g. /chip/peak_bf16");
    }
    if (note.source.find_first_not_of(" \t") == std::string::npos) {
      throw InputError(entry.site("source"), "empty source", "''",
                       "where the figure comes from, or \"assumption: ...\" with the reasoning");
    }
    auto [it, inserted] = index_of.emplace(note.field, i);
    if (!inserted) {
      throw InputError(
          entry.site("field"), "a second source for the same figure", "'" + note.field + "'",
          "one entry per figure (the first is /sources/" + std::to_string(it->second) + ")");
    }
    notes.push_back(std::move(note));
  }
  for (const auto& figure : reader.figures()) {
    if (index_of.count(figure) != 0)
      continue;
    std::string field = figure.substr(figure.rfind('/') + 1);
    throw InputError(ErrorSite{top.file(), figure, field}, "figure has no source",
                     "no entry in \"sources\"",
                     "an entry {\"field\": \"" + figure +
                         "\", \"source\": \"...\"} in \"sources\" (say \"assumption: ...\" with "
                         "the reasoning where no public figure exists)");
  }
  return notes;
}

// The optional "stack" section (hardware_profiles/stack.hpp): each parameter optional, within its
// physical bounds, times as quantities ("12 us"), ratios as numbers.
StackCost parse_stack(JsonObject object, FigureReader& reader) {
  StackCost stack;
  for (int i = 0; i < kStackParameters; ++i) {
    const StackParameter& p = stack_parameters()[static_cast<std::size_t>(i)];
    if (!object.has(p.field))
      continue;
    const double value = std::string(p.unit) == "s"
                             ? reader.quantity(object, p.field, QuantityKind::Time, p.low, p.high)
                             : reader.number(object, p.field, p.low, p.high);
    set_stack_value(stack, i, value);
  }
  object.reject_unknown_fields();
  return stack;
}

// The optional "fidelity" section (hardware_profiles/fidelity.hpp): per component a status and
// a relative error; a component not given keeps its default (assumed).
Fidelity parse_fidelity(JsonObject object, FigureReader& reader) {
  Fidelity fidelity;
  for (int i = 0; i < kFidelityComponents; ++i) {
    const auto component = static_cast<FidelityComponent>(i);
    const char* key = to_string(component);
    if (!object.has(key))
      continue;
    JsonObject entry = object.object(key);
    ComponentFidelity& c = fidelity.of(component);
    const std::string status =
        entry.enumeration("status", {"measured", "published-fit", "assumed"});
    c.status = status == "measured"        ? FidelityStatus::Measured
               : status == "published-fit" ? FidelityStatus::PublishedFit
                                           : FidelityStatus::Assumed;
    c.error = reader.number(entry, "error", 0.0, 1.0);
    entry.reject_unknown_fields();
  }
  object.reject_unknown_fields();
  return fidelity;
}

HardwareProfile parse_profile(const nlohmann::json& document, const std::string& file) {
  JsonObject top(document, file, "");
  HardwareProfile profile;
  profile.file = file;
  top.enumeration("schema", {kHardwareSchema});
  profile.name = top.string("name");
  bool name_ok =
      !profile.name.empty() && profile.name.size() <= 64 &&
      std::all_of(profile.name.begin(), profile.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
      });
  if (!name_ok) {
    throw InputError(top.site("name"), "not a valid profile name", "'" + profile.name + "'",
                     "1 to 64 characters from a-z, 0-9, '-', '_', '.'");
  }
  profile.display_name = top.string("display_name");
  if (profile.display_name.empty()) {
    throw InputError(top.site("display_name"), "empty", "''", "a human-readable name");
  }
  FigureReader reader;
  profile.chip = parse_chip(top.object("chip"), reader);
  profile.cost = parse_cost(top.object("cost_model"), reader);
  parse_interconnect(top.object("interconnect"), profile, reader);
  if (top.has("collectives")) {
    profile.collectives = parse_collectives(top.object("collectives"), profile, reader);
  }
  if (top.has("price_per_chip_hour_usd")) {
    profile.price_per_chip_hour_usd = reader.number(top, "price_per_chip_hour_usd", 1e-4, 1e4);
  }
  if (top.has("stack")) {
    profile.cost.stack = parse_stack(top.object("stack"), reader);
  }
  if (top.has("fidelity")) {
    profile.fidelity = parse_fidelity(top.object("fidelity"), reader);
  }
  top.raw("sources");  // read below, after unknown fields, so typos are reported first
  top.reject_unknown_fields();
  profile.sources = parse_sources(top, reader);
  return profile;
}

}  // namespace

std::vector<std::string> zoo_hardware_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(zoo_dir(), ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& path = it->path();
    if (path.extension() == ".json" && it->is_regular_file(ec))
      names.push_back(path.stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

// A `hardware show --json` output loads back: its "input" member is the profile document.
const nlohmann::json& profile_document(const nlohmann::json& document) {
  if (document.is_object() && document.contains("input") && document.at("input").is_object() &&
      document.contains("schema") && document.at("schema") == kHardwareSchema)
    return document.at("input");
  return document;
}

HardwareProfile finish(HardwareProfile profile, const nlohmann::json& document) {
  profile.base_name = profile.name;
  profile.input = document.dump();
  return profile;
}

// The document and file of a profile name or path; a zoo file's name must match its file name.
std::pair<nlohmann::json, std::string> profile_source(const std::string& name_or_path) {
  if (looks_like_path(name_or_path))
    return {profile_document(read_json_file(name_or_path)), name_or_path};

  const std::vector<std::string> names = zoo_hardware_names();
  if (std::find(names.begin(), names.end(), name_or_path) == names.end()) {
    std::string suggestion =
        did_you_mean(name_or_path, std::set<std::string>(names.begin(), names.end()));
    std::string allowed =
        names.empty() ? "none found in " + zoo_dir().string() : "one of: " + join(names, ", ");
    throw InputError(ErrorSite{"", "", "hardware"},
                     "unknown hardware profile" +
                         (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"),
                     "'" + name_or_path + "'", allowed + "; or a path to a profile file (*.json)");
  }
  const std::string file = (zoo_dir() / (name_or_path + ".json")).string();
  nlohmann::json document = read_json_file(file);
  // A zoo file's name must match its file name, or `hardware show X` would show a profile named Y.
  if (document.is_object() && document.contains("name") && document.at("name").is_string() &&
      document.at("name").get<std::string>() != name_or_path) {
    throw InputError(ErrorSite{file, "/name", "name"}, "differs from the file name",
                     "'" + document.at("name").get<std::string>() + "'", "'" + name_or_path + "'");
  }
  return {std::move(document), file};
}

}  // namespace

HardwareProfile load_hardware(const std::string& name_or_path) {
  auto [document, file] = profile_source(name_or_path);
  return finish(parse_profile(document, file), document);
}

HardwareProfile load_hardware(const std::string& name_or_path, std::vector<JsonOverride> overrides,
                              const std::string& flag) {
  if (overrides.empty())
    return load_hardware(name_or_path);
  // Named, not a structured binding: the lambda below captures them (C++17 forbids capturing a
  // binding; clang rejects it).
  auto loaded = profile_source(name_or_path);
  nlohmann::json& document = loaded.first;
  const std::string& file = loaded.second;
  const std::string what =
      "hardware profile " +
      (document.is_object() && document.contains("name") && document.at("name").is_string()
           ? document.at("name").get<std::string>()
           : name_or_path);
  HardwareProfile profile;
  nlohmann::json parsed_from;
  apply_overrides(document, overrides, flag, what, [&](const nlohmann::json& doc) {
    // Each overridden figure's source says where the value came from.
    nlohmann::json copy = doc;
    std::vector<std::size_t> added;
    if (copy.is_object() && copy.contains("sources") && copy.at("sources").is_array()) {
      auto& sources = copy["sources"];
      for (const auto& o : overrides) {
        const std::string source = "--set on the command line (" + o.path + "=" + o.value +
                                   (o.added ? "; absent from the file" : "; was " + o.was) + ")";
        bool found = false;
        for (auto& note : sources) {
          if (note.is_object() && note.contains("field") && note.at("field") == o.pointer) {
            note["source"] = source;
            found = true;
          }
        }
        if (!found) {
          added.push_back(sources.size());
          sources.push_back({{"field", o.pointer}, {"source", source}});
        }
      }
    }
    try {
      profile = parse_profile(copy, file);
      parsed_from = copy;
    } catch (const InputError& e) {
      // A new field that is not a figure (no source needed): parse without its source entry.
      bool ours = false;
      for (const std::size_t i : added)
        ours = ours || e.site().pointer.rfind("/sources/" + std::to_string(i), 0) == 0;
      if (!ours)
        throw;
      for (auto it = added.rbegin(); it != added.rend(); ++it)
        copy["sources"].erase(*it);
      profile = parse_profile(copy, file);
      parsed_from = copy;
    }
  });
  profile = finish(std::move(profile), parsed_from);
  profile.overrides = overrides;
  profile.name = profile.base_name + "+set(" + overrides_text(overrides) + ")";
  profile.display_name += " (what-if: " + overrides_text(overrides) + ")";
  return profile;
}

HardwareProfile parse_hardware_json(const std::string& text, const std::string& origin) {
  const nlohmann::json document = profile_document(parse_json_text(text, origin));
  return finish(parse_profile(document, origin), document);
}

void set_price(HardwareProfile& profile, double usd_per_chip_hour, const std::string& source) {
  profile.price_per_chip_hour_usd = usd_per_chip_hour;
  const std::string pointer = "/price_per_chip_hour_usd";
  for (auto& note : profile.sources) {
    if (note.field == pointer) {
      note.source = source;
      return;
    }
  }
  profile.sources.push_back({pointer, source});
}

std::string source_of(const HardwareProfile& profile, const std::string& pointer) {
  for (const auto& note : profile.sources) {
    if (note.field == pointer)
      return note.source;
  }
  return "";
}

std::string torus_shape_text(const std::vector<int>& shape) {
  std::string out;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0)
      out += 'x';
    out += std::to_string(shape[i]);
  }
  return out;
}

std::string interconnect_summary(const HardwareProfile& profile) {
  if (profile.kind == InterconnectKind::Torus) {
    const TorusInterconnect& t = profile.torus;
    return fmt::format("{}-D torus up to {} ({} chips), {} links x {} one way", t.dimensions,
                       torus_shape_text(t.max_shape), t.max_chips, t.links_per_chip,
                       format_quantity(t.link_bandwidth_bytes_per_s, QuantityKind::Bandwidth));
  }
  const GpuClusterInterconnect& g = profile.gpu;
  return fmt::format(
      "{} GPUs/node, NVLink {} + NIC {} per GPU one way, up to {} GPUs", g.gpus_per_node,
      format_quantity(g.nvlink_bandwidth_bytes_per_s, QuantityKind::Bandwidth),
      format_quantity(g.nic_bandwidth_bytes_per_s, QuantityKind::Bandwidth), g.max_gpus);
}

}  // namespace meshsim
