#include "sim/engine/simulator.hpp"

#include <stdexcept>

namespace meshsim::engine {

namespace {
constexpr std::size_t kKeptCapacity = 4096;  // events (128 KiB) an empty bucket may always keep
}  // namespace

void Simulator::past_error() {
  throw std::logic_error("Simulator: event scheduled in the past");
}

bool Simulator::refill(std::uint64_t limit) {
  buckets_[0].clear();
  head_ = 0;
  const std::uint64_t higher = nonempty_ & ~std::uint64_t{1};
  if (higher == 0) {
    nonempty_ = 0;
    return false;
  }
  const int source = __builtin_ctzll(higher);
  std::vector<Event>& from = buckets_[source];
  std::uint64_t minimum = from[0].time;
  for (const Event& e : from) {
    minimum = e.time < minimum ? e.time : minimum;
  }
  if (minimum > limit) {
    // Leave everything where it is: last_ must not pass now_, since events may still be
    // scheduled between now_ and `minimum`.
    nonempty_ &= ~std::uint64_t{1};
    return false;
  }
  last_ = minimum;
  // Every event of `source` moves to a lower bucket, in order (keeping each bucket in insertion
  // order); the lower buckets are all empty, so nothing else interleaves.
  std::uint64_t filled = 0;
  for (const Event& e : from) {
    const int b = bucket_of(e.time, minimum);
    buckets_[b].push_back(e);
    filled |= std::uint64_t{1} << b;
  }
  from.clear();
  if (from.capacity() > 2 * pending_ + kKeptCapacity) {
    // An emptied bucket keeps its storage for the next events, unless far more than the whole
    // queue now needs (a burst that has drained): then it is freed, so that up to 63 empty
    // buckets do not each hold the peak's worth.
    std::vector<Event>().swap(from);
  }
  nonempty_ = (nonempty_ & ~(std::uint64_t{1} << source)) | filled;
  return true;
}

std::uint64_t Simulator::run(SimTime until) {
  if (until < now_) {
    return 0;  // nothing pending is earlier than now_
  }
  const auto limit = static_cast<std::uint64_t>(until.ps());
  std::uint64_t ran = 0;
  for (;;) {
    std::vector<Event>& current = buckets_[0];
    if (head_ == current.size() && !late_.empty()) {
      // The end of now_: its late events join bucket 0 (time now_ = last_), in order.
      for (const Event& e : late_)
        current.push_back(e);
      late_.clear();
      nonempty_ |= 1;
    }
    if (head_ == current.size()) {
      if (!refill(limit)) {
        break;
      }
    } else if (last_ > limit) {
      break;
    }
    // Copy the event out first: it may schedule others into bucket 0 (which may reallocate).
    const Event event = buckets_[0][head_++];
    --pending_;
    now_ = SimTime::from_ps(static_cast<std::int64_t>(event.time));
    ++ran;
    void* context;
    std::memcpy(&context, &event.context, sizeof(context));
    event.fn(context, event.arg);
  }
  events_run_ += ran;
  return ran;
}

}  // namespace meshsim::engine
