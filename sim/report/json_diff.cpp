// `meshsim diff`: see json_diff.hpp.
#include "sim/report/json_diff.hpp"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/json_text.hpp"
#include "common/version.hpp"

namespace meshsim::report {
namespace {

using json = nlohmann::json;

// A JSON pointer reference token (RFC 6901: '~' -> "~0", '/' -> "~1").
std::string token(const std::string& key) {
  std::string out;
  for (const char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string compact(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void walk(const json& a, const json& b, const std::string& path, std::vector<JsonChange>& out) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    if (x == y)
      return;
    JsonChange c;
    c.path = path;
    c.before = compact(a);
    c.after = compact(b);
    c.absolute = y - x;
    if (x != 0)
      c.relative = (y - x) / std::fabs(x);
    out.push_back(c);
    return;
  }
  if (a.is_object() && b.is_object()) {
    // Keys in sorted order (nlohmann's objects are sorted maps): a merge of the two key lists.
    auto ia = a.begin(), ib = b.begin();
    while (ia != a.end() || ib != b.end()) {
      if (ib == b.end() || (ia != a.end() && ia.key() < ib.key())) {
        out.push_back({path + "/" + token(ia.key()), ChangeKind::Removed, compact(ia.value()), "",
                       std::nullopt, std::nullopt});
        ++ia;
      } else if (ia == a.end() || ib.key() < ia.key()) {
        out.push_back({path + "/" + token(ib.key()), ChangeKind::Added, "", compact(ib.value()),
                       std::nullopt, std::nullopt});
        ++ib;
      } else {
        walk(ia.value(), ib.value(), path + "/" + token(ia.key()), out);
        ++ia;
        ++ib;
      }
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    const std::size_t n = std::max(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
      const std::string p = path + "/" + std::to_string(i);
      if (i >= b.size())
        out.push_back({p, ChangeKind::Removed, compact(a[i]), "", std::nullopt, std::nullopt});
      else if (i >= a.size())
        out.push_back({p, ChangeKind::Added, "", compact(b[i]), std::nullopt, std::nullopt});
      else
        walk(a[i], b[i], p, out);
    }
    return;
  }
  if (a != b)
    out.push_back({path, ChangeKind::Changed, compact(a), compact(b), std::nullopt, std::nullopt});
}

std::string schema_of(const json& doc, const std::string& origin) {
  if (!doc.is_object() || !doc.contains("schema") || !doc.at("schema").is_string()) {
    throw InputError({origin, "/schema", "schema"}, "not a meshsim output (no schema field)", "",
                     "a saved JSON of meshsim run, compare, sweep, report, collective, ...");
  }
  return doc.at("schema").get<std::string>();
}

// Long values are cut in the text (the JSON output has them whole).
std::string shown(const std::string& value) {
  constexpr std::size_t kMax = 100;
  if (value.size() <= kMax)
    return value;
  return value.substr(0, kMax) + fmt::format("... ({} characters)", value.size());
}

}  // namespace

JsonDiff diff_json(const std::string& before_text, const std::string& before_origin,
                   const std::string& after_text, const std::string& after_origin) {
  const json a = parse_json_text(before_text, before_origin);
  const json b = parse_json_text(after_text, after_origin);
  const std::string sa = schema_of(a, before_origin), sb = schema_of(b, after_origin);
  if (sa != sb) {
    throw InputError({after_origin, "/schema", "schema"},
                     "the two outputs have different schemas and cannot be compared",
                     "\"" + sb + "\" (" + before_origin + ": \"" + sa + "\")",
                     "two outputs of the same schema");
  }
  JsonDiff d;
  d.schema = sa;
  walk(a, b, "", d.changes);
  return d;
}

std::string diff_text(const JsonDiff& diff) {
  std::string out;
  for (const auto& c : diff.changes) {
    switch (c.kind) {
      case ChangeKind::Added:
        out += fmt::format("+ {}: {}\n", c.path, shown(c.after));
        break;
      case ChangeKind::Removed:
        out += fmt::format("- {}: {}\n", c.path, shown(c.before));
        break;
      case ChangeKind::Changed:
        out += fmt::format("~ {}: {} -> {}", c.path, shown(c.before), shown(c.after));
        if (c.absolute) {
          out += fmt::format(" ({:+.6g}", *c.absolute);
          if (c.relative)
            out += fmt::format(", {:+.4g}%", 100 * *c.relative);
          out += ")";
        }
        out += "\n";
        break;
    }
  }
  return out;
}

std::string diff_json_output(const JsonDiff& diff, const std::string& before_origin,
                             const std::string& after_origin) {
  json j;
  j["schema"] = "meshsim.diff/v1";
  j["version"] = kVersion;
  j["compared_schema"] = diff.schema;
  j["before"] = before_origin;
  j["after"] = after_origin;
  j["equal"] = diff.equal();
  json changes = json::array();
  for (const auto& c : diff.changes) {
    json e;
    e["path"] = c.path;
    e["change"] = c.kind == ChangeKind::Added     ? "added"
                  : c.kind == ChangeKind::Removed ? "removed"
                                                  : "changed";
    e["before"] = c.kind == ChangeKind::Added ? json() : json::parse(c.before);
    e["after"] = c.kind == ChangeKind::Removed ? json() : json::parse(c.after);
    e["absolute_change"] = c.absolute ? json(*c.absolute) : json();
    e["relative_change"] = c.relative ? json(*c.relative) : json();
    changes.push_back(e);
  }
  j["changes"] = changes;
  return json_text(j) + "\n";
}

}  // namespace meshsim::report
