#include "sim/engine/simulator.hpp"

#include <stdexcept>

namespace meshsim::engine {

void Simulator::schedule_at(SimTime time, EventFn fn, void* context, std::uint64_t arg) {
  Event event{time, 0, fn, {}};
  std::memcpy(event.payload, &context, sizeof(context));
  std::memcpy(event.payload + 8, &arg, sizeof(arg));
  push(event, false);
}

void Simulator::push(Event event, bool inline_callable) {
  if (event.time < now_) {
    throw std::logic_error("Simulator: event scheduled in the past");
  }
  event.sequence = (next_sequence_++ << 1) | (inline_callable ? 1u : 0u);
  // Sift up with a hole instead of swaps.
  std::size_t hole = heap_.size();
  heap_.push_back(event);
  Event* heap = heap_.data();
  while (hole > 0) {
    const std::size_t parent = (hole - 1) / kArity;
    if (!later(heap[parent], event)) {
      break;
    }
    heap[hole] = heap[parent];
    hole = parent;
  }
  heap[hole] = event;
}

Simulator::Event Simulator::pop() {
  Event* heap = heap_.data();
  const Event top = heap[0];
  const Event last = heap[heap_.size() - 1];
  heap_.pop_back();
  const std::size_t size = heap_.size();
  if (size > 0) {
    // Sift the former last element down from the root: pick the earliest of up to kArity
    // children (a 4-ary heap halves the depth of a binary one; children share a cache line or two).
    std::size_t hole = 0;
    for (;;) {
      const std::size_t first = kArity * hole + 1;
      if (first >= size) {
        break;
      }
      std::size_t child = first;
      const std::size_t end = first + kArity < size ? first + kArity : size;
      for (std::size_t c = first + 1; c < end; ++c) {
        if (later(heap[child], heap[c])) {
          child = c;
        }
      }
      if (!later(last, heap[child])) {
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
  while (!heap_.empty() && heap_.front().time <= until) {
    Event event = pop();
    now_ = event.time;
    ++ran;
    if (event.sequence & 1u) {
      event.fn(event.payload, 0);
    } else {
      void* context;
      std::uint64_t arg;
      std::memcpy(&context, event.payload, sizeof(context));
      std::memcpy(&arg, event.payload + 8, sizeof(arg));
      event.fn(context, arg);
    }
  }
  events_run_ += ran;
  return ran;
}

}  // namespace meshsim::engine
