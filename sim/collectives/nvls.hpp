#pragma once
// NVLS (NVLink SHARP) all-reduce inside one NVSwitch node: the switch reduces and multicasts, so
// each GPU sends its buffer up to the switch once and receives the reduced buffer once.
#include <cstdint>
#include <optional>

#include "sim/collectives/schedule.hpp"
#include "sim/network/topology.hpp"

namespace meshsim::collectives {

// As point-to-point transfers: member i sends its buffer (cut into `chunks` pieces, issued
// together) through the switch to member i + 1, so every GPU's up-link and down-link carry the
// buffer once. The executor prices the messages at the profile's NVLS rate and latency
// (Pricing::Nvls, protocol.hpp).
Schedule nvls_all_reduce(const Group& group, std::int64_t bytes, int chunks);
std::uint64_t nvls_transfer_count(const Group& group, int chunks);
// Closed form without contention: path latency + NVLS latency + bytes / NVLS bandwidth (rounded as
// the executor rounds); nullopt when the topology has no NVLS or the group is not inside one node.
std::optional<double> nvls_closed_form_s(const network::Topology& topology, const Group& group,
                                         std::int64_t bytes, int chunks);
// NVLS applies: an NVSwitch node (GPU cluster with NVLS figures), every member in one node, at
// least nvls_min_gpus members.
bool nvls_applies(const network::Topology& topology, const Group& group);

}  // namespace meshsim::collectives
