// The output-path policy (common/output_path.hpp) and the atomic writer under it
// (common/atomic_file.hpp): issue 17, items 3, 4 and 16.
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/atomic_file.hpp"
#include "common/data_dir.hpp"
#include "common/error.hpp"
#include "common/json_text.hpp"
#include "common/output_path.hpp"
#include "tests/cli_runner.hpp"
#include "tests/input_errors.hpp"

namespace {

namespace fs = std::filesystem;
using meshsim::check_outputs;
using meshsim::NamedPath;
using meshsim::write_output;
using meshsim::testing::contains;
using meshsim::testing::error_of;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The pid of a process that has exited (and been reaped).
long dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0)
    ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

std::size_t count_entries(const std::string& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("output path: temporary names always fit beside a legal file name", "[output]") {
  const std::string longest(NAME_MAX, 'a');
  const std::string temp = meshsim::temporary_file_name(longest, 4194304);
  CHECK(temp.size() <= 40);
  CHECK(temp.rfind(".meshsim-4194304-", 0) == 0);
  CHECK(temp != meshsim::temporary_file_name(longest + "b", 4194304));  // the tag follows the name
  CHECK(temp == meshsim::temporary_file_name(longest, 4194304));        // and is stable

  const std::string dir = meshsim::testing::scratch_dir("output-longest-name");
  const std::string path = dir + "/" + longest;
  REQUIRE_NOTHROW(write_output({"-o", path}, "contents\n"));
  CHECK(slurp(path) == "contents\n");
  CHECK(count_entries(dir) == 1);  // no temporary left
  // One byte more is refused before any work, naming the flag.
  const std::string message = error_of([&] { check_outputs({{"-o", path + "b"}}, {}); });
  CHECK(contains(message, "-o"));
  CHECK(contains(message, "longer than 255 bytes"));
}

TEST_CASE("output path: stale temporaries of dead processes are removed, others kept", "[output]") {
  const std::string dir = meshsim::testing::scratch_dir("output-stale");
  const long dead = dead_pid();
  const std::string stale = meshsim::temporary_file_name("out.json", dead);
  const std::string stale_old = "out.json.tmp." + std::to_string(dead);
  const std::string live = meshsim::temporary_file_name("other.json", ::getppid());
  const std::string foreign = ".meshsim-" + std::to_string(dead) + "-not-ours.tmp";
  const std::string other_old = "other.json.tmp." + std::to_string(dead);
  for (const auto& name : {stale, stale_old, live, foreign, other_old})
    meshsim::testing::write_scratch_file(dir, name, "partial");
  write_output({"-o", dir + "/out.json"}, "{}\n");
  CHECK_FALSE(fs::exists(dir + "/" + stale));
  CHECK_FALSE(fs::exists(dir + "/" + stale_old));  // the old pattern, for this target
  CHECK(fs::exists(dir + "/" + live));             // its process is alive
  CHECK(fs::exists(dir + "/" + foreign));          // not our pattern
  CHECK(fs::exists(dir + "/" + other_old));        // old pattern of another target: kept
  CHECK(slurp(dir + "/out.json") == "{}\n");
}

TEST_CASE("output path: a replaced file keeps its permissions, and a link is written through",
          "[output]") {
  const std::string dir = meshsim::testing::scratch_dir("output-replace");
  const std::string real = meshsim::testing::write_scratch_file(dir, "real.json", "old");
  ::chmod(real.c_str(), 0640);
  fs::create_symlink("real.json", dir + "/link.json");
  write_output({"--output", dir + "/link.json"}, "new");
  CHECK(fs::is_symlink(dir + "/link.json"));
  CHECK(slurp(real) == "new");
  struct stat st {};
  REQUIRE(::stat(real.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(count_entries(dir) == 2);
  // A link to a missing file is refused (renaming over it would replace the link).
  fs::create_symlink("missing.json", dir + "/dangling.json");
  CHECK(contains(error_of([&] {
                   check_outputs({{"--trace", dir + "/dangling.json"}}, {});
                 }),
                 "symbolic link to a missing file"));
}

TEST_CASE("output path: devices and FIFOs are written directly, never replaced", "[output]") {
  // Through links in a scratch directory: code that regressed to renaming over its output would
  // replace the link, not /dev/null or /dev/full (which it could, as root).
  const std::string dir = meshsim::testing::scratch_dir("output-fifo");
  fs::create_symlink("/dev/null", dir + "/null");
  fs::create_symlink("/dev/full", dir + "/full");
  REQUIRE_NOTHROW(write_output({"-o", dir + "/null"}, "discarded"));
  CHECK(fs::is_symlink(dir + "/null"));
  CHECK(fs::is_character_file("/dev/null"));
  if (fs::is_character_file("/dev/full")) {
    const std::string message = error_of([&] { write_output({"--trace", dir + "/full"}, "x"); });
    CHECK(message.rfind("--trace: ", 0) == 0);
    CHECK(contains(message, "No space left"));
    CHECK(fs::is_symlink(dir + "/full"));
  }
  const std::string fifo = dir + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Nobody reads it: an error, not a hang.
  CHECK(contains(error_of([&] { write_output({"-o", fifo}, "x"); }), "no process is reading"));
  CHECK(fs::is_fifo(fifo));
  // Two outputs onto one character device lose nothing and are allowed.
  CHECK_NOTHROW(check_outputs({{"-o", dir + "/null"}, {"--trace", dir + "/null"}}, {}));
  // A directory is refused.
  CHECK(contains(error_of([&] { check_outputs({{"-o", dir}}, {}); }), "is a directory"));
}

TEST_CASE("output path: an output may not be an input or another output", "[output]") {
  const std::string dir = meshsim::testing::scratch_dir("output-clash");
  const std::string plan = meshsim::testing::write_scratch_file(dir, "plan.json", "{}");
  fs::create_symlink("plan.json", dir + "/link.json");
  fs::create_hard_link(plan, dir + "/hard.json");
  const std::vector<NamedPath> inputs{{"--model", dir + "/missing-model.json"}, {"--plan", plan}};
  for (const std::string& out :
       {plan, dir + "/link.json", dir + "/hard.json", dir + "/../output-clash/plan.json"}) {
    INFO(out);
    const std::string message = error_of([&] { check_outputs({{"--output", out}}, inputs); });
    CHECK(message.rfind("--output: ", 0) == 0);
    CHECK(contains(message, "input of --plan"));
  }
  // Two outputs onto one new file, however spelt.
  const std::string message = error_of([&] {
    check_outputs({{"--output", dir + "/x.json"}, {"--trace", dir + "/./x.json"}}, {});
  });
  CHECK(message.rfind("--trace: ", 0) == 0);
  CHECK(contains(message, "--output"));
  CHECK(contains(error_of([] { check_outputs({{"-o", "-"}, {"--trace", "-"}}, {}); }), "-o"));
  // Distinct files are fine, and nothing was written by the checks.
  CHECK_NOTHROW(
      check_outputs({{"--output", dir + "/a.json"}, {"--trace", dir + "/b.json"}}, inputs));
  CHECK(count_entries(dir) == 3);
  CHECK(slurp(plan) == "{}");
}

TEST_CASE("output path: missing or unwritable directories are refused before any work",
          "[output]") {
  const std::string message = error_of([] {
    check_outputs({{"-o", "/no/such/dir/out.json"}}, {});
  });
  CHECK(message.rfind("-o: ", 0) == 0);
  CHECK(contains(message, "does not exist"));
  CHECK(contains(error_of([] { check_outputs({{"-o", ""}}, {}); }), "empty"));
  CHECK(meshsim::is_standard_output("-"));
  CHECK_FALSE(meshsim::is_standard_output("./-"));
}

TEST_CASE("json text: names that are not UTF-8 are escaped, not an internal error", "[output]") {
  nlohmann::json j;
  j["file"] = std::string("caf\xe9.json");
  CHECK_THROWS(j.dump());  // what the JSON library does on its own
  const std::string text = meshsim::json_text(j, -1);
  CHECK(text == "{\"file\":\"caf\xef\xbf\xbd.json\"}");
  CHECK(nlohmann::json::parse(text)["file"] == "caf\xef\xbf\xbd.json");
}

TEST_CASE("data dir: MESHSIM_DATA_DIR must lead to the data folder", "[output][models]") {
  const std::string root = meshsim::testing::scratch_dir("data-dir-env");
  fs::create_directories(root + "/models");
  const std::string file = meshsim::testing::write_scratch_file(root, "file", "x");
  struct Case {
    std::string value;
    std::string words;
  };
  for (const Case& c :
       {Case{root + "/missing", "No such file"}, Case{file, "not a directory"},
        Case{"/dev/zero", "not a directory"}, Case{root, "no hardware_profiles/ directory"}}) {
    INFO(c.value);
    ::setenv("MESHSIM_DATA_DIR", c.value.c_str(), 1);
    const std::string message = error_of([] { (void)meshsim::data_folder("hardware_profiles"); });
    ::unsetenv("MESHSIM_DATA_DIR");
    CHECK(message.rfind("MESHSIM_DATA_DIR: ", 0) == 0);
    CHECK(contains(message, c.words));
    CHECK(contains(message, "allowed: unset, or a directory"));
  }
  ::setenv("MESHSIM_DATA_DIR", root.c_str(), 1);
  const fs::path models = meshsim::data_folder("models");
  ::setenv("MESHSIM_DATA_DIR", "", 1);  // empty: as if unset
  const fs::path source = meshsim::data_folder("models");
  ::unsetenv("MESHSIM_DATA_DIR");
  CHECK(models == fs::path(root + "/models"));
  CHECK(fs::exists(source / "vit-22b.json"));
}
