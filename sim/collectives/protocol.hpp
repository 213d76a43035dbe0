#pragma once
// NCCL's protocols and NVLS as costs of a collective call (docs/fidelity.md, issue 12): a protocol
// inflates the bytes on the wire and sets the latency of each algorithm step. NCCL's tuner picks
// the protocol with the least predicted time per call; so does choose_protocol. The executor
// applies the choice to every message of the schedule; the closed forms use the same choice.
#include <cstdint>
#include <string_view>

#include "hardware_profiles/hardware.hpp"
#include "sim/collectives/schedule.hpp"
#include "sim/network/topology.hpp"

namespace meshsim::collectives {

struct ProtocolCost {
  std::string_view name = "none";  // "ll", "ll128", "simple", "nvls" or "none" (no protocol)
  double wire_factor = 1;          // bytes on the wire per payload byte
  double step_latency_s = 0;       // paid by every message before it is sent (once per step)
};

// Wire factors by definition of the protocols (NCCL documentation and source, not fitted): LL
// sends 8-byte stores of 4 data bytes and a 4-byte flag; LL128 sends 128-byte lines of 120 data
// bytes and an 8-byte flag; Simple sends the data alone.
inline constexpr double kLlWireFactor = 2.0;
inline constexpr double kLl128WireFactor = 128.0 / 120.0;

// The protocol of one call: "none" without protocols in `costs` (TPU ICI: the hop latency and the
// achievable link rate are the whole cost); NVLS for an NVLS schedule (wire factor bandwidth /
// nvls_bandwidth, so a message moves at the NVLS rate); else the NCCL protocol with the least
//   steps x step latency + wire factor x member_bytes / bandwidth
// (ties to the lower latency). `bandwidth` is the bottleneck of the first message's path. Since the
// step latencies grow LL < LL128 < Simple as the wire factors fall, the choice moves from LL to
// LL128 to Simple as the bytes grow and never back.
ProtocolCost choose_protocol(const CollectiveCostSpec& costs, const CostHint& hint,
                             double bandwidth_bytes_per_s);

// Bottleneck bandwidth of the route from `src` to `dst` (0 when they are the same chip).
double route_bandwidth(const network::Topology& topology, std::int32_t src, std::int32_t dst);

// The protocol the executor will use for `schedule` on `topology`.
ProtocolCost protocol_for(const network::Topology& topology, const Schedule& schedule);

}  // namespace meshsim::collectives
