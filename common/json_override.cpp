// What-if overrides (`--set PATH=VALUE`): see json_override.hpp and docs/whatif.md.
#include "common/json_override.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <set>

#include "common/count.hpp"
#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/json_override_apply.hpp"

namespace meshsim {
namespace {

using json = nlohmann::json;

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string part;
  for (const char c : path) {
    if (c == '.') {
      parts.push_back(part);
      part.clear();
    } else {
      part += c;
    }
  }
  parts.push_back(part);
  return parts;
}

std::string keys_of(const json& object) {
  std::string out;
  for (auto it = object.begin(); it != object.end(); ++it)
    out += (out.empty() ? "" : ", ") + it.key();
  return out;
}

std::set<std::string> key_set(const json& object) {
  std::set<std::string> out;
  for (auto it = object.begin(); it != object.end(); ++it)
    out.insert(it.key());
  return out;
}

bool is_number_text(const std::string& text) {
  if (text.empty())
    return false;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(v);
}

// VALUE as the JSON type of the field it replaces.
json typed_value(const std::string& value, const json* old, const InputError& bad) {
  if (old == nullptr) {
    if (is_number_text(value))
      return json::parse(value);
    return value;
  }
  if (old->is_string())
    return value;
  if (old->is_boolean()) {
    if (value == "on" || value == "true")
      return true;
    if (value == "off" || value == "false")
      return false;
    throw bad;
  }
  if (old->is_number_integer() || old->is_number_unsigned()) {
    try {
      return parse_count(value, INT64_MIN + 1);
    } catch (const InputError&) {
      if (value.size() > 1 && value[0] == '-' && is_number_text(value))
        return json::parse(value);  // a negative integer: the parser's range check decides
      throw bad;
    }
  }
  if (old->is_number()) {
    if (is_number_text(value))
      return std::strtod(value.c_str(), nullptr);
    throw bad;
  }
  // An array or object: JSON text.
  try {
    return json::parse(value);
  } catch (const json::exception&) {
    throw bad;
  }
}

}  // namespace

JsonOverride parse_override(const std::string& text, const std::string& flag) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw InputError({flag, "", "set"}, "not PATH=VALUE", "'" + text + "'",
                     "a dotted path into the profile or model and a value, e.g. "
                     "interconnect.link_bandwidth=90GB/s or model.depth=64");
  }
  JsonOverride o;
  o.path = text.substr(0, eq);
  o.value = text.substr(eq + 1);
  for (const auto& part : split_path(o.path)) {
    if (part.empty()) {
      throw InputError({flag, "", "set"}, "empty part in the path", "'" + o.path + "'",
                       "names separated by single dots, e.g. chip.hbm");
    }
  }
  return o;
}

std::string overrides_text(const std::vector<JsonOverride>& overrides) {
  std::string out;
  for (const auto& o : overrides)
    out += (out.empty() ? "" : ", ") + o.path + "=" + o.value;
  return out;
}

void apply_overrides(json& document, std::vector<JsonOverride>& overrides, const std::string& flag,
                     const std::string& what, const std::function<void(const json&)>& parse) {
  for (auto& o : overrides) {
    const auto parts = split_path(o.path);
    json* node = &document;
    std::string pointer;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      if (!node->is_object() || !node->contains(parts[i]) || !(*node)[parts[i]].is_object()) {
        const std::string hint =
            node->is_object() ? did_you_mean(parts[i], key_set(*node)) : std::string();
        throw InputError(
            {flag, "", "set"},
            "no section '" + parts[i] + "' in the " + what + " at " +
                (pointer.empty() ? std::string("the top") : pointer) +
                (hint.empty() ? "" : " (did you mean '" + hint + "'?)"),
            "'" + o.path + "'",
            node->is_object() ? "keys there: " + keys_of(*node) : "a path into an object");
      }
      pointer += "/" + parts[i];
      node = &(*node)[parts[i]];
    }
    const std::string& key = parts.back();
    pointer += "/" + key;
    o.pointer = pointer;
    const json* old = node->contains(key) ? &(*node)[key] : nullptr;
    o.added = old == nullptr;
    o.was = old == nullptr ? "" : (old->is_string() ? old->get<std::string>() : old->dump());
    const InputError bad(
        {flag, "", "set"}, "the value does not fit the field " + o.path + " of the " + what,
        "'" + o.value + "'",
        old == nullptr ? "a number or a string" : "a value like the one it replaces: " + o.was);
    json value = typed_value(o.value, old, bad);
    (*node)[key] = std::move(value);
  }
  try {
    parse(document);
  } catch (const InputError& e) {
    const std::string& at = e.site().pointer;
    for (const auto& o : overrides) {
      if (at != o.pointer && at.rfind(o.pointer + "/", 0) != 0)
        continue;
      std::string problem = e.problem();
      if (o.added && problem.rfind("unknown field", 0) == 0) {
        // The parser's "did you mean" names the known field; say it for the path.
        problem = "unknown path '" + o.path + "' in the " + what +
                  problem.substr(std::string("unknown field").size());
      } else {
        problem = o.path + "=" + o.value + ": " + problem;
      }
      throw InputError({flag, "", "set"}, problem, e.found(), e.allowed());
    }
    // Not about an overridden field itself (e.g. a bound that depends on another field): say that
    // overrides were applied.
    throw InputError(e.site(), e.problem() + " (with --set " + overrides_text(overrides) + ")",
                     e.found(), e.allowed());
  }
}

}  // namespace meshsim
