#pragma once
// The one bounded reader of input files (JSON profiles, models, plans, measurements; CSV tables):
// a regular file (never a device, FIFO or socket, which could block or never end) of at most
// 64 MiB, read whole. Errors are InputErrors naming the path, saying what `kind` of file is wanted.
#include <string>

namespace meshsim {

inline constexpr unsigned long long kMaxInputFileBytes = 64ull << 20;

// `kind` is the format in messages ("JSON", "CSV").
std::string read_input_file(const std::string& path, const std::string& kind);

}  // namespace meshsim
