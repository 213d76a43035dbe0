#include <CLI/CLI.hpp>

#include "sim/cli/commands.hpp"

namespace meshsim::cli {
void add_model_commands(CLI::App&) {}
}  // namespace meshsim::cli
