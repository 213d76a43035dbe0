#include "sim/sweep/distribution.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>

#include "common/error.hpp"

namespace meshsim::sweep {
namespace {

// K-th largest of `values` (K >= 1); -1 when fewer than K.
double kth_best(std::vector<double> values, std::int64_t k) {
  if (static_cast<std::int64_t>(values.size()) < k)
    return -1;
  std::nth_element(values.begin(), values.begin() + (k - 1), values.end(), std::greater<>());
  return values[static_cast<std::size_t>(k - 1)];
}

// The simulations still expected, for progress (docs/sweep.md "Progress"): every completed
// simulation's ratio of throughput to bound predicts the others from their bounds (the largest
// ratio seen: pruning is fast once plans that reach their bounds appear); the K-th best of the
// simulated and
// predicted throughputs is the predicted final pruning threshold, and the undecided positions
// whose bound reaches it are the work left. Before any simulation: the sweep's expected count.
std::int64_t expected_remaining(const std::vector<double>& bound,
                                const std::vector<std::pair<std::size_t, double>>& completed,
                                std::int64_t top, std::size_t from,
                                std::int64_t expected_simulations, std::int64_t simulated) {
  if (completed.empty() || bound.empty())
    return std::max<std::int64_t>(0, expected_simulations - simulated);
  std::vector<double> ratios, tps;
  for (const auto& [pos, t] : completed) {
    ratios.push_back(t / bound[pos]);
    tps.push_back(t);
  }
  const double ratio = *std::max_element(ratios.begin(), ratios.end());
  for (std::size_t i = from; i < bound.size(); ++i)
    tps.push_back(bound[i] * ratio);
  const double kth = kth_best(std::move(tps), top);
  std::int64_t left = 0;
  for (std::size_t i = from; i < bound.size(); ++i) {
    if (kth < 0 || bound[i] >= kth)
      ++left;
  }
  return left;
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0')
    return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < 0 || n > 1'000'000'000)
    return fallback;
  return static_cast<int>(n);
}

}  // namespace

Dispatcher::Dispatcher(const WorkItems& items) : items_(items) {
  evaluation_.items.resize(items.count);
}

std::optional<std::size_t> Dispatcher::next() {
  std::lock_guard<std::mutex> lock(mutex_);
  while (!stop_ && next_ < items_.count) {
    const std::size_t pos = next_++;
    // A position is skipped when its bound is below the K-th best among the completed
    // simulations before it: those include candidates the final rule prunes, but each of them
    // is below the K-th best accepted before it, so this never skips what the rule keeps
    // (docs/sweep.md "Threads").
    if (!items_.bound.empty()) {
      std::vector<double> earlier;
      for (const auto& [p, tps] : completed_) {
        if (p < pos)
          earlier.push_back(tps);
      }
      const double kth = kth_best(std::move(earlier), items_.top);
      if (kth >= 0 && items_.bound[pos] < kth) {
        ++done_;
        report_progress();
        continue;
      }
    }
    if (items_.max_seconds > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - items_.start).count() >
            items_.max_seconds) {
      evaluation_.out_of_time = true;  // start nothing new
      stop_ = true;
      return std::nullopt;
    }
    ++running_;
    return pos;
  }
  return std::nullopt;
}

void Dispatcher::complete(std::size_t position, ItemOutcome outcome) {
  std::lock_guard<std::mutex> lock(mutex_);
  --running_;
  if (outcome.state == ItemOutcome::State::Done) {
    completed_.emplace_back(position, outcome.result.tokens_per_s);
    ++simulated_;
  } else if (outcome.state == ItemOutcome::State::Failed && items_.stop_on_failure) {
    stop_ = true;  // the command fails: start nothing new
  }
  evaluation_.items[position] = std::move(outcome);
  ++done_;
  report_progress();
}

void Dispatcher::report_progress() {
  if (!items_.progress)
    return;
  SweepProgress p;
  p.done = done_;
  p.total = static_cast<std::int64_t>(items_.count);
  p.simulated = simulated_;
  p.remaining_simulations =
      expected_remaining(items_.bound, completed_, items_.top, std::min(next_, items_.count),
                         items_.expected_simulations, simulated_) +
      running_;  // in flight on threads (and ranks)
  p.elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - items_.start).count();
  items_.progress(p);
}

Evaluation Dispatcher::take() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::move(evaluation_);
}

Evaluation evaluate_locally(const WorkItems& items) {
  Dispatcher dispatcher(items);
  auto worker = [&] {
    while (const auto pos = dispatcher.next())
      dispatcher.complete(*pos, run_item(items, *pos));
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < std::max(1, items.threads); ++i)
    pool.emplace_back(worker);
  worker();
  for (auto& th : pool)
    th.join();
  return dispatcher.take();
}

int LocalDistribution::conclude(int code, const std::string& message) {
  if (!message.empty())
    std::fprintf(stderr, "%s\n", message.c_str());
  return code;
}

Launch mpi_launch() {
  Launch l;
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(name) != nullptr)
      l.by_mpi = true;
  }
  // OpenMPI's mpirun, then PMI (MPICH, srun --mpi=pmi2), then PMIx (srun --mpi=pmix).
  const int size = env_int("OMPI_COMM_WORLD_SIZE", env_int("PMI_SIZE", 1));
  const int rank = env_int("OMPI_COMM_WORLD_RANK", env_int("PMI_RANK", env_int("PMIX_RANK", 0)));
  if (size >= 1 && rank < size) {
    l.rank = rank;
    l.size = size;
  }
  return l;
}

ItemOutcome run_item(const WorkItems& items, std::size_t pos) {
  ItemOutcome outcome;
  try {
    outcome.result = items.simulate(pos);
    outcome.state = ItemOutcome::State::Done;
  } catch (const InputError&) {
    outcome.state = ItemOutcome::State::Refused;
    outcome.error = std::current_exception();
  } catch (...) {
    outcome.state = ItemOutcome::State::Failed;
    outcome.error = std::current_exception();
  }
  return outcome;
}

}  // namespace meshsim::sweep
