#pragma once
// Helpers for tests of bad input: the one-line message an InputError gives, and substring checks.
#include <functional>
#include <string>

#include "common/error.hpp"

namespace meshsim::testing {

// The message of the InputError `f` throws, or "<no error>" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no error>";
}

inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace meshsim::testing
