#pragma once
// Simulation outcomes as bytes, for the ranks of an MPI sweep to exchange (sim/sweep/
// mpi_distribution.cpp). Exact: every double travels as its 8 bytes, so a decoded result prints
// the same bytes as the original (what makes `mpirun -n N meshsim sweep` write what the
// single-process sweep writes). Plain C++, no MPI: tested without it.
//
// Every field of StepResult is listed once, in result_codec.cpp; a field added to StepResult (or to
// the structs it holds) must be added there (tests/sim/sweep/result_codec_test.cpp checks the
// round trip and the struct sizes).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/execution/step.hpp"
#include "sim/sweep/distribution.hpp"

namespace meshsim::sweep {

// Appends to a byte buffer.
class ByteWriter {
 public:
  void u8(std::uint8_t v);
  void u64(std::uint64_t v);
  void i64(std::int64_t v);
  void f64(double v);
  void str(const std::string& v);
  void append(const ByteWriter& other) { bytes_ += other.bytes_; }
  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// Reads what ByteWriter wrote; throws std::runtime_error when the bytes run out or are malformed.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  std::uint8_t u8();
  std::uint64_t u64();
  std::int64_t i64();
  double f64();
  std::string str();
  bool at_end() const { return pos_ == bytes_.size(); }

 private:
  const char* take(std::size_t n);
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

// A StepResult; its trace must be empty (sweeps drop traces).
void encode_step_result(ByteWriter& w, const execution::StepResult& result);
execution::StepResult decode_step_result(ByteReader& r);

// An item's outcome. A failure travels as its message and, for an InputError, its parts, and comes
// back as an InputError (same what()) or a std::runtime_error.
void encode_outcome(ByteWriter& w, const ItemOutcome& outcome);
ItemOutcome decode_outcome(ByteReader& r);

// A whole evaluation (what rank 0 sends every rank).
std::string encode_evaluation(const Evaluation& evaluation);
Evaluation decode_evaluation(std::string_view bytes);

}  // namespace meshsim::sweep
