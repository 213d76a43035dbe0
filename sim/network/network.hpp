#pragma once
// The network at run time: a topology, its link state (link_sharing.hpp) and the engine. Any number
// of users (collectives, a training-step simulator) send point-to-point messages on one Network,
// so their traffic contends on shared links.
#include <array>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/engine/simulator.hpp"
#include "sim/network/link_sharing.hpp"
#include "sim/network/topology.hpp"

namespace meshsim::network {

class Network {
 public:
  Network(engine::Simulator& sim, const Topology& topology);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Sends `bytes` from chip `src` to chip `dst` now; `on_arrival(context, arg)` runs when the last
  // byte has arrived. Returns that arrival time; `floor` (optional) receives bytes / bottleneck
  // bandwidth of the path, the least time any message of that size could take on it. `delay`: the
  // message enters its first link no earlier than now + delay (a sender's software latency, e.g. a
  // collective protocol's per-step cost; it holds no link).
  engine::SimTime send(std::int32_t src, std::int32_t dst, std::int64_t bytes,
                       engine::EventFn on_arrival, void* context, std::uint64_t arg,
                       engine::SimTime* floor = nullptr,
                       engine::SimTime delay = engine::SimTime::zero());

  // Routes by number (issue 15), for a user that sends on the same pairs again and again (a
  // collective's schedule): route_id(src, dst) gives a number, dense from 0, under which the
  // route stays for the life of the network's current routes (its route_epoch()); sending on it
  // reads the route from a packed table, with no hashing and no lookup per message. The epoch is
  // unique among all networks of the process and changes when set_link_map changes the routes,
  // so a number kept with the epoch it came from is never read against other routes. At most as
  // many routes as the route cache has entries are numbered (a collective of distinct pairs, such
  // as an all-to-all, would otherwise hold every route twice): past that, route_id returns -1 for
  // a new pair, whose messages go by send().
  std::int32_t route_id(std::int32_t src, std::int32_t dst);
  std::uint64_t route_epoch() const { return epoch_; }
  // send() on route `route` (route_id of this epoch).
  engine::SimTime send_on(std::int32_t route, std::int64_t bytes, engine::EventFn on_arrival,
                          void* context, std::uint64_t arg, engine::SimTime* floor = nullptr,
                          engine::SimTime delay = engine::SimTime::zero());

  // Every link of a route is replaced by map[link] (replica symmetry: a link stands for the link of
  // replica 0 it is a shift of, docs/execution.md). Empty: no mapping.
  void set_link_map(std::vector<std::int32_t> map);

  // The link map set_link_map gave (empty: none).
  const std::vector<std::int32_t>& link_map() const { return link_map_; }

  engine::Simulator& simulator() { return *sim_; }
  const Topology& topology() const { return *topology_; }
  std::int64_t link_bytes(std::int32_t link) const { return sharing_.bytes_carried(link); }
  engine::SimTime link_busy_time(std::int32_t link) const { return sharing_.busy_time(link); }
  // Sum of bytes over the links of each class (a message crossing 3 links counts 3 times).
  std::array<std::int64_t, kLinkClassCount> bytes_per_link_class() const;
  std::int64_t messages_sent() const { return messages_; }

 private:
  engine::Simulator* sim_;
  const Topology* topology_;
  LinkSharing sharing_;
  // Routes cached per (source, destination) (issue 15): a direct-mapped table of the routes of
  // up to kCachedHops links (every GPU-cluster route, short torus routes), already mapped by
  // link_map_; a longer route is computed per message into route_. Sized by the machine: 8 entries
  // per chip as a power of two, from 2^11 to 2^16 (a chip talks to a few ring and stage
  // neighbours; 2^11 entries missed often on 1024 GPUs simulated chip by chip).
  static constexpr int kCachedHops = 6;
  static constexpr int kMinCacheBits = 11, kMaxCacheBits = 16;
  int cache_bits_ = kMinCacheBits;
  struct CachedRoute {
    std::uint64_t key = ~std::uint64_t{0};  // (src << 32) | dst; all ones: empty
    std::int32_t hops = 0;
    std::int32_t links[kCachedHops] = {};
    double bottleneck = 0;  // bytes/s: the least bandwidth of the links
  };
  const CachedRoute& route_of(std::int32_t src, std::int32_t dst);
  std::vector<CachedRoute> route_cache_;
  CachedRoute long_route_;           // hops -1: the route is in route_
  std::vector<std::int32_t> route_;  // scratch, reused: no allocation per message
  std::vector<std::int32_t> link_map_;
  std::int64_t messages_ = 0;
  // Numbered routes: a route of up to kCachedHops links keeps them inline; a longer one keeps its
  // first link's offset in long_links_ in links[0].
  struct Route {
    double bottleneck = 0;
    std::int32_t hops = 0;
    std::int32_t links[kCachedHops] = {};
  };
  std::vector<Route> routes_;
  std::vector<std::int32_t> long_links_;
  std::unordered_map<std::uint64_t, std::int32_t> route_ids_;
  std::uint64_t epoch_ = 0;
  static std::uint64_t next_epoch();
};

}  // namespace meshsim::network
