#include "common/text_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.hpp"

namespace meshsim {

std::string read_input_file(const std::string& path, const std::string& kind) {
  namespace fs = std::filesystem;
  const std::string wanted = "a path to a " + kind + " file";
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status))
    throw InputError({path, "", ""}, "no such file", "", "a path to a readable " + kind + " file");
  if (fs::is_directory(status))
    throw InputError({path, "", ""}, "is a directory, not a file", "", wanted);
  if (!fs::is_regular_file(status)) {
    // A device (/dev/zero), a FIFO or a socket: unbounded or blocking reads (issue 17, item 2).
    throw InputError({path, "", ""}, "is not a regular file (a device, FIFO or socket)", "",
                     wanted);
  }
  const auto size = fs::file_size(path, ec);
  if (ec || size > kMaxInputFileBytes) {
    throw InputError({path, "", ""}, "file too large", std::to_string(size) + " bytes",
                     "at most 64 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError({path, "", ""}, std::string("cannot be read: ") + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad())
    throw InputError({path, "", ""}, "cannot be read (I/O error)");
  return buffer.str();
}

}  // namespace meshsim
