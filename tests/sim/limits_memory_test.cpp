// The memory estimate of sim/limits.hpp must bound the real peak (issue 17 item 9: the direct
// all-to-all used to pass the 8 GiB estimate and reach 10.5 GB). Runs the real binary in a child
// over a range of sizes and reads the child's peak resident set from wait4().
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/limits.hpp"
#include "tests/cli_runner.hpp"
#include "tests/sanitizers.hpp"

namespace {

struct Peak {
  double rss_bytes = 0;
  std::uint64_t transfers = 0;
};

// Runs `meshsim collective ... --json` and returns its peak RSS and transfer count.
Peak collective_peak(const std::vector<std::string>& args, const std::string& out_path) {
  std::vector<std::string> argv_text = {MESHSIM_BINARY, "collective"};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  argv_text.push_back("--json");
  std::vector<char*> argv;
  for (auto& a : argv_text)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, 1) < 0)
      _exit(127);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  REQUIRE(wait4(pid, &status, 0, &usage) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  std::ifstream in(out_path);
  const auto j = nlohmann::json::parse(std::string(std::istreambuf_iterator<char>(in), {}));
  Peak p;
  p.rss_bytes = static_cast<double>(usage.ru_maxrss) * 1024.0;  // Linux: kilobytes
  p.transfers = j["transfers"].get<std::uint64_t>();
  return p;
}

}  // namespace

TEST_CASE("limits: the memory estimate bounds the measured peak of collectives",
          "[limits][memory]") {
#ifdef MESHSIM_UNDER_ASAN
  // AddressSanitizer's shadow memory and redzones multiply the resident set (3-4x measured here):
  // the estimate bounds the uninstrumented binary, which the release suite measures.
  WARN("skipped under AddressSanitizer: the release suite measures the real peak");
  return;
#endif
  const std::string dir = meshsim::testing::scratch_dir("limits_memory");
  struct Shape {
    std::string op, algorithm, hardware;
    bool concurrent;  // every transfer in flight at once
  };
  const std::vector<Shape> shapes = {
      {"all-to-all", "direct", "tpu-v4", true},
      {"all-to-all", "pairwise", "tpu-v4", false},
      {"all-reduce", "ring", "tpu-v4", false},
      {"all-to-all", "direct", "h100-sxm", true},
  };
  for (const auto& s : shapes) {
    std::vector<Peak> peaks;
    for (const int group : {256, 512, 1024}) {
      INFO(s.op << " " << s.algorithm << " on " << s.hardware << ", group " << group);
      // --all-chips: the full schedule (a ring would otherwise run reduced by rotation symmetry,
      // one member's transfers, and the estimate is of the full one).
      const Peak p = collective_peak(
          {"--op", s.op, "--algorithm", s.algorithm, "--bytes", "64MiB", "--hardware", s.hardware,
           "--group", std::to_string(group), "--all-chips"},
          dir + "/out.json");
      const double estimate = meshsim::limits::estimated_simulation_memory_bytes(
          p.transfers, group, s.concurrent ? p.transfers : 0);
      INFO("peak " << p.rss_bytes << " B, estimate " << estimate << " B, " << p.transfers
                   << " transfers");
      CHECK(p.rss_bytes <= estimate);
      peaks.push_back(p);
    }
    // The per-transfer constants themselves, free of the fixed base: the growth of the peak from
    // the smallest to the largest group, per added transfer, is within the estimate's rate.
    const double per_transfer =
        (peaks.back().rss_bytes - peaks.front().rss_bytes) /
        static_cast<double>(peaks.back().transfers - peaks.front().transfers);
    const double rate = meshsim::limits::kBytesPerScheduledTransfer +
                        (s.concurrent ? meshsim::limits::kBytesPerConcurrentTransfer : 0.0) +
                        meshsim::limits::kBytesPerSimulatedChip * (1024 - 256) /
                            static_cast<double>(peaks.back().transfers - peaks.front().transfers);
    INFO(s.op << " " << s.algorithm << " on " << s.hardware << ": " << per_transfer
              << " B per transfer measured, " << rate << " B estimated");
    CHECK(per_transfer <= rate);
  }
}
