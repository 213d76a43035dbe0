#pragma once
// What changed between two saved meshsim outputs (`meshsim diff A.json B.json`, docs/whatif.md
// "diff"): every leaf that differs, numbers with their absolute and relative change, strings and
// other values as before/after, keys and array elements added or removed. Pure: text in, text out.
#include <optional>
#include <string>
#include <vector>

namespace meshsim::report {

enum class ChangeKind { Changed, Added, Removed };

struct JsonChange {
  std::string path;  // JSON pointer of the value, e.g. "/best_plan/step_time_s" ("" = the root)
  ChangeKind kind = ChangeKind::Changed;
  std::string before, after;  // the values as compact JSON text ("" when absent)
  // Both values numbers: after - before, and that over |before| (none when before is 0).
  std::optional<double> absolute, relative;
};

struct JsonDiff {
  std::string schema;               // the common schema
  std::vector<JsonChange> changes;  // in document order (keys sorted, elements by index)
  bool equal() const { return changes.empty(); }
};

// Compares two documents. Throws InputError naming the file when either is not JSON, has no
// "schema" string, or the schemas differ (both named).
JsonDiff diff_json(const std::string& before_text, const std::string& before_origin,
                   const std::string& after_text, const std::string& after_origin);

// One line per change ("~ /path: 1 -> 2 (+1, +100%)", "+ /path: v", "- /path: v"); nothing when
// equal.
std::string diff_text(const JsonDiff& diff);
// {"schema": "meshsim.diff/v1", "compared_schema", "equal", "changes": [...]}.
std::string diff_json_output(const JsonDiff& diff, const std::string& before_origin,
                             const std::string& after_origin);

}  // namespace meshsim::report
