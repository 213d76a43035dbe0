// `meshsim html REPORT.json -o FILE`: the HTML report (sim/report/html_report.hpp) of a saved run,
// compare, sweep or report JSON. docs/report.md "HTML report".
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "common/atomic_file.hpp"
#include "common/text_file.hpp"
#include "sim/cli/commands.hpp"
#include "sim/report/html_report.hpp"

namespace meshsim::cli {
namespace {

struct HtmlOptions {
  std::string input;
  std::string output;
};

void html_command(const HtmlOptions& o) {
  check_output_path(o.output, "--output");
  const std::string text = read_input_file(o.input, "JSON");
  write_file_atomically(o.output, report::html_page(text, o.input));
}

}  // namespace

void add_html_command(CLI::App& app) {
  auto o = std::make_shared<HtmlOptions>();
  auto* cmd = app.add_subcommand(
      "html",
      "Write the HTML report (answer first, then charts; self-contained, opens offline) of a "
      "saved JSON from meshsim run, compare, sweep or report.");
  cmd->add_option("json", o->input,
                  "The saved JSON (meshsim run/compare/sweep/report --json or -o)")
      ->required();
  cmd->add_option("-o,--output", o->output, "Write the HTML page to FILE (atomically)")->required();
  cmd->callback([o] { html_command(*o); });
}

}  // namespace meshsim::cli
