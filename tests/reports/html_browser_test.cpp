// The HTML reports render in a real browser (issue 16, item 1): each reference report's page is
// loaded in headless Chromium, which runs Chart.js and sim/report/html/page.js; the DOM it dumps
// must say the page finished (data-status="done") with no JavaScript error (data-errors="0",
// window errors and console.error counted), and the scaling chart must have one point per
// simulated scaling row of the JSON, and the timeline of one layer every event of its passes. A
// screenshot is taken and must be a PNG.
//
// Hidden tag: run by the CTest test "html reports render in headless chromium" (tests/
// CMakeLists.txt), which counts exit code 77 as skipped: the test exits 77, with a message, only
// when no chromium is installed (CI installs it: scripts/install-deps.sh).
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "tests/cli_runner.hpp"

namespace {

std::string slurp(const std::string& path) {
  return meshsim::testing::read_text_file(path);
}

// The browser: $MESHSIM_CHROMIUM when set (a path; one that does not exist means "none", which
// the skip test uses), else Debian's chromium.
std::string chromium_binary() {
  if (const char* chosen = std::getenv("MESHSIM_CHROMIUM"))
    return std::ifstream(chosen).good() ? chosen : "";
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (std::ifstream(candidate).good())
      return candidate;
  }
  return "";
}

// Runs a shell command and returns its standard output.
std::string capture(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[65536];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    out.append(buffer, n);
  pclose(pipe);
  return out;
}

std::string chromium_flags() {
  // --no-sandbox: CI runs as root; --virtual-time-budget lets the page's scripts finish before
  // the DOM is dumped.
  return " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars "
         "--virtual-time-budget=10000 ";
}

// The value of attribute `name` on the element whose opening tag contains `marker`.
std::string attribute(const std::string& dom, const std::string& marker, const std::string& name) {
  const auto at = dom.find(marker);
  if (at == std::string::npos)
    return "<no element " + marker + ">";
  const auto start = dom.rfind('<', at);
  const auto end = dom.find('>', at);
  const std::string tag = dom.substr(start, end - start);
  const std::regex re(name + "=\"([^\"]*)\"");
  std::smatch m;
  if (!std::regex_search(tag, m, re))
    return "<no attribute " + name + ">";
  return m[1];
}

// The timeline of one layer (issue 16 item 1): one chart per pass of the document's
// layer_timeline, drawing every event of the pass except those named in the caption as done
// before it.
void check_timeline(const std::string& dom, const nlohmann::json& timeline) {
  REQUIRE(timeline.is_object());
  REQUIRE(timeline.at("passes").size() == 2);
  for (const auto& pass : timeline.at("passes")) {
    const std::string id = "id=\"chart-timeline-" + pass.at("pass").get<std::string>() + "\"";
    INFO(id);
    const std::string drawn = attribute(dom, id, "data-events");
    const std::string before = attribute(dom, id, "data-before");
    REQUIRE(drawn.find('<') == std::string::npos);
    REQUIRE(before.find('<') == std::string::npos);
    CHECK(std::stoul(drawn) + std::stoul(before) == pass.at("events").size());
    CHECK(std::stoul(drawn) > 0);
  }
}

}  // namespace

TEST_CASE("html reports render in headless chromium", "[.browser]") {
  const std::string chromium = chromium_binary();
  if (chromium.empty()) {
    std::printf("SKIPPED: chromium is not installed (apt-get install chromium; CI installs it)\n");
    std::fflush(stdout);
    std::exit(77);
  }
  const std::string dir = meshsim::testing::scratch_dir("html_browser");
  for (const char* name : {"vit-22b_tpu-v4_1024", "vit-22b_h100_1024", "vit-e14_tpu-v4_256"}) {
    INFO(name);
    const std::string json_path = std::string(MESHSIM_SOURCE_DIR) + "/reports/" + name + ".json";
    const std::string html = dir + "/" + name + ".html";
    const auto made = meshsim::testing::run_meshsim("html " + json_path + " -o " + html);
    REQUIRE(made.exit_code == 0);
    const auto doc = nlohmann::json::parse(slurp(json_path));
    std::size_t simulated = 0;
    for (const auto& point : doc.at("scaling").at("points"))
      simulated += point.at("simulated").get<bool>() ? 1 : 0;
    REQUIRE(simulated > 0);

    const std::string dom =
        capture(chromium + chromium_flags() + "--dump-dom file://" + html + " 2>/dev/null");
    INFO(dom.substr(0, 2000));
    CHECK(attribute(dom, "<body", "data-status") == "done");
    CHECK(attribute(dom, "<body", "data-errors") == "0");
    CHECK(attribute(dom, "id=\"chart-scaling\"", "data-points") == std::to_string(simulated));
    CHECK(attribute(dom, "id=\"chart-efficiency\"", "data-points") == std::to_string(simulated));
    CHECK(attribute(dom, "id=\"chart-breakdown\"", "data-points") ==
          std::to_string(doc.at("top_plans").size()));
    CHECK(attribute(dom, "id=\"chart-memory\"", "data-points") ==
          std::to_string(doc.at("top_plans").size() + simulated));
    CHECK(dom.find("id=\"errors\" hidden") != std::string::npos);
    // The scaling table: one row per scaling point, with step time, days and cost columns.
    CHECK(attribute(dom, "id=\"scaling-table\"", "data-rows") ==
          std::to_string(doc.at("scaling").at("points").size()));
    CHECK(dom.find("<th>days</th><th>cost</th>") != std::string::npos);
    check_timeline(dom, doc.at("layer_timeline"));

    const std::string png = dir + "/" + name + ".png";
    capture(chromium + chromium_flags() + "--window-size=1200,3400 --screenshot=" + png +
            " file://" + html + " >/dev/null 2>&1");
    const std::string image = slurp(png);
    REQUIRE(image.size() > 10000);
    CHECK(image.substr(1, 3) == "PNG");
  }

  // A run, a compare and a sweep page draw too: one breakdown bar per plan, one layer bar group
  // per linear of the run.
  using meshsim::testing::run_meshsim;
  const std::string plans = std::string(MESHSIM_SOURCE_DIR) + "/plans/";
  REQUIRE(
      run_meshsim("run --model vit-22b --hardware h100-sxm --mesh 128x8 -o " + dir + "/run.json")
          .exit_code == 0);
  REQUIRE(run_meshsim("compare --plan " + plans + "vit22b-tpuv4-256x4.json --plan " + plans +
                      "vit22b-tpuv4-128x8.json --plan " + plans +
                      "vit22b-tpuv4-256x4-sync.json -o " + dir + "/compare.json")
              .exit_code == 0);
  REQUIRE(run_meshsim("sweep --model vit-e14 --hardware tpu-v4 --chips 64 --batch 4096 --top 4 "
                      "-o " +
                      dir + "/sweep.json")
              .exit_code == 0);
  struct Page {
    const char* name;
    std::size_t plans;
    bool layer;
  };
  for (const Page& page :
       {Page{"run", 1, true}, Page{"compare", 3, true}, Page{"sweep", 4, false}}) {
    INFO(page.name);
    const std::string html = dir + "/" + page.name + ".html";
    REQUIRE(run_meshsim("html " + dir + "/" + page.name + ".json -o " + html).exit_code == 0);
    const std::string dom =
        capture(chromium + chromium_flags() + "--dump-dom file://" + html + " 2>/dev/null");
    INFO(dom.substr(0, 2000));
    CHECK(attribute(dom, "<body", "data-status") == "done");
    CHECK(attribute(dom, "<body", "data-errors") == "0");
    CHECK(attribute(dom, "id=\"chart-breakdown\"", "data-points") == std::to_string(page.plans));
    CHECK(attribute(dom, "id=\"chart-memory\"", "data-points") == std::to_string(page.plans));
    if (page.layer) {
      const auto run = nlohmann::json::parse(slurp(dir + "/" + page.name + ".json"));
      const auto& first = run.contains("plans") ? run.at("plans").at(0) : run;
      CHECK(attribute(dom, "id=\"chart-layer\"", "data-points") ==
            std::to_string(first.at("linears").size()));
      check_timeline(dom, first.at("layer_timeline"));
    }
  }
}
