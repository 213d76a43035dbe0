#pragma once
// A FIFO serial resource: one user at a time, served in request order (a link direction, a DMA
// engine, a compute stream). Because the engine processes requests in time order, FIFO service
// reduces to one number, the time the resource next becomes free: a request ready at `ready` for
// `duration` starts at max(ready, free) and pushes `free` to its end. O(1), no queue, no events.
#include <cstdint>

#include "sim/engine/sim_time.hpp"

namespace meshsim::engine {

class SerialResource {
 public:
  struct Interval {
    SimTime start, end;
  };
  // Reserves the resource for `duration` starting no earlier than `ready`.
  Interval acquire(SimTime ready, SimTime duration) {
    const SimTime start = max(ready, free_at_);
    free_at_ = start + duration;
    busy_ += duration;
    return {start, free_at_};
  }
  SimTime free_at() const { return free_at_; }
  SimTime busy_time() const { return busy_; }  // total time reserved, for utilization

 private:
  SimTime free_at_ = SimTime::zero();
  SimTime busy_ = SimTime::zero();
};

}  // namespace meshsim::engine
