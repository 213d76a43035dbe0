#pragma once
// The HTML report (issue 16, item 1): one self-contained page for a saved meshsim JSON document
// (schemas meshsim.run/v1, meshsim.compare/v1, meshsim.sweep/v1, meshsim.report/v1), with the
// answer first and Chart.js plots (embedded, the page opens offline). docs/report.md "HTML".
// Text in, text out: writing the file is the CLI's job (atomically).
#include <string>

namespace meshsim::report {

// The page for `json_text`. `origin` names the document in errors (a path). Throws InputError
// when the text is not JSON or not one of the four schemas, or lacks a field the page needs.
std::string html_page(const std::string& json_text, const std::string& origin);

}  // namespace meshsim::report
