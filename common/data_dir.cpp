#include "common/data_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/error.hpp"

#ifndef MESHSIM_SOURCE_DIR
#define MESHSIM_SOURCE_DIR "."
#endif

namespace meshsim {

std::filesystem::path data_folder(const std::string& folder) {
  const char* env = std::getenv("MESHSIM_DATA_DIR");
  if (env == nullptr || *env == '\0')
    return std::filesystem::path(MESHSIM_SOURCE_DIR) / folder;
  const std::string root = env;
  const std::string allowed =
      "unset, or a directory holding models/ and hardware_profiles/ (like the source tree)";
  const ErrorSite site{"MESHSIM_DATA_DIR", "", ""};
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) {
    throw InputError(site, std::string("cannot be used: ") + std::strerror(errno), "'" + root + "'",
                     allowed);
  }
  if (!S_ISDIR(st.st_mode))
    throw InputError(site, "is not a directory", "'" + root + "'", allowed);
  const std::string path = root + "/" + folder;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw InputError(site, "has no " + folder + "/ directory", "'" + root + "'", allowed);
  }
  if (::access(path.c_str(), R_OK | X_OK) != 0) {
    throw InputError(site, "its " + folder + "/ directory is not readable", "'" + root + "'",
                     allowed);
  }
  return std::filesystem::path(path);
}

}  // namespace meshsim
