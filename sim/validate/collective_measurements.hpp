#pragma once
// Loader of measured collective timings in the format of cuda_validation/published/
// collectives_8xh100_xla.csv (OpenXLA's collective_perf_table_gen): columns collective, groups
// ("[G,S]": G groups of S consecutive GPUs of one node), tensor_size_bytes (output size for
// all-reduce, all-gather and all-to-all; input size for reduce-scatter: in each case the full
// buffer per GPU) and time_s (the whole compiled program). Strict: InputError names the file, line
// and column.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/collectives/schedule.hpp"

namespace meshsim::validate {

struct CollectiveMeasurement {
  collectives::CollectiveOp op = collectives::CollectiveOp::AllReduce;
  std::string collective;  // as written
  std::string groups;      // as written, "[1,8]"
  int group_count = 1;     // G
  int group_size = 2;      // S
  std::int64_t bytes = 0;  // tensor_size_bytes: the full buffer per GPU
  double time_s = 0;
};

// `gpus_per_node` bounds G x S (every group inside one node).
std::vector<CollectiveMeasurement> load_collective_measurements(const std::string& path,
                                                                int gpus_per_node);

}  // namespace meshsim::validate
