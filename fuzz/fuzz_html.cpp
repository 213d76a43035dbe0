// Fuzzes the HTML report (sim/report/html_report.hpp) on arbitrary documents: any text either
// gives a page or an InputError; nothing else escapes. Property checked on every page: the data
// block is the only JSON script block and no value from the document ends a script element (the
// page has exactly its four script elements).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.hpp"
#include "sim/report/html_report.hpp"

namespace {

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const std::string page = meshsim::report::html_page(text, "fuzz.json");
    if (count(page, "</script>") != 4 || count(page, "id=\"meshsim-data\"") != 1)
      std::abort();
  } catch (const meshsim::InputError&) {
  }
  return 0;
}
