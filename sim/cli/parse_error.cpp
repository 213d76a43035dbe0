// Messages for command-line parse errors (sim/cli/commands.hpp). CLI11 says "A subcommand is
// required" both when the verb is missing and when it is misspelled; users need the verbs.
#include <CLI/CLI.hpp>
#include <set>
#include <string>

#include "common/json_fields.hpp"
#include "sim/cli/commands.hpp"

namespace meshsim::cli {
namespace {

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names)
    out += (out.empty() ? "" : ", ") + name;
  return out;
}

// The first `--flag` (before any '=') that `verb` and its parents do not know, or "".
std::string unknown_flag(CLI::App* verb, int first, int argc, const char* const* argv,
                         std::set<std::string>& known) {
  for (CLI::App* app = verb; app != nullptr; app = app->get_parent()) {
    for (const CLI::Option* option : app->get_options()) {
      for (const auto& name : option->get_lnames())
        known.insert("--" + name);
      for (const auto& name : option->get_snames())
        known.insert("-" + name);
    }
  }
  for (int i = first; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--")
      break;
    if (word.size() < 3 || word.compare(0, 2, "--") != 0)
      continue;
    word = word.substr(0, word.find('='));
    if (known.count(word) == 0)
      return word;
  }
  return "";
}

}  // namespace

std::string parse_error_message(CLI::App& app, const CLI::ParseError& error, int argc,
                                const char* const* argv) {
  const std::string plain = std::string(error.what()) + " (see 'meshsim --help')";
  CLI::App* current = &app;
  std::string path = "meshsim";
  std::set<std::string> verbs;
  for (int i = 1; i <= argc; ++i) {
    verbs.clear();
    CLI::App* next = nullptr;
    const std::string word = i < argc ? argv[i] : "";
    for (CLI::App* sub : current->get_subcommands([](CLI::App*) { return true; })) {
      verbs.insert(sub->get_name());
      if (sub->get_name() == word)
        next = sub;
    }
    if (verbs.empty() || (i < argc && !word.empty() && word[0] == '-')) {
      // A leaf verb's argument or an option: CLI11's message says it, unless a flag is unknown,
      // where a did-you-mean helps more (`--modle` -> `--model`, issue 16 item 6).
      std::set<std::string> known;
      const std::string flag = unknown_flag(current, i, argc, argv, known);
      if (flag.empty())
        return plain;
      const std::string hint = did_you_mean(flag, known);
      return "unknown flag '" + flag + "' for '" + path + "'" +
             (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + " (see '" + path +
             " --help')";
    }
    if (i == argc) {
      return "'" + path + "' needs a verb (allowed: " + joined(verbs) + "; see '" + path +
             " --help')";
    }
    if (next == nullptr) {
      const std::string hint = did_you_mean(word, verbs);
      return "unknown verb '" + word + "' for '" + path + "'" +
             (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
             " (allowed: " + joined(verbs) + ")";
    }
    current = next;
    path += " " + word;
  }
  return plain;
}

}  // namespace meshsim::cli
