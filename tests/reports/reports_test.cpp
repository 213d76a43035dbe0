// The reference capacity reports in reports/ regenerate byte for byte (determinism and freshness).
// Slow: regenerating all three takes minutes of CPU (docs/report.md "Runtime"); it runs in the
// release suite and is excluded from the sanitizer suite (CMakePresets.json), where it would take
// an hour.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/cli_runner.hpp"

namespace {
std::string slurp(const std::string& path) {
  return meshsim::testing::read_text_file(path);
}
}  // namespace

TEST_CASE("reference reports regenerate byte for byte", "[reports][slow]") {
  const std::string dir = meshsim::testing::scratch_dir("reports_regen");
  const std::string cmd =
      std::string(MESHSIM_SOURCE_DIR) + "/scripts/make-reports.sh " + MESHSIM_BINARY + " " + dir;
  REQUIRE(std::system(cmd.c_str()) == 0);
  for (const char* name : {"vit-22b_tpu-v4_1024", "vit-22b_h100_1024", "vit-e14_tpu-v4_256"}) {
    for (const char* ext : {".json", ".txt"}) {
      const std::string file = std::string(name) + ext;
      INFO(file);
      const std::string want = slurp(std::string(MESHSIM_SOURCE_DIR) + "/reports/" + file);
      REQUIRE(!want.empty());
      CHECK(slurp(dir + "/" + file) == want);
    }
  }
}
