#include "sim/validate/allreduce_busbw.hpp"

#include <algorithm>

#include "common/csv.hpp"
#include "common/error.hpp"

namespace meshsim::validate {

std::vector<BusbwMeasurement> load_allreduce_busbw(const std::string& path, int max_gpus) {
  const CsvTable table = read_csv_file(path);
  const bool by_gpus =
      std::find(table.header.begin(), table.header.end(), "gpus") != table.header.end();
  if (by_gpus) {
    check_csv_columns(table, {"gpus", "algorithm", "busbw_gb_per_s", "ring_busbw_gb_per_s"});
  } else {
    check_csv_columns(table, {"size_bytes", "busbw_gb_per_s"}, {"time_us"});
  }
  if (table.rows.empty()) {
    throw InputError({path, "", "rows"}, "no measurements", "a header only",
                     "one row per measured size or GPU count");
  }
  auto bandwidth = [&](const CsvRow& row, const std::string& column) {
    const double gb = row.number(column, 0.0);
    if (gb > 1e5) {
      throw InputError({path, row.where(column), column}, "out of range", row.text(column),
                       "a bus bandwidth in GB/s, above 0 and at most 100000");
    }
    return gb * 1e9;
  };
  std::vector<BusbwMeasurement> out;
  for (std::size_t i = 0; i < table.rows.size(); ++i) {
    const CsvRow row(table, i);
    BusbwMeasurement m;
    if (by_gpus) {
      m.gpus = static_cast<int>(row.integer("gpus", 2, max_gpus));
      m.algorithm = row.one_of("algorithm", {"ring", "nvls"});
      m.bytes = kGpuCountFileBytes;
      m.ring_busbw_bytes_per_s = bandwidth(row, "ring_busbw_gb_per_s");
    } else {
      m.bytes = row.integer("size_bytes", 1, std::int64_t{1} << 40);
      if (row.has("time_us")) {
        const double us = row.number("time_us", 0.0);
        if (us > 3.6e9) {
          throw InputError({path, row.where("time_us"), "time_us"}, "out of range",
                           row.text("time_us"), "a time in microseconds, above 0, at most 3.6e9");
        }
        m.time_s = us * 1e-6;
      }
    }
    m.busbw_bytes_per_s = bandwidth(row, "busbw_gb_per_s");
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace meshsim::validate
