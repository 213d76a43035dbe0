#pragma once
// Limits on what one meshsim command may simulate (issue 7 "Limits", docs/limits.md): a run that
// would exceed them stops with an InputError before anything big is built, instead of thrashing
// the machine. One header, so every verb (collective, run, compare, sweep) applies the same ones.
#include <cmath>
#include <cstdint>
#include <string>

#include "common/error.hpp"

namespace meshsim::limits {

// A limit as its messages write it: 2e9, 5e11 (a whole mantissa times a power of ten).
inline std::string limit_text(double limit) {
  const int exponent = static_cast<int>(std::floor(std::log10(limit)));
  const auto mantissa = static_cast<long long>(std::llround(limit / std::pow(10.0, exponent)));
  return std::to_string(mantissa) + "e" + std::to_string(exponent);
}

// Largest schedule of point-to-point transfers one collective may build. The 8192-chip
// unidirectional ring all-reduce (2 (p-1) p = 134,201,344 transfers) is the largest case the
// benchmarks use and must pass; 2e8 leaves room for a v5p-pod-sized ring (8960 chips: 160.5M) while
// staying far below the 2^32 transfer indices a Schedule can address.
inline constexpr std::uint64_t kMaxScheduleTransfers = 200'000'000;

// Memory that one scheduled transfer costs while it is simulated: the Schedule (Transfer 16 B,
// dependency offset 4 B, one dependency 4 B) plus the executor's tables (waiting count, reverse
// offsets, reverse dependencies, fill cursor: 4 x 4 B) = 40 B, measured at 40.1 B per transfer on
// the 8192-chip ring all-reduce (peak RSS 5.4 GB for 134M transfers, docs/limits.md).
inline constexpr double kBytesPerScheduledTransfer = 40.0;
// Memory of a transfer in flight at once with the others (the direct all-to-all issues all of them
// at the start): its arrival event waits in the engine's queue, 32 B in a radix-heap bucket, a
// vector that grows by doubling and whose events move to lower buckets when it is refilled (both
// held for the move). Measured with the radix heap (2026-11-30, TPU v4, 64 MiB, peak RSS): groups
// 256, 512, 1024 and 2048 peak at 13.3, 32.3, 113.9 and 363.9 MB for 0.07M, 0.26M, 1.05M and
// 4.19M transfers: 79.5-102.5 B per added transfer (75-80 B with the earlier binary heap); 40 + 72
// = 112 B keeps a 10% margin over the largest.
inline constexpr double kBytesPerConcurrentTransfer = 72.0;
// The process itself (binary, libraries, allocator arenas, a profile and its topology tables at
// small sizes): 5.4 MB measured for an 8-chip collective; 32 MiB bounds it with room to spare.
inline constexpr double kBaseProcessBytes = 32.0 * 1024 * 1024;
// Memory per chip of a simulated machine (topology graph, link tables, routing tables, network
// state), an upper estimate from the measurements in docs/limits.md.
inline constexpr double kBytesPerSimulatedChip = 4096.0;

// Estimated peak memory of one simulation; refused above this. 8 GiB: fits the CI machine and a
// 16 GB laptop with room to spare, and admits the 8192-chip ring all-reduce (5.4 GB).
inline constexpr double kMaxSimulationMemoryBytes = 8.0 * 1024 * 1024 * 1024;

// Largest machine one command may simulate (chips or GPUs). Above every zoo profile (largest:
// 114,688 GPUs) and the largest public GPU clusters (about 1e5 GPUs), far below the 1e7 a profile
// may declare; the topology alone would need kBytesPerSimulatedChip x chips.
inline constexpr std::int64_t kMaxSimulatedChips = 1 << 20;

// Upper bound of `collective --chunks`: 65536 pieces cut a 1 GiB buffer into 16 KiB messages,
// far into the latency-bound regime; more only multiplies the schedule.
inline constexpr std::int64_t kMaxCollectiveChunks = 1 << 16;

// Largest global batch (images) and microbatch count of a plan (`--batch`, `--microbatches`,
// plan files, sweep ranges): 2^40 images is 10^4 times the largest published batch (ViT-22B:
// 65536), 2^20 microbatches one image each at that batch on 2^20 replicas.
inline constexpr std::int64_t kMaxGlobalBatch = std::int64_t{1} << 40;
inline constexpr std::int64_t kMaxMicrobatches = std::int64_t{1} << 20;

// Most engine events one training step may take (`run`, `compare`, `sweep`, `report`). A step runs
// 12-17 M events per second of one core (measured, issue 15: ViT-22B 4096x4 on 16,384 H100, 19.1 M
// events in 1.1 s user; GPT-3 175B on 1024 A100, 17.2 M in 1.4 s), so 2e9 events is under 3
// minutes: 16 microbatches on 16,384 GPUs take 0.15-0.3e9; beyond it a run is almost surely a
// mistake (an absurd microbatch or chip count).
inline constexpr double kMaxStepEvents = 2e9;

// Longest time one simulation may reach: SimTime counts picoseconds in a signed 64-bit integer
// (sim/engine/sim_time.hpp), so 2^63 ps = 9.22e6 s, about 106.7 days. Inputs whose proven lower
// bound passes it are refused up front; a simulation that passes it anyway stops with an
// InputError naming its inputs (never wraps around into the past).
inline constexpr double kMaxSimulatedSeconds = 9223372036854775807e-12;

// Throws InputError at `site` when `lower_bound_s` (a proven lower bound on the simulated time of
// `what`, e.g. "the all-reduce") exceeds kMaxSimulatedSeconds; `change` says what to change.
void check_simulated_time(double lower_bound_s, const std::string& what, const std::string& found,
                          const std::string& change, const ErrorSite& site);

// The InputError for a simulation that passed kMaxSimulatedSeconds (engine::SimTimeOverflow).
InputError simulated_time_overflow(const std::string& what, const std::string& found,
                                   const std::string& change, const ErrorSite& site);

// Most instructions one training step's program may hold (one program is shared by every chip,
// 56 B per instruction; at 9.4e6 instructions `run` peaks at 792 MB and takes 4 s). ViT-22B needs
// 720 per microbatch (46,000 at 64); the bound refuses absurd microbatch counts (2^20
// microbatches: 7.5e8 instructions, which took 6.3 GB and 61 s before) before the program is
// built (issue 17 item 8).
inline constexpr double kMaxProgramInstructions = 1e7;

// Most engine events one sweep (or report) may expect to simulate (the estimates of the
// candidates pruning may not remove, see kSweepBoundSlack), unless a wall-clock budget (`sweep
// --max-seconds`) bounds it: about 9 hours of one core. At the 12-17e6 events per second per core
// a step runs at (issue 15, 2-core machine: ViT-22B 4096x4 on 16,384 H100, 19.1 M events in 1.1 s
// user; GPT-3 175B on 1024 A100, 17.2 M events in 1.4 s user) that is about 5e11 events (1e11 at
// the 3e6 events/s measured when this limit was set).
inline constexpr double kMaxSweepEvents = 5e11;
// How far above its proven lower bound a simulated step is assumed to stay when the sweep's work
// is estimated: candidates whose bound is below 1/2 of the K-th best bound are expected pruned.
inline constexpr double kSweepBoundSlack = 2.0;

// Estimated peak memory (an upper bound, tests/sim/limits_memory_test.cpp) of simulating
// `transfers` transfers on a machine of `chips` chips, `concurrent` of them in flight at once.
inline double estimated_simulation_memory_bytes(std::uint64_t transfers, std::int64_t chips,
                                                std::uint64_t concurrent = 0) {
  return kBaseProcessBytes + static_cast<double>(transfers) * kBytesPerScheduledTransfer +
         static_cast<double>(concurrent) * kBytesPerConcurrentTransfer +
         static_cast<double>(chips) * kBytesPerSimulatedChip;
}

// Throws InputError at `site` when the machine has more than kMaxSimulatedChips chips.
void check_simulated_chips(std::int64_t chips, const ErrorSite& site);

// Throws InputError at `site` when a schedule of `transfers` transfers (what: "ring all-reduce
// over 8192 chips, 64 chunks") exceeds kMaxScheduleTransfers or its estimated memory exceeds
// kMaxSimulationMemoryBytes. The message says which limit and how to get under it.
// `concurrent`: transfers in flight at once (all of them for a schedule without dependencies).
void check_schedule_size(std::uint64_t transfers, std::int64_t chips, const std::string& what,
                         const ErrorSite& site, std::uint64_t concurrent = 0);

}  // namespace meshsim::limits
