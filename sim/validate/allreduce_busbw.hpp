#pragma once
// Loader of nccl-tests all-reduce bus bandwidths (cuda_validation/published/nccl_allreduce_*.csv):
//  - by size: size_bytes, busbw_gb_per_s, optional time_us (nccl_allreduce_8xa100.csv,
//    nccl_allreduce_8xh200_nvls.csv); the GPU count comes from --gpus;
//  - by GPU count: gpus, algorithm (ring | nvls, what NCCL chose), busbw_gb_per_s,
//    ring_busbw_gb_per_s (NVLS disabled), 8 GiB per row (nccl_allreduce_h200_gpus_8gib.csv).
// busbw = algbw x 2(n-1)/n, algbw = bytes / time (nccl-tests). Strict: InputError names the file,
// line and column.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meshsim::validate {

// The per-GPU-count file's buffer: 8 GiB per row (SOURCES.md).
inline constexpr std::int64_t kGpuCountFileBytes = std::int64_t{8} << 30;

struct BusbwMeasurement {
  std::int64_t bytes = 0;
  std::optional<int> gpus;               // per-GPU-count file only
  std::optional<std::string> algorithm;  // per-GPU-count file: "ring" or "nvls"
  double busbw_bytes_per_s = 0;
  std::optional<double> ring_busbw_bytes_per_s;  // per-GPU-count file
  std::optional<double> time_s;                  // when the file has time_us
};

// `max_gpus` bounds the gpus column.
std::vector<BusbwMeasurement> load_allreduce_busbw(const std::string& path, int max_gpus);

}  // namespace meshsim::validate
