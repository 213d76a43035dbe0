#include "common/json_fields.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <vector>

#include "common/text_file.hpp"

namespace meshsim {
namespace {

std::string show(const nlohmann::json& value) {
  // Input strings may hold invalid UTF-8: replace it rather than throw while reporting an error.
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 60)
    text = text.substr(0, 57) + "...";
  return text;
}

std::string show_number(double v) {
  std::ostringstream out;
  out.precision(10);
  out << v;
  return out.str();
}

// JSON pointer escaping (RFC 6901).
std::string escape_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// Converts a byte offset in `text` to "line L, column C" (1-based).
std::string line_column(const std::string& text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Arrays and objects nested deeper than this are refused before parsing: no input of ours comes
// near it, and every later step that walks a value (messages, re-serialisation) recurses on depth.
constexpr int kMaxJsonDepth = 256;

// True when the JSON number literal `lit` (with a fraction or an exponent) denotes a whole number
// exactly, judged on its decimal digits, not on the double it rounds to.
bool literal_is_whole(std::string_view lit) {
  std::size_t i = 0;
  if (i < lit.size() && lit[i] == '-')
    ++i;
  std::string digits;
  long long fraction_digits = 0;
  while (i < lit.size() && std::isdigit(static_cast<unsigned char>(lit[i])))
    digits += lit[i++];
  if (i < lit.size() && lit[i] == '.') {
    ++i;
    while (i < lit.size() && std::isdigit(static_cast<unsigned char>(lit[i]))) {
      digits += lit[i++];
      ++fraction_digits;
    }
  }
  long long exponent = 0;
  if (i < lit.size() && (lit[i] == 'e' || lit[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < lit.size() && (lit[i] == '+' || lit[i] == '-'))
      negative = lit[i++] == '-';
    while (i < lit.size() && std::isdigit(static_cast<unsigned char>(lit[i]))) {
      exponent = std::min(exponent * 10 + (lit[i++] - '0'), 1'000'000'000LL);
    }
    if (negative)
      exponent = -exponent;
  }
  // value = digits x 10^(exponent - fraction_digits): whole iff the last (fraction_digits -
  // exponent) digits are zeros (all of them when there are fewer).
  const long long drop = fraction_digits - exponent;
  if (drop <= 0)
    return true;
  const std::size_t from = drop >= static_cast<long long>(digits.size())
                               ? 0
                               : digits.size() - static_cast<std::size_t>(drop);
  return digits.find_first_not_of('0', from) == std::string::npos;
}

// Throws when a number literal is not whole but its double is (e.g. 1.0000000000000000001 reads as
// 1.0): an integer field would take it as the integer 1 (issue 17 item 15).
void check_number_literal(const std::string& text, std::size_t start, std::size_t end,
                          const std::string& origin) {
  const std::string lit = text.substr(start, end - start);
  if (lit.find_first_of(".eE") == std::string::npos)
    return;
  const double value = std::strtod(lit.c_str(), nullptr);
  if (!std::isfinite(value) || std::trunc(value) != value || literal_is_whole(lit))
    return;
  char whole[64];
  std::snprintf(whole, sizeof whole, "%.17g", value);
  throw InputError({origin, line_column(text, start), ""},
                   std::string("a fraction with more digits than a double holds: it reads as the "
                               "whole number ") +
                       whole,
                   "'" + (lit.size() > 40 ? lit.substr(0, 40) + "..." : lit) + "'",
                   "at most 17 significant digits, or the whole number itself");
}

// Throws when `text` nests arrays and objects deeper than kMaxJsonDepth (a scan outside strings,
// iterative, so any depth is safe to check), or holds a number literal that check_number_literal
// refuses.
void check_json_depth(const std::string& text, const std::string& origin) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      std::size_t end = i + 1;
      while (end < text.size() &&
             (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.' ||
              text[end] == 'e' || text[end] == 'E' || text[end] == '+' || text[end] == '-'))
        ++end;
      check_number_literal(text, i, end, origin);
      i = end - 1;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        throw InputError({origin, line_column(text, i), ""}, "arrays and objects nested too deeply",
                         "more than " + std::to_string(kMaxJsonDepth) + " levels",
                         "at most " + std::to_string(kMaxJsonDepth) + " levels");
      }
    } else if (c == ']' || c == '}') {
      depth = depth > 0 ? depth - 1 : 0;
    }
  }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      std::size_t cost = (a[i - 1] == b[j - 1]) ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string json_type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    case nlohmann::json::value_t::number_float:
      return "a number";
    default:
      return "an unsupported value";
  }
}

nlohmann::json parse_json_text(const std::string& text, const std::string& origin) {
  bool blank = std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
  });
  if (blank)
    throw InputError({origin, "", ""}, "the file is empty", "", "a JSON object");
  if (const auto nul = text.find('\0'); nul != std::string::npos) {
    throw InputError({origin, line_column(text, nul), ""}, "contains a NUL byte", "",
                     "a UTF-8 text file");
  }
  check_json_depth(text, origin);
  try {
    // Each object's keys must be distinct: with duplicates nlohmann keeps the last value, so a
    // second "synthetic": false could silently override the first (issue 17, item 15).
    std::vector<std::set<std::string>> keys;
    const nlohmann::json::parser_callback_t unique_keys =
        [&](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
          using Event = nlohmann::json::parse_event_t;
          if (event == Event::object_start) {
            keys.emplace_back();
          } else if (event == Event::object_end) {
            if (!keys.empty())
              keys.pop_back();
          } else if (event == Event::key && !keys.empty()) {
            const auto& key = parsed.get_ref<const std::string&>();
            if (!keys.back().insert(key).second) {
              throw InputError({origin, "", key}, "given twice in one object",
                               "'" + key + "' twice", "each field once");
            }
          }
          return true;
        };
    return nlohmann::json::parse(text, unique_keys);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's message ends with the reason after "]"; keep only the reason.
    std::string reason = e.what();
    auto bracket = reason.find("] ");
    if (bracket != std::string::npos)
      reason = reason.substr(bracket + 2);
    auto colon = reason.find(": ");
    if (reason.rfind("parse error", 0) == 0 && colon != std::string::npos) {
      reason = reason.substr(colon + 2);
    }
    std::size_t offset = e.byte == 0 ? 0 : e.byte - 1;
    throw InputError({origin, line_column(text, offset), ""}, "not valid JSON: " + reason);
  } catch (const nlohmann::json::exception& e) {
    // e.g. out_of_range 406: a number literal beyond double's range ("1e999").
    std::string reason = e.what();
    auto bracket = reason.find("] ");
    if (bracket != std::string::npos)
      reason = reason.substr(bracket + 2);
    // The exception carries no position: locate the literal it quotes ('1e999') in the text.
    std::string where;
    const auto open = reason.find('\'');
    const auto close = open == std::string::npos ? open : reason.find('\'', open + 1);
    if (close != std::string::npos && close > open + 1) {
      const auto at = text.find(reason.substr(open + 1, close - open - 1));
      if (at != std::string::npos)
        where = line_column(text, at);
    }
    throw InputError({origin, where, ""}, "not valid JSON: " + reason, "",
                     "numbers within +-1.8e308");
  }
}

nlohmann::json read_json_file(const std::string& path) {
  return parse_json_text(read_input_file(path, "JSON"), path);
}

std::string did_you_mean(std::string_view word, const std::set<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

JsonObject::JsonObject(const nlohmann::json& value, std::string file, std::string pointer)
    : value_(value), file_(std::move(file)), pointer_(std::move(pointer)) {
  if (!value_.is_object()) {
    throw InputError({file_, pointer_.empty() ? "/" : pointer_, ""}, "expected a JSON object",
                     json_type_name(value_), "an object {...}");
  }
}

bool JsonObject::has(std::string_view key) const {
  return value_.contains(std::string(key));
}

std::string JsonObject::child_pointer(std::string_view key) const {
  return pointer_ + "/" + escape_token(key);
}

ErrorSite JsonObject::site(std::string_view key) const {
  return ErrorSite{file_, child_pointer(key), std::string(key)};
}

const nlohmann::json& JsonObject::get(std::string_view key) {
  seen_.insert(std::string(key));
  auto it = value_.find(std::string(key));
  if (it == value_.end())
    throw InputError(site(key), "missing required field");
  return *it;
}

double JsonObject::number(std::string_view key, double lo, double hi) {
  const auto& v = get(key);
  std::string range = "a number in [" + show_number(lo) + ", " + show_number(hi) + "]";
  if (!v.is_number())
    throw InputError(site(key), "wrong type", json_type_name(v) + " " + show(v), range);
  double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    throw InputError(site(key), "out of range", show(v), range);
  return x;
}

std::int64_t JsonObject::integer(std::string_view key, std::int64_t lo, std::int64_t hi) {
  const auto& v = get(key);
  std::string range = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (v.is_number_float()) {
    double x = v.get<double>();
    if (!(std::trunc(x) == x) || std::fabs(x) > 9e15) {
      throw InputError(site(key), "not an integer", show(v), range);
    }
    auto i = static_cast<std::int64_t>(x);
    if (i < lo || i > hi)
      throw InputError(site(key), "out of range", show(v), range);
    return i;
  }
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    // nlohmann stores every non-negative integer as unsigned, so the lower bound matters here too.
    if (u > static_cast<std::uint64_t>(hi) || static_cast<std::int64_t>(u) < lo) {
      throw InputError(site(key), "out of range", show(v), range);
    }
    return static_cast<std::int64_t>(u);
  }
  if (!v.is_number_integer()) {
    throw InputError(site(key), "wrong type", json_type_name(v) + " " + show(v), range);
  }
  auto i = v.get<std::int64_t>();
  if (i < lo || i > hi)
    throw InputError(site(key), "out of range", show(v), range);
  return i;
}

bool JsonObject::boolean(std::string_view key) {
  const auto& v = get(key);
  if (!v.is_boolean())
    throw InputError(site(key), "wrong type", json_type_name(v) + " " + show(v), "true or false");
  return v.get<bool>();
}

std::string JsonObject::string(std::string_view key) {
  const auto& v = get(key);
  if (!v.is_string())
    throw InputError(site(key), "wrong type", json_type_name(v) + " " + show(v), "a string");
  return v.get<std::string>();
}

std::string JsonObject::enumeration(std::string_view key,
                                    std::initializer_list<std::string_view> allowed) {
  std::string list;
  for (auto a : allowed)
    list += (list.empty() ? "" : ", ") + std::string(a);
  const auto& v = get(key);
  if (!v.is_string())
    throw InputError(site(key), "wrong type", json_type_name(v) + " " + show(v), list);
  std::string s = v.get<std::string>();
  for (auto a : allowed) {
    if (a == s)
      return s;
  }
  throw InputError(site(key), "unknown value", show(v), list);
}

double JsonObject::quantity(std::string_view key, QuantityKind kind, double lo, double hi) {
  const auto& v = get(key);
  if (!v.is_string()) {
    throw InputError(site(key), "wrong type: a quantity is a string with a unit",
                     json_type_name(v) + " " + show(v), accepted_units(kind));
  }
  double x;
  try {
    x = parse_quantity(v.get<std::string>(), kind);
  } catch (const InputError& e) {
    throw e.located(site(key));
  }
  if (x < lo || x > hi) {
    throw InputError(site(key), "out of range", show(v),
                     "between " + format_quantity(lo, kind) + " and " + format_quantity(hi, kind));
  }
  return x;
}

JsonObject JsonObject::object(std::string_view key) {
  const auto& v = get(key);
  return JsonObject(v, file_, child_pointer(key));
}

const nlohmann::json& JsonObject::array(std::string_view key) {
  const auto& v = get(key);
  if (!v.is_array())
    throw InputError(site(key), "wrong type", json_type_name(v), "an array [...]");
  return v;
}

const nlohmann::json& JsonObject::raw(std::string_view key) {
  return get(key);
}

double JsonObject::number_or(std::string_view key, double fallback, double lo, double hi) {
  if (!has(key)) {
    seen_.insert(std::string(key));
    return fallback;
  }
  return number(key, lo, hi);
}

std::int64_t JsonObject::integer_or(std::string_view key, std::int64_t fallback, std::int64_t lo,
                                    std::int64_t hi) {
  if (!has(key)) {
    seen_.insert(std::string(key));
    return fallback;
  }
  return integer(key, lo, hi);
}

bool JsonObject::boolean_or(std::string_view key, bool fallback) {
  if (!has(key)) {
    seen_.insert(std::string(key));
    return fallback;
  }
  return boolean(key);
}

std::string JsonObject::string_or(std::string_view key, std::string fallback) {
  if (!has(key)) {
    seen_.insert(std::string(key));
    return fallback;
  }
  return string(key);
}

void JsonObject::reject_unknown_fields() const {
  for (const auto& [key, unused] : value_.items()) {
    if (seen_.count(key))
      continue;
    std::string suggestion = did_you_mean(key, seen_);
    std::string known;
    for (const auto& k : seen_)
      known += (known.empty() ? "" : ", ") + k;
    throw InputError(
        ErrorSite{file_, child_pointer(key), key},
        suggestion.empty() ? "unknown field" : "unknown field (did you mean '" + suggestion + "'?)",
        "", "known fields: " + known);
  }
}

}  // namespace meshsim
