#include "sim/network/link_sharing.hpp"

#include <algorithm>

namespace meshsim::network {

LinkSharing::LinkSharing(const std::vector<Link>& links) : state_(links.size()) {
  for (std::size_t i = 0; i < links.size(); ++i) {
    state_[i].latency_ps = links[i].latency_ps;
    state_[i].bandwidth_bytes_per_s = links[i].bandwidth_bytes_per_s;
  }
}

engine::SimTime LinkSharing::transmit(const std::int32_t* path, std::size_t hops,
                                      std::int64_t bytes, engine::SimTime issue,
                                      engine::SimTime* floor, double bottleneck_bytes_per_s) {
  if (hops == 0) {
    if (floor != nullptr) {
      *floor = engine::SimTime::zero();
    }
    return issue;  // chip to itself: a local copy, free at this level of the model
  }
  const engine::SimTime hold = hold_of(bytes, bottleneck_bytes_per_s);
  if (floor != nullptr) {
    *floor = hold;
  }
  LinkState* state = state_.data();
  engine::SimTime head = issue;
  for (std::size_t k = 0; k < hops; ++k) {
    LinkState& link = state[path[k]];
    const auto interval = link.resource.acquire(head, hold);
    link.bytes += bytes;
    head = interval.start + engine::SimTime::from_ps(link.latency_ps);
  }
  return head + hold;
}

}  // namespace meshsim::network
