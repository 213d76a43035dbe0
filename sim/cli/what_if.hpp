#pragma once
// `--set PATH=VALUE` on every verb that takes a profile or a model (docs/whatif.md). The prefix
// rule: a path starting with "model." goes into the model's JSON, any other into the hardware
// profile's (on `model show`, which takes no profile, into the model's). Internal to sim/cli.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/json_override.hpp"

namespace meshsim::cli {

struct WhatIfSets {
  std::vector<JsonOverride> hardware;  // paths as given
  std::vector<JsonOverride> model;     // paths without "model."
};

inline void add_set_option(CLI::App* cmd, std::vector<std::string>& sets, bool hardware,
                           bool model) {
  std::string what = hardware && model ? "model.PATH for the model, any other PATH for the "
                                         "hardware profile"
                     : model           ? "model.PATH into the model"
                                       : "PATH into the hardware profile";
  cmd->add_option("--set", sets,
                  "What-if override PATH=VALUE (repeatable): a dotted path into the JSON (" + what +
                      "), the value in the field's units, e.g. interconnect.link_bandwidth=90GB/s "
                      "or chip.hbm=96GiB" +
                      (model ? " or model.depth=64" : "") + " (docs/whatif.md)")
      ->allow_extra_args(false);
}

// Splits the --set values by the prefix rule; a path for a document the verb does not take is an
// error naming the flag.
inline WhatIfSets split_sets(const std::vector<std::string>& sets, bool hardware, bool model) {
  WhatIfSets out;
  for (const auto& text : sets) {
    JsonOverride o = parse_override(text, "--set");
    if (o.path.rfind("model.", 0) == 0) {
      if (!model) {
        throw InputError({"--set", "", "set"}, "this verb takes no model", "'" + text + "'",
                         "PATH=VALUE into the hardware profile");
      }
      o.path = o.path.substr(6);
      out.model.push_back(o);
    } else if (!hardware) {
      out.model.push_back(o);  // a verb that takes only a model: "depth=64" means the model's
    } else {
      out.hardware.push_back(o);
    }
  }
  return out;
}

}  // namespace meshsim::cli
