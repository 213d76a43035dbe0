// The HTML report: the answer as static HTML (written here, so it reads without JavaScript), the
// document itself in a <script type="application/json"> block, Chart.js and the page script
// (sim/report/html/page.js), all inline. Numbers in the answer are the document's own, formatted.
#include "sim/report/html_report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/version.hpp"
#include "sim/report/html_assets.hpp"

namespace meshsim::report {
namespace {

using json = nlohmann::json;

std::string escape_html(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The document as JSON text that is safe inside <script type="application/json">: '<', '>' and
// '&' only occur inside JSON strings, where \u003c etc. mean the same characters, so no "</script"
// or "<!--" can end or alter the element. U+2028/U+2029 are legal in JSON and in JSON.parse.
std::string script_safe_json(const json& doc) {
  // Parsed text is valid UTF-8 (the parser checks it); `replace` keeps dump() from throwing even
  // so.
  const std::string text = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out += c;
  }
  return out;
}

// "1,234,567" (rounded to the nearest integer).
std::string grouped(double value) {
  const bool negative = value < 0;
  std::string digits = fmt::format("{:.0f}", std::fabs(value));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return negative ? "-" + out : out;
}

std::string seconds(double s) {
  return fmt::format("{:.4g} s", s);
}
std::string gigabytes(double bytes) {
  return fmt::format("{:.1f} GB", bytes / 1e9);
}
std::string percent(double fraction) {
  return fmt::format("{:.1f}%", 100 * fraction);
}
std::string rate(double per_s) {
  if (per_s >= 1e6)
    return fmt::format("{:.3g}M", per_s / 1e6);
  return grouped(per_s);
}

// Field access that names what is missing (a saved document that was edited by hand).
class Doc {
 public:
  Doc(const json& value, std::string origin, std::string pointer)
      : value_(value), origin_(std::move(origin)), pointer_(std::move(pointer)) {}
  const json& value() const { return value_; }
  bool has(const char* key) const { return value_.is_object() && value_.contains(key); }
  Doc at(const char* key, json::value_t type) const {
    if (!has(key) || !same_kind(value_.at(key).type(), type)) {
      throw InputError({origin_, pointer_ + "/" + key, key},
                       std::string("missing or of the wrong type"), "",
                       std::string("a ") + kind(type) + " as meshsim writes it");
    }
    return Doc(value_.at(key), origin_, pointer_ + "/" + key);
  }
  Doc object(const char* key) const { return at(key, json::value_t::object); }
  Doc array(const char* key) const { return at(key, json::value_t::array); }
  double number(const char* key) const { return at(key, json::value_t::number_float).value_; }
  std::string string(const char* key) const { return at(key, json::value_t::string).value_; }
  std::optional<double> optional_number(const char* key) const {
    if (has(key) && value_.at(key).is_number())
      return value_.at(key).get<double>();
    return std::nullopt;
  }
  std::string text_or(const char* key, const std::string& fallback) const {
    if (!has(key))
      return fallback;
    const json& v = value_.at(key);
    if (v.is_string())
      return v.get<std::string>();
    if (v.is_boolean())
      return v.get<bool>() ? "on" : "off";
    if (v.is_number())
      return v.dump();
    return fallback;
  }
  Doc element(std::size_t i) const {
    return Doc(value_.at(i), origin_, pointer_ + "/" + std::to_string(i));
  }
  std::size_t size() const { return value_.size(); }

 private:
  static bool same_kind(json::value_t have, json::value_t want) {
    if (want == json::value_t::number_float)
      return have == json::value_t::number_float || have == json::value_t::number_integer ||
             have == json::value_t::number_unsigned;
    return have == want;
  }
  static const char* kind(json::value_t type) {
    switch (type) {
      case json::value_t::object:
        return "JSON object";
      case json::value_t::array:
        return "JSON array";
      case json::value_t::string:
        return "string";
      default:
        return "number";
    }
  }
  const json& value_;
  std::string origin_, pointer_;
};

struct Answer {
  std::string title;                                      // <title> and <h1>
  std::string headline;                                   // the answer in one line
  std::vector<std::pair<std::string, std::string>> rows;  // label, value (plain text)
  // A table after the answer: a caption, the header cells and rows of plain-text cells.
  std::string table_caption;
  std::vector<std::string> table_header;
  std::vector<std::vector<std::string>> table_rows;
};

std::string plan_summary(const Doc& p) {
  return fmt::format("mesh {} ({}), FSDP {}, remat {}, {} microbatches, async {}, optimizer {}",
                     p.text_or("mesh", "?"), p.text_or("mapping", "mapping not given"),
                     p.text_or("fsdp", "?"), p.text_or("remat", "?"),
                     p.text_or("microbatches", "?"), p.text_or("async", "?"),
                     p.text_or("optimizer", "?"));
}

// The uncertainty band of a step time, when the document has one (step_time_low_s and
// step_time_high_s beside step_time_s); `scale` turns seconds per step into the shown unit.
std::string band(const Doc& p, double scale, const char* unit, const char* format) {
  const auto low = p.optional_number("step_time_low_s");
  const auto high = p.optional_number("step_time_high_s");
  if (!low || !high)
    return "";
  return fmt::format(fmt::runtime(std::string(" (band ") + format + " to " + format + " {})"),
                     *low * scale, *high * scale, unit);
}

// The runner-up's summary, flagged as a tie when the two step-time bands overlap (issue 13).
std::string runner_up(const Doc& doc) {
  const auto& lost = doc.value().at("runner_up_lost");
  std::string text = doc.object("runner_up_lost").text_or("summary", "no runner-up");
  if (lost.contains("tie_within_model_error") && lost.at("tie_within_model_error").is_boolean() &&
      lost.at("tie_within_model_error").get<bool>())
    text = "tie within model error (the step-time bands overlap): " + text;
  return text;
}

Answer report_answer(const Doc& doc) {
  const Doc inputs = doc.object("inputs");
  const Doc model = inputs.object("model");
  const Doc hardware = inputs.object("hardware");
  const double chips = inputs.number("chips");
  const double steps = inputs.number("steps");
  Answer a;
  a.title = fmt::format("{} on {} {} chips: capacity report", model.string("display_name"),
                        grouped(chips), hardware.string("display_name"));
  a.rows.push_back({"Target", fmt::format("{} steps at a global batch of {} images", grouped(steps),
                                          grouped(inputs.number("global_batch")))});
  std::string question_headline;
  if (doc.has("capacity_question") && doc.value().at("capacity_question").is_object()) {
    const Doc q = doc.object("capacity_question");
    std::string ask;
    if (q.optional_number("max_days"))
      ask = fmt::format("within {:g} days", q.number("max_days"));
    if (q.optional_number("max_cost_usd"))
      ask += (ask.empty() ? "within $" : " and $") + grouped(q.number("max_cost_usd"));
    if (q.optional_number("answer_chips")) {
      question_headline = fmt::format("{} chips is the smallest count that trains {}. ",
                                      grouped(q.number("answer_chips")), ask);
    } else {
      question_headline =
          fmt::format("No chip count trains {}; the report is for {} chips. ", ask, grouped(chips));
    }
    a.rows.push_back(
        {"Capacity question",
         question_headline + fmt::format("{} chip counts simulated of {} candidates ({})",
                                         q.text_or("counts_simulated", "?"),
                                         q.array("candidates").size(), q.text_or("method", "?"))});
  }
  if (!doc.has("best_plan") || doc.value().at("best_plan").is_null()) {
    a.headline = question_headline + fmt::format("No plan fits on {} chips.", grouped(chips));
  } else {
    const Doc best = doc.object("best_plan");
    const double days = doc.number("time_to_train_days");
    std::string cost = "no price in the hardware profile";
    if (doc.optional_number("cost_usd")) {
      cost = fmt::format("${} at ${:.2f} per chip-hour ({})", grouped(doc.number("cost_usd")),
                         doc.number("price_per_chip_hour_usd"),
                         doc.text_or("price_source", "the profile's price"));
    }
    a.headline = question_headline +
                 fmt::format("Best plan: mesh {}: {:.1f} days{}, {} chip-hours, {}",
                             best.string("mesh"), days, band(best, steps / 86400, "days", "{:.1f}"),
                             grouped(doc.number("chip_hours")),
                             doc.optional_number("cost_usd")
                                 ? fmt::format("${}", grouped(doc.number("cost_usd")))
                                 : std::string("cost unknown (no price)"));
    a.rows.push_back({"Best plan", plan_summary(best)});
    a.rows.push_back({"Step time", seconds(best.number("step_time_s")) +
                                       band(best, 1, "s", "{:.4g}") + ", bottleneck " +
                                       best.text_or("bottleneck", "?")});
    a.rows.push_back(
        {"Throughput",
         fmt::format("{} tokens/s, {} images/s, MFU {}", rate(best.number("tokens_per_s")),
                     rate(best.number("images_per_s")), percent(best.number("mfu")))});
    const Doc mem = best.object("memory");
    a.rows.push_back({"Memory per chip",
                      fmt::format("{} of {} ({} headroom)", gigabytes(mem.number("per_chip_bytes")),
                                  gigabytes(mem.number("capacity_bytes")),
                                  gigabytes(mem.number("headroom_bytes")))});
    a.rows.push_back({"Time to train", fmt::format("{:.1f} days{} ({} s)", days,
                                                   band(best, steps / 86400, "days", "{:.1f}"),
                                                   grouped(doc.number("time_to_train_s")))});
    a.rows.push_back({"Cost", cost});
    if (doc.has("largest_batch_that_fits") &&
        doc.value().at("largest_batch_that_fits").is_array()) {
      const Doc largest = doc.array("largest_batch_that_fits");
      std::string text;
      for (std::size_t i = 0; i < largest.size(); ++i) {
        const Doc row = largest.element(i);
        text += fmt::format("{}remat {}: {} images", i ? "; " : "", row.text_or("remat", "?"),
                            grouped(row.number("global_batch")));
      }
      a.rows.push_back({"Largest batch that fits", text});
    }
  }
  if (doc.has("runner_up_lost") && doc.value().at("runner_up_lost").is_object())
    a.rows.push_back({"Runner-up", runner_up(doc)});
  const Doc plans = doc.object("plans");
  a.rows.push_back(
      {"Plans", fmt::format("{} considered, {} fit in memory, {} pruned by the bound, "
                            "{} simulated",
                            plans.text_or("considered", "?"), plans.text_or("fitting", "?"),
                            plans.text_or("pruned", "?"), plans.text_or("simulated", "?"))});
  const Doc scaling = doc.object("scaling");
  scaling.array("points");
  const std::string why = scaling.text_or("why", "");
  a.rows.push_back(
      {"Scaling", scaling.has("stops_scaling_at_chips") &&
                          !scaling.value().at("stops_scaling_at_chips").is_null()
                      ? fmt::format("stops at {} chips: {}",
                                    scaling.text_or("stops_scaling_at_chips", "?"), why)
                      : std::string("scales to the end of the curve")});
  // The scaling table: step time, days and cost per chip count (the plots show the same points).
  const Doc points = scaling.array("points");
  a.table_caption = "Scaling: the best plan's choices with the data axis scaled";
  a.table_header = {"chips", "mesh", "step time", "days", "cost", "tokens/s", "efficiency"};
  for (std::size_t i = 0; i < points.size(); ++i) {
    const Doc pt = points.element(i);
    if (pt.text_or("simulated", "off") != "on") {
      a.table_rows.push_back({pt.text_or("chips", "?"), "-", "-", "-", "-", "-",
                              "not simulated: " + pt.text_or("reason", "?")});
      continue;
    }
    // Saved reports from before these columns: the same arithmetic on their fields.
    const double step = pt.number("step_time_s");
    const double days = pt.optional_number("time_to_train_days").value_or(steps * step / 86400);
    std::optional<double> cost = pt.optional_number("cost_usd");
    if (!cost && !pt.has("cost_usd") && doc.optional_number("price_per_chip_hour_usd"))
      cost = pt.number("chips") * steps * step / 3600 * doc.number("price_per_chip_hour_usd");
    a.table_rows.push_back({grouped(pt.number("chips")), pt.string("mesh"), seconds(step),
                            fmt::format("{:.1f}", days),
                            cost ? "$" + grouped(*cost) : std::string("no price"),
                            rate(pt.number("tokens_per_s")), percent(pt.number("efficiency"))});
  }
  return a;
}

Answer sweep_answer(const Doc& doc) {
  const Doc plans = doc.array("plans");
  Answer a;
  a.title =
      fmt::format("{} on {} {} chips: plan sweep", doc.object("model").string("display_name"),
                  grouped(doc.number("chips")), doc.object("hardware").string("display_name"));
  if (plans.size() == 0) {
    a.headline = "No plan fits.";
    return a;
  }
  const Doc best = plans.element(0);
  a.headline =
      fmt::format("Best plan: mesh {}: {}{} per step, {} tokens/s, MFU {}", best.string("mesh"),
                  seconds(best.number("step_time_s")), band(best, 1, "s", "{:.4g}"),
                  rate(best.number("tokens_per_s")), percent(best.number("mfu")));
  a.rows.push_back({"Best plan", plan_summary(best)});
  if (doc.has("runner_up_lost") && doc.value().at("runner_up_lost").is_object())
    a.rows.push_back({"Runner-up", runner_up(doc)});
  a.rows.push_back(
      {"Plans",
       fmt::format("{} considered, {} fit in memory, {} simulated", doc.text_or("considered", "?"),
                   doc.text_or("fitting", "?"), doc.text_or("simulated", "?"))});
  return a;
}

void run_rows(const Doc& run, Answer& a) {
  const Doc plan = run.object("plan");
  const Doc mem = run.object("memory");
  run.object("critical_path");
  a.rows.push_back(
      {"Plan", fmt::format("'{}': {}", plan.text_or("name", "?"), plan_summary(plan))});
  a.rows.push_back({"Step time", seconds(run.number("step_time_s")) + band(run, 1, "s", "{:.4g}")});
  a.rows.push_back(
      {"Throughput",
       fmt::format("{} tokens/s, {} images/s, MFU {}", rate(run.number("tokens_per_s")),
                   rate(run.number("images_per_s")), percent(run.number("mfu")))});
  a.rows.push_back(
      {"Memory per chip",
       fmt::format("{} of {}: {}", gigabytes(mem.number("per_chip_bytes")),
                   gigabytes(mem.number("capacity_bytes")),
                   mem.text_or("fits", "off") == "on"
                       ? "fits (" + gigabytes(mem.number("headroom_bytes")) + " headroom)"
                       : "does NOT fit (" + gigabytes(mem.number("overflow_bytes")) + " over)")});
}

Answer run_answer(const Doc& doc) {
  Answer a;
  a.title = fmt::format("{} on {} x {}: one training step", doc.string("model"),
                        grouped(doc.number("chips")), doc.string("hardware"));
  a.headline = fmt::format("{}{} per step, {} tokens/s, MFU {}", seconds(doc.number("step_time_s")),
                           band(doc, 1, "s", "{:.4g}"), rate(doc.number("tokens_per_s")),
                           percent(doc.number("mfu")));
  run_rows(doc, a);
  a.rows.push_back({"Topology", doc.text_or("topology", "?")});
  return a;
}

Answer compare_answer(const Doc& doc) {
  const Doc plans = doc.array("plans");
  if (plans.size() == 0) {
    throw InputError({"", "/plans", "plans"}, "no plans to compare", "[]", "one or more plans");
  }
  const Doc winner = doc.object("winner");
  const double index = winner.number("index");
  if (index < 0 || index >= static_cast<double>(plans.size()))
    throw InputError({"", "/winner/index", "index"}, "out of range", winner.text_or("index", "?"),
                     "an index into plans");
  const Doc first = plans.element(0);
  Answer a;
  a.title = fmt::format("{} on {} x {}: plans compared", first.string("model"),
                        grouped(first.number("chips")), first.string("hardware"));
  const Doc w = plans.element(static_cast<std::size_t>(index));
  bool any_fits = false;
  for (std::size_t i = 0; i < plans.size(); ++i)
    any_fits = any_fits || plans.element(i).object("memory").text_or("fits", "off") == "on";
  a.headline = fmt::format("{}: plan '{}' ({} per step, {} tokens/s)",
                           any_fits ? "Winner" : "No plan fits in memory; the fastest",
                           winner.string("name"), seconds(w.number("step_time_s")),
                           rate(w.number("tokens_per_s")));
  for (std::size_t i = 0; i < plans.size(); ++i) {
    Answer one;
    run_rows(plans.element(i), one);
    a.rows.push_back({fmt::format("#{}", i + 1),
                      one.rows[0].second + "; " + one.rows[1].second + "; " + one.rows[3].second});
  }
  return a;
}

}  // namespace

std::string html_page(const std::string& json_text, const std::string& origin) {
  const json parsed = parse_json_text(json_text, origin);
  const Doc doc(parsed, origin, "");
  if (!parsed.is_object() || !parsed.contains("schema") || !parsed.at("schema").is_string()) {
    throw InputError({origin, "/schema", "schema"}, "not a meshsim output (no schema field)", "",
                     "the JSON of meshsim run, compare, sweep or report");
  }
  const std::string schema = parsed.at("schema").get<std::string>();
  Answer a;
  try {
    if (schema == "meshsim.report/v1")
      a = report_answer(doc);
    else if (schema == "meshsim.sweep/v1")
      a = sweep_answer(doc);
    else if (schema == "meshsim.run/v1")
      a = run_answer(doc);
    else if (schema == "meshsim.compare/v1")
      a = compare_answer(doc);
    else
      throw InputError({origin, "/schema", "schema"}, "no HTML page for this schema",
                       "\"" + schema + "\"",
                       "meshsim.run/v1, meshsim.compare/v1, meshsim.sweep/v1, meshsim.report/v1");
  } catch (const json::exception& e) {
    throw InputError({origin, "", ""}, std::string("unexpected structure: ") + e.what(), "",
                     "the JSON as meshsim writes it");
  } catch (const InputError& e) {
    throw e.located({origin, "", ""});
  }

  std::string rows;
  for (const auto& [label, value] : a.rows) {
    rows += "<tr><td>" + escape_html(label) + "</td><td>" + escape_html(value) + "</td></tr>\n";
  }
  std::string table;
  if (!a.table_header.empty()) {
    table = "<table class=\"scaling\" id=\"scaling-table\" data-rows=\"" +
            std::to_string(a.table_rows.size()) + "\">\n<caption>" + escape_html(a.table_caption) +
            "</caption>\n<tr>";
    for (const auto& cell : a.table_header)
      table += "<th>" + escape_html(cell) + "</th>";
    table += "</tr>\n";
    for (const auto& row : a.table_rows) {
      table += "<tr>";
      for (const auto& cell : row)
        table += "<td>" + escape_html(cell) + "</td>";
      table += "</tr>\n";
    }
    table += "</table>\n";
  }
  std::string page;
  page.reserve(html_assets::chart_js.size() + json_text.size() + 16384);
  page += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta name=\"generator\" content=\"meshsim " + std::string(kVersion) + "\">\n";
  page += "<title>meshsim: " + escape_html(a.title) + "</title>\n<style>\n";
  page += html_assets::page_css;
  page += "</style>\n</head>\n<body data-schema=\"" + escape_html(schema) +
          "\" data-errors=\"0\" data-status=\"loading\">\n";
  // Errors anywhere on the page are counted on <body> and listed, before any other script runs.
  page +=
      "<script>\n(function () {\n  function record(text) {\n"
      "    var b = document.body; b.setAttribute(\"data-errors\", String(Number("
      "b.getAttribute(\"data-errors\")) + 1));\n"
      "    var p = document.getElementById(\"errors\"); if (p) { p.hidden = false; "
      "p.textContent += text + \"\\n\"; }\n  }\n"
      "  window.addEventListener(\"error\", function (e) { record(\"error: \" + e.message); });\n"
      "  var original = console.error;\n"
      "  console.error = function () { record(\"console.error: \" + "
      "Array.prototype.join.call(arguments, \" \")); return original.apply(console, arguments); "
      "};\n})();\n</script>\n";
  page += "<h1>" + escape_html(a.title) + "</h1>\n";
  page +=
      "<p class=\"subtitle\">" + escape_html(schema) + " from " + escape_html(origin) + "</p>\n";
  page += "<section class=\"answer\" id=\"answer\">\n<p class=\"headline\">" +
          escape_html(a.headline) + "</p>\n<table>\n" + rows + "</table>\n" + table +
          "</section>\n";
  page += "<pre id=\"errors\" hidden></pre>\n<section id=\"charts\"></section>\n";
  page += "<footer>meshsim " + std::string(kVersion) +
          ". Charts drawn with Chart.js 3.9.1 (MIT licence), embedded in this file. The data is "
          "the JSON document in this page's meshsim-data block.</footer>\n";
  page += "<script type=\"application/json\" id=\"meshsim-data\">" + script_safe_json(parsed) +
          "</script>\n";
  page += "<script>\n";
  page += html_assets::chart_js;
  page += "\n</script>\n<script>\n";
  page += html_assets::page_js;
  page += "</script>\n</body>\n</html>\n";
  return page;
}

}  // namespace meshsim::report
