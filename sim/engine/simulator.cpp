#include "sim/engine/simulator.hpp"

#include <algorithm>
#include <stdexcept>

namespace meshsim::engine {

Simulator::Body& Simulator::new_body(SimTime time) {
  if (time < now_) {
    throw std::logic_error("Simulator: event scheduled in the past");
  }
  std::uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    if (bodies_.size() > kSlotMask) {
      throw std::length_error("Simulator: more than 2^28 events pending at once");
    }
    slot = static_cast<std::uint32_t>(bodies_.size());
    bodies_.emplace_back();
  }
  if (next_sequence_ == kMaxSequence) {
    renumber();
  }
  push(Key{static_cast<std::uint64_t>(time.ps()), (next_sequence_++ << kSlotBits) | slot});
  return bodies_[slot];
}

// Sequences run out after 2^36 events: give the pending ones 0, 1, 2, ... in their order (which
// keeps every comparison, hence the heap, as it was) and continue from there.
void Simulator::renumber() {
  std::vector<std::uint64_t> order(heap_.size());
  for (std::size_t i = 0; i < heap_.size(); ++i)
    order[i] = heap_[i].order >> kSlotBits;
  std::sort(order.begin(), order.end());
  for (auto& key : heap_) {
    const auto rank = static_cast<std::uint64_t>(
        std::lower_bound(order.begin(), order.end(), key.order >> kSlotBits) - order.begin());
    key.order = (rank << kSlotBits) | (key.order & kSlotMask);
  }
  next_sequence_ = heap_.size();
}

void Simulator::push(Key key) {
  // Sift up with a hole instead of swaps.
  std::size_t hole = heap_.size();
  heap_.push_back(key);
  Key* heap = heap_.data();
  while (hole > 0) {
    const std::size_t parent = (hole - 1) / kArity;
    if (!later(heap[parent], key)) {
      break;
    }
    heap[hole] = heap[parent];
    hole = parent;
  }
  heap[hole] = key;
}

Simulator::Key Simulator::pop() {
  Key* heap = heap_.data();
  const Key top = heap[0];
  const Key last = heap[heap_.size() - 1];
  heap_.pop_back();
  const std::size_t size = heap_.size();
  if (size > 0) {
    // Sift the former last key down from the root: pick the earliest of up to kArity children.
    std::size_t hole = 0;
    const auto last_value = value(last);
    for (;;) {
      const std::size_t first = kArity * hole + 1;
      if (first >= size) {
        break;
      }
      std::size_t child = first;
      auto best = value(heap[first]);
      const std::size_t end = first + kArity < size ? first + kArity : size;
      for (std::size_t c = first + 1; c < end; ++c) {
        const auto v = value(heap[c]);
        if (v < best) {
          best = v;
          child = c;
        }
      }
      if (last_value <= best) {
        break;
      }
      heap[hole] = heap[child];
      hole = child;
    }
    heap[hole] = last;
  }
  return top;
}

std::uint64_t Simulator::run(SimTime until) {
  std::uint64_t ran = 0;
  const auto limit = until.ps();
  while (!heap_.empty() && static_cast<std::int64_t>(heap_.front().time) <= limit) {
    const Key key = pop();
    now_ = SimTime::from_ps(static_cast<std::int64_t>(key.time));
    ++ran;
    const auto slot = static_cast<std::uint32_t>(key.order & kSlotMask);
    // Copy the body out and free its slot first: the event may schedule others into it.
    Body body = bodies_[slot];
    free_.push_back(slot);
    if (body.inline_callable) {
      body.fn(body.payload, 0);
    } else {
      void* context;
      std::uint64_t arg;
      std::memcpy(&context, body.payload, sizeof(context));
      std::memcpy(&arg, body.payload + 8, sizeof(arg));
      body.fn(context, arg);
    }
  }
  events_run_ += ran;
  return ran;
}

}  // namespace meshsim::engine
