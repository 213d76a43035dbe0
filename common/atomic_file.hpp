#pragma once
// Outputs are atomic (STYLE.md "Errors"): written to a temporary file beside the target, then
// renamed, so a failure leaves no partial file and an existing file is replaced only on success.
#include <string>

namespace meshsim {

// Throws InputError (naming `flag`, e.g. "-o") when the directory of `path` does not exist or is
// not writable. Call it before any simulation runs.
void check_output_path(const std::string& path, const std::string& flag);

void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace meshsim
