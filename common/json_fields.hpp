#pragma once
// Strict reading of JSON input files (models, hardware profiles, plans, measurements).
// Internal header: include it only from .cpp files that parse JSON (STYLE.md: third-party types
// stay out of public headers). Every failure is an InputError naming file, JSON pointer and field.
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/units.hpp"

namespace meshsim {

// Reads and parses a JSON file. Rejects missing, unreadable, directory, empty and non-JSON files,
// giving line and column for syntax errors.
nlohmann::json read_json_file(const std::string& path);
// Parses JSON text; `origin` names it in errors.
nlohmann::json parse_json_text(const std::string& text, const std::string& origin);

// The closest candidate to `word` by edit distance, or "" when none is close enough.
std::string did_you_mean(std::string_view word, const std::set<std::string>& candidates);

class JsonObject {
 public:
  // Throws when `value` is not an object.
  JsonObject(const nlohmann::json& value, std::string file, std::string pointer);

  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }
  bool has(std::string_view key) const;

  // Required fields; `lo`/`hi` bound the value inclusively.
  double number(std::string_view key, double lo, double hi);
  std::int64_t integer(std::string_view key, std::int64_t lo, std::int64_t hi);
  bool boolean(std::string_view key);
  std::string string(std::string_view key);
  std::string enumeration(std::string_view key, std::initializer_list<std::string_view> allowed);
  // A quantity written as a string with a unit ("1.2 TB/s"); bounds in SI base units.
  double quantity(std::string_view key, QuantityKind kind, double lo, double hi);
  JsonObject object(std::string_view key);
  const nlohmann::json& array(std::string_view key);
  // Any value, unchecked (for free-form fields such as "sources").
  const nlohmann::json& raw(std::string_view key);

  // Optional variants: the default when the key is absent.
  double number_or(std::string_view key, double fallback, double lo, double hi);
  std::int64_t integer_or(std::string_view key, std::int64_t fallback, std::int64_t lo,
                          std::int64_t hi);
  bool boolean_or(std::string_view key, bool fallback);
  std::string string_or(std::string_view key, std::string fallback);

  // Throws on the first key that no accessor asked for, with a did-you-mean.
  void reject_unknown_fields() const;

  ErrorSite site(std::string_view key) const;
  std::string child_pointer(std::string_view key) const;

 private:
  const nlohmann::json& get(std::string_view key);
  const nlohmann::json& value_;
  std::string file_, pointer_;
  std::set<std::string> seen_;
};

// Human-readable JSON type name for messages ("a string", "an array", ...).
std::string json_type_name(const nlohmann::json& value);

}  // namespace meshsim
