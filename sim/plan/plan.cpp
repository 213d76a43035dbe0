#include "sim/plan/plan.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <set>
#include <string>
#include <utility>

#include "common/count.hpp"
#include "sim/limits.hpp"

namespace meshsim {
namespace {

template <typename Enum, std::size_t N>
Enum parse_enum(const std::string& text, const ErrorSite& site,
                const std::array<std::pair<const char*, Enum>, N>& table) {
  std::string allowed;
  for (const auto& [name, value] : table) {
    if (text == name)
      return value;
    allowed += (allowed.empty() ? "" : ", ") + std::string(name);
  }
  throw InputError(site, "unknown value", "\"" + text + "\"", allowed);
}

constexpr std::array<std::pair<const char*, Sharding>, 3> kShardings{
    {{"auto", Sharding::Auto}, {"row", Sharding::Row}, {"column", Sharding::Column}}};
constexpr std::array<std::pair<const char*, Remat>, 3> kRemats{
    {{"none", Remat::None}, {"full", Remat::Full}, {"selective", Remat::Selective}}};
constexpr std::array<std::pair<const char*, OptimizerKind>, 3> kOptimizers{
    {{"adam", OptimizerKind::Adam},
     {"adafactor", OptimizerKind::Adafactor},
     {"sgd", OptimizerKind::Sgd}}};
constexpr std::array<std::pair<const char*, GradientDtype>, 2> kGradientDtypes{
    {{"bf16", GradientDtype::Bf16}, {"fp32", GradientDtype::Fp32}}};
constexpr std::array<std::pair<const char*, WeightGradInput>, 2> kWeightGradInputs{
    {{"keep", WeightGradInput::Keep}, {"regather", WeightGradInput::Regather}}};
constexpr std::array<std::pair<const char*, AttentionKernel>, 2> kAttentions{
    {{"unfused", AttentionKernel::Unfused}, {"flash", AttentionKernel::Flash}}};
constexpr std::array<std::pair<const char*, ActivationLayout>, 2> kActivationLayouts{
    {{"sharded", ActivationLayout::Sharded}, {"replicated", ActivationLayout::Replicated}}};
constexpr std::array<std::pair<const char*, PipelineSchedule>, 3> kSchedules{
    {{"gpipe", PipelineSchedule::GPipe},
     {"1f1b", PipelineSchedule::OneFOneB},
     {"interleaved", PipelineSchedule::Interleaved}}};
constexpr std::array<std::pair<const char*, GradSync>, 2> kGradSyncs{
    {{"per-microbatch", GradSync::PerMicrobatch}, {"last", GradSync::Last}}};

template <typename Enum, std::size_t N>
const char* name_of(Enum value, const std::array<std::pair<const char*, Enum>, N>& table) {
  for (const auto& [name, v] : table) {
    if (v == value)
      return name;
  }
  return "?";
}

// Switches are on|off only (issue 16 item 6); other spellings of yes and no get a did-you-mean.
bool parse_on_off(const std::string& text, const ErrorSite& site) {
  if (text == "on")
    return true;
  if (text == "off")
    return false;
  const std::set<std::string> yes = {"true", "yes", "1", "enabled", "enable", "ON", "On"};
  const std::set<std::string> no = {"false", "no", "0", "disabled", "disable", "OFF", "Off"};
  const std::string hint = yes.count(text) != 0  ? "did you mean 'on'?"
                           : no.count(text) != 0 ? "did you mean 'off'?"
                                                 : "unknown value";
  throw InputError(site, hint, "\"" + text + "\"", "on, off");
}

// Counts of the plan flags: the one count grammar (common/count.hpp), e.g. 64k.
std::int64_t parse_positive(const std::string& text, const ErrorSite& site, std::int64_t hi) {
  try {
    return parse_count(text, 1, hi);
  } catch (const InputError& e) {
    throw e.located(site);
  }
}

ErrorSite flag_site(const char* flag) {
  return ErrorSite{flag, "", ""};
}

const char* dim_name(int dim) {
  static constexpr std::array<const char*, 3> kNames{"x", "y", "z"};
  return dim >= 0 && dim < 3 ? kNames[static_cast<std::size_t>(dim)] : "?";
}

}  // namespace

const char* to_string(Sharding sharding) {
  return name_of(sharding, kShardings);
}
const char* to_string(Remat remat) {
  return name_of(remat, kRemats);
}
const char* to_string(OptimizerKind optimizer) {
  return name_of(optimizer, kOptimizers);
}
const char* to_string(GradientDtype dtype) {
  return name_of(dtype, kGradientDtypes);
}
const char* to_string(WeightGradInput choice) {
  return name_of(choice, kWeightGradInputs);
}
const char* to_string(ActivationLayout layout) {
  return name_of(layout, kActivationLayouts);
}
const char* to_string(PipelineSchedule schedule) {
  return name_of(schedule, kSchedules);
}
PipelineSchedule parse_pipeline_schedule(const std::string& text, const ErrorSite& site) {
  return parse_enum(text, site, kSchedules);
}
const char* to_string(GradSync sync) {
  return name_of(sync, kGradSyncs);
}
const char* to_string(MeshAxis axis) {
  switch (axis) {
    case MeshAxis::Data:
      return "data";
    case MeshAxis::Model1:
      return "model";
    case MeshAxis::Model2:
      return "model2";
  }
  return "?";
}

Sharding parse_sharding(const std::string& text, const ErrorSite& site) {
  return parse_enum(text, site, kShardings);
}
Remat parse_remat(const std::string& text, const ErrorSite& site) {
  return parse_enum(text, site, kRemats);
}
OptimizerKind parse_optimizer(const std::string& text, const ErrorSite& site) {
  return parse_enum(text, site, kOptimizers);
}
GradientDtype parse_gradient_dtype(const std::string& text, const ErrorSite& site) {
  return parse_enum(text, site, kGradientDtypes);
}
WeightGradInput parse_weight_grad_input(const std::string& text, const ErrorSite& site) {
  return parse_enum(text, site, kWeightGradInputs);
}

AttentionKernel parse_attention(const std::string& text, const ErrorSite& site) {
  return parse_enum(text, site, kAttentions);
}
ActivationLayout parse_activation_layout(const std::string& text, const ErrorSite& site) {
  return parse_enum(text, site, kActivationLayouts);
}
GradSync parse_grad_sync(const std::string& text, const ErrorSite& site) {
  return parse_enum(text, site, kGradSyncs);
}

std::int64_t MeshShape::size(MeshAxis axis) const {
  switch (axis) {
    case MeshAxis::Data:
      return data;
    case MeshAxis::Model1:
      return model1;
    case MeshAxis::Model2:
      return model2;
  }
  return 1;
}

std::string MeshShape::text() const {
  if (pipeline > 1) {
    std::string out = "data=" + std::to_string(data) + ",pipeline=" + std::to_string(pipeline);
    if (two_model_axes)
      return out + ",model1=" + std::to_string(model1) + ",model2=" + std::to_string(model2);
    return out + ",model=" + std::to_string(model1);
  }
  std::string out = std::to_string(data);
  out += 'x';
  out += std::to_string(model1);
  if (two_model_axes) {
    out += 'x';
    out += std::to_string(model2);
  }
  return out;
}

MeshShape parse_mesh(const std::string& text, const ErrorSite& site) {
  const std::string allowed =
      "DATAxMODEL, DATAxMODEL1xMODEL2 or named axes data=N,pipeline=N,model=N (positive integers), "
      "e.g. 256x4 or data=8,pipeline=16,model=8";
  const bool named = text.find('=') != std::string::npos;
  std::vector<std::int64_t> parts;
  std::vector<std::string> names;
  std::size_t start = 0;
  while (true) {
    std::size_t x = text.find(named ? ',' : 'x', start);
    std::string part = text.substr(start, x == std::string::npos ? std::string::npos : x - start);
    if (named) {
      const auto eq = part.find('=');
      const std::string name = eq == std::string::npos ? "" : part.substr(0, eq);
      if (name != "data" && name != "pipeline" && name != "model" && name != "model1" &&
          name != "model2") {
        throw InputError(site, "not a mesh axis", "\"" + part + "\"",
                         "axes data, pipeline, model (or model1 and model2)");
      }
      if (std::find(names.begin(), names.end(), name) != names.end())
        throw InputError(site, "a mesh axis is given twice", "\"" + text + "\"", allowed);
      names.push_back(name);
      part = part.substr(eq + 1);
    }
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size() || value < 1 ||
        value > (std::int64_t{1} << 24)) {
      throw InputError(site, "not a mesh shape", "\"" + text + "\"", allowed);
    }
    parts.push_back(value);
    if (x == std::string::npos)
      break;
    start = x + 1;
  }
  if (!named && parts.size() != 2 && parts.size() != 3) {
    throw InputError(site, "a mesh has 2 or 3 axes", "\"" + text + "\"", allowed);
  }
  // Each axis is at most 2^24, so three could multiply past int64 (a fuzz finding, docs/
  // hardening.md): bound the product too, checking before each multiplication.
  constexpr std::int64_t kMaxMeshChips = std::int64_t{1} << 24;
  std::int64_t chips = 1;
  for (std::int64_t part : parts) {
    if (chips > kMaxMeshChips / part) {
      throw InputError(site, "the mesh has more chips than any machine", "\"" + text + "\"",
                       "a product of at most " + std::to_string(kMaxMeshChips) + " chips");
    }
    chips *= part;
  }
  MeshShape mesh;
  if (named) {
    const auto has = [&](const char* n) {
      return std::find(names.begin(), names.end(), n) != names.end();
    };
    if (has("model") && (has("model1") || has("model2")))
      throw InputError(site, "model and model1/model2 both given", "\"" + text + "\"", allowed);
    mesh.data = 1;
    mesh.model1 = 1;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (names[i] == "data")
        mesh.data = parts[i];
      else if (names[i] == "pipeline")
        mesh.pipeline = parts[i];
      else if (names[i] == "model" || names[i] == "model1")
        mesh.model1 = parts[i];
      else
        mesh.model2 = parts[i];
    }
    mesh.two_model_axes = has("model2");
    return mesh;
  }
  mesh.data = parts[0];
  mesh.model1 = parts[1];
  mesh.two_model_axes = parts.size() == 3;
  mesh.model2 = mesh.two_model_axes ? parts[2] : 1;
  return mesh;
}

std::string AxisMapping::text() const {
  if (torus_shape.empty())
    return model_in_node ? "model axis inside the NVLink node" : "model axis across nodes";
  auto axis = [](const char* name, const std::vector<TorusFactor>& factors) {
    std::string out = std::string(name) + ":";
    for (const auto& f : factors)
      out += std::string(" ") + dim_name(f.dim) + std::to_string(f.size);
    if (factors.empty())
      out += " -";
    return out;
  };
  std::string out = axis("data", data) + ", " + axis("model", model1);
  if (!model2.empty())
    out += ", " + axis("model2", model2);
  return out;
}

ErrorSite Plan::site(const std::string& field) const {
  auto it = origins.find(field);
  if (it != origins.end())
    return it->second;
  return ErrorSite{source.empty() ? "plan" : source, "", field};
}

Sharding Plan::sharding_for(const std::string& linear_name) const {
  auto it = sharding_overrides.find(linear_name);
  return it == sharding_overrides.end() ? sharding : it->second;
}

Plan apply_plan_flags(Plan plan, const PlanFlags& flags) {
  if (!flags.mesh.empty()) {
    plan.mesh = parse_mesh(flags.mesh, flag_site("--mesh"));
    plan.mapping = AxisMapping{};  // a mapping from a file was for another mesh
    plan.origins["mesh"] = flag_site("--mesh");
  }
  if (!flags.mapping.empty()) {
    plan.mapping = parse_mapping_text(flags.mapping, "--mapping");
    plan.origins["mapping"] = flag_site("--mapping");
  }
  if (!flags.sharding.empty()) {
    // "auto" or "auto,fused_out_proj=column,...": a default then per-linear overrides.
    ErrorSite site = flag_site("--sharding");
    std::size_t start = 0;
    bool first = true;
    while (start <= flags.sharding.size()) {
      std::size_t comma = flags.sharding.find(',', start);
      std::string item = flags.sharding.substr(
          start, comma == std::string::npos ? std::string::npos : comma - start);
      std::size_t eq = item.find('=');
      if (eq == std::string::npos) {
        if (!first) {
          throw InputError(site,
                           "only the first item may be a default; later items are LINEAR=CHOICE",
                           "\"" + item + "\"", "e.g. auto,fused_out_proj=column");
        }
        plan.sharding = parse_sharding(item, site);
      } else {
        std::string linear = item.substr(0, eq);
        if (linear.empty())
          throw InputError(site, "empty linear name", "\"" + item + "\"", "LINEAR=row|column|auto");
        plan.sharding_overrides[linear] = parse_sharding(item.substr(eq + 1), site);
      }
      first = false;
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    plan.origins["sharding"] = site;
  }
  auto on_off = [&](const std::string& value, const char* flag, const char* field, bool& target) {
    if (value.empty())
      return;
    target = parse_on_off(value, flag_site(flag));
    plan.origins[field] = flag_site(flag);
  };
  on_off(flags.async, "--async", "async", plan.async_collective_matmul);
  on_off(flags.bidirectional, "--bidirectional", "bidirectional", plan.bidirectional);
  on_off(flags.fsdp, "--fsdp", "fsdp", plan.fsdp);
  on_off(flags.sequence_parallel, "--sequence-parallel", "sequence_parallel",
         plan.sequence_parallel);
  on_off(flags.master_weights, "--master-weights", "master_weights_fp32",
         plan.optimizer.master_weights_fp32);
  if (!flags.remat.empty()) {
    plan.remat = parse_remat(flags.remat, flag_site("--remat"));
    plan.origins["remat"] = flag_site("--remat");
  }
  if (!flags.optimizer.empty()) {
    plan.optimizer.kind = parse_optimizer(flags.optimizer, flag_site("--optimizer"));
    plan.origins["optimizer"] = flag_site("--optimizer");
  }
  if (!flags.gradient_dtype.empty()) {
    plan.gradient_dtype = parse_gradient_dtype(flags.gradient_dtype, flag_site("--grad-dtype"));
    plan.origins["gradient_dtype"] = flag_site("--grad-dtype");
  }
  if (!flags.weight_grad_input.empty()) {
    plan.weight_grad_input =
        parse_weight_grad_input(flags.weight_grad_input, flag_site("--weight-grad-input"));
    plan.origins["weight_grad_input"] = flag_site("--weight-grad-input");
  }
  if (!flags.attention.empty()) {
    plan.attention = parse_attention(flags.attention, flag_site("--attention"));
    plan.origins["attention"] = flag_site("--attention");
  }
  if (!flags.activation_layout.empty()) {
    plan.activation_layout =
        parse_activation_layout(flags.activation_layout, flag_site("--activation-layout"));
    plan.origins["activation_layout"] = flag_site("--activation-layout");
  }
  if (!flags.grad_sync.empty()) {
    plan.grad_sync = parse_grad_sync(flags.grad_sync, flag_site("--grad-sync"));
    plan.origins["grad_sync"] = flag_site("--grad-sync");
  }
  if (!flags.microbatches.empty()) {
    plan.microbatches =
        parse_positive(flags.microbatches, flag_site("--microbatches"), limits::kMaxMicrobatches);
    plan.origins["microbatches"] = flag_site("--microbatches");
  }
  if (!flags.schedule.empty()) {
    plan.schedule = parse_pipeline_schedule(flags.schedule, flag_site("--schedule"));
    plan.origins["schedule"] = flag_site("--schedule");
  }
  if (!flags.virtual_stages.empty()) {
    plan.virtual_stages = parse_positive(flags.virtual_stages, flag_site("--virtual-stages"), 64);
    plan.origins["virtual_stages"] = flag_site("--virtual-stages");
  }
  if (!flags.batch.empty()) {
    plan.global_batch = parse_positive(flags.batch, flag_site("--batch"), limits::kMaxGlobalBatch);
    plan.origins["global_batch"] = flag_site("--batch");
  }
  if (plan.name.empty())
    plan.name = "command line";
  return plan;
}

}  // namespace meshsim
