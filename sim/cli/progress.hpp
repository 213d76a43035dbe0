#pragma once
// Progress of long work on standard error (docs/guide/README.md "Progress"): on a terminal one
// line rewritten in place; otherwise (a log, a pipe, CI) a full line every `interval_s` seconds
// and one at every phase change. Never on standard output; `--quiet` turns it off.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sim/sweep/sweep.hpp"

namespace meshsim::cli {

class Progress {
 public:
  using Clock = std::function<double()>;                 // seconds, monotonic
  using Sink = std::function<void(const std::string&)>;  // receives the bytes to write

  // `verb` prefixes every line ("sweep: ..."). Disabled: every call does nothing.
  Progress(std::string verb, bool enabled, bool terminal, Sink sink = {}, Clock clock = {},
           double interval_s = 5.0);
  // Standard error, terminal or not as isatty says, the steady clock.
  static std::shared_ptr<Progress> to_stderr(std::string verb, bool quiet);

  // A new phase starts: always one full line ("report: scaling curve: 0/7 ...").
  void phase(const std::string& text);
  // The same, written only with the next update of any kind (sweep, steps, still, phase): a
  // phase whose start may still fail on bad input, whose one-line message must stand alone.
  void pending_phase(const std::string& text);
  // The pending phase can no longer fail: heartbeats may speak (the phase line itself waits, as
  // before, for the next update).
  void confirm_pending();
  // The sweep's state: candidates decided, simulations run and the ETA from the simulations that
  // may still run (SweepProgress::remaining_simulations) at the rate measured so far.
  void sweep(const sweep::SweepProgress& p);
  // Steps of a phase after the sweep (the report's scaling points): "3/7 chip counts, ETA".
  void steps(const std::string& phase, std::int64_t done, std::int64_t total);
  // Ends an in-place terminal line (before the command prints its result).
  void finish();
  // "simulating one step on 1024 chips: 35 s elapsed" (a heartbeat of one long call).
  void still(const std::string& what, double elapsed_s);

  bool enabled() const { return enabled_; }
  double interval_s() const { return interval_s_; }

 private:
  void emit(const std::string& line, bool force);

  std::mutex mutex_;  // calls come from worker threads and heartbeats
  std::string verb_;
  bool enabled_;
  bool terminal_;
  Sink sink_;
  Clock clock_;
  double interval_s_;
  double last_line_s_ = -1e300;  // when the last full line (not a terminal) was written
  double last_any_s_ = -1e300;   // when anything was last written
  double phase_start_s_ = 0;
  bool open_line_ = false;  // a terminal line without its newline yet
  std::string current_phase_;
  std::string pending_;       // a phase line not written yet (pending_phase)
  bool unconfirmed_ = false;  // pending_phase not confirmed yet: heartbeats stay silent
};

// While alive, a thread reports `what` through Progress::still every interval (the first after
// one interval, so short calls print nothing): progress during one long call with no steps of its
// own (a run's single simulation, a report's largest scaling point).
class Heartbeat {
 public:
  Heartbeat(std::shared_ptr<Progress> progress, std::string what);
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

 private:
  std::shared_ptr<Progress> progress_;
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

// "12 s", "3.4 min", "2.1 h": an ETA or an elapsed time.
std::string duration_text(double seconds);

}  // namespace meshsim::cli
