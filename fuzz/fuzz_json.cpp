// Fuzzes the strict JSON reader with arbitrary text and a fixed set of field reads, the way the
// loaders use it. Property: InputError or success; no other exception, crash or hang. An accepted
// document also keeps the reader's bounds (issue 17, items 1 and 15): it nests at most 256 levels
// (the depth is measured iteratively here), and serialising it for output (json_text, which
// never throws on bytes that are not UTF-8) reads back as the same document.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/json_text.hpp"

namespace {

// Deepest nesting of arrays and objects, walked with an explicit stack.
int depth_of(const nlohmann::json& root) {
  int deepest = 0;
  std::vector<std::pair<const nlohmann::json*, int>> stack{{&root, 0}};
  while (!stack.empty()) {
    auto [value, depth] = stack.back();
    stack.pop_back();
    if (!value->is_structured())
      continue;
    deepest = std::max(deepest, depth + 1);
    for (const auto& child : *value)
      stack.push_back({&child, depth + 1});
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    nlohmann::json doc = meshsim::parse_json_text(text, "fuzz.json");
    if (depth_of(doc) > 256)
      std::abort();  // the depth bound let a deeper document through
    if (nlohmann::json::parse(meshsim::json_text(doc, -1)) != doc)
      std::abort();  // output does not read back as the document
    meshsim::JsonObject root(doc, "fuzz.json", "");
    (void)root.integer_or("width", 1, 1, 1 << 20);
    (void)root.number_or("efficiency", 0.5, 0.0, 1.0);
    (void)root.string_or("name", "x");
    (void)root.boolean_or("flag", false);
    if (root.has("bandwidth")) {
      (void)root.quantity("bandwidth", meshsim::QuantityKind::Bandwidth, 0, 1e15);
    }
    if (root.has("block"))
      (void)root.enumeration("block", {"parallel", "sequential"});
    if (root.has("chip")) {
      meshsim::JsonObject chip = root.object("chip");
      (void)chip.quantity("hbm", meshsim::QuantityKind::Bytes, 1, 1e15);
      chip.reject_unknown_fields();
    }
    root.reject_unknown_fields();
  } catch (const meshsim::InputError&) {
  }
  return 0;
}
