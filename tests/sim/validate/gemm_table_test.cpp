#include "sim/validate/gemm_table.hpp"

#include <catch2/catch.hpp>

#include "common/error.hpp"

using namespace meshsim;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_gemm_table(text, "t.csv");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const std::string kHeader = "b,m,n,k,bf16_flop_per_s,tf32_flop_per_s\n";

}  // namespace

TEST_CASE("gemm table: rows and measured times", "[validate]") {
  const GemmTable t = parse_gemm_table(kHeader + "2,256,512,1024,1e14,5e13\n", "t.csv");
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0].shape.batch == 2);
  CHECK(t.rows[0].line == 2);
  CHECK(gemm_measured_s(t.rows[0], MatmulDtype::Bf16) == Approx(2.0 * 2 * 256 * 512 * 1024 / 1e14));
  CHECK(gemm_measured_s(t.rows[0], MatmulDtype::Tf32) == Approx(2.0 * 2 * 256 * 512 * 1024 / 5e13));
}

TEST_CASE("gemm table: malformed input names file, line and column", "[validate]") {
  struct Case {
    std::string text, want;
  };
  for (const Case& c : std::vector<Case>{
           {kHeader + "1,256,256,256,0,1e12\n", "bf16_flop_per_s"},
           {kHeader + "1,256,256,256,1e12,-3\n", "tf32_flop_per_s"},
           {kHeader + "0,256,256,256,1e12,1e12\n", "column b"},
           {kHeader + "1,256.5,256,256,1e12,1e12\n", "column m"},
           {kHeader + "1,256,256,256,fast,1e12\n", "line 2"},
           {kHeader + "1,256,256,256,1e20,1e12\n", "out of range"},
           {"b,m,n,k,bf16_flop_per_s\n1,2,3,4,5\n", "tf32_flop_per_s"},
           {kHeader, "no data rows"},
       }) {
    INFO(c.text);
    const std::string what = error_of(c.text);
    CHECK(what.find("t.csv") != std::string::npos);
    CHECK(what.find(c.want) != std::string::npos);
  }
}
