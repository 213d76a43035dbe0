#pragma once
// The meshsim verbs. Each add_*_command registers one verb (or a group) on the root app; the
// callbacks throw InputError for bad input, which main() maps to exit code 2 (DESIGN §5).
namespace CLI {
class App;
}

namespace meshsim::cli {

void add_model_commands(CLI::App& app);      // models, model show
void add_hardware_commands(CLI::App& app);   // hardware, hardware show
void add_collective_command(CLI::App& app);  // collective
void add_run_commands(CLI::App& app);        // run, compare
void add_validate_commands(CLI::App& app);   // validate, calibrate (CUDA measurements)
void add_sweep_commands(CLI::App& app);      // sweep, report

}  // namespace meshsim::cli
