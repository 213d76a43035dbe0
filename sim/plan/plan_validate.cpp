// Defaults and validation of a plan against model, hardware and chip count (docs/plans.md).
#include <algorithm>
#include <numeric>
#include <set>
#include <tuple>

#include "common/json_fields.hpp"  // did_you_mean
#include "sim/plan/plan.hpp"
#include "sim/plan/sharding.hpp"

namespace meshsim {
namespace {

const char* dim_letter(int dim) {
  return dim == 0 ? "x" : dim == 1 ? "y" : "z";
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out;
  for (auto s : shape)
    out += (out.empty() ? "" : "x") + std::to_string(s);
  return out;
}

// Every way to write `chips` as a product of `dims` factors, factor d at most max_shape[d].
void factorizations(std::int64_t chips, std::size_t dims, const std::vector<int>& max_shape,
                    std::vector<std::int64_t>& current,
                    std::vector<std::vector<std::int64_t>>& out) {
  std::size_t d = current.size();
  std::int64_t limit = d < max_shape.size() && max_shape[d] > 0 ? max_shape[d] : chips;
  if (d + 1 == dims) {
    if (chips <= limit) {
      current.push_back(chips);
      out.push_back(current);
      current.pop_back();
    }
    return;
  }
  for (std::int64_t f = 1; f <= std::min(chips, limit); ++f) {
    if (chips % f != 0)
      continue;
    current.push_back(f);
    factorizations(chips / f, dims, max_shape, current, out);
    current.pop_back();
  }
}

// Takes `size` out of the still free positions `free` (per dimension), last dimension first: a
// whole dimension of exactly that size when there is one, else greatest common divisors.
bool take_axis(std::int64_t size, std::vector<std::int64_t>& free,
               std::vector<TorusFactor>& factors) {
  if (size == 1)
    return true;
  for (int d = static_cast<int>(free.size()) - 1; d >= 0; --d) {
    if (free[static_cast<std::size_t>(d)] == size) {
      factors.push_back({d, size});
      free[static_cast<std::size_t>(d)] = 1;
      return true;
    }
  }
  std::int64_t rest = size;
  for (int d = static_cast<int>(free.size()) - 1; d >= 0 && rest > 1; --d) {
    std::int64_t g = std::gcd(rest, free[static_cast<std::size_t>(d)]);
    if (g > 1) {
      factors.push_back({d, g});
      free[static_cast<std::size_t>(d)] /= g;
      rest /= g;
    }
  }
  return rest == 1;
}

// The mapping of the mesh onto one slice shape, or false when the model axes do not fit its dims.
bool map_onto(const MeshShape& mesh, const std::vector<std::int64_t>& shape, AxisMapping& mapping) {
  mapping = AxisMapping{};
  mapping.torus_shape = shape;
  std::vector<std::int64_t> free = shape;
  if (!take_axis(mesh.model1, free, mapping.model1))
    return false;
  if (!take_axis(mesh.model2, free, mapping.model2))
    return false;
  for (std::size_t d = 0; d < free.size(); ++d) {
    if (free[d] > 1)
      mapping.data.push_back({static_cast<int>(d), free[d]});
  }
  return true;
}

AxisMapping default_torus_mapping(const MeshShape& mesh, const TorusInterconnect& torus) {
  auto dims = static_cast<std::size_t>(std::max(1, torus.dimensions));
  std::vector<std::vector<std::int64_t>> shapes;
  std::vector<std::int64_t> current;
  factorizations(mesh.chips(), dims, torus.max_shape, current, shapes);
  // Score (lower is better): model axes not on whole dimensions, dimensions without wrap-around
  // links (size > 2 and not a multiple of wraparound_multiple), the longest dimension (ring
  // diameter), then the larger shape lexicographically (x longest, the model axis on z).
  using Score = std::tuple<int, int, std::int64_t>;
  bool found = false;
  Score best_score{};
  AxisMapping best;
  for (const auto& shape : shapes) {
    AxisMapping mapping;
    if (!map_onto(mesh, shape, mapping))
      continue;
    int split_model = 0;
    for (const auto* factors : {&mapping.model1, &mapping.model2}) {
      for (const auto& f : *factors)
        split_model += f.size != shape[static_cast<std::size_t>(f.dim)] ? 1 : 0;
    }
    int no_wrap = 0;
    for (auto s : shape)
      no_wrap +=
          (s > 2 && torus.wraparound_multiple > 0 && s % torus.wraparound_multiple != 0) ? 1 : 0;
    Score score{split_model, no_wrap, *std::max_element(shape.begin(), shape.end())};
    if (!found || score < best_score || (score == best_score && shape > best.torus_shape)) {
      found = true;
      best_score = score;
      best = mapping;
    }
  }
  if (!found) {
    throw InputError(ErrorSite{"mesh", "", "mesh"},
                     "the mesh cannot be laid onto any torus slice of this machine", mesh.text(),
                     "model axes whose sizes divide a slice's dimensions");
  }
  return best;
}

void check_given_mapping(const Plan& plan, const HardwareProfile& hw, std::int64_t chips) {
  const AxisMapping& m = plan.mapping;
  ErrorSite site = plan.site("mapping");
  if (hw.kind != InterconnectKind::Torus) {
    throw InputError(site, "a torus mapping was given for a GPU cluster", hw.display_name,
                     "no mapping: GPU clusters place the model axis inside the NVLink node");
  }
  if (static_cast<int>(m.torus_shape.size()) != hw.torus.dimensions) {
    throw InputError(site, "torus_shape has the wrong number of dimensions",
                     shape_text(m.torus_shape),
                     std::to_string(hw.torus.dimensions) + " dimensions for " + hw.display_name);
  }
  std::int64_t product = 1;
  for (std::size_t d = 0; d < m.torus_shape.size(); ++d) {
    product *= m.torus_shape[d];
    if (d < hw.torus.max_shape.size() && m.torus_shape[d] > hw.torus.max_shape[d]) {
      throw InputError(site, "torus_shape is larger than the machine's largest slice",
                       shape_text(m.torus_shape), "each dimension at most the profile's max_shape");
    }
  }
  if (product != chips) {
    throw InputError(site, "torus_shape does not hold the chip count",
                     shape_text(m.torus_shape) + " = " + std::to_string(product) + " chips",
                     std::to_string(chips) + " chips");
  }
  std::vector<std::int64_t> used(m.torus_shape.size(), 1);
  auto axis = [&](const std::vector<TorusFactor>& factors, std::int64_t size, const char* name) {
    std::int64_t p = 1;
    for (const auto& f : factors) {
      p *= f.size;
      used[static_cast<std::size_t>(f.dim)] *= f.size;
    }
    if (p != size) {
      throw InputError(
          site, std::string("the ") + name + " axis's torus factors do not multiply to its size",
          std::to_string(p), std::to_string(size));
    }
  };
  axis(m.model1, plan.mesh.model1, "model");
  axis(m.model2, plan.mesh.model2, "model2");
  // With a pipeline the data factors hold data x pipeline (stages innermost, docs/plans.md).
  axis(m.data, plan.mesh.data * plan.mesh.pipeline, "data");
  for (std::size_t d = 0; d < used.size(); ++d) {
    if (used[d] != m.torus_shape[d]) {
      throw InputError(site,
                       std::string("torus dimension ") + dim_letter(static_cast<int>(d)) +
                           " is not covered exactly by the axes",
                       std::to_string(used[d]) + " positions used",
                       std::to_string(m.torus_shape[d]));
    }
  }
}

void require_divides(std::int64_t k, std::int64_t n, const std::string& what, const ErrorSite& site,
                     const MeshShape& mesh) {
  if (n % k != 0) {
    throw InputError(site,
                     "the model axis (" + std::to_string(k) + " chips) does not divide " + what +
                         " (" + std::to_string(n) + ")",
                     "mesh " + mesh.text(), "a model axis that divides " + std::to_string(n));
  }
}

// The pipeline choices against the mesh and the model; fills the default microbatches of a
// pipeline (docs/plans.md "Pipeline").
void check_pipeline(Plan& plan, const ModelConfig& model) {
  const std::int64_t p = plan.mesh.pipeline, v = plan.virtual_stages;
  const bool interleaved = plan.schedule == PipelineSchedule::Interleaved;
  if (p == 1) {
    if (v > 1) {
      throw InputError(plan.site("virtual_stages"), "virtual stages need a pipeline axis",
                       std::to_string(v), "1, or a mesh with pipeline=N");
    }
    if (!plan.stages.empty() && !(plan.stages.size() == 1 && plan.stages[0] == model.depth)) {
      throw InputError(plan.site("stages"), "a stage map needs a pipeline axis",
                       std::to_string(plan.stages.size()) + " stages",
                       "no stages, or a mesh with pipeline=N");
    }
    return;
  }
  if (v > 1 && !interleaved) {
    throw InputError(plan.site("virtual_stages"),
                     std::string("virtual stages need the interleaved schedule, not ") +
                         to_string(plan.schedule),
                     std::to_string(v), "1, or --schedule interleaved");
  }
  if (p * v > model.depth) {
    throw InputError(plan.site("mesh"), "more pipeline stages than layers",
                     std::to_string(p) + " stages x " + std::to_string(v) +
                         " virtual = " + std::to_string(p * v),
                     "at most " + std::to_string(model.depth) + " (the model's layers)");
  }
  if (!plan.stages.empty()) {
    std::int64_t sum = 0;
    for (auto n : plan.stages)
      sum += n;
    if (static_cast<std::int64_t>(plan.stages.size()) != p * v || sum != model.depth) {
      throw InputError(
          plan.site("stages"), "the stage map does not match the pipeline",
          std::to_string(plan.stages.size()) + " stages, " + std::to_string(sum) + " layers",
          std::to_string(p * v) + " stages (pipeline x virtual stages) holding " +
              std::to_string(model.depth) + " layers");
    }
  }
  if (plan.global_batch % plan.mesh.data == 0 && !plan.origins.count("microbatches")) {
    // Default: the most microbatches up to 4p that split the replica's batch (interleaved: a
    // multiple of p), so the bubble is at most (p-1)/(5p-1) when the batch allows.
    const std::int64_t per_replica = plan.global_batch / plan.mesh.data;
    std::int64_t best = 1;
    for (std::int64_t m = 1; m <= std::min<std::int64_t>(4 * p, per_replica); ++m) {
      if (per_replica % m == 0 && (!interleaved || m % p == 0))
        best = m;
    }
    plan.microbatches = best;
  }
  if (interleaved && plan.microbatches % p != 0) {
    throw InputError(plan.site("microbatches"),
                     "the interleaved schedule needs microbatches in multiples of the pipeline",
                     std::to_string(plan.microbatches),
                     "a multiple of " + std::to_string(p) + " (Megatron-LM's requirement)");
  }
}

}  // namespace

std::vector<std::int64_t> stage_layers(const Plan& plan, std::int64_t depth) {
  if (!plan.stages.empty())
    return plan.stages;
  const std::int64_t n = plan.mesh.pipeline * plan.virtual_stages;
  std::vector<std::int64_t> out(static_cast<std::size_t>(n), depth / n);
  for (std::int64_t i = 0; i < depth % n; ++i)
    ++out[static_cast<std::size_t>(i)];
  return out;
}

AxisMapping default_mapping(const MeshShape& mesh, const HardwareProfile& hardware) {
  if (hardware.kind == InterconnectKind::Torus)
    return default_torus_mapping(mesh, hardware.torus);
  AxisMapping mapping;
  int node = std::max(1, hardware.gpu.gpus_per_node);
  mapping.model_in_node = mesh.model() <= node && node % mesh.model() == 0;
  return mapping;
}

Plan finalize_plan(const Plan& input, const ModelConfig& model, const std::vector<Linear>& linears,
                   const HardwareProfile& hw, std::int64_t chips) {
  Plan plan = input;
  if (!plan.mesh.given()) {
    if (chips <= 0)
      throw InputError(plan.site("mesh"), "no mesh and no chip count given", "",
                       "--mesh DATAxMODEL or --chips N");
    plan.mesh = MeshShape{chips, 1, 1, false};
  }
  if (chips <= 0)
    chips = plan.mesh.chips();
  std::int64_t max_chips =
      hw.kind == InterconnectKind::Torus ? hw.torus.max_chips : hw.gpu.max_gpus;
  if (max_chips > 0 && chips > max_chips) {
    throw InputError(plan.site("mesh"),
                     "more chips than the largest " + hw.display_name + " system has",
                     std::to_string(chips) + " chips", "at most " + std::to_string(max_chips));
  }
  if (plan.mesh.chips() != chips) {
    throw InputError(plan.site("mesh"), "the mesh product does not equal the chip count",
                     plan.mesh.text() + " = " + std::to_string(plan.mesh.chips()) + " chips",
                     std::to_string(chips) + " chips");
  }
  const std::int64_t k = plan.mesh.model();
  ErrorSite mesh_site = plan.site("mesh");
  require_divides(k, model.heads, "the attention heads", mesh_site, plan.mesh);
  require_divides(k, model.width, "the width D", mesh_site, plan.mesh);
  require_divides(k, model.mlp_dim, "the MLP width F", mesh_site, plan.mesh);
  // GQA/MQA: the model axis splits the K/V heads (k | kv_heads), or, when it is larger, each K/V
  // head is replicated on k / kv_heads chips (kv_heads | k), as Megatron does (docs/models.md).
  const std::int64_t kv_heads = model.kv_heads > 0 ? model.kv_heads : model.heads;
  if (kv_heads % k != 0 && k % kv_heads != 0) {
    throw InputError(
        mesh_site,
        "the model axis (" + std::to_string(k) + " chips) does not divide the key/value heads (" +
            std::to_string(kv_heads) + ") and is not a multiple of them",
        "mesh " + plan.mesh.text(),
        "a model axis that divides " + std::to_string(kv_heads) + " or a multiple of it");
  }
  for (const auto& linear : linears) {
    require_divides(k, linear.in_features, linear.name + "'s input features", mesh_site, plan.mesh);
    // With K/V heads replicated (k > kv_heads) a chip holds A/k + 2 head_dim (+ the MLP's
    // share) of the Q/K/V projection's outputs, whole by the checks above, not (A + 2KV)/k.
    const bool kv_replicated = kv_heads < k;
    if (!(kv_replicated && (linear.name == "qkv" || linear.name == "fused_in_proj"))) {
      require_divides(k, linear.out_features, linear.name + "'s output features", mesh_site,
                      plan.mesh);
    }
  }
  std::set<std::string> names;
  for (const auto& linear : linears)
    names.insert(linear.name);
  if (plan.activation_layout == ActivationLayout::Replicated) {
    // Megatron's pattern fixes every linear's sharding (docs/plans.md "Activation layout").
    if (plan.mesh.two_model_axes && plan.mesh.model2 > 1) {
      throw InputError(plan.site("activation_layout"),
                       "replicated activations need a data x model mesh", plan.mesh.text(),
                       "sharded, or a mesh with one model axis");
    }
    for (const auto& linear : linears) {
      const Sharding s = plan.sharding_for(linear.name);
      const bool input_side = reads_boundary_activations(linear.name);
      const Sharding needed = input_side ? Sharding::Row : Sharding::Column;
      if (s != Sharding::Auto && s != needed) {
        throw InputError(
            plan.site("activation_layout"),
            "replicated activations fix " + linear.name + "'s sharding to " + to_string(needed),
            linear.name + " sharded " + to_string(s),
            std::string("sharding auto or ") + to_string(needed) + " for " + linear.name +
                ", or activation_layout sharded");
      }
    }
  }
  if (plan.sequence_parallel) {
    // Sequence parallelism splits what the replicated layout keeps whole; the sharded layout
    // already splits norms and residual (along the features), docs/plans.md.
    if (plan.activation_layout != ActivationLayout::Replicated) {
      throw InputError(plan.site("sequence_parallel"),
                       "sequence parallelism needs replicated activations (the sharded layout "
                       "already splits norms and residual along the features)",
                       "activation_layout " + std::string(to_string(plan.activation_layout)),
                       "sequence_parallel off, or activation_layout replicated");
    }
    if (model.tokens % k != 0) {
      throw InputError(plan.site("sequence_parallel"),
                       "the model axis (" + std::to_string(k) +
                           " chips) does not divide the sequence (" + std::to_string(model.tokens) +
                           " tokens)",
                       "mesh " + plan.mesh.text(),
                       "a model axis that divides the tokens, or sequence_parallel off");
    }
  }
  for (const auto& [name, unused] : plan.sharding_overrides) {
    if (names.count(name))
      continue;
    std::string hint = did_you_mean(name, names);
    std::string known;
    for (const auto& n : names)
      known += (known.empty() ? "" : ", ") + n;
    throw InputError(plan.site("sharding"),
                     hint.empty() ? "no such linear in " + model.display_name
                                  : "no such linear in " + model.display_name + " (did you mean '" +
                                        hint + "'?)",
                     "\"" + name + "\"", known);
  }
  if (plan.global_batch == 0) {
    if (model.train_batch <= 0) {
      throw InputError(plan.site("global_batch"),
                       "the model has no published training batch; give one", model.name,
                       "--batch N or \"global_batch\" in the plan");
    }
    plan.global_batch = model.train_batch;
  }
  check_pipeline(plan, model);
  const std::int64_t split = plan.mesh.data * plan.microbatches;
  if (plan.global_batch % split != 0) {
    throw InputError(plan.site("global_batch"),
                     "the global batch is not divisible by data axis x microbatches",
                     std::to_string(plan.global_batch) + " images",
                     "a multiple of " + std::to_string(plan.mesh.data) + " x " +
                         std::to_string(plan.microbatches) + " = " + std::to_string(split));
  }
  if (plan.mapping.given) {
    check_given_mapping(plan, hw, chips);
  } else {
    try {
      plan.mapping = default_mapping(plan.mesh, hw);
    } catch (const InputError& e) {
      throw InputError(mesh_site, e.problem(), e.found(), e.allowed());
    }
  }
  if (hw.kind == InterconnectKind::GpuCluster) {
    int node = std::max(1, hw.gpu.gpus_per_node);
    plan.mapping.model_in_node = k <= node && node % k == 0;
  }
  return plan;
}

}  // namespace meshsim
