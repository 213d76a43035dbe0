#pragma once
// Where a sweep's simulations run (docs/sweep.md "Across machines (MPI)"): on this process's
// threads, or split across the ranks of an MPI job. The sweep and the capacity report hand a list
// of work items to a Distribution and get every item's outcome back; how the items travel is the
// distribution's business (sim/sweep/mpi_distribution.cpp). Every rank of an MPI job runs the same
// command on the same inputs (SPMD): the items, and what the command does with their outcomes, are
// the same on every rank, so only the simulations are divided and only rank 0 writes.
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/execution/step.hpp"
#include "sim/sweep/sweep.hpp"

namespace meshsim::sweep {

// A list of simulations, identified by position 0..count-1.
struct WorkItems {
  std::size_t count = 0;
  // Simulates item i (trace empty). Deterministic and the same on every rank; may throw (the
  // exception becomes the item's outcome).
  std::function<execution::StepResult(std::size_t)> simulate;
  // Pruning (docs/sweep.md "Pruning"), optional: item i is skipped when `bound[i]` is below the
  // `top`-th best tokens/s among the items at positions < i simulated so far. Empty: no pruning.
  std::vector<double> bound;
  std::int64_t top = 0;
  // The sweep's expected simulations (its work bound): the progress estimate before the first
  // result (SweepProgress::remaining_simulations).
  std::int64_t expected_simulations = 0;
  int threads = 1;  // simulation threads of this process
  // A failed item stops the hand-out (the command fails); false: every item runs regardless.
  bool stop_on_failure = true;
  // Past `max_seconds` of wall time since `start` no new simulation starts (0: no limit).
  double max_seconds = 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  // Called (serialized) after each item decided, on the process that writes; may be empty.
  std::function<void(const SweepProgress&)> progress;
  // Identifies the items (e.g. one plan summary each): ranks that disagree on it were given
  // different inputs, which is refused rather than merged.
  std::vector<std::string> labels;
};

struct ItemOutcome {
  // Refused: the step simulator refused the plan with an InputError (beyond a per-step limit);
  // the sweep rejects that candidate and goes on. Failed: any other error; the command fails.
  enum class State { NotRun, Done, Failed, Refused };
  State state = State::NotRun;   // NotRun: pruned, or never started (time out, a failure)
  execution::StepResult result;  // Done
  std::exception_ptr error;      // Failed, Refused (an InputError)
};

// Simulates item `pos` and sorts the outcome into Done, Refused (an InputError) or Failed: the
// one place where a thread worker and an MPI rank turn an item into its outcome.
ItemOutcome run_item(const WorkItems& items, std::size_t pos);

struct Evaluation {
  std::vector<ItemOutcome> items;  // one per position
  bool out_of_time = false;        // max_seconds stopped the hand-out
};

// Hands out positions in order, pruning as it goes; thread-safe. One per evaluation, on the
// process that decides (rank 0 under MPI).
class Dispatcher {
 public:
  explicit Dispatcher(const WorkItems& items);
  // The next position to simulate; nullopt when none is left (all handed out, out of time, or an
  // item failed).
  std::optional<std::size_t> next();
  // Records the outcome of a position that next() handed out.
  void complete(std::size_t position, ItemOutcome outcome);
  // The outcomes, once every handed-out position is complete.
  Evaluation take();

 private:
  void report_progress();  // with mutex_ held
  const WorkItems& items_;
  std::mutex mutex_;
  std::size_t next_ = 0;
  bool stop_ = false;
  std::vector<std::pair<std::size_t, double>> completed_;  // (position, tokens/s)
  Evaluation evaluation_;
  std::int64_t done_ = 0, simulated_ = 0;
  std::int64_t running_ = 0;  // handed out, not complete (progress only)
};

// The items on `items.threads` threads of this process.
Evaluation evaluate_locally(const WorkItems& items);

// The processes a command runs on: this one alone, or the ranks of an MPI job.
class Distribution {
 public:
  virtual ~Distribution() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool is_root() const { return rank() == 0; }
  // Every item's outcome, the same on every rank. Collective: every rank calls it with the same
  // items; a rank that failed before reaching it makes it throw (on every rank).
  virtual Evaluation evaluate(const WorkItems& items) = 0;
  // Ends the command: every rank passes its exit code and its one-line message (empty when none).
  // The ranks agree on the first failing rank's code; rank 0 prints that rank's message to
  // stderr. Returns the agreed exit code. Called once, last.
  virtual int conclude(int code, const std::string& message) = 0;
};

// This process alone: threads only.
class LocalDistribution final : public Distribution {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  Evaluation evaluate(const WorkItems& items) override { return evaluate_locally(items); }
  int conclude(int code, const std::string& message) override;
};

// The distribution of this process: the MPI job when started by an MPI launcher (mpirun, srun)
// and built with MPI (CMake option MESHSIM_MPI), else this process alone. May consume MPI's own
// arguments from argc/argv.
std::unique_ptr<Distribution> start_distribution(int* argc, char*** argv);

// True when an MPI launcher started this process (its environment names a rank: OpenMPI's
// mpirun, PMIx, PMI); then rank and size are what it says ({0, 1} where it does not say).
struct Launch {
  bool by_mpi = false;
  int rank = 0, size = 1;
};
Launch mpi_launch();

}  // namespace meshsim::sweep
