#pragma once
// Applying what-if overrides to a parsed JSON document (internal header: nlohmann types; include
// from .cpp files that load input documents only).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/json_override.hpp"

namespace meshsim {

// Sets each override in `document` (filling `was`, `pointer`, `added`), converting VALUE to the
// field's JSON type: a string field takes VALUE as written (its unit grammar is checked by the
// parser), a number field a number (counts take the count grammar: 64, 64k), a boolean on|off,
// an array or object JSON text; an absent field a number when VALUE is one, else a string.
// Then calls `parse` and re-words any error about an overridden field, or an unknown field, as an
// error of `flag` naming the path and the keys nearby (did-you-mean). `what` names the document
// in messages ("hardware profile tpu-v4").
void apply_overrides(nlohmann::json& document, std::vector<JsonOverride>& overrides,
                     const std::string& flag, const std::string& what,
                     const std::function<void(const nlohmann::json&)>& parse);

// The overrides as outputs record them: [{"path", "value", "was"}] ("was" null when the field was
// absent from the file).
inline nlohmann::json overrides_json(const std::vector<JsonOverride>& overrides) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& o : overrides) {
    out.push_back({{"path", o.path},
                   {"value", o.value},
                   {"was", o.added ? nlohmann::json() : nlohmann::json(o.was)}});
  }
  return out;
}

// Adds "overrides" to an output object when any override was applied (stock outputs unchanged).
inline void add_overrides(nlohmann::json& out, const std::vector<JsonOverride>& hardware,
                          const std::vector<JsonOverride>& model = {}) {
  if (hardware.empty() && model.empty())
    return;
  std::vector<JsonOverride> all = model;
  all.insert(all.end(), hardware.begin(), hardware.end());
  out["overrides"] = overrides_json(all);
}

}  // namespace meshsim
