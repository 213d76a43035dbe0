// meshsim models / meshsim model show (DESIGN §5; formats in docs/models.md).
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/json_override_apply.hpp"
#include "common/json_text.hpp"
#include "common/version.hpp"
#include "models/model.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/flag_checks.hpp"
#include "sim/cli/what_if.hpp"

namespace meshsim::cli {
namespace {

// 21743271936 -> "21,743,271,936"
std::string grouped(std::int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

// 21743271936 -> "21.74B", 86567656 -> "86.57M"
std::string short_count(std::int64_t value) {
  const double v = static_cast<double>(value);
  if (v >= 1e9)
    return fmt::format("{:.2f}B", v / 1e9);
  if (v >= 1e6)
    return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e3)
    return fmt::format("{:.2f}k", v / 1e3);
  return std::to_string(value);
}

const char* yes_no(bool b) {
  return b ? "yes" : "no";
}

struct LayerTotals {
  double forward_flop = 0, backward_flop = 0;
  double forward_matmul_flop = 0, backward_matmul_flop = 0;
  double bytes_read = 0, bytes_written = 0;
};

LayerTotals totals_of(const std::vector<Op>& ops) {
  LayerTotals t;
  for (const Op& op : ops) {
    const bool matmul = op.kind == OpKind::Matmul || op.kind == OpKind::BatchedMatmul;
    if (op.pass == Pass::Forward) {
      t.forward_flop += op.flop;
      if (matmul)
        t.forward_matmul_flop += op.flop;
    } else {
      t.backward_flop += op.flop;
      if (matmul)
        t.backward_matmul_flop += op.flop;
    }
    t.bytes_read += op.bytes_read;
    t.bytes_written += op.bytes_written;
  }
  return t;
}

// layer_ops reports bad shapes on its fields; the user typed them as flags.
std::vector<Op> ops_for_flags(const ModelConfig& model, const LayerShape& shape) {
  try {
    return layer_ops(model, shape);
  } catch (const InputError& e) {
    const std::string flag = e.site().field == "batch_images" ? "--batch" : "--model-axis";
    throw InputError({flag, "", ""}, e.problem(), e.found(), e.allowed());
  }
}

nlohmann::json params_json(const ParamCounts& p) {
  return {{"transformer", p.transformer},
          {"biases_and_norms", p.biases_and_norms},
          {"embedding", p.embedding},
          {"head", p.head},
          {"total", p.total}};
}

nlohmann::json show_json(const ModelConfig& m, const LayerShape& shape,
                         const std::vector<Op>& ops) {
  nlohmann::json j;
  j["schema"] = "meshsim.model/v1";
  j["version"] = kVersion;
  add_overrides(j, m.overrides);
  // The model as a file: this output loads back with --model FILE (docs/whatif.md); a what-if
  // model is renamed so that it cannot be taken for the stock one.
  j["input"] = nlohmann::json::parse(m.input);
  if (!m.overrides.empty()) {
    j["input"]["name"] = m.base_name + "-whatif";
    j["input"]["display_name"] = m.display_name;
  }
  j["name"] = m.name;
  j["display_name"] = m.display_name;
  j["source"] = m.source;
  j["file"] = m.file;
  j["block"] = to_string(m.block);
  j["width"] = m.width;
  j["depth"] = m.depth;
  j["mlp_dim"] = m.mlp_dim;
  j["heads"] = m.heads;
  j["head_dim"] = m.head_dim;
  j["attention_width"] = attention_width(m);
  j["patch"] = m.patch;
  j["image_size"] = m.image_size;
  j["channels"] = m.channels;
  j["class_token"] = m.class_token;
  j["tokens"] = m.tokens;
  j["qk_norm"] = m.qk_norm;
  j["qkv_bias"] = m.qkv_bias;
  j["out_proj_bias"] = m.out_proj_bias;
  j["mlp_bias"] = m.mlp_bias;
  j["layernorm_centering"] = m.layernorm_centering;
  j["layernorm_bias"] = m.layernorm_bias;
  j["map_head"] = m.map_head;
  j["num_classes"] = m.num_classes;
  j["train_batch"] = m.train_batch;
  j["train_steps"] = m.train_steps;
  j["published_params"] = m.published_params;
  j["published_params_source"] = m.published_params_source;
  j["params"] = params_json(count_params(m));
  const FlopPerToken f = flop_per_token(m);
  j["flop_per_token"] = {{"forward", f.forward}, {"train", f.train}};
  if (m.kind == ModelKind::Decoder) {
    // Decoder fields only for decoders: the encoders' output is unchanged.
    j["kind"] = to_string(m.kind);
    j["kv_heads"] = m.kv_heads;
    j["mlp"] = to_string(m.mlp);
    j["position_embedding"] = to_string(m.position);
    j["vocab"] = m.vocab;
    j["tied_embeddings"] = m.tied_embeddings;
    j["seq_len"] = m.tokens;
    j["flop_per_token"]["train_causal"] = f.train_causal;
    j["flop_per_token"]["matmul_params"] = f.matmul_params;
  }
  nlohmann::json linears = nlohmann::json::array();
  for (const Linear& l : layer_linears(m)) {
    linears.push_back({{"name", l.name},
                       {"in_features", l.in_features},
                       {"out_features", l.out_features},
                       {"bias", l.bias}});
  }
  j["linears"] = linears;
  nlohmann::json op_list = nlohmann::json::array();
  for (const Op& op : ops) {
    op_list.push_back({{"name", op.name},
                       {"kind", to_string(op.kind)},
                       {"pass", to_string(op.pass)},
                       {"linear", op.linear},
                       {"batch", op.batch},
                       {"m", op.m},
                       {"n", op.n},
                       {"k", op.k},
                       {"flop", op.flop},
                       {"bytes_read", op.bytes_read},
                       {"bytes_written", op.bytes_written},
                       {"shapes", op.shapes}});
  }
  const LayerTotals t = totals_of(ops);
  j["layer"] = {{"batch_images", shape.batch_images},
                {"model_axis", shape.model_axis},
                {"bytes_per_element", shape.bytes_per_element},
                {"ops", op_list},
                {"totals",
                 {{"forward_flop", t.forward_flop},
                  {"backward_flop", t.backward_flop},
                  {"forward_matmul_flop", t.forward_matmul_flop},
                  {"backward_matmul_flop", t.backward_matmul_flop},
                  {"bytes_read", t.bytes_read},
                  {"bytes_written", t.bytes_written}}}};
  return j;
}

void print_show(const ModelConfig& m, const LayerShape& shape, const std::vector<Op>& ops) {
  std::string out;
  out += fmt::format("{} ({})\n", m.display_name, m.name);
  out += fmt::format("  file:    {}\n", m.file);
  if (!m.source.empty())
    out += fmt::format("  source:  {}\n", m.source);
  if (m.kind == ModelKind::Decoder) {
    out += fmt::format(
        "  shape:   decoder (causal attention), width D {}, depth {}, MLP F {} {}, heads {} x "
        "head_dim {}, {} key/value heads\n",
        m.width, m.depth, m.mlp_dim, to_string(m.mlp), m.heads, m.head_dim, m.kv_heads);
    out += fmt::format("  tokens:  sequence {}, vocabulary {}, embeddings {}, positions {}\n",
                       m.tokens, m.vocab, m.tied_embeddings ? "tied" : "untied",
                       to_string(m.position));
  } else {
    out += fmt::format(
        "  shape:   width D {}, depth {}, MLP F {}, heads {} x head_dim {}, patch {}, image {}, "
        "channels {}\n",
        m.width, m.depth, m.mlp_dim, m.heads, m.head_dim, m.patch,
        m.image_size == 0 ? std::string("-") : std::to_string(m.image_size), m.channels);
    out += fmt::format("  tokens:  {} per image ({})\n", m.tokens,
                       m.class_token ? "with class token" : "no class token");
  }
  out += fmt::format(
      "  block:   {}; QK-norm {}; biases: QKV {}, attention out {}, MLP {}; LayerNorm centering "
      "{}, bias {}\n",
      to_string(m.block), yes_no(m.qk_norm), yes_no(m.qkv_bias), yes_no(m.out_proj_bias),
      yes_no(m.mlp_bias), yes_no(m.layernorm_centering), yes_no(m.layernorm_bias));
  out += fmt::format("  head:    MAP pooling {}, classifier {}\n", yes_no(m.map_head),
                     m.num_classes > 0 ? std::to_string(m.num_classes) + " classes" : "none");
  if (m.train_batch > 0 || m.train_steps > 0) {
    out += fmt::format("  pre-training: batch {} images, {} steps\n", grouped(m.train_batch),
                       grouped(m.train_steps));
  }
  const ParamCounts p = count_params(m);
  out += "\nparameters\n";
  out += fmt::format("  {:<18} {:>18}\n", "transformer", grouped(p.transformer));
  out += fmt::format("  {:<18} {:>18}\n", "biases_and_norms", grouped(p.biases_and_norms));
  out += fmt::format("  {:<18} {:>18}\n", "embedding", grouped(p.embedding));
  out += fmt::format("  {:<18} {:>18}\n", "head", grouped(p.head));
  out += fmt::format("  {:<18} {:>18}\n", "total", grouped(p.total));
  if (m.published_params > 0) {
    const double diff =
        100.0 * (static_cast<double>(p.total) / static_cast<double>(m.published_params) - 1.0);
    out += fmt::format("  {:<18} {:>18}  ({:+.2f}% vs total; {})\n", "published",
                       grouped(m.published_params), diff, m.published_params_source);
  }
  const FlopPerToken f = flop_per_token(m);
  out += fmt::format("\nFLOP per token: forward {:.4g} GFLOP, train (3 x forward) {:.4g} GFLOP\n",
                     f.forward / 1e9, f.train / 1e9);
  if (m.kind == ModelKind::Decoder) {
    out += fmt::format(
        "  6N + 12LHQT with N = {} matmul weights (layers + LM head); causal half of attention: "
        "{:.4g} GFLOP\n",
        grouped(static_cast<std::int64_t>(f.matmul_params)), f.train_causal / 1e9);
  }
  out += fmt::format("\nlinears (y = A x, A is out x in):\n");
  for (const Linear& l : layer_linears(m)) {
    out += fmt::format("  {:<16} {:>7} -> {:<7} bias {}\n", l.name, l.in_features, l.out_features,
                       yes_no(l.bias));
  }
  out += fmt::format("\none layer at {} image(s) per chip, model axis {}, {} bytes per element:\n",
                     shape.batch_images, shape.model_axis, shape.bytes_per_element);
  out += fmt::format("  {:<16} {:<16} {:<15} {:>12} {:>11} {:>11}  {}\n", "op", "pass", "kind",
                     "GFLOP", "MB read", "MB written", "shapes");
  for (const Op& op : ops) {
    out += fmt::format("  {:<16} {:<16} {:<15} {:>12.4f} {:>11.3f} {:>11.3f}  {}\n", op.name,
                       to_string(op.pass), to_string(op.kind), op.flop / 1e9, op.bytes_read / 1e6,
                       op.bytes_written / 1e6, op.shapes);
  }
  const LayerTotals t = totals_of(ops);
  out += fmt::format(
      "  total: forward {:.4f} GFLOP ({:.4f} in matmuls), backward {:.4f} GFLOP ({:.4f} in "
      "matmuls), {:.3f} MB read, {:.3f} MB written\n",
      t.forward_flop / 1e9, t.forward_matmul_flop / 1e9, t.backward_flop / 1e9,
      t.backward_matmul_flop / 1e9, t.bytes_read / 1e6, t.bytes_written / 1e6);
  std::fputs(out.c_str(), stdout);
}

void list_models(bool json) {
  nlohmann::json list = nlohmann::json::array();
  std::string table =
      fmt::format("{:<11} {:<9} {:<10} {:>6} {:>5} {:>6} {:>5} {:>5} {:>6} {:>9}\n", "name",
                  "display", "block", "D", "depth", "F", "heads", "patch", "tokens", "params");
  for (const std::string& name : zoo_model_names()) {
    const ModelConfig m = load_model(name);
    const ParamCounts p = count_params(m);
    list.push_back({{"name", m.name},
                    {"display_name", m.display_name},
                    {"block", to_string(m.block)},
                    {"width", m.width},
                    {"depth", m.depth},
                    {"mlp_dim", m.mlp_dim},
                    {"heads", m.heads},
                    {"patch", m.patch},
                    {"tokens", m.tokens},
                    {"params_total", p.total},
                    {"params_transformer", p.transformer},
                    {"published_params", m.published_params},
                    {"source", m.source},
                    {"file", m.file}});
    const bool decoder = m.kind == ModelKind::Decoder;
    if (decoder) {
      list.back()["kind"] = to_string(m.kind);
      list.back()["vocab"] = m.vocab;
    }
    table += fmt::format("{:<11} {:<9} {:<10} {:>6} {:>5} {:>6} {:>5} {:>5} {:>6} {:>9}\n", m.name,
                         m.display_name, to_string(m.block), m.width, m.depth, m.mlp_dim, m.heads,
                         decoder ? std::string("-") : std::to_string(m.patch), m.tokens,
                         short_count(p.total));
  }
  if (json) {
    nlohmann::json j = {{"schema", "meshsim.models/v1"}, {"version", kVersion}, {"models", list}};
    std::fputs((json_text(j) + "\n").c_str(), stdout);
  } else {
    std::fputs(table.c_str(), stdout);
  }
}

}  // namespace

void add_model_commands(CLI::App& app) {
  auto list_json = std::make_shared<bool>(false);
  CLI::App* models = app.add_subcommand("models", "List the model zoo (models/*.json)");
  models->add_flag("--json", *list_json, "Print one JSON object (schema meshsim.models/v1)");
  models->callback([list_json] { list_models(*list_json); });

  struct ShowOptions {
    std::string model;
    bool json = false;
    std::int64_t batch = 1;
    std::int64_t model_axis = 1;
    std::vector<std::string> sets;
  };
  auto opt = std::make_shared<ShowOptions>();
  CLI::App* model = app.add_subcommand("model", "Inspect one model");
  model->require_subcommand(1);
  CLI::App* show = model->add_subcommand(
      "show", "Shapes, parameter counts, FLOP per token and the per-layer ops of one model");
  show->add_option("model", opt->model,
                   "Zoo name (see 'meshsim models') or path to a model JSON file (containing '/' "
                   "or ending in .json)")
      ->required();
  show->add_flag("--json", opt->json,
                 "Print one JSON object (schema meshsim.model/v1); its \"input\" is the model as "
                 "a file (the output loads back: --model FILE)");
  show->add_option("--batch", opt->batch, "Images per chip for the per-layer op table")
      ->check(count_flag(1, 1'000'000'000))
      ->capture_default_str();
  show->add_option("--model-axis", opt->model_axis,
                   "Model-axis size k: each chip holds 1/k of heads, MLP features and activations")
      ->check(count_flag(1, 1'000'000))
      ->capture_default_str();
  add_set_option(show, opt->sets, false, true);
  show->callback([opt] {
    const ModelConfig m = load_model(opt->model, split_sets(opt->sets, false, true).model);
    LayerShape shape;
    shape.batch_images = opt->batch;
    shape.model_axis = opt->model_axis;
    const std::vector<Op> ops = ops_for_flags(m, shape);
    if (opt->json) {
      std::fputs((json_text(show_json(m, shape, ops)) + "\n").c_str(), stdout);
    } else {
      print_show(m, shape, ops);
    }
  });
}

}  // namespace meshsim::cli
