#pragma once
// Runs a Schedule on a Network over the engine. Several CollectiveRuns may share one Network (their
// transfers then contend for links) and the engine may carry other events (compute) in between:
// a run starts when start() is called and calls its completion callback when its last transfer
// has arrived.
#include <array>
#include <cstdint>
#include <vector>

#include "sim/collectives/protocol.hpp"
#include "sim/collectives/schedule.hpp"
#include "sim/engine/simulator.hpp"
#include "sim/network/network.hpp"

namespace meshsim::collectives {

// What a run derives from its schedule, built once for every run of it (a training step runs the
// same schedules once per layer and microbatch; issue 15): transfer t's dependents are
// dependents[dependent_offsets[t] .. dependent_offsets[t+1]), each a transfer index with kSole set
// when t is its only dependency (it is issued on t's arrival without counting); waiting[t] is t's
// dependency count; roots: the transfers with none, in order (a run issues them at its start).
//
// routes[t]: transfer t's route number on the network the index is bound to
// (network::Network::route_id), so that a run reusing the index sends without a route lookup:
// kUnresolved until its first issue there, kUnnumbered when that network numbers no more routes
// (the message is then sent by source and destination, as are the messages of runs on another
// network than the runs in flight, and of runs that built their own index). Empty until a run
// given the index starts.
struct ScheduleIndex {
  static constexpr std::uint32_t kSole = std::uint32_t{1} << 31;
  static constexpr std::int32_t kUnresolved = -1, kUnnumbered = -2;
  std::vector<std::uint32_t> waiting, dependent_offsets, dependents, roots;
  std::vector<std::int32_t> routes;
  // The routes' network: route numbers are those of `network` while its route_epoch() is
  // route_epoch (0: none yet); runs_numbered: runs in flight that use them.
  std::uint64_t route_epoch = 0;
  const void* network = nullptr;
  std::int64_t runs_numbered = 0;
};
ScheduleIndex index_schedule(const Schedule& schedule);

class CollectiveRun {
 public:
  // `schedule` must outlive the run. `on_done(context, arg)` runs (as an engine event at the
  // completion time) when every transfer has arrived; it may be null.
  CollectiveRun(network::Network& network, const Schedule& schedule,
                engine::EventFn on_done = nullptr, void* context = nullptr, std::uint64_t arg = 0);
  // The same with the schedule's index built beforehand (index_schedule(schedule)); `index` must
  // outlive the run, and keeps the transfers' route numbers for later runs on the same network.
  CollectiveRun(network::Network& network, const Schedule& schedule, ScheduleIndex& index,
                engine::EventFn on_done = nullptr, void* context = nullptr, std::uint64_t arg = 0);
  ~CollectiveRun();
  CollectiveRun(const CollectiveRun&) = delete;
  CollectiveRun& operator=(const CollectiveRun&) = delete;

  // Issues every transfer without dependencies at the simulator's current time (after the
  // topology's per-call overhead unless charge_call_overhead(false)). Every message carries the
  // chosen protocol's wire bytes and pays its step latency (protocol.hpp).
  void start();
  // A compiled program pays a fixed overhead per collective call (launch + NCCL set-up; profile
  // "collectives"/"call_overhead"); nccl-tests style back-to-back timing does not. Default: paid.
  void charge_call_overhead(bool charge) { charge_call_overhead_ = charge; }
  const ProtocolCost& protocol() const { return protocol_; }
  bool done() const { return arrived_ == schedule_->size() && started_; }
  engine::SimTime start_time() const { return start_time_; }
  engine::SimTime end_time() const { return end_time_; }
  std::int64_t bytes_sent() const { return bytes_sent_; }
  std::int64_t bytes_delivered() const { return bytes_delivered_; }
  // Smallest (arrival - issue) - bytes / path bottleneck over all transfers, in ps: never negative
  // if no transfer beat its links (an invariant the tests check). Known at issue, since the
  // sharing rule fixes the arrival time when a message is sent.
  std::int64_t min_slack_ps() const { return min_slack_ps_; }

 private:
  struct Own {};  // tags the constructor both public ones delegate to
  CollectiveRun(network::Network& network, const Schedule& schedule, ScheduleIndex* index,
                engine::EventFn on_done, void* context, std::uint64_t arg, Own);
  void issue(std::uint32_t transfer, engine::SimTime extra_delay = engine::SimTime::zero());
  void on_arrival(std::uint64_t transfer);
  void finish();

  network::Network* network_;
  const Schedule* schedule_;
  engine::EventFn on_done_;
  void* context_;
  std::uint64_t arg_;
  std::vector<std::uint32_t> waiting_for_;  // per transfer: dependencies not yet arrived
  ScheduleIndex own_index_;                 // when none was given
  ScheduleIndex* index_;
  bool numbered_ = false;  // sends on the index's route numbers
  std::size_t arrived_ = 0;
  bool started_ = false;
  engine::SimTime start_time_, end_time_;
  std::int64_t bytes_sent_ = 0, bytes_delivered_ = 0;
  std::int64_t min_slack_ps_ = INT64_MAX;
  std::int64_t last_bytes_ = -1, last_wire_ = 0;  // the last transfer's bytes and wire bytes
  ProtocolCost protocol_;
  engine::SimTime step_latency_, call_overhead_;
  bool charge_call_overhead_ = true;
};

struct CollectiveResult {
  double time_s = 0;
  std::int64_t bytes_sent = 0;
  std::int64_t bytes_delivered = 0;
  std::array<std::int64_t, network::kLinkClassCount> bytes_per_link_class{};
  std::int64_t max_link_bytes = 0;  // the busiest link direction
  std::int64_t transfers = 0;
  std::uint64_t events = 0;
  std::int64_t min_slack_ps = 0;
  ProtocolCost protocol;
};

enum class CallOverhead { Charged, Excluded };
// One collective alone on a fresh network: the common case of `meshsim collective`, which times a
// collective as nccl-tests does (no per-call overhead) unless told otherwise. `copies` > 1: the
// schedule is the representatives of a symmetric collective (ring_symmetry.hpp) that stand for
// `copies` alike transfers each, on links of their own: bytes, per-class bytes and transfers count
// them all; time, the busiest link and the slack are the representatives' (the same by symmetry);
// events are the ones simulated.
CollectiveResult run_collective(const network::Topology& topology, const Schedule& schedule,
                                CallOverhead overhead = CallOverhead::Excluded,
                                std::int64_t copies = 1);

}  // namespace meshsim::collectives
