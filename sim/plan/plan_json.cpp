// Plan JSON files, schema meshsim.plan/v1 (docs/plans.md "Plan files"): strict, every field
// checked.
#include <charconv>
#include <filesystem>

#include "common/json_fields.hpp"
#include "sim/limits.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim {
namespace {

constexpr const char* kSchema = "meshsim.plan/v1";

// "x", "y", "z" (the whole dimension) or "z:2" (a factor of 2 of dimension z).
TorusFactor parse_factor(const std::string& text, const std::vector<std::int64_t>& shape,
                         const ErrorSite& site) {
  const std::string allowed =
      "\"x\", \"y\", \"z\" (the whole dimension) or \"z:2\" (a factor of it)";
  if (text.empty() || (text[0] != 'x' && text[0] != 'y' && text[0] != 'z')) {
    throw InputError(site, "not a torus dimension", "\"" + text + "\"", allowed);
  }
  TorusFactor factor;
  factor.dim = text[0] - 'x';
  if (factor.dim >= static_cast<int>(shape.size())) {
    throw InputError(site, "the torus has no such dimension", "\"" + text + "\"",
                     "dimensions of torus_shape (" + std::to_string(shape.size()) + ")");
  }
  if (text.size() == 1) {
    factor.size = shape[static_cast<std::size_t>(factor.dim)];
    return factor;
  }
  if (text[1] != ':')
    throw InputError(site, "not a torus dimension", "\"" + text + "\"", allowed);
  std::int64_t size = 0;
  const char* begin = text.data() + 2;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, size);
  if (ec != std::errc() || ptr != end || size < 1) {
    throw InputError(site, "not a torus factor", "\"" + text + "\"", allowed);
  }
  factor.size = size;
  return factor;
}

std::vector<TorusFactor> parse_factors(JsonObject& obj, const std::string& key,
                                       const std::vector<std::int64_t>& shape) {
  std::vector<TorusFactor> out;
  if (!obj.has(key)) {
    obj.string_or(key, "");  // mark as known
    return out;
  }
  const auto& items = obj.array(key);
  for (std::size_t i = 0; i < items.size(); ++i) {
    ErrorSite site{obj.file(), obj.child_pointer(key) + "/" + std::to_string(i), key};
    if (!items[i].is_string())
      throw InputError(site, "wrong type", json_type_name(items[i]), "a string such as \"z\"");
    out.push_back(parse_factor(items[i].get<std::string>(), shape, site));
  }
  return out;
}

AxisMapping parse_mapping(JsonObject obj) {
  AxisMapping mapping;
  mapping.given = true;
  const auto& shape = obj.array("torus_shape");
  if (shape.empty() || shape.size() > 3) {
    throw InputError(obj.site("torus_shape"), "a torus has 1 to 3 dimensions",
                     std::to_string(shape.size()) + " entries", "e.g. [16, 16, 4]");
  }
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (!shape[i].is_number_integer() || shape[i].get<std::int64_t>() < 1) {
      throw InputError(
          ErrorSite{obj.file(), obj.child_pointer("torus_shape") + "/" + std::to_string(i),
                    "torus_shape"},
          "not a positive integer", shape[i].dump(), "a positive integer");
    }
    mapping.torus_shape.push_back(shape[i].get<std::int64_t>());
  }
  mapping.data = parse_factors(obj, "data", mapping.torus_shape);
  mapping.model1 = parse_factors(obj, "model", mapping.torus_shape);
  mapping.model2 = parse_factors(obj, "model2", mapping.torus_shape);
  obj.reject_unknown_fields();
  return mapping;
}

}  // namespace

Plan parse_plan_json(const std::string& text, const std::string& origin) {
  nlohmann::json doc = parse_json_text(text, origin);
  JsonObject root(doc, origin, "");
  Plan plan;
  plan.source = origin;
  auto mark = [&](const std::string& key) { plan.origins[key] = root.site(key); };

  std::string schema = root.string("schema");
  if (schema != kSchema)
    throw InputError(root.site("schema"), "unsupported schema", "\"" + schema + "\"", kSchema);
  plan.name = root.string_or("name", std::filesystem::path(origin).stem().string());
  root.string_or("description", "");
  if (root.has("mesh")) {
    plan.mesh = parse_mesh(root.string("mesh"), root.site("mesh"));
    mark("mesh");
  } else {
    root.string_or("mesh", "");
  }
  if (root.has("mapping")) {
    plan.mapping = parse_mapping(root.object("mapping"));
    mark("mapping");
  } else {
    root.string_or("mapping", "");
  }
  if (root.has("sharding")) {
    mark("sharding");
    if (root.raw("sharding").is_string()) {
      plan.sharding = parse_sharding(root.string("sharding"), root.site("sharding"));
    } else {
      JsonObject sharding = root.object("sharding");
      plan.sharding =
          parse_sharding(sharding.string_or("default", "auto"), sharding.site("default"));
      if (sharding.has("linears")) {
        JsonObject linears = sharding.object("linears");
        for (const auto& [name, value] : sharding.raw("linears").items()) {
          plan.sharding_overrides[name] = parse_sharding(
              linears.enumeration(name, {"auto", "row", "column"}), linears.site(name));
        }
        linears.reject_unknown_fields();
      } else {
        sharding.string_or("linears", "");
      }
      sharding.reject_unknown_fields();
    }
  } else {
    root.string_or("sharding", "");
  }
  auto flag = [&](const char* key, bool& target) {
    if (root.has(key))
      mark(key);
    target = root.boolean_or(key, target);
  };
  flag("async", plan.async_collective_matmul);
  flag("bidirectional", plan.bidirectional);
  flag("fsdp", plan.fsdp);
  flag("sequence_parallel", plan.sequence_parallel);
  if (root.has("remat")) {
    plan.remat =
        parse_remat(root.enumeration("remat", {"none", "full", "selective"}), root.site("remat"));
    mark("remat");
  } else {
    root.string_or("remat", "");
  }
  if (root.has("optimizer")) {
    mark("optimizer");
    if (root.raw("optimizer").is_string()) {
      plan.optimizer.kind = parse_optimizer(
          root.enumeration("optimizer", {"adam", "adafactor", "sgd"}), root.site("optimizer"));
    } else {
      JsonObject opt = root.object("optimizer");
      plan.optimizer.kind =
          parse_optimizer(opt.enumeration("name", {"adam", "adafactor", "sgd"}), opt.site("name"));
      plan.optimizer.master_weights_fp32 =
          opt.boolean_or("master_weights_fp32", plan.optimizer.master_weights_fp32);
      if (opt.has("momentum") && plan.optimizer.kind != OptimizerKind::Adafactor) {
        throw InputError(opt.site("momentum"), "only Adafactor has an optional first moment",
                         "optimizer " + std::string(to_string(plan.optimizer.kind)),
                         "momentum with adafactor only");
      }
      plan.optimizer.adafactor_momentum = opt.boolean_or("momentum", false);
      opt.reject_unknown_fields();
    }
  } else {
    root.string_or("optimizer", "");
  }
  if (root.has("gradient_dtype")) {
    plan.gradient_dtype = parse_gradient_dtype(root.enumeration("gradient_dtype", {"bf16", "fp32"}),
                                               root.site("gradient_dtype"));
    mark("gradient_dtype");
  } else {
    root.string_or("gradient_dtype", "");
  }
  if (root.has("weight_grad_input")) {
    plan.weight_grad_input =
        parse_weight_grad_input(root.enumeration("weight_grad_input", {"keep", "regather"}),
                                root.site("weight_grad_input"));
    mark("weight_grad_input");
  } else {
    root.string_or("weight_grad_input", "");
  }
  if (root.has("attention")) {
    plan.attention = parse_attention(root.enumeration("attention", {"unfused", "flash"}),
                                     root.site("attention"));
    mark("attention");
  } else {
    root.string_or("attention", "");
  }
  if (root.has("activation_layout")) {
    plan.activation_layout =
        parse_activation_layout(root.enumeration("activation_layout", {"sharded", "replicated"}),
                                root.site("activation_layout"));
    mark("activation_layout");
  } else {
    root.string_or("activation_layout", "");
  }
  if (root.has("grad_sync")) {
    plan.grad_sync = parse_grad_sync(root.enumeration("grad_sync", {"per-microbatch", "last"}),
                                     root.site("grad_sync"));
    mark("grad_sync");
  } else {
    root.string_or("grad_sync", "");
  }
  if (root.has("schedule")) {
    plan.schedule = parse_pipeline_schedule(
        root.enumeration("schedule", {"gpipe", "1f1b", "interleaved"}), root.site("schedule"));
    mark("schedule");
  } else {
    root.string_or("schedule", "");
  }
  if (root.has("virtual_stages"))
    mark("virtual_stages");
  plan.virtual_stages = root.integer_or("virtual_stages", 1, 1, 64);
  if (root.has("stages")) {
    mark("stages");
    const auto& items = root.array("stages");
    if (items.empty() || items.size() > 4096) {
      throw InputError(root.site("stages"), "a stage map has 1 to 4096 entries",
                       std::to_string(items.size()) + " entries", "layers per stage, e.g. [6, 6]");
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_number_integer() || items[i].get<std::int64_t>() < 1 ||
          items[i].get<std::int64_t>() > 100000) {
        throw InputError(
            ErrorSite{origin, root.child_pointer("stages") + "/" + std::to_string(i), "stages"},
            "not a positive layer count", items[i].dump(), "an integer from 1 to 100000");
      }
      plan.stages.push_back(items[i].get<std::int64_t>());
    }
  }
  if (root.has("microbatches"))
    mark("microbatches");
  plan.microbatches = root.integer_or("microbatches", 1, 1, limits::kMaxMicrobatches);
  if (root.has("global_batch"))
    mark("global_batch");
  plan.global_batch = root.integer_or("global_batch", 0, 1, limits::kMaxGlobalBatch);
  root.reject_unknown_fields();
  return plan;
}

AxisMapping parse_mapping_text(const std::string& text, const std::string& origin) {
  nlohmann::json doc = parse_json_text(text, origin);
  return parse_mapping(JsonObject(doc, origin, ""));
}

Plan load_plan_file(const std::string& path) {
  nlohmann::json doc = read_json_file(path);
  return parse_plan_json(doc.dump(), path);
}

}  // namespace meshsim
