#pragma once
// THE link-sharing rule, in one place (STYLE.md, after SimGrid). Every other file asks this one
// when a message may use a link; see docs/network.md for the rule and why.
//
// Rule: each link direction is a FIFO serial resource served in message issue order, with
// cut-through forwarding. A message of b bytes on a path streams at the path's bottleneck bandwidth
// B = min over hops, so it holds each link for d = b / B (rounded up to whole ps). Its head enters
// hop k at start_k = max(head_k, free_k), where head_1 = issue time and head_{k+1} = start_k +
// latency_k; link k is then busy until start_k + d. The last byte arrives at head_{h+1} + d.
// Uncontended: arrival = issue + sum of hop latencies + b / B.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "sim/engine/serial_resource.hpp"
#include "sim/engine/sim_time.hpp"
#include "sim/network/topology.hpp"

namespace meshsim::network {

class LinkSharing {
 public:
  explicit LinkSharing(const std::vector<Link>& links);
  // Reserves the links of `path` for a message of `bytes` issued at `issue`; returns the arrival
  // time of its last byte and adds `bytes` to every link it crosses.
  // `floor` (optional) receives bytes / bottleneck, the least time the message could take.
  engine::SimTime transmit(const std::int32_t* path, std::size_t hops, std::int64_t bytes,
                           engine::SimTime issue, engine::SimTime* floor = nullptr) {
    return transmit(path, hops, bytes, issue, floor, hops == 0 ? 0.0 : bottleneck(path, hops));
  }
  // The same with the path's bottleneck bandwidth given (bottleneck(path, hops): a route cache
  // keeps it, so a message reads the links' state only to reserve them).
  engine::SimTime transmit(const std::int32_t* path, std::size_t hops, std::int64_t bytes,
                           engine::SimTime issue, engine::SimTime* floor,
                           double bottleneck_bytes_per_s);
  // The least bandwidth of the links of `path` (hops >= 1).
  double bottleneck(const std::int32_t* path, std::size_t hops) const {
    double b = state_[static_cast<std::size_t>(path[0])].bandwidth_bytes_per_s;
    for (std::size_t k = 1; k < hops; ++k)
      b = std::min(b, state_[static_cast<std::size_t>(path[k])].bandwidth_bytes_per_s);
    return b;
  }
  std::int64_t bytes_carried(std::int32_t link) const {
    return state_[static_cast<std::size_t>(link)].bytes;
  }
  engine::SimTime busy_time(std::int32_t link) const {
    return state_[static_cast<std::size_t>(link)].resource.busy_time();
  }

 private:
  // Everything a hop reads and writes, in one 40-byte record (issue 15: the resource, the byte
  // count and the link's figures in three arrays cost three cache misses per hop). The link's
  // latency and bandwidth are copied when the network is built: a topology's figures are final
  // by then (make_topology applies the profile's collective costs once, before any network).
  struct LinkState {
    engine::SerialResource resource;
    std::int64_t bytes = 0;
    std::int64_t latency_ps = 0;
    double bandwidth_bytes_per_s = 0;
  };
  std::vector<LinkState> state_;
  // bytes / bandwidth rounded up, for the last few (bytes, bandwidth) pairs: a collective sends the
  // same piece over the same kind of path again and again, and the division and rounding were a
  // sixth of a step's time (issue 15). A pure function of its key, so results do not change.
  struct Hold {
    std::int64_t bytes = -1;
    double bandwidth = 0;
    engine::SimTime hold;
  };
  static constexpr std::size_t kHolds = 16;
  std::array<Hold, kHolds> holds_{};
  engine::SimTime hold_of(std::int64_t bytes, double bandwidth) {
    auto& h = holds_[static_cast<std::size_t>(bytes ^ (bytes >> 9)) % kHolds];
    if (h.bytes != bytes || h.bandwidth != bandwidth)
      h = {bytes, bandwidth, engine::serialization_time(bytes, bandwidth)};
    return h.hold;
  }
};

}  // namespace meshsim::network
