// Loading zoo models and user files, and the validation of every field.
#include "models/model.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "tests/cli_runner.hpp"

using meshsim::BlockKind;
using meshsim::InputError;
using meshsim::load_model;

namespace {

// A classic ViT-B/16, written out field by field (not read from the zoo).
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

std::string write_model(const std::string& dir, const std::string& name, const nlohmann::json& j) {
  return meshsim::testing::write_scratch_file(dir, name, j.dump(2));
}

}  // namespace

TEST_CASE("model: the zoo holds the ViT family and the decoder LMs, sorted", "[models]") {
  const auto names = meshsim::zoo_model_names();
  CHECK(names == std::vector<std::string>{"gpt3-175b", "llama3-405b", "llama3-70b", "llama3-8b",
                                          "lm-22b", "palm-540b", "vit-22b", "vit-b16", "vit-bigg14",
                                          "vit-e14", "vit-g14", "vit-h14", "vit-l16"});
  for (const auto& name : names) {
    if (name.rfind("vit-", 0) != 0)
      continue;  // the decoders: tests/models/decoder_test.cpp
    INFO(name);
    const auto m = load_model(name);
    CHECK(m.name == name);
    CHECK_FALSE(m.display_name.empty());
    CHECK(m.source.find("arXiv") != std::string::npos);  // every shape carries its paper
    CHECK(m.published_params > 0);
    CHECK_FALSE(m.published_params_source.empty());
    CHECK(m.width == m.heads * m.head_dim);
  }
}

TEST_CASE("model: ViT-22B as DESIGN §1 describes it", "[models]") {
  const auto m = load_model("vit-22b");
  CHECK(m.display_name == "ViT-22B");
  CHECK(m.block == BlockKind::Parallel);
  CHECK(m.width == 6144);
  CHECK(m.depth == 48);
  CHECK(m.mlp_dim == 24576);
  CHECK(m.heads == 48);
  CHECK(m.head_dim == 128);
  CHECK(m.patch == 14);
  CHECK(m.image_size == 224);
  CHECK(m.tokens == 256);  // (224 / 14)^2, no class token
  CHECK_FALSE(m.class_token);
  CHECK(m.qk_norm);
  CHECK_FALSE(m.qkv_bias);
  CHECK(m.mlp_bias);
  CHECK_FALSE(m.layernorm_centering);
  CHECK_FALSE(m.layernorm_bias);
  CHECK(m.train_batch == 65536);
  CHECK(m.train_steps == 177000);
  // The shapes of the ViT-22B paper's Table 1 rows for ViT-G and ViT-e.
  const auto g = load_model("vit-bigg14");
  CHECK((g.width == 1664 && g.depth == 48 && g.mlp_dim == 8192 && g.heads == 16));
  const auto e = load_model("vit-e14");
  CHECK((e.width == 1792 && e.depth == 56 && e.mlp_dim == 15360 && e.heads == 16));
}

TEST_CASE("model: a classic ViT with a class token has (image/patch)^2 + 1 tokens", "[models]") {
  CHECK(load_model("vit-b16").tokens == 197);
  CHECK(load_model("vit-h14").tokens == 257);
}

TEST_CASE("model: unknown zoo names list the zoo with a did-you-mean", "[models]") {
  try {
    load_model("vit-22");
    FAIL("no error");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find("did you mean 'vit-22b'") != std::string::npos);
    CHECK(what.find("vit-b16") != std::string::npos);
    CHECK(what.find("vit-e14") != std::string::npos);
  }
  CHECK_THROWS_AS(load_model(""), InputError);
}

TEST_CASE("model: user files by path, defaults and optional fields", "[models]") {
  const std::string dir = meshsim::testing::scratch_dir("model-user-files");
  const auto m = load_model(write_model(dir, "my-vit.json", base_model()));
  CHECK(m.name == "my-vit");  // the file's stem
  CHECK(m.display_name == "my-vit");
  CHECK(m.tokens == 197);
  CHECK(m.head_dim == 64);
  CHECK(m.channels == 3);
  CHECK(m.qkv_bias);
  CHECK(m.layernorm_centering);

  // Token count instead of an image size.
  auto tokens_only = base_model();
  tokens_only.erase("image_size");
  tokens_only["tokens"] = 50;
  const auto t = load_model(write_model(dir, "tokens.json", tokens_only));
  CHECK(t.tokens == 50);
  CHECK(t.image_size == 0);

  // An explicit head_dim lifts the "heads divide width" rule (attention width != D).
  auto odd = base_model();
  odd["heads"] = 10;
  odd["head_dim"] = 64;
  const auto o = load_model(write_model(dir, "odd.json", odd));
  CHECK(meshsim::attention_width(o) == 640);
  CHECK(meshsim::layer_linears(o)[0].out_features == 3 * 640);
}

TEST_CASE("model: MESHSIM_DATA_DIR points the zoo elsewhere", "[models]") {
  const std::string root = meshsim::testing::scratch_dir("model-data-dir");
  std::filesystem::create_directories(root + "/models");
  write_model(root + "/models", "tiny.json", base_model());
  ::setenv("MESHSIM_DATA_DIR", root.c_str(), 1);
  std::vector<std::string> names;
  std::string error;
  try {
    names = meshsim::zoo_model_names();
    load_model("tiny");
    load_model("vit-22b");
  } catch (const InputError& e) {
    error = e.what();
  }
  ::unsetenv("MESHSIM_DATA_DIR");
  CHECK(names == std::vector<std::string>{"tiny"});
  CHECK(error.find("unknown zoo model 'vit-22b'") != std::string::npos);
  CHECK(load_model("vit-22b").width == 6144);  // back to the source tree
}

TEST_CASE("model: validation names the field and what is allowed", "[models]") {
  const std::string dir = meshsim::testing::scratch_dir("model-validation");
  struct Case {
    const char* label;
    const char* key;
    nlohmann::json value;  // null: erase the key
    const char* words;
  };
  const std::vector<Case> cases = {
      {"missing width", "width", nullptr, "field 'width': missing required field"},
      {"tokens disagree", "tokens", 196, "field 'tokens': disagrees"},
      {"huge width", "width", 2000000, "field 'width': out of range"},
      {"fractional depth", "depth", 1.5, "field 'depth': not an integer"},
      {"heads", "heads", 7, "field 'heads': does not divide width 768"},
      {"image", "image_size", 225, "field 'image_size': not a multiple of patch 16"},
      {"schema", "schema", "meshsim.model/v2", "field 'schema': unknown value"},
      {"unknown", "qk_nrom", true, "field 'qk_nrom': unknown field (did you mean 'qk_norm'?)"},
      {"source", "published_params", 100, "field 'published_params_source': missing"},
  };
  for (const auto& c : cases) {
    INFO(c.label);
    auto j = base_model();
    if (c.value.is_null()) {
      j.erase(c.key);
    } else {
      j[c.key] = c.value;
    }
    const std::string path = write_model(dir, "bad.json", j);
    try {
      load_model(path);
      FAIL("accepted");
    } catch (const InputError& e) {
      CHECK_THAT(e.what(), Catch::Contains(c.words) && Catch::Contains(path));
    }
  }
}
