#include "tests/cli_runner.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace meshsim::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string scratch_dir(const std::string& name) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("meshsim-test-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string write_scratch_file(const std::string& dir, const std::string& name,
                               const std::string& contents) {
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

CliResult run_meshsim(const std::string& args) {
  std::string dir = scratch_dir("cli-capture");
  std::string out_path = dir + "/stdout", err_path = dir + "/stderr";
  std::string command =
      std::string(MESHSIM_BINARY) + " " + args + " >" + out_path + " 2>" + err_path + " </dev/null";
  int status = std::system(command.c_str());
  CliResult result;
  if (status != -1 && WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  return result;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace meshsim::testing
