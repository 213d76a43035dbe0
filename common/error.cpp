#include "common/error.hpp"

#include <utility>

namespace meshsim {

InputError::InputError(ErrorSite site, std::string problem, std::string found, std::string allowed)
    : std::runtime_error(format(site, problem, found, allowed)),
      site_(std::move(site)),
      problem_(std::move(problem)),
      found_(std::move(found)),
      allowed_(std::move(allowed)) {}

InputError InputError::located(const ErrorSite& outer) const {
  ErrorSite merged = site_;
  if (merged.file.empty())
    merged.file = outer.file;
  if (merged.pointer.empty())
    merged.pointer = outer.pointer;
  if (merged.field.empty())
    merged.field = outer.field;
  return InputError(merged, problem_, found_, allowed_);
}

// "FILE: POINTER: field 'F': PROBLEM (found: X; allowed: Y)" on one line.
std::string InputError::format(const ErrorSite& site, const std::string& problem,
                               const std::string& found, const std::string& allowed) {
  std::string out;
  auto append = [&out](const std::string& part) {
    if (part.empty())
      return;
    if (!out.empty())
      out += ": ";
    out += part;
  };
  append(site.file);
  append(site.pointer);
  if (!site.field.empty())
    append("field '" + site.field + "'");
  append(problem);
  std::string detail;
  if (!found.empty())
    detail += "found " + found;
  if (!allowed.empty())
    detail += (detail.empty() ? "" : "; ") + std::string("allowed: ") + allowed;
  if (!detail.empty())
    out += " (" + detail + ")";
  for (char& c : out) {
    if (c == '\n' || c == '\r')
      c = ' ';  // one line, whatever the input held
  }
  return out;
}

}  // namespace meshsim
