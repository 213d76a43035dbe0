#pragma once
// The one exception family for bad input (STYLE.md "Errors"). The library never prints or exits:
// it throws InputError, and the CLI prints what() on one line and exits with code 2.
#include <stdexcept>
#include <string>

namespace meshsim {

struct ErrorSite {
  std::string file;     // path of the file, or "--flag" for a command-line flag; may be empty
  std::string pointer;  // JSON pointer ("/layers/3/width") or "line L, column C"; may be empty
  std::string field;    // the field's name, e.g. "width"; may be empty
};

class InputError : public std::runtime_error {
 public:
  // `found` is what the input had, `allowed` what would have been accepted.
  InputError(ErrorSite site, std::string problem, std::string found = {}, std::string allowed = {});

  const ErrorSite& site() const { return site_; }
  const std::string& problem() const { return problem_; }
  const std::string& found() const { return found_; }
  const std::string& allowed() const { return allowed_; }

  // The same error, located: fills the parts of the site that are still empty.
  InputError located(const ErrorSite& outer) const;

 private:
  static std::string format(const ErrorSite& site, const std::string& problem,
                            const std::string& found, const std::string& allowed);
  ErrorSite site_;
  std::string problem_, found_, allowed_;
};

}  // namespace meshsim
