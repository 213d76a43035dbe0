#pragma once
// Atomic replacement of one regular file (STYLE.md "Errors"): the contents go to a temporary file
// in the target's directory, which is then renamed over the target, so a failure or a kill leaves
// no partial file and an existing file is replaced only on success. The policy that decides which
// outputs take this path (devices and FIFOs do not; "-" is standard output) is
// common/output_path.hpp; the verbs call that, not this.
//
// Temporaries are named `.meshsim-<pid>-<16 hex digits>.tmp` (at most 37 bytes, so any legal target
// name fits; the hex digits hash the target's name). A process killed between creating and
// renaming its temporary leaves one behind; the next write into that directory removes every
// temporary of this pattern (and of the older pattern `<target>.tmp.<pid>`) whose process is gone.
#include <string>

#include "common/output_path.hpp"  // check_output_path, write_file_atomically (older names)

namespace meshsim {

// The temporary's file name for `target_name` (a file name, no directory) written by process `pid`.
std::string temporary_file_name(const std::string& target_name, long pid);

// Removes, from `directory`, the regular files named like our temporaries (new pattern, or the old
// `<target_name>.tmp.<pid>`) whose process no longer exists. Returns how many it removed. Never
// throws; a file it cannot remove stays.
int remove_stale_temporaries(const std::string& directory, const std::string& target_name);

// Replaces the regular file `path` (or creates it) with `contents` atomically, keeping the
// permission bits of a file it replaces. `path` must not be a symbolic link (resolve it first).
// Errors are InputErrors naming `flag` (or the path when `flag` is empty).
void replace_file_atomically(const std::string& path, const std::string& contents,
                             const std::string& flag);

}  // namespace meshsim
