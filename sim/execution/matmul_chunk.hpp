#pragma once
// The chunk of a matmul that a collective matmul runs per ring step (docs/execution.md), shared by
// the step simulator and the sweep's estimate.
#include <cstdint>

#include "models/model.hpp"

namespace meshsim {

enum class ChunkedMove { AllGather, ReduceScatter };

// One of k equal chunks of `op`: FLOP and bytes divided by k, and the shape cut too, since matmul
// cost depends on shape (hardware_profiles/matmul_model.hpp). The gathered block is a slice of the
// features: of the contraction (op.k: x[T, D_j] W[D_j, :]), or, for a weight gradient X^T dY, of
// its rows (op.m). A scattered block is a slice of the output features (op.n). A dimension not
// divisible by k is rounded up (a padded last chunk).
// `along_tokens` (sequence parallelism): the block is a slice of the tokens instead, so a chunk
// cuts the matmul's rows (op.m), or for a weight gradient X^T dY its contraction (op.k).
Op matmul_chunk(const Op& op, std::int64_t k, ChunkedMove move, bool along_tokens = false);

}  // namespace meshsim
