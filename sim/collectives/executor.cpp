#include "sim/collectives/executor.hpp"

#include <algorithm>
#include <cmath>

namespace meshsim::collectives {

ScheduleIndex index_schedule(const Schedule& schedule) {
  ScheduleIndex index;
  const std::size_t n = schedule.size();
  index.waiting.resize(n);
  index.dependent_offsets.assign(n + 1, 0);
  for (std::size_t t = 0; t < n; ++t) {
    index.waiting[t] = schedule.dep_offsets[t + 1] - schedule.dep_offsets[t];
    if (index.waiting[t] == 0)
      index.roots.push_back(static_cast<std::uint32_t>(t));
    for (std::uint32_t d = schedule.dep_offsets[t]; d < schedule.dep_offsets[t + 1]; ++d) {
      ++index.dependent_offsets[schedule.deps[d] + 1];
    }
  }
  for (std::size_t t = 0; t < n; ++t) {
    index.dependent_offsets[t + 1] += index.dependent_offsets[t];
  }
  index.dependents.resize(schedule.deps.size());
  std::vector<std::uint32_t> fill(index.dependent_offsets.begin(),
                                  index.dependent_offsets.end() - 1);
  for (std::size_t t = 0; t < n; ++t) {
    for (std::uint32_t d = schedule.dep_offsets[t]; d < schedule.dep_offsets[t + 1]; ++d) {
      const bool sole = schedule.dep_offsets[t + 1] - schedule.dep_offsets[t] == 1;
      index.dependents[fill[schedule.deps[d]]++] =
          static_cast<std::uint32_t>(t) | (sole ? ScheduleIndex::kSole : 0);
    }
  }
  return index;
}

CollectiveRun::CollectiveRun(network::Network& network, const Schedule& schedule,
                             engine::EventFn on_done, void* context, std::uint64_t arg)
    : CollectiveRun(network, schedule, nullptr, on_done, context, arg, Own{}) {}

CollectiveRun::CollectiveRun(network::Network& network, const Schedule& schedule,
                             ScheduleIndex& index, engine::EventFn on_done, void* context,
                             std::uint64_t arg)
    : CollectiveRun(network, schedule, &index, on_done, context, arg, Own{}) {}

CollectiveRun::CollectiveRun(network::Network& network, const Schedule& schedule,
                             ScheduleIndex* index, engine::EventFn on_done, void* context,
                             std::uint64_t arg, Own)
    : network_(&network),
      schedule_(&schedule),
      on_done_(on_done),
      context_(context),
      arg_(arg),
      own_index_(index == nullptr ? index_schedule(schedule) : ScheduleIndex{}),
      index_(index == nullptr ? &own_index_ : index),
      protocol_(protocol_for(network.topology(), schedule)),
      step_latency_(engine::SimTime::from_seconds(protocol_.step_latency_s)),
      call_overhead_(
          engine::SimTime::from_seconds(network.topology().collective_costs().call_overhead_s)) {
  waiting_for_ = index_->waiting;
}

void CollectiveRun::start() {
  auto& sim = network_->simulator();
  started_ = true;
  start_time_ = end_time_ = sim.now();
  // Route numbers pay off only for an index that runs again (a run's own index is used once).
  // The network of the runs in flight owns them; with none in flight, this run's network takes
  // them (renumbered when it is another network or its routes changed). A run on another
  // network than the runs in flight sends by source and destination.
  if (index_ != &own_index_) {
    if (index_->runs_numbered == 0 &&
        (index_->network != network_ || index_->route_epoch != network_->route_epoch())) {
      index_->network = network_;
      index_->route_epoch = network_->route_epoch();
      index_->routes.assign(schedule_->size(), ScheduleIndex::kUnresolved);
    }
    numbered_ = index_->network == network_ && index_->route_epoch == network_->route_epoch();
    if (numbered_)
      ++index_->runs_numbered;
  }
  if (schedule_->size() == 0) {
    finish();
    return;
  }
  const auto extra = charge_call_overhead_ ? call_overhead_ : engine::SimTime::zero();
  for (const std::uint32_t t : index_->roots) {
    issue(t, extra);
  }
}

void CollectiveRun::issue(std::uint32_t transfer, engine::SimTime extra_delay) {
  const Transfer& t = schedule_->transfers[transfer];
  const auto now = network_->simulator().now();
  bytes_sent_ += t.bytes;
  engine::SimTime floor;
  // Wire bytes: exact for a factor of 1, else rounded up (a partial line still goes whole); a
  // schedule's transfers mostly repeat one size.
  if (t.bytes != last_bytes_) {
    last_bytes_ = t.bytes;
    last_wire_ = protocol_.wire_factor == 1.0
                     ? t.bytes
                     : static_cast<std::int64_t>(
                           std::ceil(static_cast<double>(t.bytes) * protocol_.wire_factor));
  }
  const std::int64_t wire = last_wire_;
  constexpr engine::EventFn arrived = [](void* self, std::uint64_t index) {
    static_cast<CollectiveRun*>(self)->on_arrival(index);
  };
  std::int32_t route = ScheduleIndex::kUnnumbered;
  if (numbered_) {
    std::int32_t& known = index_->routes[transfer];
    if (known == ScheduleIndex::kUnresolved) {
      known = network_->route_id(t.src_chip, t.dst_chip);
      if (known < 0)
        known = ScheduleIndex::kUnnumbered;
    }
    route = known;
  }
  const auto arrival = route >= 0 ? network_->send_on(route, wire, arrived, this, transfer, &floor,
                                                      step_latency_ + extra_delay)
                                  : network_->send(t.src_chip, t.dst_chip, wire, arrived, this,
                                                   transfer, &floor, step_latency_ + extra_delay);
  min_slack_ps_ = std::min(min_slack_ps_, (arrival - now - floor).ps());
}

void CollectiveRun::on_arrival(std::uint64_t transfer) {
  bytes_delivered_ += schedule_->transfers[transfer].bytes;
  const auto& index = *index_;
  for (std::uint32_t d = index.dependent_offsets[transfer];
       d < index.dependent_offsets[transfer + 1]; ++d) {
    const std::uint32_t dependent = index.dependents[d];
    const std::uint32_t next = dependent & ~ScheduleIndex::kSole;
    if ((dependent & ScheduleIndex::kSole) != 0 || --waiting_for_[next] == 0) {
      issue(next);
    }
  }
  if (++arrived_ == schedule_->size()) {
    finish();
  }
}

CollectiveRun::~CollectiveRun() {
  if (numbered_)
    --index_->runs_numbered;
}

void CollectiveRun::finish() {
  end_time_ = network_->simulator().now();
  if (on_done_ != nullptr) {
    network_->simulator().schedule_at(end_time_, on_done_, context_, arg_);
  }
}

CollectiveResult run_collective(const network::Topology& topology, const Schedule& schedule,
                                CallOverhead overhead, std::int64_t copies) {
  engine::Simulator sim;
  network::Network network(sim, topology);
  CollectiveRun run(network, schedule);
  run.charge_call_overhead(overhead == CallOverhead::Charged);
  run.start();
  sim.run();
  CollectiveResult result;
  result.time_s = (run.end_time() - run.start_time()).seconds();
  result.bytes_sent = run.bytes_sent() * copies;
  result.bytes_delivered = run.bytes_delivered() * copies;
  result.bytes_per_link_class = network.bytes_per_link_class();
  for (auto& bytes : result.bytes_per_link_class)
    bytes *= copies;
  for (std::size_t l = 0; l < topology.links().size(); ++l) {
    result.max_link_bytes =
        std::max(result.max_link_bytes, network.link_bytes(static_cast<std::int32_t>(l)));
  }
  result.transfers = static_cast<std::int64_t>(schedule.size()) * copies;
  result.events = sim.events_run();
  result.min_slack_ps = run.min_slack_ps() == INT64_MAX ? 0 : run.min_slack_ps();
  result.protocol = run.protocol();
  return result;
}

}  // namespace meshsim::collectives
