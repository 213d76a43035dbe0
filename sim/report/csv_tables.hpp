#pragma once
// CSV tables (issue 16, item 8; `--csv FILE` on run, sweep and report): one row per element of an
// array of objects in a meshsim JSON document (run's per-linear table, the sweep's plans, the
// report's scaling points). Made from the JSON document itself, so every cell is the JSON's value
// written the same way: numbers as JSON writes them (they read back exactly), booleans true/false,
// null as an empty cell, nested objects flattened with '.' (memory.fits), arrays left out.
// RFC 4180 quoting; reads back with common/csv.hpp. docs/report.md "CSV".
#include <string>
#include <vector>

namespace meshsim::report {

// The CSV of the array at JSON pointer `rows` (e.g. "/scaling/points") of `json_text`. Columns:
// `leading` first (always present, even with no rows), then the other keys in sorted order; a
// row without a column has an empty cell.
std::string json_rows_csv(const std::string& json_text, const std::string& rows,
                          const std::vector<std::string>& leading);

// The three tables, with their leading columns.
std::string run_linears_csv(const std::string& run_json);
std::string sweep_plans_csv(const std::string& sweep_json);
std::string scaling_points_csv(const std::string& report_json);

}  // namespace meshsim::report
