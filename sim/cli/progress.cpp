#include "sim/cli/progress.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <cstdio>
#include <utility>

namespace meshsim::cli {

std::string duration_text(double seconds) {
  if (!(seconds >= 0))
    return "?";
  if (seconds < 90)
    return fmt::format("{:.0f} s", seconds);
  if (seconds < 5400)
    return fmt::format("{:.1f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

Progress::Progress(std::string verb, bool enabled, bool terminal, Sink sink, Clock clock,
                   double interval_s)
    : verb_(std::move(verb)),
      enabled_(enabled),
      terminal_(terminal),
      sink_(std::move(sink)),
      clock_(std::move(clock)),
      interval_s_(interval_s) {
  if (!sink_) {
    sink_ = [](const std::string& bytes) {
      std::fputs(bytes.c_str(), stderr);
      std::fflush(stderr);
    };
  }
  if (!clock_) {
    const auto start = std::chrono::steady_clock::now();
    clock_ = [start] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
  }
  phase_start_s_ = clock_();
}

std::shared_ptr<Progress> Progress::to_stderr(std::string verb, bool quiet) {
  return std::make_shared<Progress>(std::move(verb), !quiet, isatty(fileno(stderr)) != 0);
}

void Progress::emit(const std::string& line, bool force) {
  if (!pending_.empty()) {
    const std::string phase = std::move(pending_);
    pending_.clear();
    unconfirmed_ = false;  // work has reported: the phase has started
    emit(phase, true);
  }
  const double now = clock_();
  last_any_s_ = now;
  if (terminal_) {
    // In place; a forced line (a phase) is kept on its own line.
    sink_("\r" + verb_ + ": " + line + "   " + (force ? "\n" : ""));
    open_line_ = !force;
    return;
  }
  if (!force &&
      now - last_line_s_ < interval_s_ - 0.05)  // slack: heartbeats run on their own clock
    return;
  last_line_s_ = now;
  sink_(verb_ + ": " + line + "\n");
}

void Progress::phase(const std::string& text) {
  if (!enabled_)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  current_phase_ = text;
  phase_start_s_ = clock_();
  if (open_line_) {
    sink_("\n");
    open_line_ = false;
  }
  emit(text, true);
}

void Progress::pending_phase(const std::string& text) {
  if (!enabled_)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  current_phase_ = text;
  phase_start_s_ = clock_();
  pending_ = text;
  unconfirmed_ = true;
}

void Progress::confirm_pending() {
  if (!enabled_)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  unconfirmed_ = false;
}

void Progress::sweep(const sweep::SweepProgress& p) {
  if (!enabled_)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  const double per_sim = p.simulated > 0 ? p.elapsed_s / static_cast<double>(p.simulated) : -1;
  const std::string eta =
      per_sim < 0 ? std::string("ETA ?")
                  : "ETA " + duration_text(per_sim * static_cast<double>(p.remaining_simulations));
  emit(fmt::format("{}/{} candidates decided, {} simulated, about {} more to simulate, {} "
                   "elapsed, {}",
                   p.done, p.total, p.simulated, p.remaining_simulations,
                   duration_text(p.elapsed_s), eta),
       false);
}

void Progress::steps(const std::string& phase, std::int64_t done, std::int64_t total) {
  if (!enabled_)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  const double elapsed = clock_() - phase_start_s_;
  const std::string eta = done > 0 ? "ETA " + duration_text(elapsed / static_cast<double>(done) *
                                                            static_cast<double>(total - done))
                                   : std::string("ETA ?");
  emit(fmt::format("{}: {}/{} done, {} elapsed, {}", phase, done, total, duration_text(elapsed),
                   eta),
       false);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (open_line_) {
    sink_("\n");
    open_line_ = false;
  }
}

void Progress::still(const std::string& what, double elapsed_s) {
  if (!enabled_)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (clock_() - last_any_s_ < 0.9 * interval_s_)
    return;  // other updates are coming: a heartbeat only fills silences
  if (unconfirmed_)
    return;  // the phase may still fail on bad input (its message must stand alone)
  emit(fmt::format("{}: {} elapsed", what, duration_text(elapsed_s)), false);
}

Heartbeat::Heartbeat(std::shared_ptr<Progress> progress, std::string what)
    : progress_(std::move(progress)) {
  if (!progress_ || !progress_->enabled())
    return;
  thread_ = std::thread([this, what = std::move(what)] {
    const auto start = std::chrono::steady_clock::now();
    const auto interval = std::chrono::duration<double>(progress_->interval_s());
    std::unique_lock<std::mutex> lock(mutex_);
    for (int beat = 1;; ++beat) {
      const auto when =
          start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval * beat);
      if (stop_cv_.wait_until(lock, when, [this] { return stop_; }))
        return;
      lock.unlock();
      progress_->still(
          what, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      lock.lock();
    }
  });
}

Heartbeat::~Heartbeat() {
  if (!thread_.joinable())
    return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

}  // namespace meshsim::cli
