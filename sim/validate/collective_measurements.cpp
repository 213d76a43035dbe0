#include "sim/validate/collective_measurements.hpp"

#include <cstdint>

#include "common/csv.hpp"
#include "common/error.hpp"

namespace meshsim::validate {
namespace {

// "[G,S]" with G, S whole decimal numbers (no sign, no leading zeros), S >= 2, G x S <= node.
void parse_groups(const CsvRow& row, int gpus_per_node, CollectiveMeasurement& m) {
  const std::string& text = row.text("groups");
  const std::string allowed =
      "[G,S]: G groups of S >= 2 consecutive GPUs, G x S <= " + std::to_string(gpus_per_node) +
      " (GPUs per node)";
  auto fail = [&](const std::string& problem) -> void {
    throw InputError({row.file(), row.where("groups"), "groups"}, problem, "'" + text + "'",
                     allowed);
  };
  const auto comma = text.find(',');
  if (text.size() < 5 || text.front() != '[' || text.back() != ']' || comma == std::string::npos) {
    fail("not of the form [G,S]");
  }
  auto number = [&](const std::string& part) -> std::int64_t {
    if (part.empty() || part.size() > 6 || (part.size() > 1 && part[0] == '0')) {
      fail("not of the form [G,S]");
    }
    std::int64_t value = 0;
    for (char c : part) {
      if (c < '0' || c > '9') {
        fail("not of the form [G,S]");
      }
      value = value * 10 + (c - '0');
    }
    return value;
  };
  const std::int64_t g = number(text.substr(1, comma - 1));
  const std::int64_t s = number(text.substr(comma + 1, text.size() - comma - 2));
  if (g < 1 || s < 2 || g * s > gpus_per_node) {
    fail("groups out of range");
  }
  m.group_count = static_cast<int>(g);
  m.group_size = static_cast<int>(s);
}

}  // namespace

std::vector<CollectiveMeasurement> load_collective_measurements(const std::string& path,
                                                                int gpus_per_node) {
  const CsvTable table = read_csv_file(path);
  check_csv_columns(table, {"collective", "groups", "tensor_size_bytes", "time_s"});
  if (table.rows.empty()) {
    throw InputError({path, "", "rows"}, "no measurements", "a header only",
                     "one row per measured collective");
  }
  std::vector<CollectiveMeasurement> out;
  for (std::size_t i = 0; i < table.rows.size(); ++i) {
    const CsvRow row(table, i);
    CollectiveMeasurement m;
    m.collective =
        row.one_of("collective", {"all-reduce", "all-gather", "reduce-scatter", "all-to-all"});
    m.op = collectives::parse_collective_op(m.collective);
    m.groups = row.text("groups");
    parse_groups(row, gpus_per_node, m);
    // 1 B .. 1 TiB per GPU.
    m.bytes = row.integer("tensor_size_bytes", 1, std::int64_t{1} << 40);
    m.time_s = row.number("time_s", 0.0);
    if (m.time_s > 3600) {
      throw InputError({path, row.where("time_s"), "time_s"}, "out of range", row.text("time_s"),
                       "a time in seconds, above 0 and at most 3600");
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace meshsim::validate
