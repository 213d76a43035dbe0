#pragma once
// A strict CSV reader for measured tables (cuda_validation/published/, measured runs): RFC 4180
// fields (quoted with "" escapes, no line breaks inside quotes), one header row naming every
// column, every row exactly as many fields as the header. Errors name the file, the line and the
// column, and say what is allowed (InputError, exit 2).
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace meshsim {

struct CsvTable {
  std::string file;                 // the path, or the origin given to parse_csv_text
  std::vector<std::string> header;  // column names, in file order
  std::vector<std::vector<std::string>> rows;
  std::vector<int> line_of_row;  // 1-based line number of each row, for messages
};

// Reads a whole CSV file (a regular file of at most 64 MiB). Throws InputError naming the file.
CsvTable read_csv_file(const std::string& path);
// The same from text; `origin` names it in errors.
CsvTable parse_csv_text(const std::string& text, const std::string& origin);

// Checks the header: every column of `required` present, every column in `required` or
// `optional`, none twice. Throws InputError naming the unknown or missing column (did-you-mean).
void check_csv_columns(const CsvTable& table, const std::vector<std::string>& required,
                       const std::vector<std::string>& optional = {});

// Cell access by column name with strict conversions; errors name file, line and column.
class CsvRow {
 public:
  CsvRow(const CsvTable& table, std::size_t row);
  bool has(const std::string& column) const;  // the column exists in the header
  const std::string& text(const std::string& column) const;
  // A finite number (decimal or scientific); `min_exclusive` true requires > min, else >= min.
  double number(const std::string& column, double min, bool min_exclusive = true) const;
  // A whole decimal number in [min, max] (no sign, no leading zeros, no exponent).
  std::int64_t integer(const std::string& column, std::int64_t min, std::int64_t max) const;
  // One of `allowed`.
  const std::string& one_of(const std::string& column, const std::set<std::string>& allowed) const;
  // "line L, column NAME" for messages.
  std::string where(const std::string& column) const;
  const std::string& file() const { return table_->file; }

 private:
  std::size_t index_of(const std::string& column) const;
  const CsvTable* table_;
  std::size_t row_;
};

}  // namespace meshsim
