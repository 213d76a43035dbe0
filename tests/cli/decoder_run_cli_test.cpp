// `meshsim run` of the zoo decoders end to end (issue 14): tokens/s per chip, MFU by the field's
// count and by the causal half, the LM head's work, in text and JSON.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli_runner.hpp"

using meshsim::testing::run_meshsim;
using nlohmann::json;

TEST_CASE("run: GPT-3 175B and Llama 3 70B on 1024 GPUs", "[cli][run][decoder]") {
  const char* commands[] = {
      "run --model gpt3-175b --hardware a100-sxm-80gb --mesh 128x8 --batch 1536",
      "run --model llama3-70b --hardware h100-sxm --chips 1024 --mesh 128x8 --batch 1024 "
      "--attention flash",
  };
  for (const char* command : commands) {
    INFO(command);
    const auto r = run_meshsim(std::string(command) + " --json");
    REQUIRE(r.exit_code == 0);
    const json j = json::parse(r.out);
    const double step = j["step_time_s"].get<double>();
    CHECK(step > 0);
    const double tokens =
        j["plan"]["global_batch"].get<double>() * j["decoder"]["sequence_length"].get<double>();
    CHECK(j["tokens_per_s_per_chip"].get<double>() == Approx(tokens / step / 1024.0));
    const double mfu = j["mfu"].get<double>();
    CHECK(mfu > 0);
    CHECK(mfu < 1);
    CHECK(j["model_flop_per_step"].get<double>() ==
          Approx(j["decoder"]["flop_per_token_train"].get<double>() * tokens));
    // The causal count is smaller by 6 L H Q T per token.
    CHECK(j["decoder"]["mfu_causal"].get<double>() < mfu);
    CHECK(j["decoder"]["lm_head_compute_s"].get<double>() > 0);
    CHECK(j["decoder"]["lm_head_activation_bytes"].get<double>() > 0);
    const auto text = run_meshsim(command);
    REQUIRE(text.exit_code == 0);
    CHECK_THAT(text.out, Catch::Contains("tokens/s per chip") && Catch::Contains("MFU") &&
                             Catch::Contains("sequences/s") &&
                             Catch::Contains("embedding + LM head"));
  }
}

TEST_CASE("run: a model axis that does not fit the K/V heads exits 2 with one line",
          "[cli][run][decoder]") {
  // 48 heads and 8 K/V heads: a model axis of 6 divides the heads, D and F but neither divides
  // nor is a multiple of the K/V heads; 8 (split) and 16 would do, 6 is refused.
  const nlohmann::json model = {{"schema", "meshsim.model/v1"},
                                {"kind", "decoder"},
                                {"block", "sequential"},
                                {"width", 6144},
                                {"depth", 2},
                                {"mlp_dim", 24576},
                                {"heads", 48},
                                {"kv_heads", 8},
                                {"vocab", 1000},
                                {"seq_len", 128}};
  const auto dir = meshsim::testing::scratch_dir("decoder_kv_heads");
  const auto path = meshsim::testing::write_scratch_file(dir, "gqa-48-8.json", model.dump());
  const auto r = run_meshsim("run --model " + path + " --hardware h100-sxm --mesh 1x6 --batch 1");
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("meshsim: ") && Catch::Contains("key/value heads") &&
                        Catch::Contains("--mesh"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  const auto ok = run_meshsim("run --model " + path + " --hardware h100-sxm --mesh 1x8 --batch 1");
  CHECK(ok.exit_code == 0);
}
