// Fuzzes the strict JSON reader with arbitrary text and a fixed set of field reads, the way the
// loaders use it. Property: InputError or success; no other exception, crash or hang.
#include <cstdint>
#include <string>

#include "common/error.hpp"
#include "common/json_fields.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    nlohmann::json doc = meshsim::parse_json_text(text, "fuzz.json");
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
