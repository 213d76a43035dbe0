// CSV tables from meshsim JSON documents (sim/report/csv_tables.hpp).
#include "sim/report/csv_tables.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/json_fields.hpp"

namespace meshsim::report {
namespace {

using json = nlohmann::json;

// Scalar leaves of `value`, keyed by their dotted path; arrays are left out.
void flatten(const json& value, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object())
      flatten(*it, key, out);
    else if (it->is_string())
      out[key] = it->get<std::string>();
    else if (it->is_null())
      out[key] = "";
    else if (!it->is_array())
      out[key] = it->dump();
  }
}

std::string csv_cell(const std::string& cell) {
  if (cell.find_first_of(",\"\n\r") == std::string::npos)
    return cell;
  std::string out = "\"";
  for (const char c : cell) {
    out += c;
    if (c == '"')
      out += '"';
  }
  return out + "\"";
}

}  // namespace

std::string json_rows_csv(const std::string& json_text, const std::string& rows,
                          const std::vector<std::string>& leading) {
  const json doc = parse_json_text(json_text, "the JSON document");
  const json& list = doc.at(json::json_pointer(rows));
  std::vector<std::map<std::string, std::string>> flat;
  std::set<std::string> others;
  for (const json& row : list) {
    flat.emplace_back();
    flatten(row, "", flat.back());
    for (const auto& [key, cell] : flat.back()) {
      if (std::find(leading.begin(), leading.end(), key) == leading.end())
        others.insert(key);
    }
  }
  std::vector<std::string> columns = leading;
  columns.insert(columns.end(), others.begin(), others.end());
  std::string out;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (c > 0)
      out += ',';
    out += csv_cell(columns[c]);
  }
  out += "\n";
  for (const auto& row : flat) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const auto it = row.find(columns[c]);
      if (c > 0)
        out += ',';
      if (it != row.end())
        out += csv_cell(it->second);
    }
    out += "\n";
  }
  return out;
}

std::string run_linears_csv(const std::string& run_json) {
  return json_rows_csv(run_json, "/linears",
                       {"name", "sharding", "communicates", "compute_s", "comm_s", "exposed_s"});
}

std::string sweep_plans_csv(const std::string& sweep_json) {
  return json_rows_csv(sweep_json, "/plans",
                       {"rank", "mesh", "remat", "microbatches", "step_time_s", "tokens_per_s"});
}

std::string scaling_points_csv(const std::string& report_json) {
  return json_rows_csv(report_json, "/scaling/points",
                       {"chips", "simulated", "mesh", "step_time_s", "time_to_train_days",
                        "cost_usd", "tokens_per_s", "efficiency"});
}

}  // namespace meshsim::report
