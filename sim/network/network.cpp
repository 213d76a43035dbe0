#include "sim/network/network.hpp"

namespace meshsim::network {

Network::Network(engine::Simulator& sim, const Topology& topology)
    : sim_(&sim), topology_(&topology), sharing_(topology.links()) {
  route_.reserve(64);
}

engine::SimTime Network::send(std::int32_t src, std::int32_t dst, std::int64_t bytes,
                              engine::EventFn on_arrival, void* context, std::uint64_t arg,
                              engine::SimTime* floor, engine::SimTime delay) {
  topology_->route(src, dst, route_);
  if (!link_map_.empty()) {
    for (auto& link : route_)
      link = link_map_[static_cast<std::size_t>(link)];
  }
  const engine::SimTime arrival =
      sharing_.transmit(route_.data(), route_.size(), bytes, sim_->now() + delay, floor);
  ++messages_;
  sim_->schedule_at(arrival, on_arrival, context, arg);
  return arrival;
}

std::array<std::int64_t, kLinkClassCount> Network::bytes_per_link_class() const {
  std::array<std::int64_t, kLinkClassCount> total{};
  const auto& links = topology_->links();
  for (std::size_t i = 0; i < links.size(); ++i) {
    total[static_cast<std::size_t>(links[i].link_class)] +=
        sharing_.bytes_carried(static_cast<std::int32_t>(i));
  }
  return total;
}

}  // namespace meshsim::network
