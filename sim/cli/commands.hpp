#pragma once
// The meshsim verbs. Each add_*_command registers one verb (or a group) on the root app; the
// callbacks throw InputError for bad input, which main() maps to exit code 2 (DESIGN §5).
#include <string>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace meshsim::sweep {
class Distribution;
}  // namespace meshsim::sweep

namespace meshsim::cli {

void add_model_commands(CLI::App& app);      // models, model show
void add_hardware_commands(CLI::App& app);   // hardware, hardware show
void add_collective_command(CLI::App& app);  // collective
void add_run_commands(CLI::App& app);        // run, compare
void add_validate_commands(CLI::App& app);   // validate, calibrate (CUDA measurements)
// sweep, report: their simulations run where `distribution` says (this process, or the ranks of an
// MPI job, of which only rank 0 writes).
void add_sweep_commands(CLI::App& app, sweep::Distribution& distribution);
void add_html_command(CLI::App& app);  // html (HTML report of a saved JSON)
void add_diff_command(CLI::App& app);  // diff (two saved JSON outputs)

// The exit status of a verb that completed without error: 0, except `diff` (1 when the two
// outputs differ, as diff(1)).
int command_exit_status();

// The one-line message for a command-line parse error: CLI11's own, except that a missing or
// unknown verb lists the verbs that exist (with a did-you-mean). `app` is the root app.
std::string parse_error_message(CLI::App& app, const CLI::ParseError& error, int argc,
                                const char* const* argv);

}  // namespace meshsim::cli
