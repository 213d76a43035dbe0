// `meshsim collective --bytes START:END:FACTOR` (issue 16, item 5): one row per size, nccl-tests'
// columns and bandwidth conventions (nccl-tests doc/PERFORMANCE.md: algbw = size / time; busbw =
// algbw x 2(n-1)/n for all-reduce, x (n-1)/n for all-gather, reduce-scatter and all-to-all).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli_runner.hpp"

using meshsim::testing::run_meshsim;

TEST_CASE("collective size sweep: one row per size, busbw by the nccl-tests factor",
          "[collective][cli]") {
  struct Case {
    const char* op;
    const char* hardware;
    int group;
    double factor;
  };
  for (const Case& c :
       {Case{"all-reduce", "h100-sxm", 8, 2.0 * 7 / 8}, Case{"all-gather", "h100-sxm", 8, 7.0 / 8},
        Case{"reduce-scatter", "tpu-v4", 16, 15.0 / 16},
        Case{"all-to-all", "h100-sxm", 8, 7.0 / 8}}) {
    INFO(c.op << " on " << c.hardware);
    const auto r =
        run_meshsim(std::string("collective --op ") + c.op + " --bytes 1KiB:64MiB:2 --hardware " +
                    c.hardware + " --group " + std::to_string(c.group) + " --json");
    REQUIRE(r.exit_code == 0);
    const auto doc = nlohmann::json::parse(r.out);
    CHECK(doc.at("schema") == "meshsim.collective-sweep/v1");
    CHECK(doc.at("bus_factor").get<double>() == Approx(c.factor).epsilon(1e-15));
    const auto& rows = doc.at("rows");
    REQUIRE(rows.size() == 17);  // 2^10 .. 2^26
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& row = rows[i];
      const double bytes = row.at("bytes").get<double>();
      CHECK(bytes == static_cast<double>(1024LL << i));  // each row doubles the size
      CHECK(row.at("count").get<double>() == bytes / 4);
      const double time = row.at("time_s").get<double>();
      const double algbw = row.at("algbw_bytes_per_s").get<double>();
      CHECK(algbw == Approx(bytes / time).epsilon(1e-12));
      CHECK(row.at("busbw_bytes_per_s").get<double>() == Approx(algbw * c.factor).epsilon(1e-12));
      if (i > 0)  // a bigger buffer never takes less time
        CHECK(time >= rows[i - 1].at("time_s").get<double>());
    }
  }
}

TEST_CASE("collective size sweep: the row equals the single-size run", "[collective][cli]") {
  const auto sweep =
      run_meshsim("collective --op all-reduce --bytes 8:16GiB:2 --hardware h100-sxm --group 8");
  REQUIRE(sweep.exit_code == 0);
  // nccl-tests' header lines, then 32 sizes, 8 B to 16 GiB.
  CHECK(sweep.out.find("#           size          count   type  redop") != std::string::npos);
  CHECK(sweep.out.find("     17179869184 ") != std::string::npos);
  const auto json = nlohmann::json::parse(
      run_meshsim("collective --op all-reduce --bytes 8:16GiB:2 --hardware h100-sxm --group 8 "
                  "--json")
          .out);
  REQUIRE(json.at("rows").size() == 32);
  const auto one = nlohmann::json::parse(
      run_meshsim("collective --op all-reduce --bytes 1GiB --hardware h100-sxm --group 8 --json")
          .out);
  const auto& row = json.at("rows")[27];  // 8 x 2^27 = 1 GiB
  CHECK(row.at("bytes") == one.at("bytes"));
  CHECK(row.at("time_s") == one.at("time_s"));
  CHECK(row.at("busbw_bytes_per_s") == one.at("busbw_bytes_per_s"));
  CHECK(row.at("algorithm") == one.at("algorithm"));
}

TEST_CASE("collective size sweep: malformed ranges are bad input", "[collective][cli][errors]") {
  for (const char* bytes : {"8:4:2", "8:16:1", "8:16", "8:16:2:4", "8:16:x", "0:16:2", "8::2"}) {
    INFO(bytes);
    const auto r = run_meshsim(std::string("collective --op all-reduce --bytes ") + bytes +
                               " --hardware h100-sxm --group 8");
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("meshsim: --bytes", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}
