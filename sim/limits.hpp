#pragma once
// Limits on what one meshsim command may simulate (issue 7 "Limits", docs/limits.md): a run that
// would exceed them stops with an InputError before anything big is built, instead of thrashing
// the machine. One header, so every verb (collective, run, compare, sweep) applies the same ones.
#include <cstdint>
#include <string>

#include "common/error.hpp"

namespace meshsim::limits {

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
// Memory per chip of a simulated machine (topology graph, link tables, routing tables, network
// state), an upper estimate from the measurements in docs/limits.md.
inline constexpr double kBytesPerSimulatedChip = 4096.0;

// Estimated peak memory of one simulation; refused above this. 8 GiB: fits the CI machine and a
// 16 GB laptop with room to spare, and admits the 8192-chip ring all-reduce (5.4 GB).
inline constexpr double kMaxSimulationMemoryBytes = 8.0 * 1024 * 1024 * 1024;

// Largest machine one command may simulate (chips or GPUs). Above every zoo profile (largest:
// 16384 GPUs) and the largest public GPU clusters (about 1e5 GPUs), far below the 1e7 a profile
// may declare; the topology alone would need kBytesPerSimulatedChip x chips.
inline constexpr std::int64_t kMaxSimulatedChips = 1 << 20;

// Upper bound of `collective --chunks`: 65536 pieces cut a 1 GiB buffer into 16 KiB messages,
// far into the latency-bound regime; more only multiplies the schedule.
inline constexpr std::int64_t kMaxCollectiveChunks = 1 << 16;

// Most engine events one training step may take (`run`, `compare`, `sweep`, `report`). ViT-22B on
// 4096 TPU v4 chips takes 53M events (17 s); 1e9 events is about 5 minutes of one core, beyond
// which a run is almost surely a mistake (an absurd microbatch or chip count).
inline constexpr double kMaxStepEvents = 1e9;

// Estimated peak memory of simulating `transfers` transfers on a machine of `chips` chips.
inline double estimated_simulation_memory_bytes(std::uint64_t transfers, std::int64_t chips) {
  return static_cast<double>(transfers) * kBytesPerScheduledTransfer +
         static_cast<double>(chips) * kBytesPerSimulatedChip;
}

// Throws InputError at `site` when the machine has more than kMaxSimulatedChips chips.
void check_simulated_chips(std::int64_t chips, const ErrorSite& site);

// Throws InputError at `site` when a schedule of `transfers` transfers (what: "ring all-reduce
// over 8192 chips, 64 chunks") exceeds kMaxScheduleTransfers or its estimated memory exceeds
// kMaxSimulationMemoryBytes. The message says which limit and how to get under it.
void check_schedule_size(std::uint64_t transfers, std::int64_t chips, const std::string& what,
                         const ErrorSite& site);

}  // namespace meshsim::limits
