// Loading and validating model files (schema meshsim.model/v1, docs/models.md).
#include "models/model.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/data_dir.hpp"
#include "common/error.hpp"
#include "common/json_fields.hpp"
#include "common/json_override_apply.hpp"

namespace meshsim {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSchema = "meshsim.model/v1";

// Bounds on the shape fields. They keep every parameter count below 1e18, far inside int64
// (per layer at most D x (3A + F) + (A + F) x D <= 1e6 x 4e7 + 2e7 x 1e6 = 6e13; x depth 1e4 =
// 6e17).
constexpr std::int64_t kMaxWidth = 1'000'000;
constexpr std::int64_t kMaxDepth = 10'000;
constexpr std::int64_t kMaxMlp = 10'000'000;
constexpr std::int64_t kMaxAttentionWidth = 10'000'000;  // heads x head_dim
constexpr std::int64_t kMaxPatch = 4096;
constexpr std::int64_t kMaxImage = 1'000'000;
constexpr std::int64_t kMaxTokens = 100'000'000;
constexpr std::int64_t kMaxChannels = 1024;
constexpr std::int64_t kMaxClasses = 100'000'000;
constexpr std::int64_t kMaxVocab = 100'000'000;  // vocab x D <= 1e14, inside the 1e18 bound

// $MESHSIM_DATA_DIR/models, else the source tree's (common/data_dir.hpp).
fs::path zoo_dir() {
  return data_folder("models");
}

bool looks_like_path(const std::string& s) {
  return s.find('/') != std::string::npos ||
         (s.size() >= 5 && s.compare(s.size() - 5, 5, ".json") == 0);
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

ModelConfig parse_model(const nlohmann::json& root, const std::string& file,
                        const std::string& stem) {
  JsonObject o(root, file, "");
  ModelConfig m;
  m.file = file;
  o.enumeration("schema", {kSchema});
  m.name = o.string_or("name", stem);
  if (m.name.empty())
    throw InputError(o.site("name"), "must not be empty", "\"\"", "a model name");
  m.display_name = o.string_or("display_name", m.name);
  m.source = o.string_or("source", "");
  m.block = o.enumeration("block", {"parallel", "sequential"}) == "parallel"
                ? BlockKind::Parallel
                : BlockKind::Sequential;
  m.width = o.integer("width", 1, kMaxWidth);
  m.depth = o.integer("depth", 1, kMaxDepth);
  m.mlp_dim = o.integer("mlp_dim", 1, kMaxMlp);
  m.heads = o.integer("heads", 1, kMaxAttentionWidth);
  if (o.has("head_dim")) {
    m.head_dim = o.integer("head_dim", 1, kMaxAttentionWidth);
    if (m.heads * m.head_dim > kMaxAttentionWidth) {
      throw InputError(o.site("head_dim"), "heads x head_dim too large",
                       std::to_string(m.heads) + " x " + std::to_string(m.head_dim),
                       "at most " + std::to_string(kMaxAttentionWidth));
    }
  } else {
    o.integer_or("head_dim", 0, 1, kMaxAttentionWidth);  // marks it known for reject_unknown_fields
    if (m.width % m.heads != 0) {
      throw InputError(o.site("heads"), "does not divide width " + std::to_string(m.width),
                       std::to_string(m.heads), "a divisor of width, or an explicit head_dim");
    }
    m.head_dim = m.width / m.heads;
  }
  // Optional enumerations: absent means the ViT default.
  auto optional_enum = [&](const char* key, std::initializer_list<std::string_view> allowed,
                           const char* fallback) {
    return o.has(key) ? o.enumeration(key, allowed) : std::string(fallback);
  };
  m.kind = optional_enum("kind", {"encoder", "decoder"}, "encoder") == "decoder"
               ? ModelKind::Decoder
               : ModelKind::Encoder;
  const std::string mlp = optional_enum("mlp", {"gelu", "relu", "swiglu"}, "gelu");
  m.mlp = mlp == "swiglu" ? MlpKind::Swiglu : mlp == "relu" ? MlpKind::Relu : MlpKind::Gelu;
  const std::string position =
      optional_enum("position_embedding", {"learned", "rotary", "none"}, "learned");
  m.position = position == "rotary" ? PositionKind::Rotary
               : position == "none" ? PositionKind::None
                                    : PositionKind::Learned;
  m.kv_heads = o.integer_or("kv_heads", m.heads, 1, m.heads);
  if (m.heads % m.kv_heads != 0) {
    throw InputError(
        o.site("kv_heads"), "does not divide heads " + std::to_string(m.heads),
        std::to_string(m.kv_heads),
        "a divisor of heads (heads: multi-head, fewer: grouped-query, 1: multi-query)");
  }
  if (m.kind == ModelKind::Decoder) {
    // A decoder reads token ids: no image fields, a vocabulary and a sequence length instead.
    for (const char* key :
         {"patch", "image_size", "channels", "class_token", "tokens", "map_head", "num_classes"}) {
      if (o.has(key)) {
        throw InputError(o.site(key), "not a field of a decoder", "",
                         "vocab, seq_len and tied_embeddings (image fields are for encoders)");
      }
    }
    m.vocab = o.integer("vocab", 1, kMaxVocab);
    m.tied_embeddings = o.boolean_or("tied_embeddings", false);
    m.tokens = o.integer("seq_len", 1, kMaxTokens);
    m.patch = 0;
    m.channels = 0;
  } else {
    for (const char* key : {"vocab", "tied_embeddings", "seq_len"}) {
      if (o.has(key)) {
        throw InputError(o.site(key), "not a field of an encoder", "",
                         "patch, image_size or tokens (or \"kind\": \"decoder\")");
      }
    }
    m.patch = o.integer("patch", 1, kMaxPatch);
    m.channels = o.integer_or("channels", 3, 1, kMaxChannels);
    m.class_token = o.boolean_or("class_token", false);
    const std::int64_t extra = m.class_token ? 1 : 0;
    m.image_size = o.integer_or("image_size", 0, 1, kMaxImage);
    m.tokens = o.integer_or("tokens", 0, 1 + extra, kMaxTokens);
    if (m.image_size == 0 && m.tokens == 0) {
      throw InputError(o.site("image_size"), "missing: give image_size or tokens (or both)");
    }
    if (m.image_size != 0) {
      if (m.image_size % m.patch != 0) {
        throw InputError(o.site("image_size"), "not a multiple of patch " + std::to_string(m.patch),
                         std::to_string(m.image_size), "a multiple of patch");
      }
      const std::int64_t grid = m.image_size / m.patch;
      if (grid > kMaxTokens / grid) {  // grid^2 would pass the token bound (and may overflow)
        throw InputError(
            o.site("image_size"), "gives too many tokens",
            std::to_string(m.image_size) + " / " + std::to_string(m.patch) + " per side",
            "at most " + std::to_string(kMaxTokens) + " tokens");
      }
      const std::int64_t expected = grid * grid + extra;
      if (m.tokens != 0 && m.tokens != expected) {
        throw InputError(o.site("tokens"),
                         "disagrees with (image_size / patch)^2" +
                             std::string(m.class_token ? " + 1 (class token)" : ""),
                         std::to_string(m.tokens), std::to_string(expected) + " or leave it out");
      }
      m.tokens = expected;
    }
  }
  m.qk_norm = o.boolean_or("qk_norm", false);
  m.qkv_bias = o.boolean_or("qkv_bias", true);
  m.out_proj_bias = o.boolean_or("out_proj_bias", true);
  m.mlp_bias = o.boolean_or("mlp_bias", true);
  m.layernorm_centering = o.boolean_or("layernorm_centering", true);
  m.layernorm_bias = o.boolean_or("layernorm_bias", true);
  m.map_head = o.boolean_or("map_head", false);
  m.num_classes = o.integer_or("num_classes", 0, 0, kMaxClasses);
  m.train_batch = o.integer_or("train_batch", 0, 0, 1'000'000'000'000);
  m.train_steps = o.integer_or("train_steps", 0, 0, 1'000'000'000'000);
  m.published_params = o.integer_or("published_params", 0, 0, 1'000'000'000'000'000);
  m.published_params_source = o.string_or("published_params_source", "");
  if (m.published_params != 0 && m.published_params_source.empty()) {
    throw InputError(o.site("published_params_source"),
                     "missing: a published_params figure needs its source");
  }
  o.reject_unknown_fields();
  return m;
}

}  // namespace

const char* to_string(BlockKind kind) {
  return kind == BlockKind::Parallel ? "parallel" : "sequential";
}

const char* to_string(ModelKind kind) {
  return kind == ModelKind::Decoder ? "decoder" : "encoder";
}

const char* to_string(MlpKind kind) {
  switch (kind) {
    case MlpKind::Gelu:
      return "gelu";
    case MlpKind::Relu:
      return "relu";
    case MlpKind::Swiglu:
      return "swiglu";
  }
  return "?";
}

const char* to_string(PositionKind kind) {
  switch (kind) {
    case PositionKind::Learned:
      return "learned";
    case PositionKind::Rotary:
      return "rotary";
    case PositionKind::None:
      return "none";
  }
  return "?";
}

std::vector<std::string> zoo_model_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(zoo_dir(), ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() == ".json" && it->is_regular_file(ec))
      names.push_back(p.stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

// A `model show --json` output loads back: its "input" member is the model document.
const nlohmann::json& model_document(const nlohmann::json& document) {
  if (document.is_object() && document.contains("input") && document.at("input").is_object() &&
      document.contains("schema") && document.at("schema") == kSchema)
    return document.at("input");
  return document;
}

ModelConfig finish(ModelConfig model, const nlohmann::json& document) {
  model.base_name = model.name;
  model.input = document.dump();
  return model;
}

struct ModelSource {
  nlohmann::json document;
  std::string file, stem;
};

ModelSource model_source(const std::string& name_or_path) {
  if (name_or_path.empty()) {
    throw InputError({"", "", "model"}, "empty model name", "\"\"",
                     "a zoo name (see 'meshsim models') or a path to a JSON file");
  }
  if (looks_like_path(name_or_path)) {
    return {model_document(read_json_file(name_or_path)), name_or_path,
            fs::path(name_or_path).stem().string()};
  }
  const std::vector<std::string> names = zoo_model_names();
  if (std::find(names.begin(), names.end(), name_or_path) == names.end()) {
    std::string hint =
        did_you_mean(name_or_path, std::set<std::string>(names.begin(), names.end()));
    std::string allowed =
        names.empty() ? "none found in " + zoo_dir().string() : "zoo models " + joined(names);
    throw InputError({"", "", "model"},
                     "unknown zoo model '" + name_or_path + "'" +
                         (hint.empty() ? "" : " (did you mean '" + hint + "'?)"),
                     "",
                     allowed + ", or a path to a JSON file (containing '/' or ending in .json)");
  }
  const std::string path = (zoo_dir() / (name_or_path + ".json")).string();
  return {read_json_file(path), path, name_or_path};
}

}  // namespace

ModelConfig load_model(const std::string& name_or_path) {
  const ModelSource src = model_source(name_or_path);
  return finish(parse_model(src.document, src.file, src.stem), src.document);
}

ModelConfig load_model(const std::string& name_or_path, std::vector<JsonOverride> overrides,
                       const std::string& flag) {
  if (overrides.empty())
    return load_model(name_or_path);
  ModelSource src = model_source(name_or_path);
  const std::string what = "model " + (src.document.is_object() && src.document.contains("name") &&
                                               src.document.at("name").is_string()
                                           ? src.document.at("name").get<std::string>()
                                           : src.stem);
  ModelConfig model;
  apply_overrides(src.document, overrides, flag, what,
                  [&](const nlohmann::json& doc) { model = parse_model(doc, src.file, src.stem); });
  model = finish(std::move(model), src.document);
  model.overrides = overrides;
  for (auto& o : model.overrides)
    o.path = "model." + o.path;  // as written on the command line
  model.name = model.base_name + "+set(" + overrides_text(model.overrides) + ")";
  model.display_name += " (what-if: " + overrides_text(model.overrides) + ")";
  return model;
}

ModelConfig parse_model_json(const std::string& text, const std::string& origin) {
  const nlohmann::json document = model_document(parse_json_text(text, origin));
  return finish(parse_model(document, origin, fs::path(origin).stem().string()), document);
}

}  // namespace meshsim
