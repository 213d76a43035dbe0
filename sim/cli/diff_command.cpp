// `meshsim diff A.json B.json [--json]`: what changed between two saved outputs of the same schema
// (sim/report/json_diff.hpp, docs/whatif.md "diff"). Exit status as diff(1): 0 equal, 1 they
// differ, 2 bad input (a file that is not a meshsim output, or two different schemas).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "common/text_file.hpp"
#include "sim/cli/commands.hpp"
#include "sim/report/json_diff.hpp"

namespace meshsim::cli {
namespace {

int status = 0;

struct DiffOptions {
  std::string before, after;
  bool json = false;
};

void diff_command(const DiffOptions& o) {
  const std::string a = read_input_file(o.before, "JSON");
  const std::string b = read_input_file(o.after, "JSON");
  const report::JsonDiff d = report::diff_json(a, o.before, b, o.after);
  const std::string out =
      o.json ? report::diff_json_output(d, o.before, o.after) : report::diff_text(d);
  std::fputs(out.c_str(), stdout);
  status = d.equal() ? 0 : 1;
}

}  // namespace

int command_exit_status() {
  return status;
}

void add_diff_command(CLI::App& app) {
  auto o = std::make_shared<DiffOptions>();
  auto* cmd = app.add_subcommand(
      "diff",
      "What changed between two saved meshsim outputs of the same schema (run, compare, sweep, "
      "report, ...): numbers with absolute and relative change, strings, keys added or removed. "
      "Exit status 0 when equal, 1 when they differ, 2 on bad input (docs/whatif.md).");
  cmd->add_option("before", o->before, "The first saved JSON")->required();
  cmd->add_option("after", o->after, "The second saved JSON (same schema)")->required();
  cmd->add_flag("--json", o->json, "Print one JSON object (schema meshsim.diff/v1)");
  cmd->callback([o] { diff_command(*o); });
}

}  // namespace meshsim::cli
