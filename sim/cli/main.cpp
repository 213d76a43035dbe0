// meshsim: the command line (DESIGN §5). Exit codes: 0 success, 2 bad input, 1 internal error.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "common/error.hpp"
#include "common/version.hpp"
#include "sim/cli/commands.hpp"
#include "sim/sweep/distribution.hpp"

namespace {

// A closed standard descriptor would be handed out by the next open(): an input file, or the
// temporary of an output, which would then receive what is printed to stdout. Hold each closed
// one with /dev/null opened read-only, so that writing to a closed stdout still fails (finish()
// reports it) and no file of ours takes its number.
void hold_closed_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF)
      continue;
    const int held = ::open("/dev/null", O_RDONLY);
    if (held >= 0 && held != fd) {
      ::dup2(held, fd);
      ::close(held);
    }
  }
}

// Everything written to standard output must have reached it: a full disk, a closed descriptor or
// a broken pipe is an error (exit 2, like an output file that cannot be written), not a silent
// success with a truncated answer. Flushes both the C and the C++ streams (CLI11 prints help with
// std::cout, the verbs with printf). Sets the message when it fails.
int finish(int code, std::string& message) {
  std::cout.flush();
  const bool cpp_failed = std::cout.fail();
  errno = 0;
  const bool c_failed = std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  if (cpp_failed || c_failed) {
    const int error = errno;
    message = std::string("meshsim: standard output: cannot write") + (error ? ": " : "") +
              (error ? std::strerror(error) : "");
    return code == 0 ? 2 : code;
  }
  return code;
}

// Under mpirun only sweep and report share their work; every other verb would run once per rank.
void refuse_other_verbs_under_mpi(CLI::App& app, int ranks) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    const std::string name = sub->get_name();
    if (name == "sweep" || name == "report")
      continue;
    sub->preparse_callback([name, ranks](std::size_t) {
      throw meshsim::InputError({"mpirun", "", ""},
                                "only sweep and report split their work across MPI ranks",
                                "meshsim " + name + " on " + std::to_string(ranks) + " ranks",
                                "meshsim " + name + " without mpirun");
    });
  }
}

// Every option that takes a value refuses an empty one: `--async ''` or `-o ''` used to mean
// "not given" and run with the default (issue 17, item 14).
void refuse_empty_values(CLI::App& app) {
  const CLI::Validator non_empty(
      [](std::string& value) {
        return value.empty() ? std::string("empty value; give one or leave the flag out")
                             : std::string();
      },
      "", "non-empty");
  for (CLI::Option* option : app.get_options()) {
    if (option->get_items_expected_min() > 0)
      option->check(non_empty);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    refuse_empty_values(*sub);
}

}  // namespace

int main(int argc, char** argv) {
  hold_closed_standard_descriptors();
  // Under an MPI launcher (mpirun, srun) this process is one rank of a job: sweep and report
  // split their simulations across the ranks, rank 0 alone writes (docs/sweep.md "Across
  // machines (MPI)"). Otherwise nothing MPI runs.
  const auto distribution = meshsim::sweep::start_distribution(&argc, &argv);
  const bool root = distribution->is_root();
  CLI::App app{
      "meshsim: discrete-event simulator and performance model of ViT-22B-class training on TPU "
      "and GPU meshes.\nExit codes: 0 success, 2 bad input, 1 internal error (diff: 1 when the "
      "outputs differ).",
      "meshsim"};
  app.set_version_flag("--version", std::string("meshsim ") + meshsim::kVersion);
  app.require_subcommand(1);
  app.fallthrough(false);
  meshsim::cli::add_model_commands(app);
  meshsim::cli::add_hardware_commands(app);
  meshsim::cli::add_collective_command(app);
  meshsim::cli::add_run_commands(app);
  meshsim::cli::add_validate_commands(app);
  meshsim::cli::add_sweep_commands(app, *distribution);
  meshsim::cli::add_html_command(app);
  meshsim::cli::add_diff_command(app);
  refuse_empty_values(app);
  if (distribution->size() > 1)
    refuse_other_verbs_under_mpi(app, distribution->size());
  // Every rank ends through conclude(): the ranks agree on the exit code, rank 0 prints the line.
  int code = 0;
  std::string message;
  try {
    app.parse(argc, argv);
    code = finish(meshsim::cli::command_exit_status(), message);
  } catch (const CLI::CallForHelp& e) {
    code = root ? finish(app.exit(e), message) : e.get_exit_code();
  } catch (const CLI::CallForAllHelp& e) {
    code = root ? finish(app.exit(e), message) : e.get_exit_code();
  } catch (const CLI::CallForVersion& e) {
    code = root ? finish(app.exit(e), message) : e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    message = "meshsim: " + meshsim::cli::parse_error_message(app, e, argc, argv);
    code = 2;
  } catch (const meshsim::InputError& e) {
    message = std::string("meshsim: ") + e.what();
    code = 2;
  } catch (const std::exception& e) {
    message = std::string("meshsim: internal error: ") + e.what();
    code = 1;
  }
  return distribution->conclude(code, message);
}
