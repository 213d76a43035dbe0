#include "sim/validate/gemm_table.hpp"

#include "common/csv.hpp"
#include "common/error.hpp"

namespace meshsim {
namespace {

constexpr std::int64_t kMaxDim = std::int64_t{1} << 30;
constexpr double kMaxFlopRate = 1e17;  // 100 PFLOP/s: a wrong unit, not a GPU

GemmTable from_csv(const CsvTable& csv) {
  check_csv_columns(csv, {"b", "m", "n", "k", "bf16_flop_per_s", "tf32_flop_per_s"});
  GemmTable table;
  table.file = csv.file;
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    const CsvRow row(csv, i);
    GemmRow r;
    r.shape.batch = row.integer("b", 1, kMaxDim);
    r.shape.m = row.integer("m", 1, kMaxDim);
    r.shape.n = row.integer("n", 1, kMaxDim);
    r.shape.k = row.integer("k", 1, kMaxDim);
    for (const char* column : {"bf16_flop_per_s", "tf32_flop_per_s"}) {
      const double rate = row.number(column, 0.0);
      if (rate > kMaxFlopRate) {
        throw InputError({csv.file, row.where(column), column}, "out of range", row.text(column),
                         "a positive FLOP/s up to 1e17");
      }
      (column[0] == 'b' ? r.bf16_flop_per_s : r.tf32_flop_per_s) = rate;
    }
    r.line = csv.line_of_row[i];
    table.rows.push_back(r);
  }
  return table;
}

}  // namespace

GemmTable load_gemm_table(const std::string& path) {
  return from_csv(read_csv_file(path));
}

GemmTable parse_gemm_table(const std::string& text, const std::string& origin) {
  return from_csv(parse_csv_text(text, origin));
}

double gemm_measured_s(const GemmRow& row, MatmulDtype dtype) {
  const MatmulShape& s = row.shape;
  const double flop = 2.0 * double(s.batch) * double(s.m) * double(s.n) * double(s.k);
  return flop / (dtype == MatmulDtype::Tf32 ? row.tf32_flop_per_s : row.bf16_flop_per_s);
}

}  // namespace meshsim
