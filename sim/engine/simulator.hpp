#pragma once
// The discrete-event kernel (DESIGN §4, ns-3's Simulator::Schedule): one primitive, "call this at
// that time". Events are ordered by (time, insertion sequence), so equal-time events run in the
// order they were scheduled and two runs are identical. Knows nothing about networks or ML.
//
// Hot path: an event is a 40-byte plain struct (time, sequence, a function pointer and 16 bytes of
// inline payload) in one contiguous 4-ary heap; scheduling never allocates once the heap has
// grown. The payload is either (context pointer, 64-bit argument) or a trivially copyable lambda of
// at most 16 bytes stored inline (a small-buffer callable), never a std::function.
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "sim/engine/sim_time.hpp"

namespace meshsim::engine {

// What an event runs: fn(context, arg).
using EventFn = void (*)(void* context, std::uint64_t arg);

class Simulator {
 public:
  SimTime now() const { return now_; }

  // The core primitive. `time` must not be in the past (checked: throws std::logic_error).
  void schedule_at(SimTime time, EventFn fn, void* context, std::uint64_t arg);
  void schedule_after(SimTime delay, EventFn fn, void* context, std::uint64_t arg) {
    schedule_at(now_ + delay, fn, context, arg);
  }

  // Calls object->Method(arg) at `time`.
  template <auto Method, class T>
  void schedule_member_at(SimTime time, T* object, std::uint64_t arg) {
    schedule_at(
        time, [](void* context, std::uint64_t a) { (static_cast<T*>(context)->*Method)(a); },
        object, arg);
  }

  // Calls `callable()` at `time`. The callable is stored inline, so it must be trivially copyable
  // and at most 16 bytes (capture a pointer or two, not containers).
  template <class F>
  requires(!std::is_convertible_v<F, EventFn>) void schedule_at(SimTime time, F callable) {
    static_assert(
        std::is_trivially_copyable_v<F> && sizeof(F) <= 16 && alignof(F) <= 8,
        "event callables are stored inline: capture at most 16 bytes, trivially copyable");
    Event event{time, 0, [](void* storage, std::uint64_t) { (*static_cast<F*>(storage))(); }, {}};
    std::memcpy(event.payload, &callable, sizeof(F));
    push(event, true);
  }

  // Runs events until the queue is empty or the next one is later than `until`; returns how many
  // ran.
  std::uint64_t run(SimTime until = SimTime::max());
  bool empty() const { return heap_.empty(); }
  std::size_t pending() const { return heap_.size(); }
  std::uint64_t events_run() const { return events_run_; }
  void reserve(std::size_t events) { heap_.reserve(events); }

 private:
  struct Event {
    SimTime time;
    std::uint64_t sequence;  // (insertion counter << 1) | 1 when the payload is an inline callable
    EventFn fn;
    // Either {void* context, uint64 arg} or an inline callable (then fn gets its address).
    alignas(8) unsigned char payload[16];
  };
  static bool later(const Event& a, const Event& b) {
    return a.time != b.time ? a.time > b.time : a.sequence > b.sequence;
  }
  void push(Event event, bool inline_callable);
  Event pop();

  static constexpr std::size_t kArity = 4;
  std::vector<Event> heap_;  // 4-ary min-heap on (time, sequence)
  SimTime now_ = SimTime::zero();
  std::uint64_t next_sequence_ = 0;
  std::uint64_t events_run_ = 0;
};

}  // namespace meshsim::engine
