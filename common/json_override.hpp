#pragma once
// What-if overrides (`--set PATH=VALUE`, docs/whatif.md): a dotted path into an input document
// (a hardware profile or a model), set before the document is parsed so that all of the parser's
// validation applies to the new value.
#include <string>
#include <vector>

namespace meshsim {

struct JsonOverride {
  std::string path;     // dotted, without the "model." prefix: "interconnect.link_bandwidth"
  std::string value;    // as written on the command line: "90GB/s"
  std::string was;      // the value before, as the file wrote it ("" when the field was absent)
  std::string pointer;  // the JSON pointer of the field: "/interconnect/link_bandwidth"
  bool added = false;   // the field was absent and is new
};

// "PATH=VALUE" split at the first '='; throws InputError naming `flag` when malformed.
JsonOverride parse_override(const std::string& text, const std::string& flag);

// "path=value, path=value" (the overrides as a reader sees them).
std::string overrides_text(const std::vector<JsonOverride>& overrides);

}  // namespace meshsim
