#pragma once
// The one serialiser of JSON output (reports, --json, written profiles). Strings that are not
// valid UTF-8 - file names read from the file system, which POSIX lets hold any byte - have each
// invalid byte replaced by U+FFFD instead of making the JSON library throw (an internal error, exit
// 1; issue 17, item 11). Text output keeps such names byte for byte.
#include <nlohmann/json.hpp>
#include <string>

namespace meshsim {

// `value` as JSON text, indented by `indent` spaces (-1: one line), without a final newline.
std::string json_text(const nlohmann::json& value, int indent = 2);

}  // namespace meshsim
