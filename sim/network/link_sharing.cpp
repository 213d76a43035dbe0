#include "sim/network/link_sharing.hpp"

#include <algorithm>

namespace meshsim::network {

LinkSharing::LinkSharing(const std::vector<Link>& links)
    : links_(&links), resources_(links.size()), bytes_(links.size(), 0) {}

engine::SimTime LinkSharing::transmit(const std::int32_t* path, std::size_t hops,
                                      std::int64_t bytes, engine::SimTime issue,
                                      engine::SimTime* floor) {
  if (hops == 0) {
    if (floor != nullptr) {
      *floor = engine::SimTime::zero();
    }
    return issue;  // chip to itself: a local copy, free at this level of the model
  }
  const Link* links = links_->data();
  double bottleneck_bytes_per_s = links[path[0]].bandwidth_bytes_per_s;
  for (std::size_t k = 1; k < hops; ++k) {
    bottleneck_bytes_per_s = std::min(bottleneck_bytes_per_s, links[path[k]].bandwidth_bytes_per_s);
  }
  const engine::SimTime hold = engine::serialization_time(bytes, bottleneck_bytes_per_s);
  if (floor != nullptr) {
    *floor = hold;
  }
  engine::SimTime head = issue;
  for (std::size_t k = 0; k < hops; ++k) {
    const auto link = static_cast<std::size_t>(path[k]);
    const auto interval = resources_[link].acquire(head, hold);
    bytes_[link] += bytes;
    head = interval.start + engine::SimTime::from_ps(links[link].latency_ps);
  }
  return head + hold;
}

}  // namespace meshsim::network
