// `meshsim collective`: one collective on a slice of a machine, simulated on the engine and the
// network, reported with the nccl-tests bandwidth definitions and the closed form where one exists.
// JSON fields are documented in docs/network.md.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/json_override_apply.hpp"
#include "common/json_text.hpp"
#include "common/units.hpp"
#include "common/version.hpp"
#include "hardware_profiles/hardware.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/flag_checks.hpp"
#include "sim/cli/what_if.hpp"
#include "sim/collectives/executor.hpp"
#include "sim/collectives/nvls.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/engine/sim_time.hpp"
#include "sim/limits.hpp"
#include "sim/network/topology.hpp"

namespace meshsim::cli {
namespace {

struct CollectiveOptions {
  std::string op, bytes, hardware, algorithm;
  std::int64_t group = 0;         // --chips (or --group)
  std::int64_t group_alias = -1;  // --group when given
  std::string group_flag = "--chips";
  int chunks = 1;
  bool json = false;
  bool all_chips = false;         // every member's transfers, no rotation symmetry
  std::vector<std::string> sets;  // --set PATH=VALUE into the profile
};

// nccl-tests (doc/PERFORMANCE.md): algbw = S / t; busbw = algbw x (p-1)/p for all-gather,
// reduce-scatter and all-to-all, x 2(p-1)/p for all-reduce.
double bus_factor(collectives::CollectiveOp op, double p) {
  return op == collectives::CollectiveOp::AllReduce ? 2 * (p - 1) / p : (p - 1) / p;
}

// One whole number of bytes from a --bytes value or a part of a range.
std::int64_t parse_byte_count(const std::string& text, const std::string& whole) {
  double value = 0;
  try {
    value = parse_quantity(text, QuantityKind::Bytes);
  } catch (const InputError& e) {
    throw e.located({"--bytes", "", "bytes"});
  }
  if (value < 1 || value != std::floor(value) || value > 9.0e18) {
    throw InputError({"--bytes", "", "bytes"}, "the buffer must be a whole number of bytes", whole,
                     "1 B or more, e.g. 1GiB, or a range START:END:FACTOR such as 8:16GiB:2");
  }
  return static_cast<std::int64_t>(value);
}

// "SIZE", or nccl-tests' -b/-e/-f as "START:END:FACTOR": START, START x FACTOR, ... while <= END
// (FACTOR a whole number >= 2, so a range has at most 63 sizes).
std::vector<std::int64_t> parse_byte_sizes(const std::string& text) {
  const auto first = text.find(':');
  if (first == std::string::npos)
    return {parse_byte_count(text, text)};
  const auto second = text.find(':', first + 1);
  if (second == std::string::npos || text.find(':', second + 1) != std::string::npos) {
    throw InputError({"--bytes", "", "bytes"}, "malformed size range", "\"" + text + "\"",
                     "SIZE or START:END:FACTOR, e.g. 8:16GiB:2");
  }
  const std::int64_t start = parse_byte_count(text.substr(0, first), text);
  const std::int64_t end = parse_byte_count(text.substr(first + 1, second - first - 1), text);
  const std::string factor_text = text.substr(second + 1);
  std::int64_t factor = 0;
  auto [stop, ec] =
      std::from_chars(factor_text.data(), factor_text.data() + factor_text.size(), factor);
  if (factor_text.empty() || ec != std::errc() || stop != factor_text.data() + factor_text.size() ||
      factor < 2 || factor > 1024) {
    throw InputError({"--bytes", "", "bytes"}, "the range's factor must be a whole number",
                     "\"" + factor_text + "\" in \"" + text + "\"", "2 to 1024");
  }
  if (end < start) {
    throw InputError({"--bytes", "", "bytes"}, "the range is empty (END < START)",
                     "\"" + text + "\"", "START <= END");
  }
  std::vector<std::int64_t> sizes;
  for (std::int64_t size = start; size <= end; size *= factor) {
    sizes.push_back(size);
    if (size > end / factor)
      break;
  }
  return sizes;
}

// One simulated size.
struct SizeResult {
  std::int64_t bytes = 0;
  std::string algorithm;
  collectives::CollectiveResult result;
  std::optional<double> closed_form;
};

SizeResult simulate_size(const CollectiveOptions& o, collectives::CollectiveOp op,
                         const network::Topology& topology, const collectives::Group& group,
                         std::int64_t bytes) {
  const std::string algorithm_name =
      o.algorithm.empty()
          ? std::string(collectives::default_collective_algorithm(op, topology, group, bytes))
          : o.algorithm;
  const auto& algorithm = collectives::find_collective_algorithm(algorithm_name, op);
  if (algorithm.name == "nvls" && !collectives::nvls_applies(topology, group)) {
    throw InputError({"--algorithm", "", "algorithm"},
                     "NVLS needs one NVSwitch node of a profile with NVLS figures and at least its "
                     "nvls_min_gpus GPUs",
                     o.algorithm, "ring, bidirectional-ring, hierarchical");
  }
  // A ring whose edges repeat with a period runs as its first period's members (ring_symmetry.hpp;
  // --all-chips: every member), built directly at that size.
  collectives::ReducedRing reduced;
  const bool reduces = !o.all_chips && collectives::reduce_by_rotation(
                                           algorithm, op, group, topology, bytes, o.chunks, reduced)
                                           .empty();
  // Refuse before building: the schedule is the big allocation (sim/limits.hpp). The direct
  // all-to-all issues every transfer at once (no dependencies): each waits in the engine's queue
  // too (sim/limits.hpp, issue 17 item 9).
  const auto transfers = reduces ? static_cast<std::uint64_t>(reduced.schedule.size())
                                 : algorithm.transfer_count(op, group, bytes, o.chunks);
  limits::check_schedule_size(transfers, o.group,
                              fmt::format("{} {} over {} chips, {} chunks", algorithm.name,
                                          collectives::to_string(op), o.group, o.chunks),
                              {o.group_flag, "", "chips"},
                              algorithm.name == "direct" ? transfers : 0);
  // Refuse a buffer whose time cannot be counted (issue 17 item 6): chip 0 must receive at least
  // bytes / p (its reduced share) through its incoming links, whatever the algorithm.
  const ErrorSite bytes_site{"--bytes", "", "bytes"};
  const std::string found =
      fmt::format("{} over {} chips of {}",
                  o.bytes.find(':') == std::string::npos ? o.bytes : std::to_string(bytes) + " B",
                  o.group, o.hardware);
  const std::string change = "a smaller buffer or a faster profile";
  double ingress_bytes_per_s = 0;
  for (const auto& link : topology.links()) {
    if (link.to == 0)
      ingress_bytes_per_s += link.bandwidth_bytes_per_s;
  }
  limits::check_simulated_time(
      static_cast<double>(bytes) / static_cast<double>(o.group) / ingress_bytes_per_s,
      "the " + std::string(collectives::to_string(op)), found, change, bytes_site);
  SizeResult out;
  out.bytes = bytes;
  out.algorithm = algorithm.name;
  try {
    out.result =
        reduces
            ? collectives::run_collective(topology, reduced.schedule,
                                          collectives::CallOverhead::Excluded, reduced.copies)
            : collectives::run_collective(topology, algorithm.build(op, group, bytes, o.chunks));
  } catch (const engine::SimTimeOverflow&) {
    throw limits::simulated_time_overflow("the " + std::string(collectives::to_string(op)), found,
                                          change, bytes_site);
  }
  if (algorithm.closed_form_s != nullptr)
    out.closed_form = algorithm.closed_form_s(op, group, topology, bytes, o.chunks);
  return out;
}

// nccl-tests' table (one row per size: size, count, type, redop, time, algbw, busbw), for
// --bytes START:END:FACTOR. Counts are of 4-byte floats, nccl-tests' default data type.
void print_size_sweep(const CollectiveOptions& o, collectives::CollectiveOp op,
                      const HardwareProfile& profile, const network::Topology& topology,
                      const std::vector<SizeResult>& rows) {
  const double p = static_cast<double>(o.group);
  const double factor = bus_factor(op, p);
  const bool reduces =
      op == collectives::CollectiveOp::AllReduce || op == collectives::CollectiveOp::ReduceScatter;
  if (o.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : rows) {
      const double algbw = static_cast<double>(r.bytes) / r.result.time_s;
      list.push_back({{"bytes", r.bytes},
                      {"count", r.bytes / 4},
                      {"algorithm", r.algorithm},
                      {"protocol", r.result.protocol.name},
                      {"time_s", r.result.time_s},
                      {"closed_form_time_s",
                       r.closed_form ? nlohmann::json(*r.closed_form) : nlohmann::json()},
                      {"algbw_bytes_per_s", algbw},
                      {"busbw_bytes_per_s", algbw * factor}});
    }
    nlohmann::json out = {{"schema", "meshsim.collective-sweep/v1"},
                          {"version", kVersion},
                          {"op", collectives::to_string(op)},
                          {"hardware", profile.name},
                          {"group_size", o.group},
                          {"topology", topology.description()},
                          {"chunks", o.chunks},
                          {"type", "float"},
                          {"redop", reduces ? "sum" : "none"},
                          {"bus_factor", factor},
                          {"call_overhead_s", topology.collective_costs().call_overhead_s},
                          {"rows", list}};
    add_overrides(out, profile.overrides);
    std::puts(out.dump(2).c_str());
    return;
  }
  std::string text = fmt::format(
      "# {} over {} {} chips ({}), chunks {}, algorithm {}\n"
      "# nccl-tests conventions (doc/PERFORMANCE.md): algbw = size / time, busbw = algbw x {} = "
      "algbw x {:.4g}; GB/s = 1e9 B/s; count of 4-byte floats\n"
      "# times exclude the per-call overhead ({}), as nccl-tests' timing does\n"
      "#\n",
      collectives::to_string(op), o.group, profile.display_name, topology.description(), o.chunks,
      o.algorithm.empty() ? "per size (default)" : o.algorithm,
      op == collectives::CollectiveOp::AllReduce ? "2(n-1)/n" : "(n-1)/n", factor,
      format_quantity(topology.collective_costs().call_overhead_s, QuantityKind::Time));
  text += fmt::format("# {:>14} {:>14} {:>6} {:>6} {:>18} {:>12} {:>8} {:>8}\n", "size", "count",
                      "type", "redop", "algorithm", "time", "algbw", "busbw");
  text += fmt::format("# {:>14} {:>14} {:>6} {:>6} {:>18} {:>12} {:>8} {:>8}\n", "(B)",
                      "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)");
  for (const auto& r : rows) {
    const double algbw = static_cast<double>(r.bytes) / r.result.time_s;
    text += fmt::format("  {:>14} {:>14} {:>6} {:>6} {:>18} {:>12.2f} {:>8.2f} {:>8.2f}\n", r.bytes,
                        r.bytes / 4, "float", reduces ? "sum" : "none", r.algorithm,
                        r.result.time_s * 1e6, algbw / 1e9, algbw * factor / 1e9);
  }
  std::fputs(text.c_str(), stdout);
}

void run_collective_unchecked(const CollectiveOptions& o) {
  const auto op = collectives::parse_collective_op(o.op);
  const std::vector<std::int64_t> sizes = parse_byte_sizes(o.bytes);
  // Byte counters (per link, per link class) sum every hop of every transfer in int64: a chip's
  // buffer crosses the group at most twice (all-reduce) over at most 32 hops per transfer (a torus
  // route or a GPU cluster's switch levels), so keep 64 x group x buffer within int64 (UBSan found
  // the overflow at 1e18 B over 8 H100s; issue 17 item 6).
  const double largest = static_cast<double>(sizes.back());
  if (o.group > 0 && largest * 64.0 * static_cast<double>(o.group) > 9.0e18) {
    throw InputError({"--bytes", "", "bytes"},
                     "the buffer is beyond what the simulator's byte counters hold for this group",
                     o.bytes,
                     fmt::format("at most 9e18 B / (64 x group) = {:.4g} B",
                                 9.0e18 / 64.0 / static_cast<double>(o.group)));
  }
  if (o.group < 2) {
    throw InputError({o.group_flag, "", "chips"}, "a collective needs at least two chips",
                     std::to_string(o.group), "2 or more");
  }
  if (o.chunks < 1 || o.chunks > limits::kMaxCollectiveChunks) {
    throw InputError({"--chunks", "", "chunks"}, "the chunk count is out of range",
                     std::to_string(o.chunks),
                     "1 to " + std::to_string(limits::kMaxCollectiveChunks) + " (docs/limits.md)");
  }
  const HardwareProfile profile =
      load_hardware(o.hardware, split_sets(o.sets, true, false).hardware);
  limits::check_simulated_chips(o.group, {o.group_flag, "", "chips"});
  const network::Topology topology = network::make_topology(profile, o.group);
  collectives::Group group;
  group.chips.resize(static_cast<std::size_t>(o.group));
  std::iota(group.chips.begin(), group.chips.end(), 0);
  group.shape = topology.shape();
  if (o.bytes.find(':') != std::string::npos) {
    std::vector<SizeResult> rows;
    for (const std::int64_t size : sizes)
      rows.push_back(simulate_size(o, op, topology, group, size));
    print_size_sweep(o, op, profile, topology, rows);
    return;
  }
  const std::int64_t bytes = sizes.front();
  const double bytes_value = static_cast<double>(bytes);
  const SizeResult one = simulate_size(o, op, topology, group, bytes);
  const auto& result = one.result;
  const std::optional<double>& closed_form = one.closed_form;
  const double p = static_cast<double>(o.group);
  const double algbw = static_cast<double>(bytes) / result.time_s;
  const double busbw = algbw * bus_factor(op, p);

  // Link classes present in this topology, in enum order.
  bool present[network::kLinkClassCount] = {};
  for (const auto& link : topology.links()) {
    present[static_cast<std::size_t>(link.link_class)] = true;
  }
  if (o.json) {
    nlohmann::json out = {
        {"schema", "meshsim.collective/v1"},
        {"version", kVersion},
        {"op", collectives::to_string(op)},
        {"algorithm", one.algorithm},
        {"protocol", result.protocol.name},
        {"hardware", profile.name},
        {"group_size", o.group},
        {"topology", topology.description()},
        {"bytes", bytes},
        {"chunks", o.chunks},
        {"time_s", result.time_s},
        {"closed_form_time_s", closed_form ? nlohmann::json(*closed_form) : nlohmann::json()},
        {"call_overhead_s", topology.collective_costs().call_overhead_s},
        {"algbw_bytes_per_s", algbw},
        {"busbw_bytes_per_s", busbw},
        {"max_link_bytes", result.max_link_bytes},
        {"transfers", result.transfers},
        {"events", result.events}};
    nlohmann::json per_class = nlohmann::json::object();
    for (int c = 0; c < network::kLinkClassCount; ++c) {
      if (present[c]) {
        per_class[network::to_string(static_cast<network::LinkClass>(c))] =
            result.bytes_per_link_class[static_cast<std::size_t>(c)];
      }
    }
    out["link_bytes_by_class"] = per_class;
    add_overrides(out, profile.overrides);
    std::puts(json_text(out).c_str());
    return;
  }
  std::string text =
      fmt::format("{} of {} over {} {} chips ({}), algorithm {}{}, protocol {}, chunks {}\n",
                  collectives::to_string(op), format_quantity(bytes_value, QuantityKind::Bytes),
                  o.group, profile.display_name, topology.description(), one.algorithm,
                  o.algorithm.empty() ? " (default)" : "", result.protocol.name, o.chunks);
  auto row = [&text](const std::string& label, const std::string& value) {
    text += fmt::format("  {:<22} {}\n", label, value);
  };
  row("simulated time", format_quantity(result.time_s, QuantityKind::Time));
  row("per-call overhead",
      format_quantity(topology.collective_costs().call_overhead_s, QuantityKind::Time) +
          " not included (nccl-tests timing; a compiled program pays it per call)");
  row("closed form", closed_form ? format_quantity(*closed_form, QuantityKind::Time)
                                 : std::string("none (non-uniform, contended or pipelined rings)"));
  row("algorithm bandwidth", format_quantity(algbw, QuantityKind::Bandwidth));
  row("bus bandwidth", format_quantity(busbw, QuantityKind::Bandwidth));
  for (int c = 0; c < network::kLinkClassCount; ++c) {
    if (present[c]) {
      row(std::string("bytes over ") + network::to_string(static_cast<network::LinkClass>(c)),
          format_quantity(
              static_cast<double>(result.bytes_per_link_class[static_cast<std::size_t>(c)]),
              QuantityKind::Bytes));
    }
  }
  row("transfers", std::to_string(result.transfers));
  std::fputs(text.c_str(), stdout);
}

// Simulated time that leaves SimTime's range anywhere (choosing the default algorithm simulates
// candidates too) is bad input: the buffer is too big for the profile (issue 17 item 6).
void run_collective_command(CollectiveOptions o) {
  if (o.group_alias >= 0) {
    o.group = o.group_alias;
    o.group_flag = "--group";
  }
  try {
    run_collective_unchecked(o);
  } catch (const engine::SimTimeOverflow&) {
    throw limits::simulated_time_overflow(
        "the " + o.op, fmt::format("{} over {} chips of {}", o.bytes, o.group, o.hardware),
        "a smaller buffer or a faster profile", {"--bytes", "", "bytes"});
  }
}

}  // namespace

void add_collective_command(CLI::App& app) {
  auto options = std::make_shared<CollectiveOptions>();
  auto* cmd = app.add_subcommand("collective",
                                 "Simulate one collective on a slice of a machine (time, algbw, "
                                 "busbw, bytes per link class).");
  cmd->add_option("--op", options->op, "all-gather | reduce-scatter | all-reduce | all-to-all")
      ->required();
  cmd->add_option("--bytes", options->bytes,
                  "full buffer per chip (gathered / reduced / all-to-all buffer), e.g. 1GiB; or "
                  "a size sweep START:END:FACTOR as nccl-tests' -b/-e/-f, e.g. 8:16GiB:2 (one "
                  "row per size)")
      ->required();
  cmd->add_option("--hardware", options->hardware, "hardware profile name or JSON file")
      ->required();
  add_set_option(cmd, options->sets, true, false);
  // --chips as in every other verb; --group, its older name, is the same flag (errors name the
  // one given).
  auto* chips = cmd->add_option("--chips", options->group,
                                "chips in the group; the machine is a slice of exactly this many")
                    ->check(count_flag(0));
  auto* group = cmd->add_option("--group", options->group_alias, "the same as --chips (older name)")
                    ->check(count_flag(0));
  chips->excludes(group);
  group->excludes(chips);
  cmd->add_option(
      "--algorithm", options->algorithm,
      "ring | bidirectional-ring | torus | hierarchical | nvls (all-reduce in one NVSwitch node) "
      "(all-to-all: direct | pairwise); default: torus on a torus, hierarchical across GPU nodes, "
      "NVLS or ring (the faster) for an all-reduce in an NVSwitch node, else ring");
  cmd->add_option("--chunks", options->chunks,
                  "cut the buffer into at least this many pipelined pieces (default 1, at most " +
                      std::to_string(limits::kMaxCollectiveChunks) + ")")
      ->check(count_flag(1, limits::kMaxCollectiveChunks));
  cmd->add_flag("--json", options->json, "print one JSON object (schema meshsim.collective/v1)");
  cmd->add_flag(
      "--all-chips", options->all_chips,
      "simulate every member's transfers (default: a ring whose edges repeat with a "
      "period runs as one period's members, the same results; docs/network.md, rotation symmetry)");
  cmd->callback([options, chips, group] {
    if (chips->count() == 0 && group->count() == 0) {
      throw InputError({"--chips", "", "chips"}, "is required", "",
                       "--chips N (or --group N, its older name)");
    }
    run_collective_command(*options);
  });
}

}  // namespace meshsim::cli
