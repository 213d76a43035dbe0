// The HTML report's page (sim/report/html_report.hpp), without a browser: self-contained, the
// data block carries the document unchanged and cannot end its <script> element, the answer
// states the document's own figures, bad documents are refused. The browser test is
// html_browser_test.cpp.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "sim/report/html_report.hpp"
#include "tests/cli_runner.hpp"
#include "tests/input_errors.hpp"

using meshsim::testing::contains;
using meshsim::testing::error_of;

namespace {

std::string slurp(const std::string& path) {
  return meshsim::testing::read_text_file(path);
}

std::string reference(const std::string& name) {
  return slurp(std::string(MESHSIM_SOURCE_DIR) + "/reports/" + name + ".json");
}

// The text of the page's <script type="application/json" id="meshsim-data"> block.
std::string data_block(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"meshsim-data\">";
  const auto start = page.find(open);
  REQUIRE(start != std::string::npos);
  REQUIRE(page.find(open, start + 1) == std::string::npos);
  const auto end = page.find("</script>", start);
  return page.substr(start + open.size(), end - start - open.size());
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("html page of each reference report is self-contained and carries the report", "[html]") {
  for (const char* name : {"vit-22b_tpu-v4_1024", "vit-22b_h100_1024", "vit-e14_tpu-v4_256"}) {
    INFO(name);
    const std::string text = reference(name);
    const auto doc = nlohmann::json::parse(text);
    const std::string page = meshsim::report::html_page(text, name);
    // Nothing loaded from elsewhere: no script, style sheet, image or frame by URL.
    CHECK_FALSE(contains(page, "<script src"));
    CHECK_FALSE(contains(page, "<link"));
    CHECK_FALSE(contains(page, "<img"));
    CHECK_FALSE(contains(page, "<iframe"));
    CHECK(contains(page, "Chart.js v3.9.1"));  // the library itself, inline
    // Scripts: the error counter, the data, Chart.js, the page script; each one closed.
    CHECK(count(page, "<script") == 4);
    CHECK(count(page, "</script>") == 4);
    CHECK(nlohmann::json::parse(data_block(page)) == doc);
    // The answer first: days, chip-hours and cost as the report has them, before any chart.
    const auto answer = page.find("id=\"answer\"");
    CHECK(answer < page.find("id=\"charts\""));
    const std::string days = fmt::format("{:.1f} days", doc.at("time_to_train_days").get<double>());
    CHECK(contains(page, days));
    CHECK(contains(page, doc.at("best_plan").at("mesh").get<std::string>()));
    CHECK(contains(page, "chip-hours"));
    if (doc.at("price_per_chip_hour_usd").is_null()) {
      CHECK(contains(page, "no price in the hardware profile"));
    } else {
      CHECK(contains(page, fmt::format("${:.2f} per chip-hour",
                                       doc.at("price_per_chip_hour_usd").get<double>())));
    }
    // The scaling table: one row per point, each simulated one with its days and cost.
    const auto& points = doc.at("scaling").at("points");
    CHECK(
        contains(page, "id=\"scaling-table\" data-rows=\"" + std::to_string(points.size()) + "\""));
    for (const auto& p : points) {
      if (!p.at("simulated").get<bool>())
        continue;
      CHECK(
          contains(page, fmt::format("<td>{:.1f}</td>", p.at("time_to_train_days").get<double>())));
    }
    // The uncertainty band exactly when the document has one (the reports carry it, issue 13).
    CHECK(contains(page, "(band ") == doc.at("best_plan").contains("step_time_low_s"));
    // A runner-up inside the winner's band is called a tie, not a loser.
    const auto& lost = doc.at("runner_up_lost");
    CHECK(contains(page, "tie within model error") ==
          (lost.is_object() && lost.value("tie_within_model_error", false)));
  }
}

TEST_CASE("html page shows the step-time band when the document has one", "[html]") {
  auto doc = nlohmann::json::parse(reference("vit-e14_tpu-v4_256"));
  const double step = doc.at("best_plan").at("step_time_s").get<double>();
  const double steps = doc.at("inputs").at("steps").get<double>();
  doc["best_plan"]["step_time_low_s"] = 0.9 * step;
  doc["best_plan"]["step_time_high_s"] = 1.2 * step;
  const std::string page = meshsim::report::html_page(doc.dump(), "banded.json");
  CHECK(contains(page, fmt::format("(band {:.1f} to {:.1f} days)", 0.9 * step * steps / 86400,
                                   1.2 * step * steps / 86400)));
  CHECK(contains(page, fmt::format("(band {:.4g} to {:.4g} s)", 0.9 * step, 1.2 * step)));
}

TEST_CASE("html page data block cannot close its script element", "[html]") {
  auto doc = nlohmann::json::parse(reference("vit-e14_tpu-v4_256"));
  const std::string evil = "</script><script>alert(1)</script><!-- & \xE2\x80\xA8";
  doc["inputs"]["model"]["display_name"] = evil;
  doc["best_plan"]["mesh"] = evil;
  const std::string page = meshsim::report::html_page(doc.dump(), "evil.json");
  CHECK_FALSE(contains(page, "<script>alert"));
  CHECK_FALSE(contains(page, "<!-- &"));
  CHECK(count(page, "</script>") == 4);
  CHECK(nlohmann::json::parse(data_block(page)) == doc);
  CHECK(contains(page, "&lt;/script&gt;&lt;script&gt;alert(1)"));  // escaped in the answer
}

TEST_CASE("html page refuses documents it cannot draw", "[html][errors]") {
  using meshsim::report::html_page;
  CHECK(contains(error_of([] { html_page("{", "a.json"); }), "a.json"));
  CHECK(contains(error_of([] { html_page("[1]", "b.json"); }), "b.json: /schema"));
  CHECK(contains(error_of([] { html_page(R"({"schema": "meshsim.plan/v1"})", "c.json"); }),
                 "no HTML page for this schema"));
  auto doc = nlohmann::json::parse(reference("vit-e14_tpu-v4_256"));
  doc["scaling"].erase("points");
  const std::string message = error_of([&] { html_page(doc.dump(), "d.json"); });
  CHECK(contains(message, "d.json"));
  CHECK(contains(message, "/scaling/points"));
}

TEST_CASE("meshsim html and report --html write the page, bad input exits 2", "[html][cli]") {
  const std::string dir = meshsim::testing::scratch_dir("html_cli");
  const std::string json = std::string(MESHSIM_SOURCE_DIR) + "/reports/vit-e14_tpu-v4_256.json";
  auto r = meshsim::testing::run_meshsim("html " + json + " -o " + dir + "/r.html");
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(slurp(dir + "/r.html") == meshsim::report::html_page(slurp(json), json));

  // A run and a compare document draw too (the page's answer names the run's figures).
  r = meshsim::testing::run_meshsim(
      "run --model vit-e14 --hardware tpu-v4 --mesh 64x4 --batch 4096 --json -o " + dir +
      "/run.json");
  REQUIRE(r.exit_code == 0);
  r = meshsim::testing::run_meshsim("html " + dir + "/run.json -o " + dir + "/run.html");
  CHECK(r.exit_code == 0);
  CHECK(contains(slurp(dir + "/run.html"), "data-schema=\"meshsim.run/v1\""));

  r = meshsim::testing::run_meshsim(
      "report --model vit-e14 --hardware tpu-v4 --chips 64 --global-batch 4096 --steps 1000 "
      "--max-scaling-chips 128 -o " +
      dir + "/rep.json --html " + dir + "/rep.html");
  REQUIRE(r.exit_code == 0);
  CHECK(slurp(dir + "/rep.html") ==
        meshsim::report::html_page(slurp(dir + "/rep.json"), dir + "/rep.json"));

  // A compare where no plan fits names no winner.
  const std::string plans = std::string(MESHSIM_SOURCE_DIR) + "/plans/";
  r = meshsim::testing::run_meshsim("compare --plan " + plans + "vit22b-tpuv4-256x4.json --plan " +
                                    plans + "vit22b-tpuv4-128x8.json --remat none -o " + dir +
                                    "/none.json");
  REQUIRE(r.exit_code == 0);
  const std::string none = meshsim::report::html_page(slurp(dir + "/none.json"), "none.json");
  CHECK(contains(none, "No plan fits in memory; the fastest"));
  CHECK_FALSE(contains(none, "Winner"));

  for (const std::string& args :
       {std::string("html ") + dir + "/missing.json -o " + dir + "/x.html",
        std::string("html ") + MESHSIM_SOURCE_DIR + "/plans/vit22b-tpuv4-256x4.json -o " + dir +
            "/x.html",
        std::string("html ") + json + " -o " + dir + "/no/such/dir/x.html",
        "report --model vit-e14 --hardware tpu-v4 --chips 64 --global-batch 4096 --steps 1000 "
        "-o " +
            dir + "/x.json --html " + dir + "/no/such/dir/x.html"}) {
    INFO(args);
    r = meshsim::testing::run_meshsim(args);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("meshsim: ", 0) == 0);
    CHECK(count(r.err, "\n") == 1);
  }
}
