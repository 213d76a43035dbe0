// meshsim models / meshsim model show, through the binary: outputs, exit codes and messages.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/cli_runner.hpp"

using meshsim::testing::run_meshsim;

namespace {

nlohmann::json base_model() {
  return {{"schema", "meshsim.model/v1"},
          {"block", "sequential"},
          {"width", 768},
          {"depth", 12},
          {"mlp_dim", 3072},
          {"heads", 12},
          {"patch", 16},
          {"image_size", 224},
          {"class_token", true}};
}

long count_lines(const std::string& s) {
  return std::count(s.begin(), s.end(), '\n');
}

}  // namespace

TEST_CASE("cli: model show vit-22b --json gives the done-when figures", "[cli][models]") {
  const auto r = run_meshsim("model show vit-22b --json");
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["schema"] == "meshsim.model/v1");
  CHECK(j["version"].is_string());
  CHECK(j["params"]["transformer"].get<std::int64_t>() == 21'743'271'936);
  CHECK(j["tokens"].get<std::int64_t>() == 256);
  CHECK(j["flop_per_token"]["forward"].get<double>() ==
        2.0 * 21'743'271'936.0 + 4.0 * 256 * 6144 * 48);
  CHECK(j["flop_per_token"]["train"].get<double>() ==
        3.0 * j["flop_per_token"]["forward"].get<double>());
  const auto& p = j["params"];
  CHECK(p["total"].get<std::int64_t>() ==
        p["transformer"].get<std::int64_t>() + p["biases_and_norms"].get<std::int64_t>() +
            p["embedding"].get<std::int64_t>() + p["head"].get<std::int64_t>());
  // The op table at the defaults b = 1, k = 1: forward matmuls 2 T (layer params) + 4 T^2 D.
  CHECK(j["layer"]["batch_images"] == 1);
  CHECK(j["layer"]["model_axis"] == 1);
  CHECK(j["layer"]["totals"]["forward_matmul_flop"].get<double>() ==
        Approx(2.0 * 256 * 452'984'832.0 + 4.0 * 256 * 256 * 6144.0).epsilon(1e-12));
  CHECK(j["layer"]["ops"][1]["shapes"] == "[256x6144] x [6144x43008] -> [256x43008]");
}

TEST_CASE("cli: model show takes --batch and --model-axis", "[cli][models]") {
  const auto r = run_meshsim("model show vit-22b --json --batch 2 --model-axis 4");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["layer"]["model_axis"] == 4);
  CHECK(j["layer"]["ops"][1]["shapes"] == "[512x6144] x [6144x10752] -> [512x10752]");
  // Per chip: 1/4 of the b = 2 layer's matmul work.
  CHECK(j["layer"]["totals"]["forward_matmul_flop"].get<double>() ==
        Approx((2.0 * 512 * 452'984'832.0 + 4.0 * 2 * 256 * 256 * 6144.0) / 4).epsilon(1e-12));

  const auto bad_axis = run_meshsim("model show vit-22b --model-axis 5");
  CHECK(bad_axis.exit_code == 2);
  CHECK_THAT(bad_axis.err, Catch::Contains("--model-axis") && Catch::Contains("heads"));
  CHECK(count_lines(bad_axis.err) == 1);
  CHECK(run_meshsim("model show vit-22b --batch 0").exit_code == 2);
  CHECK(run_meshsim("model show vit-22b --batch many").exit_code == 2);
}

TEST_CASE("cli: model show prints a human table by default", "[cli][models]") {
  const auto r = run_meshsim("model show vit-b16");
  REQUIRE(r.exit_code == 0);
  for (const char* words : {"ViT-B/16", "86,567,656", "transformer", "biases_and_norms",
                            "embedding", "head", "mlp_in", "backward_weight", "[197x768]"}) {
    CHECK_THAT(r.out, Catch::Contains(words));
  }
}

TEST_CASE("cli: models lists the zoo", "[cli][models]") {
  const auto human = run_meshsim("models");
  REQUIRE(human.exit_code == 0);
  for (const char* name :
       {"vit-b16", "vit-l16", "vit-h14", "vit-g14", "vit-bigg14", "vit-e14", "vit-22b"}) {
    CHECK_THAT(human.out, Catch::Contains(name));
  }
  const auto r = run_meshsim("models --json");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["schema"] == "meshsim.models/v1");
  REQUIRE(j["models"].size() == 13);  // 7 ViTs and 6 decoder LMs
  std::vector<std::string> names;
  for (const auto& m : j["models"])
    names.push_back(m["name"]);
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(j["models"][6]["name"] == "vit-22b");
  CHECK(j["models"][6]["params_transformer"] == 21'743'271'936);
}

TEST_CASE("cli: an unknown model exits 2 with the zoo names", "[cli][models]") {
  const auto r = run_meshsim("model show no-such-model");
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("no-such-model") && Catch::Contains("vit-22b"));
  CHECK(count_lines(r.err) == 1);
  const auto near = run_meshsim("model show vit-b61");
  CHECK(near.exit_code == 2);
  CHECK_THAT(near.err, Catch::Contains("did you mean 'vit-b16'"));
  CHECK(run_meshsim("model show ./no/such/file.json").exit_code == 2);
}

TEST_CASE("cli: malformed model files exit 2 naming the field", "[cli][models]") {
  const std::string dir = meshsim::testing::scratch_dir("model-cli-malformed");
  struct Case {
    const char* label;
    std::string contents;  // file contents
    const char* words;     // the message must contain this
  };
  auto with = [](const char* key, nlohmann::json value) {
    auto j = base_model();
    j[key] = std::move(value);
    return j.dump();
  };
  auto without = [](const char* key) {
    auto j = base_model();
    j.erase(key);
    return j.dump();
  };
  const std::vector<Case> cases = {
      {"not JSON", "{ width: 768 }", "not valid JSON"},
      {"empty", "", "empty"},
      {"not an object", "[1, 2]", "expected a JSON object"},
      {"missing field", without("width"), "field 'width': missing required field"},
      {"missing schema", without("schema"), "field 'schema': missing"},
      {"wrong type", with("width", "768"), "field 'width': wrong type"},
      {"wrong bool type", with("qk_norm", "yes"), "field 'qk_norm': wrong type"},
      {"zero", with("depth", 0), "field 'depth': out of range"},
      {"negative", with("heads", -12), "field 'heads': out of range"},
      {"huge", with("width", 1e12), "field 'width'"},
      {"beyond double", R"({"schema": "meshsim.model/v1", "width": 1e400})", "number overflow"},
      {"fraction", with("patch", 16.5), "field 'patch': not an integer"},
      {"heads do not divide width", with("heads", 7), "field 'heads': does not divide width"},
      {"patch does not divide image", with("image_size", 200),
       "field 'image_size': not a multiple of patch 16"},
      {"unknown enum", with("block", "paralel"), "field 'block': unknown value"},
      {"unknown field", with("mlp_dmi", 3072),
       "field 'mlp_dmi': unknown field (did you mean 'mlp_dim'?)"},
      {"wrong schema", with("schema", "meshsim.hardware/v1"), "field 'schema'"},
      {"no image size or tokens", without("image_size"), "field 'image_size'"},
  };
  int index = 0;
  for (const auto& c : cases) {
    INFO(c.label);
    const std::string path = meshsim::testing::write_scratch_file(
        dir, "bad" + std::to_string(index++) + ".json", c.contents);
    const auto r = run_meshsim("model show " + path);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains(c.words) && Catch::Contains(path));
    CHECK(count_lines(r.err) == 1);
  }
  // A directory where a file is due.
  const auto d = run_meshsim("model show " + dir + "/");
  CHECK(d.exit_code == 2);
  CHECK_THAT(d.err, Catch::Contains("directory"));
}
