#include "common/csv.hpp"

#include <charconv>
#include <cmath>

#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/text_file.hpp"

namespace meshsim {
namespace {

std::string line_site(int line) {
  return "line " + std::to_string(line);
}

// Splits one physical line into fields. Quotes may open a field only at its start; a quoted field
// ends at a lone quote followed by a comma or the end of the line.
std::vector<std::string> split_line(const std::string& line, const std::string& origin,
                                    int lineno) {
  std::vector<std::string> fields;
  std::string field;
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (true) {
    field.clear();
    if (i < n && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        if (line[i] == '"') {
          if (i + 1 < n && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field.push_back(line[i++]);
      }
      if (!closed) {
        throw InputError({origin, line_site(lineno), ""}, "unterminated quoted field", "",
                         "a closing '\"' on the same line (RFC 4180, no line breaks in fields)");
      }
      if (i < n && line[i] != ',') {
        throw InputError({origin, line_site(lineno), ""}, "text after a closing quote",
                         std::string(1, line[i]),
                         "a comma or the end of the line after a quoted field");
      }
    } else {
      while (i < n && line[i] != ',') {
        if (line[i] == '"') {
          throw InputError({origin, line_site(lineno), ""}, "quote inside an unquoted field", "",
                           "quote the whole field and double inner quotes");
        }
        field.push_back(line[i++]);
      }
    }
    fields.push_back(field);
    if (i >= n)
      break;
    ++i;  // the comma
    if (i == n) {
      fields.emplace_back();
      break;
    }
  }
  return fields;
}

}  // namespace

CsvTable parse_csv_text(const std::string& text, const std::string& origin) {
  CsvTable t;
  t.file = origin;
  if (text.find('\0') != std::string::npos) {
    throw InputError({origin, "", ""}, "contains a NUL byte", "", "a text CSV file");
  }
  std::size_t pos = 0;
  int lineno = 0;
  bool header_done = false;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    const bool last = end == std::string::npos;
    std::string line = text.substr(pos, last ? std::string::npos : end - pos);
    pos = last ? text.size() : end + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find('\r') != std::string::npos) {
      throw InputError({origin, line_site(lineno), ""}, "carriage return inside a line", "",
                       "lines ending in LF or CRLF");
    }
    if (line.empty()) {
      if (last)
        break;
      throw InputError({origin, line_site(lineno), ""}, "empty line", "",
                       "one record per line, no blank lines");
    }
    auto fields = split_line(line, origin, lineno);
    if (!header_done) {
      for (const auto& f : fields) {
        if (f.empty()) {
          throw InputError({origin, line_site(lineno), ""}, "empty column name in the header", "",
                           "a name for every column");
        }
      }
      t.header = std::move(fields);
      header_done = true;
      continue;
    }
    if (fields.size() != t.header.size()) {
      throw InputError({origin, line_site(lineno), ""}, "wrong number of fields",
                       std::to_string(fields.size()),
                       std::to_string(t.header.size()) + " (as many as the header)");
    }
    t.rows.push_back(std::move(fields));
    t.line_of_row.push_back(lineno);
  }
  if (!header_done) {
    throw InputError({origin, "", ""}, "empty file", "", "a header row and at least one data row");
  }
  if (t.rows.empty()) {
    throw InputError({origin, "", ""}, "no data rows", "", "at least one row after the header");
  }
  return t;
}

CsvTable read_csv_file(const std::string& path) {
  return parse_csv_text(read_input_file(path, "CSV"), path);
}

void check_csv_columns(const CsvTable& table, const std::vector<std::string>& required,
                       const std::vector<std::string>& optional) {
  std::set<std::string> known(required.begin(), required.end());
  known.insert(optional.begin(), optional.end());
  std::string allowed;
  for (const auto& c : required)
    allowed += (allowed.empty() ? "" : ", ") + c;
  for (const auto& c : optional)
    allowed += (allowed.empty() ? "" : ", ") + c + " (optional)";
  std::set<std::string> seen;
  for (const auto& c : table.header) {
    if (!known.count(c)) {
      const auto guess = did_you_mean(c, known);
      throw InputError(
          {table.file, "line 1", c},
          guess.empty() ? "unknown column" : "unknown column (did you mean '" + guess + "'?)",
          "'" + c + "'", allowed);
    }
    if (!seen.insert(c).second)
      throw InputError({table.file, "line 1", c}, "column given twice", "'" + c + "'", allowed);
  }
  for (const auto& c : required) {
    if (!seen.count(c))
      throw InputError({table.file, "line 1", c}, "missing column", "", allowed);
  }
}

CsvRow::CsvRow(const CsvTable& table, std::size_t row) : table_(&table), row_(row) {}

std::size_t CsvRow::index_of(const std::string& column) const {
  for (std::size_t i = 0; i < table_->header.size(); ++i) {
    if (table_->header[i] == column)
      return i;
  }
  return table_->header.size();
}

bool CsvRow::has(const std::string& column) const {
  return index_of(column) < table_->header.size();
}

std::string CsvRow::where(const std::string& column) const {
  return "line " + std::to_string(table_->line_of_row[row_]) + ", column " + column;
}

const std::string& CsvRow::text(const std::string& column) const {
  const auto i = index_of(column);
  if (i >= table_->header.size())
    throw InputError({table_->file, "line 1", column}, "missing column");
  return table_->rows[row_][i];
}

double CsvRow::number(const std::string& column, double min, bool min_exclusive) const {
  const std::string& s = text(column);
  const std::string bound = (min_exclusive ? "> " : ">= ") + std::to_string(min);
  double v = 0;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (s.empty() || ec != std::errc() || ptr != last || !std::isfinite(v) || s[0] == '+') {
    throw InputError({table_->file, where(column), column}, "not a number", "'" + s + "'",
                     "a finite decimal number " + bound);
  }
  if (min_exclusive ? !(v > min) : !(v >= min)) {
    throw InputError({table_->file, where(column), column}, "out of range", "'" + s + "'",
                     "a number " + bound);
  }
  return v;
}

std::int64_t CsvRow::integer(const std::string& column, std::int64_t min, std::int64_t max) const {
  const std::string& s = text(column);
  const std::string range =
      "a whole decimal number in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  const bool leading_zero = s.size() > 1 && s[0] == '0';
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || leading_zero || v < min ||
      v > max) {
    throw InputError({table_->file, where(column), column}, "not an allowed integer", "'" + s + "'",
                     range);
  }
  return v;
}

const std::string& CsvRow::one_of(const std::string& column,
                                  const std::set<std::string>& allowed) const {
  const std::string& s = text(column);
  if (!allowed.count(s)) {
    std::string list;
    for (const auto& a : allowed)
      list += (list.empty() ? "" : "|") + a;
    throw InputError({table_->file, where(column), column}, "not an allowed value", "'" + s + "'",
                     list);
  }
  return s;
}

}  // namespace meshsim
