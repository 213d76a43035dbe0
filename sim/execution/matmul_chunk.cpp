#include "sim/execution/matmul_chunk.hpp"

namespace meshsim {

Op matmul_chunk(const Op& op, std::int64_t k, ChunkedMove move, bool along_tokens) {
  Op c = op;
  const auto kd = static_cast<double>(k);
  c.flop /= kd;
  c.bytes_read /= kd;
  c.bytes_written /= kd;
  std::int64_t& dim = along_tokens ? (op.pass == Pass::BackwardWeight ? c.k : c.m)
                      : move == ChunkedMove::ReduceScatter ? c.n
                      : op.pass == Pass::BackwardWeight    ? c.m
                                                           : c.k;
  dim = (dim + k - 1) / k;
  return c;
}

}  // namespace meshsim
