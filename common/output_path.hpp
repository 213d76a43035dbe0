#pragma once
// The output-path policy (issue 17, items 3, 4 and 16; docs/hardening.md "Output paths"): how every
// verb that writes files (-o, --trace, ...) checks and writes them.
//
// - "-" is standard output: the file's contents go to stdout, and the verb prints nothing else
//   there.
// - A regular file (or a new path) is replaced atomically (common/atomic_file.hpp) through its
//   resolved path: a symbolic link keeps pointing at the file it names, which gets the new
//   contents.
// - A character device or a FIFO is written directly, never renamed over: `-o /dev/null` discards,
//   `-o /dev/full` fails with exit 2 naming the flag, a FIFO without a reader is an error (not a
//   hang).
// - A directory, a block device, a socket, a dangling symbolic link, a missing or unwritable
//   directory, or a file name longer than NAME_MAX (255 bytes) is refused before any work.
// - An output that is the same file (after resolving links: same device and inode, or for a new
//   file the same directory and name) as an input of the command or as another output of the
//   command is refused before any work, naming both flags. Two outputs onto one character device
//   (`-o /dev/null --trace /dev/null`) lose nothing and are allowed.
#include <string>
#include <vector>

namespace meshsim {

// A path and the flag (or argument) it came from, e.g. {"--trace", "t.json"}.
struct NamedPath {
  std::string flag;
  std::string path;
};

// True for "-", standard output.
bool is_standard_output(const std::string& path);

// True when some output is "-".
bool any_standard_output(const std::vector<NamedPath>& outputs);

// Checks every output of one command against the policy, against each other and against the
// command's inputs (paths that do not exist are skipped as inputs). Call it before any simulation.
// Throws InputError naming the output's flag (and the other flag for a clash).
void check_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs);

// Writes `contents` to `output` by the policy. Errors are InputErrors naming the flag.
void write_output(const NamedPath& output, const std::string& contents);

// Older names, kept for callers that name one output: check_outputs({{flag, path}}, {}) and
// write_output({"", path}, contents).
void check_output_path(const std::string& path, const std::string& flag);
void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace meshsim
