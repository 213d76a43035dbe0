// `meshsim hardware` (list the profiles) and `meshsim hardware show NAME|FILE` (one profile with
// every figure and its source). JSON fields are documented in docs/hardware.md.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/json_override_apply.hpp"
#include "common/json_text.hpp"
#include "common/units.hpp"
#include "common/version.hpp"
#include "hardware_profiles/hardware.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/what_if.hpp"

namespace meshsim::cli {
namespace {

// Sizes as written in the sources: whole GiB stay binary ("32 GiB"), others decimal ("80 GB"), so
// the table matches the datasheets.
std::string bytes_text(double bytes) {
  constexpr double kGiB = 1024.0 * 1024 * 1024;
  if (bytes >= kGiB && std::fmod(bytes, kGiB) == 0) {
    return format_quantity(bytes, QuantityKind::Bytes);
  }
  return fmt::format("{:.4g} GB", bytes / 1e9);
}

// The profile in SI base units with the unit in each key (DESIGN §3).
nlohmann::json profile_json(const HardwareProfile& p) {
  nlohmann::json j;
  j["name"] = p.name;
  j["display_name"] = p.display_name;
  j["file"] = p.file;
  j["chip"] = {{"peak_bf16_flop_per_s", p.chip.peak_bf16_flop_per_s},
               {"peak_fp32_flop_per_s", p.chip.peak_fp32_flop_per_s},
               {"hbm_bytes", p.chip.hbm_bytes},
               {"hbm_bandwidth_bytes_per_s", p.chip.hbm_bandwidth_bytes_per_s}};
  j["cost_model"] = {{"memory_efficiency", p.cost.memory_efficiency},
                     {"kernel_overhead_s", p.cost.kernel_overhead_s}};
  const MatmulModel& mm = p.cost.matmul;
  if (mm.kind == MatmulModelKind::GpuTiles) {
    j["cost_model"]["matmul"] = {{"model", "gpu_tiles"},
                                 {"sms", mm.gpu.sms},
                                 {"tensor_core_fraction", mm.gpu.tensor_core_fraction},
                                 {"kernel_overhead_s", mm.gpu.kernel_overhead_s},
                                 {"tile_overhead_s", mm.gpu.tile_overhead_s},
                                 {"sm_operand_bandwidth_bytes_per_s", mm.gpu.sm_operand_bandwidth}};
  } else if (mm.kind == MatmulModelKind::TpuMxu) {
    j["cost_model"]["matmul"] = {{"model", "tpu_mxu"},
                                 {"mxus", mm.tpu.mxus},
                                 {"mxu_size", mm.tpu.mxu_size},
                                 {"mxu_fraction", mm.tpu.mxu_fraction},
                                 {"op_overhead_s", mm.tpu.op_overhead_s}};
  } else {
    j["cost_model"]["matmul_efficiency"] = p.cost.matmul_efficiency;
  }
  if (p.cost.flash.forward_efficiency)
    j["cost_model"]["flash_attention_efficiency"] = *p.cost.flash.forward_efficiency;
  if (p.cost.flash.backward_efficiency)
    j["cost_model"]["flash_attention_backward_efficiency"] = *p.cost.flash.backward_efficiency;
  if (p.kind == InterconnectKind::Torus) {
    const TorusInterconnect& t = p.torus;
    j["interconnect"] = {{"kind", "torus"},
                         {"dimensions", t.dimensions},
                         {"links_per_chip", t.links_per_chip},
                         {"link_bandwidth_bytes_per_s", t.link_bandwidth_bytes_per_s},
                         {"link_latency_s", t.link_latency_s},
                         {"wraparound_multiple", t.wraparound_multiple},
                         {"max_shape", t.max_shape},
                         {"max_chips", t.max_chips}};
  } else {
    const GpuClusterInterconnect& g = p.gpu;
    j["interconnect"] = {{"kind", "gpu_cluster"},
                         {"gpus_per_node", g.gpus_per_node},
                         {"nvlink_bandwidth_bytes_per_s", g.nvlink_bandwidth_bytes_per_s},
                         {"nvlink_latency_s", g.nvlink_latency_s},
                         {"nic_bandwidth_bytes_per_s", g.nic_bandwidth_bytes_per_s},
                         {"network_latency_s", g.network_latency_s},
                         {"leaf_switch_ports", g.leaf_switch_ports},
                         {"oversubscription", g.oversubscription},
                         {"pod_nodes", g.pod_nodes},
                         {"max_gpus", g.max_gpus}};
  }
  // How collectives use the links (issue 12): the effective values, defaults included.
  const CollectiveCostSpec& c = p.collectives;
  if (p.kind == InterconnectKind::Torus) {
    j["collectives"] = {{"ici_efficiency", c.ici_efficiency},
                        {"call_overhead_s", c.call_overhead_s}};
  } else {
    j["collectives"] = {{"nvlink_efficiency", c.nvlink_efficiency},
                        {"nic_efficiency", c.nic_efficiency},
                        {"leaf_spine_efficiency", c.leaf_spine_efficiency},
                        {"call_overhead_s", c.call_overhead_s}};
    if (c.has_protocols) {
      j["collectives"]["ll_step_latency_s"] = c.ll_step_latency_s;
      j["collectives"]["ll128_step_latency_s"] = c.ll128_step_latency_s;
      j["collectives"]["simple_step_latency_s"] = c.simple_step_latency_s;
    }
    if (c.nvls_bandwidth_bytes_per_s > 0) {
      j["collectives"]["nvls_bandwidth_bytes_per_s"] = c.nvls_bandwidth_bytes_per_s;
      j["collectives"]["nvls_latency_s"] = c.nvls_latency_s;
      j["collectives"]["nvls_min_gpus"] = c.nvls_min_gpus;
    }
  }
  j["price_per_chip_hour_usd"] =
      p.price_per_chip_hour_usd ? nlohmann::json(*p.price_per_chip_hour_usd) : nlohmann::json();
  // The software stack (issue 13): effective values, the ideal stack's defaults included.
  j["stack"] = nlohmann::json::object();
  for (int i = 0; i < kStackParameters; ++i) {
    const auto& sp = stack_parameters()[static_cast<std::size_t>(i)];
    j["stack"][std::string(sp.field) + (std::string(sp.unit) == "s" ? "_s" : "")] =
        stack_value(p.cost.stack, i);
  }
  j["fidelity"] = nlohmann::json::object();
  for (int i = 0; i < kFidelityComponents; ++i) {
    const auto component = static_cast<FidelityComponent>(i);
    j["fidelity"][to_string(component)] = {{"status", to_string(p.fidelity.of(component).status)},
                                           {"error", p.fidelity.of(component).error}};
  }
  j["sources"] = nlohmann::json::array();
  for (const auto& note : p.sources) {
    j["sources"].push_back({{"field", note.field}, {"source", note.source}});
  }
  return j;
}

std::string q(double value, QuantityKind kind) {
  return format_quantity(value, kind);
}

void print_list(bool json) {
  std::vector<HardwareProfile> profiles;
  for (const auto& name : zoo_hardware_names())
    profiles.push_back(load_hardware(name));
  if (json) {
    nlohmann::json out = {{"schema", "meshsim.hardware_list/v1"}, {"version", kVersion}};
    out["profiles"] = nlohmann::json::array();
    for (const auto& p : profiles)
      out["profiles"].push_back(profile_json(p));
    std::puts(json_text(out).c_str());
    return;
  }
  std::string table = fmt::format("{:<15} {:<23} {:>13} {:>10} {:>11}  {}\n", "name", "display",
                                  "peak bf16", "HBM", "HBM BW", "interconnect");
  for (const auto& p : profiles) {
    table += fmt::format(
        "{:<15} {:<23} {:>13} {:>10} {:>11}  {}\n", p.name, p.display_name,
        q(p.chip.peak_bf16_flop_per_s, QuantityKind::FlopRate), bytes_text(p.chip.hbm_bytes),
        q(p.chip.hbm_bandwidth_bytes_per_s, QuantityKind::Bandwidth), interconnect_summary(p));
  }
  table += "\n'meshsim hardware show NAME' gives every figure with its source.\n";
  std::fputs(table.c_str(), stdout);
}

void print_profile(const HardwareProfile& p) {
  std::string out = fmt::format("{} ({})\nfile: {}\n\nchip\n", p.display_name, p.name, p.file);
  auto row = [&out](const std::string& label, const std::string& value) {
    out += fmt::format("  {:<22} {}\n", label, value);
  };
  row("peak bf16 (dense)", q(p.chip.peak_bf16_flop_per_s, QuantityKind::FlopRate));
  row("peak fp32 (dense)", q(p.chip.peak_fp32_flop_per_s, QuantityKind::FlopRate));
  row("HBM", bytes_text(p.chip.hbm_bytes));
  row("HBM bandwidth", q(p.chip.hbm_bandwidth_bytes_per_s, QuantityKind::Bandwidth));
  out += "cost model\n";
  const MatmulModel& mm = p.cost.matmul;
  if (mm.kind == MatmulModelKind::GpuTiles) {
    row("matmul model", "output tiles in waves over the SMs");
    row("  SMs", std::to_string(mm.gpu.sms));
    row("  tensor-core fraction",
        fmt::format("{:g} of the per-SM peak", mm.gpu.tensor_core_fraction));
    row("  kernel overhead", q(mm.gpu.kernel_overhead_s, QuantityKind::Time) + " per matmul");
    row("  tile overhead", q(mm.gpu.tile_overhead_s, QuantityKind::Time) + " per output tile");
    row("  SM operand bandwidth",
        q(mm.gpu.sm_operand_bandwidth, QuantityKind::Bandwidth) + " per SM");
  } else if (mm.kind == MatmulModelKind::TpuMxu) {
    row("matmul model", "systolic MXUs, dimensions padded");
    row("  MXUs", fmt::format("{} of {}x{}", mm.tpu.mxus, mm.tpu.mxu_size, mm.tpu.mxu_size));
    row("  MXU fraction", fmt::format("{:g} of peak bf16", mm.tpu.mxu_fraction));
    row("  op overhead", q(mm.tpu.op_overhead_s, QuantityKind::Time) + " per matmul");
  } else {
    row("matmul efficiency", fmt::format("{:g} of peak bf16", p.cost.matmul_efficiency));
  }
  row("memory efficiency", fmt::format("{:g} of HBM bandwidth", p.cost.memory_efficiency));
  row("kernel overhead",
      q(p.cost.kernel_overhead_s, QuantityKind::Time) +
          (mm.kind == MatmulModelKind::Roofline ? " per op" : " per memory-bound op"));
  if (p.cost.flash.forward_efficiency) {
    row("flash attention fwd", fmt::format("{:g} of peak bf16", *p.cost.flash.forward_efficiency));
  }
  if (p.cost.flash.backward_efficiency) {
    row("flash attention bwd", fmt::format("{:g} of peak bf16", *p.cost.flash.backward_efficiency));
  }
  if (p.kind == InterconnectKind::Torus) {
    const TorusInterconnect& t = p.torus;
    out += fmt::format("interconnect: {}-D torus\n", t.dimensions);
    row("links per chip", std::to_string(t.links_per_chip));
    row("link bandwidth",
        q(t.link_bandwidth_bytes_per_s, QuantityKind::Bandwidth) + " one way per link");
    row("link latency", q(t.link_latency_s, QuantityKind::Time) + " per hop");
    row("wrap-around",
        fmt::format("on slice dimensions that are multiples of {}", t.wraparound_multiple));
    row("largest slice", fmt::format("{} ({} chips)", torus_shape_text(t.max_shape), t.max_chips));
  } else {
    const GpuClusterInterconnect& g = p.gpu;
    out += "interconnect: GPU cluster (NVLink nodes, rail-optimized fat-tree)\n";
    row("GPUs per node", std::to_string(g.gpus_per_node));
    row("NVLink bandwidth",
        q(g.nvlink_bandwidth_bytes_per_s, QuantityKind::Bandwidth) + " per GPU one way");
    row("NVLink latency", q(g.nvlink_latency_s, QuantityKind::Time));
    row("NIC bandwidth",
        q(g.nic_bandwidth_bytes_per_s, QuantityKind::Bandwidth) + " per GPU one way");
    row("network latency", q(g.network_latency_s, QuantityKind::Time));
    row("leaf switch ports", std::to_string(g.leaf_switch_ports) + " down-ports");
    row("oversubscription", fmt::format("{:g}:1", g.oversubscription));
    row("pod",
        g.pod_nodes > 0
            ? fmt::format("{} nodes (larger clusters: pods joined by core switches)", g.pod_nodes)
            : std::string("the whole cluster (two levels)"));
    row("largest cluster", fmt::format("{} GPUs", g.max_gpus));
  }
  const CollectiveCostSpec& c = p.collectives;
  out += "collectives\n";
  if (p.kind == InterconnectKind::Torus) {
    row("ICI efficiency", fmt::format("{:g} of the link rate", c.ici_efficiency));
  } else {
    row("NVLink efficiency", fmt::format("{:g} of the link rate", c.nvlink_efficiency));
    row("NIC efficiency", fmt::format("{:g} of the link rate", c.nic_efficiency));
    row("leaf-spine efficiency", fmt::format("{:g} of the link rate", c.leaf_spine_efficiency));
    if (c.has_protocols) {
      row("step latency",
          fmt::format("LL {}, LL128 {}, Simple {}", q(c.ll_step_latency_s, QuantityKind::Time),
                      q(c.ll128_step_latency_s, QuantityKind::Time),
                      q(c.simple_step_latency_s, QuantityKind::Time)));
    } else {
      row("protocols", "none (line rate x efficiency, path latency only)");
    }
    if (c.nvls_bandwidth_bytes_per_s > 0) {
      row("NVLS", fmt::format("{} per GPU, {} per call, from {} GPUs of a node",
                              q(c.nvls_bandwidth_bytes_per_s, QuantityKind::Bandwidth),
                              q(c.nvls_latency_s, QuantityKind::Time), c.nvls_min_gpus));
    }
  }
  row("call overhead", q(c.call_overhead_s, QuantityKind::Time) + " per collective call");
  out += "software stack (docs/fidelity.md \"Calibrating your own stack\")\n";
  for (int i = 0; i < kStackParameters; ++i) {
    const auto& sp = stack_parameters()[static_cast<std::size_t>(i)];
    const double v = stack_value(p.cost.stack, i);
    row(sp.field,
        (std::string(sp.unit) == "s" ? (v == 0 ? std::string("0 s") : q(v, QuantityKind::Time))
                                     : fmt::format("{:g}", v)) +
            (v == sp.ideal ? " (ideal)" : ""));
  }
  out += "fidelity (error of each component; the step-time band is built from these)\n";
  for (int i = 0; i < kFidelityComponents; ++i) {
    const auto component = static_cast<FidelityComponent>(i);
    const auto& f = p.fidelity.of(component);
    row(to_string(component), fmt::format("{} {:.1f}%", to_string(f.status), 100 * f.error));
  }
  if (p.price_per_chip_hour_usd) {
    out += fmt::format("price\n  {:<22} USD {:.2f}\n", "per chip-hour", *p.price_per_chip_hour_usd);
  }
  out += "\nsources\n";
  for (const auto& note : p.sources)
    out += fmt::format("  {}\n      {}\n", note.field, note.source);
  std::fputs(out.c_str(), stdout);
}

struct Options {
  bool list_json = false;
  bool show_json = false;
  std::string profile;
  std::vector<std::string> sets;  // --set PATH=VALUE
};

// The input document of a profile, as `--hardware FILE` reads it back (docs/whatif.md): the file's
// JSON after any --set, a what-if one renamed so that it cannot be taken for the stock profile.
nlohmann::json input_document(const HardwareProfile& p) {
  nlohmann::json input = nlohmann::json::parse(p.input);
  if (!p.overrides.empty()) {
    input["name"] = p.base_name + "-whatif";
    input["display_name"] = p.display_name;
  }
  return input;
}

}  // namespace

void add_hardware_commands(CLI::App& app) {
  auto options = std::make_shared<Options>();
  CLI::App* hardware = app.add_subcommand(
      "hardware", "List the hardware profiles (chip, memory, interconnect); 'show' for one.");
  hardware->require_subcommand(0, 1);
  hardware->add_flag("--json", options->list_json,
                     "Print one JSON object (schema meshsim.hardware_list/v1) instead of a table");
  CLI::App* show = hardware->add_subcommand(
      "show", "Show one profile: every figure with its unit and its source.");
  show->add_option("profile", options->profile,
                   "A zoo profile name (see 'meshsim hardware') or a path to a profile .json file")
      ->required();
  show->add_flag("--json", options->show_json,
                 "Print one JSON object (schema meshsim.hardware/v1), SI units in the keys; its "
                 "\"input\" is the profile as a file (the output loads back: --hardware FILE)");

  hardware->callback([hardware, options] {
    if (!hardware->get_subcommands().empty())
      return;  // `show` did the work
    print_list(options->list_json);
  });
  add_set_option(show, options->sets, true, false);
  show->callback([options] {
    HardwareProfile profile =
        load_hardware(options->profile, split_sets(options->sets, true, false).hardware);
    if (options->show_json) {
      nlohmann::json out = {{"schema", kHardwareSchema}, {"version", kVersion}};
      out.update(profile_json(profile));
      add_overrides(out, profile.overrides);
      out["input"] = input_document(profile);
      std::puts(json_text(out).c_str());
    } else {
      print_profile(profile);
    }
  });
}

}  // namespace meshsim::cli
