#pragma once
// The discrete-event kernel (DESIGN §4, ns-3's Simulator::Schedule): one primitive, "call this at
// that time". Events are ordered by (time, insertion sequence), so equal-time events run in the
// order they were scheduled and two runs are identical. Knows nothing about networks or ML.
//
// Hot path (issue 15): the queue is a 4-ary min-heap of 16-byte keys, (time, sequence << 28 |
// slot), compared as one 128-bit number; a key's slot names the event's body (function pointer
// and 16 bytes of inline payload) in a slab that never moves bodies and reuses freed slots. Four
// children are one 64-byte cache line, sifting moves 16 bytes instead of 40, and nothing is
// allocated per event once the heap and slab have grown. The payload is either (context pointer,
// 64-bit argument) or a trivially copyable lambda of at most 16 bytes stored inline, never a
// std::function.
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
  void schedule_at(SimTime time, EventFn fn, void* context, std::uint64_t arg) {
    Body& body = new_body(time);
    body.fn = fn;
    body.inline_callable = false;
    std::memcpy(body.payload, &context, sizeof(context));
    std::memcpy(body.payload + 8, &arg, sizeof(arg));
  }
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
    Body& body = new_body(time);
    body.fn = [](void* storage, std::uint64_t) { (*static_cast<F*>(storage))(); };
    body.inline_callable = true;
    std::memcpy(body.payload, &callable, sizeof(F));
  }

  // Runs events until the queue is empty or the next one is later than `until`; returns how many
  // ran.
  std::uint64_t run(SimTime until = SimTime::max());
  bool empty() const { return heap_.empty(); }
  std::size_t pending() const { return heap_.size(); }
  std::uint64_t events_run() const { return events_run_; }
  void reserve(std::size_t events) {
    heap_.reserve(events);
    bodies_.reserve(events);
  }

 private:
  // Key: `order` = sequence << kSlotBits | slot. Sequences are unique, so comparing (time, order)
  // compares (time, sequence).
  struct Key {
    std::uint64_t time;  // SimTime in ps, never negative
    std::uint64_t order;
  };
  struct Body {
    EventFn fn;
    alignas(8) unsigned char payload[16];
    bool inline_callable;
  };
  static constexpr int kSlotBits = 28;  // up to 268M events pending at once
  static constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kSlotBits) - 1;
  static constexpr std::uint64_t kMaxSequence = std::uint64_t{1} << (64 - kSlotBits);
  __extension__ using Wide = unsigned __int128;  // GCC and Clang; one compare of (time, order)
  static Wide value(const Key& k) { return (static_cast<Wide>(k.time) << 64) | k.order; }
  static bool later(const Key& a, const Key& b) { return value(a) > value(b); }

  Body& new_body(SimTime time);
  void push(Key key);
  Key pop();
  void renumber();

  static constexpr std::size_t kArity = 4;
  std::vector<Key> heap_;  // 4-ary min-heap on (time, sequence)
  std::vector<Body> bodies_;
  std::vector<std::uint32_t> free_;  // slots of bodies_ no longer in use
  SimTime now_ = SimTime::zero();
  std::uint64_t next_sequence_ = 0;
  std::uint64_t events_run_ = 0;
};

}  // namespace meshsim::engine
