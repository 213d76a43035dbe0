#include "sim/network/network.hpp"

#include <algorithm>
#include <atomic>

namespace meshsim::network {

Network::Network(engine::Simulator& sim, const Topology& topology)
    : sim_(&sim), topology_(&topology), sharing_(topology.links()) {
  while (cache_bits_ < kMaxCacheBits &&
         (std::int64_t{1} << cache_bits_) < 8 * std::int64_t{topology.chip_count()})
    ++cache_bits_;
  route_cache_.assign(std::size_t{1} << cache_bits_, CachedRoute{});
  route_.reserve(64);
  epoch_ = next_epoch();
}

std::uint64_t Network::next_epoch() {
  // Shared by every thread's networks (a sweep simulates plans on several threads).
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

void Network::set_link_map(std::vector<std::int32_t> map) {
  link_map_ = std::move(map);
  route_cache_.assign(route_cache_.size(), CachedRoute{});
  routes_.clear();
  long_links_.clear();
  route_ids_.clear();
  epoch_ = next_epoch();
}

std::int32_t Network::route_id(std::int32_t src, std::int32_t dst) {
  const std::uint64_t key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(src)) << 32) |
                            static_cast<std::uint32_t>(dst);
  if (const auto found = route_ids_.find(key); found != route_ids_.end())
    return found->second;
  if (routes_.size() >= route_cache_.size())
    return -1;
  const auto it = route_ids_.emplace(key, static_cast<std::int32_t>(routes_.size())).first;
  topology_->route(src, dst, route_);
  if (!link_map_.empty()) {
    for (auto& link : route_)
      link = link_map_[static_cast<std::size_t>(link)];
  }
  Route r;
  r.hops = static_cast<std::int32_t>(route_.size());
  r.bottleneck = route_.empty() ? 0.0 : sharing_.bottleneck(route_.data(), route_.size());
  if (route_.size() <= static_cast<std::size_t>(kCachedHops)) {
    std::copy(route_.begin(), route_.end(), r.links);
  } else {
    r.links[0] = static_cast<std::int32_t>(long_links_.size());
    long_links_.insert(long_links_.end(), route_.begin(), route_.end());
  }
  routes_.push_back(r);
  return it->second;
}

engine::SimTime Network::send_on(std::int32_t route, std::int64_t bytes, engine::EventFn on_arrival,
                                 void* context, std::uint64_t arg, engine::SimTime* floor,
                                 engine::SimTime delay) {
  const Route& r = routes_[static_cast<std::size_t>(route)];
  const std::int32_t* links = r.hops <= kCachedHops ? r.links : long_links_.data() + r.links[0];
  const engine::SimTime arrival = sharing_.transmit(links, static_cast<std::size_t>(r.hops), bytes,
                                                    sim_->now() + delay, floor, r.bottleneck);
  ++messages_;
  sim_->schedule_at(arrival, on_arrival, context, arg);
  return arrival;
}

const Network::CachedRoute& Network::route_of(std::int32_t src, std::int32_t dst) {
  const std::uint64_t key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(src)) << 32) |
                            static_cast<std::uint32_t>(dst);
  // Fibonacci hashing of the pair onto the table.
  auto& entry = route_cache_[(key * 0x9E3779B97F4A7C15ULL) >> (64 - cache_bits_)];
  if (entry.key == key)
    return entry;
  topology_->route(src, dst, route_);
  if (!link_map_.empty()) {
    for (auto& link : route_)
      link = link_map_[static_cast<std::size_t>(link)];
  }
  if (route_.size() <= static_cast<std::size_t>(kCachedHops)) {
    entry.key = key;
    entry.hops = static_cast<std::int32_t>(route_.size());
    std::copy(route_.begin(), route_.end(), entry.links);
    entry.bottleneck = route_.empty() ? 0.0 : sharing_.bottleneck(route_.data(), route_.size());
    return entry;
  }
  long_route_.key = key;
  long_route_.hops = -1;  // the route is in route_
  return long_route_;
}

engine::SimTime Network::send(std::int32_t src, std::int32_t dst, std::int64_t bytes,
                              engine::EventFn on_arrival, void* context, std::uint64_t arg,
                              engine::SimTime* floor, engine::SimTime delay) {
  const CachedRoute& route = route_of(src, dst);
  const std::int32_t* links = route.hops >= 0 ? route.links : route_.data();
  const std::size_t hops = route.hops >= 0 ? static_cast<std::size_t>(route.hops) : route_.size();
  const double bottleneck =
      route.hops >= 0 ? route.bottleneck : (hops == 0 ? 0.0 : sharing_.bottleneck(links, hops));
  const engine::SimTime arrival =
      sharing_.transmit(links, hops, bytes, sim_->now() + delay, floor, bottleneck);
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
