// CSV output (issue 16, item 8): run --csv (per-linear table), sweep --csv (ranked plans) and
// report --csv (scaling points) read back with the project's strict CSV reader (common/csv.hpp),
// one row per element of the JSON array, and every cell equals the JSON's value (numbers exactly).
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "common/csv.hpp"
#include "sim/report/csv_tables.hpp"
#include "tests/cli_runner.hpp"

namespace {

std::string slurp(const std::string& path) {
  return meshsim::testing::read_text_file(path);
}

// The JSON value at a dotted column name ("memory.fits"), or null when absent.
nlohmann::json at_column(const nlohmann::json& row, const std::string& column) {
  const nlohmann::json* v = &row;
  std::size_t start = 0;
  while (true) {
    const auto dot = column.find('.', start);
    const std::string key = column.substr(start, dot - start);
    if (!v->is_object() || !v->contains(key))
      return nullptr;
    v = &v->at(key);
    if (dot == std::string::npos)
      return *v;
    start = dot + 1;
  }
}

// The CSV has one row per element of `rows`, and every cell is the JSON's value.
void check_matches(const meshsim::CsvTable& table, const nlohmann::json& rows) {
  REQUIRE(table.rows.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t c = 0; c < table.header.size(); ++c) {
      const std::string& column = table.header[c];
      const std::string& cell = table.rows[i][c];
      const nlohmann::json want = at_column(rows[i], column);
      INFO("row " << i << ", column " << column << ": '" << cell << "'");
      if (want.is_number())
        CHECK(std::stod(cell) == want.get<double>());
      else if (want.is_boolean())
        CHECK(cell == (want.get<bool>() ? "true" : "false"));
      else if (want.is_string())
        CHECK(cell == want.get<std::string>());
      else
        CHECK(cell.empty());
    }
  }
}

}  // namespace

TEST_CASE("run, sweep and report --csv read back strictly and match the JSON", "[csv][cli]") {
  using meshsim::testing::run_meshsim;
  const std::string dir = meshsim::testing::scratch_dir("csv_tables");
  auto r = run_meshsim("run --model vit-e14 --hardware tpu-v4 --mesh 64x4 --batch 4096 -o " + dir +
                       "/run.json --csv " + dir + "/run.csv");
  REQUIRE(r.exit_code == 0);
  auto table = meshsim::read_csv_file(dir + "/run.csv");
  meshsim::check_csv_columns(table,
                             {"name", "sharding", "communicates", "compute_s", "comm_s",
                              "exposed_s", "forward.compute_s", "backward.exposed_s"},
                             {"forward.comm_s", "forward.exposed_s", "backward.comm_s",
                              "backward.compute_s", "model_axis_bytes_per_layer"});
  check_matches(table, nlohmann::json::parse(slurp(dir + "/run.json")).at("linears"));

  r = run_meshsim("sweep --model vit-e14 --hardware tpu-v4 --chips 64 --batch 4096 --top 3 -o " +
                  dir + "/sweep.json --csv " + dir + "/sweep.csv");
  REQUIRE(r.exit_code == 0);
  table = meshsim::read_csv_file(dir + "/sweep.csv");
  CHECK(table.header.front() == "rank");
  const auto plans = nlohmann::json::parse(slurp(dir + "/sweep.json")).at("plans");
  CHECK(plans.size() == 3);
  check_matches(table, plans);

  r = run_meshsim(
      "report --model vit-e14 --hardware tpu-v4 --chips 64 --global-batch 4096 --steps 1000 "
      "--max-scaling-chips 128 -o " +
      dir + "/report.json --csv " + dir + "/scaling.csv");
  REQUIRE(r.exit_code == 0);
  table = meshsim::read_csv_file(dir + "/scaling.csv");
  check_matches(table,
                nlohmann::json::parse(slurp(dir + "/report.json")).at("scaling").at("points"));

  // The output path is checked before anything runs: bad input, exit 2, nothing on stdout.
  r = run_meshsim("run --model vit-e14 --hardware tpu-v4 --mesh 64x4 --batch 4096 --csv " + dir +
                  "/no/such/dir/x.csv");
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("meshsim: --csv") == 0);
}

TEST_CASE("scaling CSV of each reference report matches its JSON", "[csv]") {
  for (const char* name : {"vit-22b_tpu-v4_1024", "vit-22b_h100_1024", "vit-e14_tpu-v4_256"}) {
    INFO(name);
    const std::string text = slurp(std::string(MESHSIM_SOURCE_DIR) + "/reports/" + name + ".json");
    const auto table = meshsim::parse_csv_text(meshsim::report::scaling_points_csv(text), name);
    check_matches(table, nlohmann::json::parse(text).at("scaling").at("points"));
  }
}

TEST_CASE("CSV cells with commas and quotes are quoted and read back", "[csv]") {
  const std::string doc =
      R"({"rows": [{"a": "x, \"y\"", "b": 1.5, "c": {"d": true}, "e": null, "f": [1, 2]},
                   {"b": 2}]})";
  const std::string csv = meshsim::report::json_rows_csv(doc, "/rows", {"b"});
  CHECK(csv == "b,a,c.d,e\n1.5,\"x, \"\"y\"\"\",true,\n2,,,\n");
  const auto table = meshsim::parse_csv_text(csv, "quoted");
  check_matches(table, nlohmann::json::parse(doc).at("rows"));
  // No rows: the header of the leading columns alone.
  CHECK(meshsim::report::json_rows_csv(R"({"rows": []})", "/rows", {"b", "z"}) == "b,z\n");
}
