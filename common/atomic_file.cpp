#include "common/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "common/error.hpp"

namespace meshsim {

void check_output_path(const std::string& path, const std::string& flag) {
  namespace fs = std::filesystem;
  if (path.empty())
    throw InputError({flag, "", ""}, "empty output path", "''", "a file path");
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw InputError({flag, "", ""}, "the output directory does not exist",
                     "'" + dir.string() + "'", "a path in an existing directory");
  }
  if (fs::is_directory(target, ec)) {
    throw InputError({flag, "", ""}, "the output path is a directory", "'" + path + "'",
                     "a file path");
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    throw InputError({flag, "", ""}, "the output directory is not writable",
                     "'" + dir.string() + "'", "a writable directory");
  }
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) {
    throw InputError({path, "", ""}, std::string("cannot write: ") + std::strerror(errno));
  }
  bool ok = std::fwrite(contents.data(), 1, contents.size(), f) == contents.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(temp.c_str());
    throw InputError({path, "", ""}, std::string("cannot write: ") + std::strerror(err));
  }
}

}  // namespace meshsim
