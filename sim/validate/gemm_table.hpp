#pragma once
// Matmul throughput tables in the format of cuda_validation/published/gemm_h100_xla.csv: columns b,
// m, n, k, bf16_flop_per_s, tf32_flop_per_s, one measured dot lhs [b,m,k] @ rhs [b,k,n] per row.
// Loaded strictly: an InputError names the file, the line and the column.
#include <cstdint>
#include <string>
#include <vector>

#include "hardware_profiles/matmul_model.hpp"

namespace meshsim {

struct GemmRow {
  MatmulShape shape;
  double bf16_flop_per_s = 0;
  double tf32_flop_per_s = 0;
  int line = 0;  // 1-based line in the file
};

struct GemmTable {
  std::string file;
  std::vector<GemmRow> rows;
};

GemmTable load_gemm_table(const std::string& path);
// The same from CSV text; `origin` names it in errors.
GemmTable parse_gemm_table(const std::string& text, const std::string& origin);

// The measured time of a row: 2 b m n k / the dtype's FLOP/s.
double gemm_measured_s(const GemmRow& row, MatmulDtype dtype);

}  // namespace meshsim
