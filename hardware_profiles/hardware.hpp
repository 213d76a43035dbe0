#pragma once
// A hardware profile (DESIGN §3): one chip and one interconnect, every figure with its source.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json_override.hpp"
#include "hardware_profiles/cost_model.hpp"
#include "hardware_profiles/fidelity.hpp"

namespace meshsim {

struct ChipSpec {
  double peak_bf16_flop_per_s = 0;  // dense
  double peak_fp32_flop_per_s = 0;  // dense
  double hbm_bytes = 0;
  double hbm_bandwidth_bytes_per_s = 0;
};

enum class InterconnectKind { Torus, GpuCluster };

struct TorusInterconnect {
  int dimensions = 3;                     // 2 (v5e) or 3 (v4, v5p)
  int links_per_chip = 6;                 // 2 x dimensions
  double link_bandwidth_bytes_per_s = 0;  // one direction of one link
  double link_latency_s = 0;              // per hop
  // A slice dimension has wrap-around links when its size is a multiple of this (4 on v4/v5p: full
  // cubes; 16 on v5e: a full pod axis).
  int wraparound_multiple = 4;
  std::vector<int> max_shape;  // largest slice, e.g. {16, 16, 16}
  std::int64_t max_chips = 0;
};

struct GpuClusterInterconnect {
  int gpus_per_node = 8;                    // NVLink/NVSwitch island
  double nvlink_bandwidth_bytes_per_s = 0;  // per GPU, one direction
  double nvlink_latency_s = 0;
  double nic_bandwidth_bytes_per_s = 0;  // per GPU (one NIC each), one direction
  double network_latency_s = 0;
  int leaf_switch_ports = 64;   // down-ports of a leaf switch in the rail-optimized fat-tree
  double oversubscription = 1;  // leaf and spine uplink oversubscription (1 = non-blocking)
  // Nodes per pod of a three-level fat-tree (docs/network.md): a cluster of more nodes is cut into
  // pods of this many (a multiple of leaf_switch_ports), each a two-level tree, joined by core
  // switches. 0 (the field absent) = one two-level tree of any size.
  int pod_nodes = 0;
  std::int64_t max_gpus = 0;
};

// How collectives really use the links (issue 12, docs/fidelity.md): achievable bandwidth per link
// class, NCCL's protocols, NVLink SHARP and a per-call overhead. The optional "collectives" section
// of a profile; every field absent means line rate, no protocol latency, no NVLS, no overhead.
struct CollectiveCostSpec {
  // Achievable fraction of line rate per link class, in (0, 1].
  double nvlink_efficiency = 1, nic_efficiency = 1, leaf_spine_efficiency = 1, ici_efficiency = 1;
  // NCCL protocols (GPU clusters): latency paid once per algorithm step by each protocol; the wire
  // overheads (LL 2x, LL128 128/120x, Simple 1x) are the protocols' definitions, in code.
  bool has_protocols = false;
  double ll_step_latency_s = 0, ll128_step_latency_s = 0, simple_step_latency_s = 0;
  // NVLink SHARP (NVSwitch nodes): per-GPU all-reduce rate (algbw) and latency per call; NVLS is
  // used from nvls_min_gpus GPUs of one node. nvls_bandwidth 0 = no NVLS.
  double nvls_bandwidth_bytes_per_s = 0, nvls_latency_s = 0;
  int nvls_min_gpus = 0;
  // Fixed cost of one collective call in a compiled program (launch + NCCL set-up), paid once per
  // call on top of the schedule; not link latency.
  double call_overhead_s = 0;
};

struct SourceNote {
  std::string field;   // JSON pointer of the figure, e.g. "/chip/peak_bf16"
  std::string source;  // where the figure comes from
};

// The schema tag of profile files and of `meshsim hardware show --json`.
inline constexpr const char* kHardwareSchema = "meshsim.hardware/v1";

struct HardwareProfile {
  std::string name;          // "tpu-v4"
  std::string display_name;  // "TPU v4"
  std::string file;          // the file it was loaded from
  ChipSpec chip;
  CostModel cost;
  InterconnectKind kind = InterconnectKind::Torus;
  TorusInterconnect torus;     // when kind == Torus
  GpuClusterInterconnect gpu;  // when kind == GpuCluster
  CollectiveCostSpec collectives;
  std::optional<double> price_per_chip_hour_usd;
  Fidelity fidelity;  // the optional "fidelity" section
  std::vector<SourceNote> sources;
  // What-if overrides applied (`--set`, docs/whatif.md); then `name` is "BASE+set(...)" and
  // `display_name` ends in " (what-if: ...)", and `input` is the document as overridden.
  std::vector<JsonOverride> overrides;
  std::string base_name;  // the name in the file
  std::string input;      // the input document (JSON text) the profile was parsed from
};

// Loads a profile by name ("tpu-v4") or a user file by path (anything containing '/' or ending in
// ".json"); validates every field (docs/hardware.md). Zoo profiles live in
// $MESHSIM_DATA_DIR/hardware_profiles/ when that variable is set, else in the source tree's.
// Throws InputError for an unknown name (listing the profiles) or any invalid field.
HardwareProfile load_hardware(const std::string& name_or_path);
// The same with what-if overrides (dotted paths into the profile's JSON, set before it is parsed;
// each overridden figure's source becomes "--set on the command line"). Errors about an override
// name `flag`.
HardwareProfile load_hardware(const std::string& name_or_path, std::vector<JsonOverride> overrides,
                              const std::string& flag = "--set");
// The same from JSON text (no file access; for tests and fuzzing); `origin` names it in errors.
HardwareProfile parse_hardware_json(const std::string& text, const std::string& origin);
// Replaces the profile's price per chip-hour (`--price`); its source becomes `source`.
void set_price(HardwareProfile& profile, double usd_per_chip_hour,
               const std::string& source = "--price on the command line");
// The source of a figure by JSON pointer ("" when it has none).
std::string source_of(const HardwareProfile& profile, const std::string& pointer);

// Names of the zoo profiles, sorted.
std::vector<std::string> zoo_hardware_names();

// "16x16x24".
std::string torus_shape_text(const std::vector<int>& shape);

// One line describing the interconnect, e.g. "3-D torus, 6 links x 45 GB/s one way, up to 4096
// chips".
std::string interconnect_summary(const HardwareProfile& profile);

}  // namespace meshsim
