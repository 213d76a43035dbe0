#pragma once
// Runs the meshsim binary built beside the tests and captures its exit code, stdout and stderr.
#include <string>

namespace meshsim::testing {

struct CliResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// `args` is appended to the binary's path as shell words (quote them yourself if needed).
CliResult run_meshsim(const std::string& args);

// Path of a fresh scratch directory for one test (created, under the system temp directory).
std::string scratch_dir(const std::string& name);

// The whole file as bytes ("" when it cannot be read).
std::string read_text_file(const std::string& path);

// Writes `contents` to `dir/name` and returns the path.
std::string write_scratch_file(const std::string& dir, const std::string& name,
                               const std::string& contents);

}  // namespace meshsim::testing
