// The adversarial suite (issue 17, docs/hardening.md "The adversarial suite"): the real meshsim
// binary against hostile inputs and a hostile environment, one process per case, each under a
// memory limit (RLIMIT_AS, 2 GiB; not under AddressSanitizer, which reserves terabytes of virtual
// memory, where the timeout alone bounds a runaway case) and a timeout.
//
// Two tables. `kRefused`: the contract for bad input - exit 2, exactly one stderr line starting
// with "meshsim: " and holding the case's key words, empty stdout, and the case's directory
// unchanged (no file left behind, none overwritten, none removed). `kAccepted`: inputs with a
// documented correct behaviour (exit 0, then a shell check of the result).
//
// Adding a case is one line in a table. Each case runs in a fresh directory holding the fixtures
// of make_fixtures(); `meshsim` is on PATH, and $RUN, $SWEEP, $REPORT are short runs of the verbs.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli_runner.hpp"
#include "tests/sanitizers.hpp"
#include "tests/sim/validate/synthetic_measurements.hpp"

namespace {

namespace fs = std::filesystem;

#ifdef MESHSIM_UNDER_ASAN
constexpr bool kUnderAsan = true;
constexpr double kTimeoutSeconds = 120;
#else
constexpr bool kUnderAsan = false;
constexpr double kTimeoutSeconds = 20;
#endif
constexpr rlim_t kMemoryLimitBytes = rlim_t{2} << 30;  // 2 GiB of address space

// Bad input: the command must be refused by the contract. `words` are '|'-separated substrings
// the one stderr line must hold (the flag or file it names, and the problem).
struct Refused {
  const char* item;  // the item of issue 17
  const char* command;
  const char* words;
};

// Input with a documented correct behaviour: exit 0, then `check` (a shell condition run in the
// case's directory) must hold.
struct Accepted {
  const char* item;
  const char* command;
  const char* check;
};

// clang-format off
const Refused kRefused[] = {
  // 1. Deep nesting: refused at parse time (256 levels), no stack overflow.
  {"1", "meshsim model show deep-field.json", "deep-field.json|nested too deeply"},
  {"1", "meshsim hardware show deep-field.json", "deep-field.json|nested too deeply"},
  {"1", "meshsim run --plan deep.json", "deep.json|nested too deeply"},
  {"1", "meshsim validate --measurements deep.json --hardware h100-sxm", "deep.json|nested too deeply"},
  // 2. Special files as inputs: refused before any read, never read without bound or blocked on.
  {"2", "meshsim model show zero.json", "zero.json|not a regular file"},
  {"2", "meshsim hardware show urandom.json", "urandom.json|not a regular file"},
  {"2", "meshsim run --plan zero.json", "zero.json|not a regular file"},
  {"2", "meshsim validate --measurements fifo.json --hardware h100-sxm", "fifo.json|not a regular file"},
  {"2", "meshsim model show fifo.json", "fifo.json|not a regular file"},
  {"2", "meshsim calibrate --matmuls /dev/zero --hardware h100-sxm", "/dev/zero|not a regular file"},
  // 3. Outputs onto devices: written directly; a full device is an error naming the flag.
  {"3", "$RUN -o full", "--output|No space left"},
  {"3", "$RUN --trace full", "--trace|No space left"},
  {"3", "$SWEEP -o full", "--output|No space left"},
  {"3", "$REPORT -o full", "--output|No space left"},
  {"3", "meshsim calibrate --matmuls gemm.csv --hardware h100-sxm -o full", "-o|No space left"},
  {"3", "$RUN -o fifo.json", "--output|no process is reading the FIFO"},
  {"3", "$RUN -o .", "--output|is a directory"},
  {"3", "$RUN -o no-such-dir/out.json", "--output|directory does not exist"},
  {"3", "ln -s missing.json dangling.json; $RUN -o dangling.json; s=$?; rm dangling.json; exit $s", "--output|symbolic link to a missing file"},
  // 4. Outputs onto inputs or onto each other (links resolved).
  {"4", "meshsim run --plan plan.json -o plan.json", "--output|--plan|plan.json"},
  {"4", "meshsim run --plan plan.json --trace plan.json", "--trace|--plan"},
  {"4", "meshsim run --plan plan.json --model model.json -o model.json", "--output|--model"},
  {"4", "meshsim run --plan plan.json -o plan-link.json", "--output|--plan|plan-link.json"},
  {"4", "meshsim run --plan plan.json -o plan-hard.json", "--output|--plan"},
  {"4", "meshsim calibrate --measurements meas.json --allow-synthetic --hardware h100-sxm -o meas.json", "-o|--measurements"},
  {"4", "meshsim calibrate --matmuls gemm.csv --hardware h100-sxm -o gemm.csv", "-o|--matmuls"},
  {"4", "meshsim calibrate --matmuls gemm.csv --hardware profile.json -o profile.json", "-o|--hardware"},
  {"4", "meshsim calibrate --runs runs.csv --hardware a100-sxm-80gb -o runs.csv", "-o|--runs"},
  {"4", "meshsim sweep --model model.json --chips 8 --batch 64 -o model.json", "--output|--model"},
  {"4", "meshsim report --model model.json --chips 8 --global-batch 64 -o ./model.json", "--output|--model"},
  {"4", "$RUN -o x.json --trace x.json", "--trace|--output|x.json"},
  {"4", "$RUN -o x.json --trace ./x.json", "--trace|--output"},
  {"4", "$RUN -o - --trace -", "--trace|--output"},
  // 5. Standard output that cannot be written.
  {"5", "meshsim models >/dev/full", "standard output|cannot write"},
  {"5", "meshsim --help >/dev/full", "standard output|cannot write"},
  {"5", "$RUN --json >/dev/full", "standard output|cannot write"},
  {"5", "$RUN -o - >/dev/full", "standard output|cannot write"},
  {"5", "meshsim hardware show tpu-v4 >&-", "standard output|cannot write"},
  // 6. Simulated time past 2^63 ps: refused up front, naming the input.
  {"6", "meshsim collective --op all-reduce --bytes 1e18 --hardware h100-sxm --group 8", "--bytes"},
  {"6", "meshsim run --model vit-b16 --mesh 1x1 --batch 1099511627776", "--batch|longer than the simulator counts"},
  // 7. A sweep range beyond any batch: refused, no runaway doubling.
  {"7", "meshsim sweep --chips 8 --batch 1:9223372036854775807", "--batch|out of range"},
  {"7", "meshsim sweep --model vit-b16 --chips 8 --batch 4611686018427387904", "--batch|out of range"},
  // 8. Limits checked before building the program or the topology.
  {"8", "meshsim run --model vit-b16 --mesh 1x1 --batch 1048576 --microbatches 1048576", "--microbatches|instructions"},
  // 9. A memory estimate that bounds the real peak refuses the issue's all-to-all.
  {"9", "meshsim collective --op all-to-all --group 14136 --hardware h100-sxm --bytes 1GiB", "--group|memory"},
  // 10. A sweep whose total work is beyond the limit says what to change.
  {"10", "meshsim sweep --model llama3-70b --hardware h100-sxm --chips 1024 --batch 4096 --max-microbatches 256 -j 2",
   "--chips|simulation events"},
  // 12. One integer grammar: no octal, hex or saturation.
  {"12", "meshsim run --model vit-b16 --chips 010 --batch 64", "--chips|octal"},
  {"12", "meshsim run --model vit-b16 --chips 0x10 --batch 64", "--chips|not a count"},
  {"12", "meshsim run --model vit-b16 --chips 99999999999999999999 --batch 64", "--chips|out of range"},
  // 13. report targets.
  {"13", "meshsim report --model vit-b16 --chips 8 --global-batch 64 --steps 1e308T -o out.json", "--steps|not a count"},
  {"13", "meshsim report --model vit-b16 --chips 8 --global-batch 64 --steps 0.5 -o out.json", "--steps|whole number"},
  {"13", "meshsim report --model vit-b16 --chips 8 --global-batch -5 -o out.json", "--global-batch"},
  {"13", "meshsim report --model vit-b16 --chips 8 --global-batch 64 --max-scaling-chips -1 -o out.json", "--max-scaling-chips"},
  // 14. Empty values.
  {"14", "meshsim sweep --model vit-b16 --chips 8 --batch '1:'", "--batch|not a count"},
  {"14", "meshsim sweep --model vit-b16 --chips 8 --batch ' 64'", "--batch|not a count"},
  {"14", "meshsim sweep --model vit-b16 --chips 8 --batch '+64'", "--batch|not a count"},
  {"14", "$RUN --async ''", "--async|empty"},
  {"14", "$RUN --fsdp ''", "--fsdp|empty"},
  {"14", "meshsim run --model vit-b16 --chips 8 --batch ''", "--batch|empty"},
  {"14", "$RUN --microbatches ''", "--microbatches|empty"},
  {"14", "$RUN -o ''", "--output|empty"},
  // 15. JSON strictness: duplicate keys, data after a NUL byte.
  {"15", "meshsim model show dup.json", "dup.json|width|twice"},
  {"15", "meshsim calibrate --measurements dup-synthetic.json --hardware h100-sxm -o out.json", "dup-synthetic.json|synthetic"},
  {"15", "meshsim model show nul.json", "nul.json|NUL"},
  {"15", "meshsim model show frac.json", "frac.json|whole number"},
  // 16. Output names: longer than NAME_MAX is refused before the simulation.
  {"16", "$RUN -o $(printf '%0256d' 0).json", "--output|longer than 255 bytes"},
  // 17. MESHSIM_DATA_DIR that does not lead to a data directory.
  {"17", "MESHSIM_DATA_DIR=./no-such-dir meshsim models", "MESHSIM_DATA_DIR|no-such-dir"},
  {"17", "MESHSIM_DATA_DIR=model.json meshsim hardware", "MESHSIM_DATA_DIR|not a directory"},
  {"17", "MESHSIM_DATA_DIR=/dev/zero meshsim models --json", "MESHSIM_DATA_DIR|not a directory"},
  {"17", "MESHSIM_DATA_DIR=/dev/zero meshsim run --chips 8", "MESHSIM_DATA_DIR"},
  {"17", "MESHSIM_DATA_DIR=. meshsim model show vit-b16", "MESHSIM_DATA_DIR|models/"},
  // 18. Messages name the flag.
  {"18", "meshsim run --plan ''", "--plan|empty"},
};

const Accepted kAccepted[] = {
  // 3. Devices are written directly and stay devices; a FIFO with a reader gets the report.
  {"3", "$RUN -o null --trace null", "test -L null && test -c /dev/null"},
  {"3", "cat fifo.json > got.json & for i in $(seq 100); do $RUN -o fifo.json 2>/dev/null && break; sleep 0.05; done; wait", "test -p fifo.json && grep -q meshsim.run got.json"},
  // 4/16. A link is written through: it stays a link, its target gets the output.
  {"4", "ln -s real.json out-link.json; echo old > real.json; $RUN -o out-link.json", "test -L out-link.json && grep -q meshsim.run real.json"},
  // 6 of issue 16: -o - is standard output, and nothing else is printed there.
  {"16", "$RUN -o - > got.json", "grep -q meshsim.run got.json && grep -c '^{' got.json | grep -qx 1"},
  {"16", "$REPORT -o - > got.json", "grep -q meshsim.report got.json"},
  {"16", "meshsim calibrate --runs runs.csv --hardware a100-sxm-80gb -o - > got.json", "grep -q a100-sxm-80gb-calibrated got.json && grep -c '^{' got.json | grep -qx 1"},
  {"16", "meshsim calibrate --matmuls gemm.csv --hardware h100-sxm -o - > got.json", "grep -q gpu_tiles got.json && ! grep -q '^meshsim calibrate' got.json && grep -c '^{' got.json | grep -qx 1"},
  // 16. A legal 255-byte name; stale temporaries of dead processes are removed, others kept.
  {"16", "$RUN -o $(printf '%0250d' 0).json", "test -s $(printf '%0250d' 0).json && ! ls -A | grep -q tmp"},
  {"16", "(:) & p=$!; wait $p; echo x > .meshsim-$p-0123456789abcdef.tmp; echo x > out.json.tmp.$p; echo x > .meshsim-$$-0123456789abcdef.tmp; $RUN -o out.json", "test -s out.json && ! test -e out.json.tmp.* && ls -A | grep -c tmp | grep -qx 1"},
  // 11. File names that are not UTF-8: invalid bytes become U+FFFD in JSON, one way everywhere.
  {"11", "f=$(printf 'caf\\351.json'); cp noname.json \"$f\"; meshsim model show \"$f\" --json > got.json", "grep -q \"caf$(printf '\\357\\277\\275')\" got.json"},
  {"11", "f=$(printf 'caf\\351.json'); cp noname.json \"$f\"; meshsim sweep --model \"$f\" --chips 8 --batch 64 --json > got.json", "grep -q \"caf$(printf '\\357\\277\\275')\" got.json"},
  {"11", "f=$(printf 'caf\\351.json'); cp noname.json \"$f\"; meshsim report --model \"$f\" --chips 8 --global-batch 64 --steps 1000 -o out.json", "grep -q \"caf$(printf '\\357\\277\\275')\" out.json"},
  {"11", "f=$(printf 'g\\351mm.csv'); cp gemm.csv \"$f\"; meshsim calibrate --matmuls \"$f\" --hardware h100-sxm -o out.json", "grep -q \"g$(printf '\\357\\277\\275')mm\" out.json"},
  {"11", "mkdir -p d/models; cp noname.json \"d/models/$(printf 'caf\\351.json')\"; MESHSIM_DATA_DIR=d meshsim models --json > got.json", "grep -q \"caf$(printf '\\357\\277\\275')\" got.json"},
  {"11", "f=$(printf 'caf\\351.json'); cp noname.json \"$f\"; meshsim run --model \"$f\" --chips 8 --batch 64 --json > got.json", "grep -q \"caf$(printf '\\357\\277\\275')\" got.json"},
  // 17. A data directory that holds the zoo works; an empty MESHSIM_DATA_DIR means unset.
  {"17", "mkdir -p d/models; cp noname.json d/models/tiny.json; MESHSIM_DATA_DIR=d meshsim models > got.txt", "grep -q tiny got.txt"},
  {"17", "MESHSIM_DATA_DIR= meshsim hardware > got.txt", "grep -q tpu-v4 got.txt"},
};
// clang-format on

const char* const kPrelude =
    "RUN='meshsim run --model vit-b16 --chips 8 --batch 64'; "
    "SWEEP='meshsim sweep --model vit-b16 --chips 8 --batch 64'; "
    "REPORT='meshsim report --model vit-b16 --chips 8 --global-batch 64 --steps 1000'; ";

// stderr less the progress lines of long verbs (sim/cli/progress.hpp), which precede any error.
std::string without_progress(const std::string& err) {
  std::istringstream in(err);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("sweep: ", 0) == 0 || line.rfind("report: ", 0) == 0 ||
        line.rfind("run: ", 0) == 0)
      continue;
    out += line + "\n";
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

// The fixtures every case starts from.
void make_fixtures(const std::string& dir) {
  const std::string src = MESHSIM_SOURCE_DIR;
  const std::string model = read_file(src + "/models/vit-b16.json");
  write_file(dir + "/model.json", model);
  // The same model without a "name": its name is the file's stem, so a file name that is not
  // UTF-8 reaches every report.
  std::string noname = model;
  const auto name_at = noname.find("\"name\": \"vit-b16\",");
  REQUIRE(name_at != std::string::npos);
  noname.erase(name_at, std::string("\"name\": \"vit-b16\",").size());
  write_file(dir + "/noname.json", noname);
  // A long fraction whose double is the whole number 12 (issue 17 item 15).
  std::string frac = model;
  const auto depth_at = frac.find("\"depth\": 12,");
  REQUIRE(depth_at != std::string::npos);
  frac.replace(depth_at, std::string("\"depth\": 12,").size(),
               "\"depth\": 12.0000000000000000001,");
  write_file(dir + "/frac.json", frac);
  write_file(dir + "/profile.json", read_file(src + "/hardware_profiles/h100-sxm.json"));
  write_file(dir + "/gemm.csv", read_file(src + "/cuda_validation/published/gemm_h100_xla.csv"));
  write_file(dir + "/runs.csv",
             read_file(src + "/cuda_validation/published/end_to_end_calibration.csv"));
  write_file(
      dir + "/plan.json",
      R"({"schema": "meshsim.plan/v1", "name": "small", "mesh": "8x1", "global_batch": 64})");
  const std::string measurements =
      meshsim::testing::synthetic_measurements(meshsim::testing::known_model(), 0, 5).dump();
  write_file(dir + "/meas.json", measurements);
  std::string duplicated = measurements;
  const auto at = duplicated.find("\"synthetic\":true");
  REQUIRE(at != std::string::npos);
  duplicated.replace(at, 16, "\"synthetic\":true,\"synthetic\":false");
  write_file(dir + "/dup-synthetic.json", duplicated);
  const int depth = 100000;
  write_file(dir + "/deep.json", std::string(depth, '[') + std::string(depth, ']'));
  write_file(dir + "/deep-field.json", R"({"schema": "meshsim.model/v1", "x": )" +
                                           std::string(depth, '[') + std::string(depth, ']') + "}");
  write_file(dir + "/dup.json", R"({"schema": "meshsim.model/v1", "width": 1, "width": 2})");
  write_file(dir + "/nul.json", model + std::string(1, '\0') + "{\"trailing\": 1}");
  // Device outputs go through links in the case's directory, never to /dev itself: a binary that
  // regressed to renaming over its output then replaces the link, not the machine's /dev/full or
  // /dev/null (as root it would).
  fs::create_symlink("/dev/full", dir + "/full");
  fs::create_symlink("/dev/null", dir + "/null");
  fs::create_symlink("/dev/zero", dir + "/zero.json");
  fs::create_symlink("/dev/urandom", dir + "/urandom.json");
  fs::create_symlink("plan.json", dir + "/plan-link.json");
  fs::create_hard_link(dir + "/plan.json", dir + "/plan-hard.json");
  REQUIRE(::mkfifo((dir + "/fifo.json").c_str(), 0644) == 0);
}

// What a directory holds: name -> kind and contents (a link's target), recursively.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> entries;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string name = fs::relative(e.path(), dir).string();
    const auto status = e.symlink_status();
    if (fs::is_symlink(status))
      entries[name] = "link " + fs::read_symlink(e.path()).string();
    else if (fs::is_regular_file(status))
      entries[name] = "file " + read_file(e.path().string());
    else
      entries[name] = "other " + std::to_string(static_cast<int>(status.type()));
  }
  return entries;
}

struct Outcome {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  std::string out, err;
  double seconds = 0;
  long max_rss_kib = 0;
};

// Runs `command` with /bin/sh in `dir`, meshsim on PATH, under the memory limit and the timeout.
Outcome run_case(const std::string& command, const std::string& dir, const std::string& capture) {
  const std::string out_path = capture + "/stdout", err_path = capture + "/stderr";
  // MESHSIM_ADVERSARIAL_BIN_DIR runs the tables against another build's `meshsim` (for example
  // an older one, to see which cases it fails).
  const char* other = std::getenv("MESHSIM_ADVERSARIAL_BIN_DIR");
  const std::string bin_dir = other != nullptr && *other != '\0'
                                  ? std::string(other)
                                  : fs::path(MESHSIM_BINARY).parent_path().string();
  const std::string path_env = bin_dir + ":" + (std::getenv("PATH") ? std::getenv("PATH") : "");
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setpgid(0, 0);
    if (::chdir(dir.c_str()) != 0)
      ::_exit(126);
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0)
      ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (!kUnderAsan) {
      const rlimit memory{kMemoryLimitBytes, kMemoryLimitBytes};
      ::setrlimit(RLIMIT_AS, &memory);
    }
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::setenv("PATH", path_env.c_str(), 1);
    ::unsetenv("MESHSIM_DATA_DIR");
    const std::string script = std::string(kPrelude) + command;
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  Outcome o;
  int status = 0;
  rusage usage{};
  for (;;) {
    const pid_t done = ::wait4(pid, &status, WNOHANG, &usage);
    if (done == pid)
      break;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > kTimeoutSeconds && !o.timed_out) {
      o.timed_out = true;
      ::kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  o.max_rss_kib = usage.ru_maxrss;
  if (WIFEXITED(status))
    o.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    o.signal = WTERMSIG(status);
  o.out = read_file(out_path);
  o.err = read_file(err_path);
  return o;
}

std::vector<std::string> split_words(const std::string& words) {
  std::vector<std::string> out;
  std::stringstream s(words);
  std::string word;
  while (std::getline(s, word, '|'))
    out.push_back(word);
  return out;
}

// The worst (largest) time and resident memory of any case, for the closing note of issue 17.
struct Worst {
  double seconds = 0;
  std::string slowest;
  long rss_kib = 0;
  std::string largest;
  void add(const Outcome& o, const std::string& command) {
    if (o.seconds > seconds) {
      seconds = o.seconds;
      slowest = command;
    }
    if (o.max_rss_kib > rss_kib) {
      rss_kib = o.max_rss_kib;
      largest = command;
    }
  }
  void print(const char* table, std::size_t cases) const {
    std::printf("adversarial %s: %zu cases; slowest %.2f s (%s); largest peak RSS %ld KiB (%s)%s\n",
                table, cases, seconds, slowest.c_str(), rss_kib, largest.c_str(),
                kUnderAsan ? " [ASan: no memory limit]" : "");
  }
};

std::string case_dir(const std::string& table, std::size_t i) {
  const std::string dir =
      meshsim::testing::scratch_dir("adversarial/" + table + "-" + std::to_string(i) + "/work");
  make_fixtures(dir);
  return dir;
}

}  // namespace

TEST_CASE("adversarial: bad input and a hostile environment keep the contract",
          "[adversarial][cli]") {
  Worst worst;
  std::size_t i = 0;
  for (const Refused& c : kRefused) {
    const std::string dir = case_dir("refused", i++);
    const std::string capture = fs::path(dir).parent_path().string();
    const auto before = snapshot(dir);
    const Outcome o = run_case(c.command, dir, capture);
    worst.add(o, c.command);
    INFO("issue 17 item " << c.item << ": " << c.command);
    INFO("exit " << o.exit_code << ", signal " << o.signal << ", " << o.seconds << " s, "
                 << o.max_rss_kib << " KiB\nstdout: " << o.out.substr(0, 500)
                 << "\nstderr: " << o.err.substr(0, 1000));
    CHECK_FALSE(o.timed_out);
    CHECK(o.exit_code == 2);
    CHECK(o.out.empty());
    // One error line; before it only progress lines ("sweep: ...", "report: ...") of work that
    // ran before the failure (writing to a full device), never another message.
    const std::string error = without_progress(o.err);
    CHECK(error.rfind("meshsim: ", 0) == 0);
    CHECK(std::count(error.begin(), error.end(), '\n') == 1);
    for (const std::string& word : split_words(c.words)) {
      INFO("key word: " << word);
      CHECK(o.err.find(word) != std::string::npos);
    }
    CHECK(snapshot(dir) == before);  // nothing written, overwritten or left behind
    fs::remove_all(capture);
  }
  worst.print("refused", i);
  CHECK(fs::is_character_file("/dev/null"));
  CHECK(fs::is_character_file("/dev/full"));
}

TEST_CASE("adversarial: inputs with a documented behaviour are handled as documented",
          "[adversarial][cli]") {
  Worst worst;
  std::size_t i = 0;
  for (const Accepted& c : kAccepted) {
    const std::string dir = case_dir("accepted", i++);
    const std::string capture = fs::path(dir).parent_path().string();
    const Outcome o = run_case(c.command, dir, capture);
    worst.add(o, c.command);
    INFO("issue 17 item " << c.item << ": " << c.command);
    INFO("exit " << o.exit_code << ", signal " << o.signal << ", " << o.seconds << " s\nstdout: "
                 << o.out.substr(0, 500) << "\nstderr: " << o.err.substr(0, 1000));
    CHECK_FALSE(o.timed_out);
    CHECK(o.exit_code == 0);
    const Outcome check = run_case(c.check, dir, capture);
    INFO("check: " << c.check << "\n" << check.err);
    CHECK(check.exit_code == 0);
    fs::remove_all(capture);
  }
  worst.print("accepted", i);
  CHECK(fs::is_character_file("/dev/null"));
}
