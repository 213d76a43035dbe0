#include "common/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/error.hpp"

namespace meshsim {
namespace {

constexpr const char* kPrefix = ".meshsim-";
constexpr const char* kSuffix = ".tmp";

// FNV-1a, 64 bits: a short, stable tag of the target's name (not a security measure: O_EXCL and
// the pid keep temporaries apart).
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

bool all_digits(const std::string& text) {
  if (text.empty() || text.size() > 10)
    return false;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
  }
  return true;
}

bool all_hex(const std::string& text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return true;
}

// The pid in a temporary's name, or -1 when the name is not one of ours.
long temporary_pid(const std::string& name, const std::string& target_name) {
  const std::string prefix = kPrefix, suffix = kSuffix;
  if (name.size() > prefix.size() + suffix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    const std::string middle =
        name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    const auto dash = middle.find('-');
    if (dash == std::string::npos)
      return -1;
    const std::string pid = middle.substr(0, dash), tag = middle.substr(dash + 1);
    if (!all_digits(pid) || tag.size() != 16 || !all_hex(tag))
      return -1;
    return std::stol(pid);
  }
  const std::string old_prefix = target_name + ".tmp.";  // before issue 17, item 16
  if (!target_name.empty() && name.size() > old_prefix.size() &&
      name.compare(0, old_prefix.size(), old_prefix) == 0) {
    const std::string pid = name.substr(old_prefix.size());
    return all_digits(pid) ? std::stol(pid) : -1;
  }
  return -1;
}

bool process_is_gone(long pid) {
  if (pid <= 0)
    return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

[[noreturn]] void fail(const std::string& path, const std::string& flag, const char* what,
                       int error) {
  const ErrorSite site{flag.empty() ? path : flag, "", ""};
  throw InputError(site, std::string(what) + ": " + std::strerror(error),
                   flag.empty() ? "" : "'" + path + "'", "a writable file path");
}

}  // namespace

std::string temporary_file_name(const std::string& target_name, long pid) {
  char tag[17];
  std::snprintf(tag, sizeof tag, "%016llx", static_cast<unsigned long long>(fnv1a(target_name)));
  return std::string(kPrefix) + std::to_string(pid) + "-" + tag + kSuffix;
}

int remove_stale_temporaries(const std::string& directory, const std::string& target_name) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr)
    return 0;
  int removed = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    const long pid = temporary_pid(name, target_name);
    if (pid < 0 || pid == static_cast<long>(::getpid()) || !process_is_gone(pid))
      continue;
    const std::string path = directory + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::unlink(path.c_str()) == 0)
      ++removed;
  }
  ::closedir(dir);
  return removed;
}

void replace_file_atomically(const std::string& path, const std::string& contents,
                             const std::string& flag) {
  const auto slash = path.rfind('/');
  const std::string directory =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  remove_stale_temporaries(directory, name);
  const std::string temp = directory + "/" + temporary_file_name(name, ::getpid());
  struct stat old {};
  const bool replacing = ::stat(path.c_str(), &old) == 0;
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    fail(path, flag, "cannot create a temporary file beside it", errno);
  int error = 0;
  if (replacing && ::fchmod(fd, old.st_mode & 07777) != 0)
    error = errno;
  const char* data = contents.data();
  std::size_t left = contents.size();
  while (error == 0 && left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      error = errno;
    } else {
      data += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  if (::close(fd) != 0 && error == 0)
    error = errno;
  if (error == 0 && std::rename(temp.c_str(), path.c_str()) != 0)
    error = errno;
  if (error != 0) {
    ::unlink(temp.c_str());
    fail(path, flag, "cannot write", error);
  }
}

}  // namespace meshsim
