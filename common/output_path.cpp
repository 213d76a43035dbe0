#include "common/output_path.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/error.hpp"

namespace meshsim {
namespace {

namespace fs = std::filesystem;

const char* const kAllowed =
    "a file path in an existing writable directory, a character device or FIFO, or - for "
    "standard output";

enum class Kind { Standard, Device, File };

// Where an output goes, once checked: its kind, the path to write (links resolved) and its
// identity (device and inode of the file, or of the directory for a file still to be made).
struct Target {
  Kind kind = Kind::File;
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
  std::string new_name;  // non-empty for a file that does not exist yet
};

[[noreturn]] void refuse(const NamedPath& o, const std::string& problem,
                         const std::string& allowed = kAllowed) {
  throw InputError({o.flag, "", ""}, problem, "'" + o.path + "'", allowed);
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Target classify(const NamedPath& o) {
  Target t;
  if (o.path.empty())
    refuse(o, "empty output path");
  if (is_standard_output(o.path)) {
    t.kind = Kind::Standard;
    return t;
  }
  if (name_of(o.path).size() > NAME_MAX) {
    refuse(o, "the file name is longer than " + std::to_string(NAME_MAX) + " bytes",
           "a file name of at most " + std::to_string(NAME_MAX) + " bytes");
  }
  struct stat st {};
  if (::stat(o.path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      refuse(o, "the output path is a directory");
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
      if (::access(o.path.c_str(), W_OK) != 0)
        refuse(o,
               std::string("the output device or FIFO is not writable: ") + std::strerror(errno));
      t.kind = Kind::Device;
      t.path = o.path;
      t.dev = st.st_dev;
      t.ino = st.st_ino;
      return t;
    }
    if (!S_ISREG(st.st_mode))
      refuse(o, "the output path is a block device or a socket, not a file");
    std::error_code ec;
    const fs::path resolved = fs::canonical(o.path, ec);
    if (ec)
      refuse(o, "the output path cannot be resolved: " + ec.message());
    t.path = resolved.string();
    t.dev = st.st_dev;
    t.ino = st.st_ino;
  } else {
    const int stat_error = errno;
    struct stat link {};
    if (::lstat(o.path.c_str(), &link) == 0 && S_ISLNK(link.st_mode))
      refuse(o, "the output path is a symbolic link to a missing file");
    if (stat_error != ENOENT)
      refuse(o, std::string("the output path cannot be used: ") + std::strerror(stat_error));
    t.path = o.path;
    t.new_name = name_of(o.path);
    if (t.new_name.empty() || t.new_name == "." || t.new_name == "..")
      refuse(o, "the output path names no file");
  }
  const std::string dir = parent_of(t.path);
  struct stat dir_st {};
  if (::stat(dir.c_str(), &dir_st) != 0 || !S_ISDIR(dir_st.st_mode)) {
    throw InputError({o.flag, "", ""}, "the output directory does not exist", "'" + dir + "'",
                     "a path in an existing directory");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw InputError({o.flag, "", ""}, "the output directory is not writable", "'" + dir + "'",
                     "a writable directory");
  }
  if (!t.new_name.empty()) {
    t.dev = dir_st.st_dev;
    t.ino = dir_st.st_ino;
  }
  return t;
}

bool same_file(const Target& a, const Target& b) {
  if (a.kind == Kind::Standard || b.kind == Kind::Standard)
    return a.kind == b.kind;
  return a.dev == b.dev && a.ino == b.ino && a.new_name == b.new_name;
}

void write_all(int fd, const std::string& contents, const NamedPath& o) {
  const char* data = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      ::close(fd);
      refuse(o, std::string("cannot write: ") + std::strerror(error));
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0)
    refuse(o, std::string("cannot write: ") + std::strerror(errno));
}

// A character device or FIFO: opened without creating or truncating, and without blocking on a
// FIFO that nobody reads (ENXIO), then written in blocking mode.
void write_device(const NamedPath& o, const std::string& contents) {
  const int fd = ::open(o.path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENXIO)
      refuse(o, "no process is reading the FIFO");
    refuse(o, std::string("cannot open: ") + std::strerror(errno));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0)
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  write_all(fd, contents, o);
}

}  // namespace

bool is_standard_output(const std::string& path) {
  return path == "-";
}

bool any_standard_output(const std::vector<NamedPath>& outputs) {
  for (const auto& o : outputs) {
    if (is_standard_output(o.path))
      return true;
  }
  return false;
}

void check_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
  std::vector<Target> targets;
  for (const auto& o : outputs)
    targets.push_back(classify(o));
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (same_file(targets[i], targets[j]) &&
          !(targets[i].kind == Kind::Device && targets[j].kind == Kind::Device)) {
        throw InputError(
            {outputs[i].flag, "", ""},
            "the same file as the output of " + outputs[j].flag + "; one would overwrite the other",
            "'" + outputs[i].path + "' and '" + outputs[j].path + "'",
            "a different path for each output");
      }
    }
  }
  for (const auto& in : inputs) {
    struct stat st {};
    if (in.path.empty() || is_standard_output(in.path) || ::stat(in.path.c_str(), &st) != 0)
      continue;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const Target& t = targets[i];
      if (t.kind != Kind::Standard && t.new_name.empty() && t.dev == st.st_dev &&
          t.ino == st.st_ino) {
        throw InputError(
            {outputs[i].flag, "", ""},
            "the same file as the input of " + in.flag + "; writing it would destroy the input",
            "'" + outputs[i].path + "' and '" + in.path + "'",
            "an output path that is not an input of the command");
      }
    }
  }
}

void write_output(const NamedPath& output, const std::string& contents) {
  const Target t = classify(output);
  switch (t.kind) {
    case Kind::Standard:
      // Errors surface when main() flushes standard output (exit 2, "standard output").
      std::fwrite(contents.data(), 1, contents.size(), stdout);
      return;
    case Kind::Device:
      write_device(output, contents);
      return;
    case Kind::File:
      replace_file_atomically(t.path, contents, output.flag);
      return;
  }
}

void check_output_path(const std::string& path, const std::string& flag) {
  check_outputs({{flag, path}}, {});
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  write_output({path, path}, contents);
}

}  // namespace meshsim
