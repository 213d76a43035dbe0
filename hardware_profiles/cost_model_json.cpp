#include "hardware_profiles/cost_model_json.hpp"

#include <cstdio>
#include <string>

namespace meshsim {
namespace {

// Fitted coefficients are dimensionless (flop_coeff, byte_coeff) or lengths in elements
// (inv_*_coeff); the bound only rejects nonsense, the fit itself keeps them >= 0.
constexpr double kMaxCoeff = 1e9;
constexpr double kMaxOverheadS = 1e-2;

std::string seconds_text(double s) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.9g s", s);
  return buffer;
}

MatmulFit parse_matmul_fit(JsonObject object) {
  MatmulFit f;
  f.fitted = true;
  f.overhead_s = object.quantity("overhead", QuantityKind::Time, 0.0, kMaxOverheadS);
  f.flop_coeff = object.number("flop_coeff", 0.0, kMaxCoeff);
  f.inv_m_coeff = object.number("inv_m_coeff", 0.0, kMaxCoeff);
  f.inv_n_coeff = object.number("inv_n_coeff", 0.0, kMaxCoeff);
  f.inv_k_coeff = object.number("inv_k_coeff", 0.0, kMaxCoeff);
  object.reject_unknown_fields();
  return f;
}

MemoryFit parse_memory_fit(JsonObject object) {
  MemoryFit f;
  f.fitted = true;
  f.overhead_s = object.quantity("overhead", QuantityKind::Time, 0.0, kMaxOverheadS);
  f.byte_coeff = object.number("byte_coeff", 0.0, kMaxCoeff);
  object.reject_unknown_fields();
  return f;
}

CalibratedCost parse_calibrated(JsonObject object) {
  CalibratedCost c;
  c.source = object.string("source");
  if (c.source.empty())
    throw InputError(object.site("source"), "empty", "''", "the measurement file's path");
  c.device = object.string_or("device", "");
  c.date = object.string_or("date", "");
  const nlohmann::json& axes = object.array("fit_model_axes");
  for (std::size_t i = 0; i < axes.size(); ++i) {
    if (!axes[i].is_number_integer() || axes[i].get<std::int64_t>() < 1 ||
        axes[i].get<std::int64_t>() > 4096) {
      throw InputError(
          {object.file(), object.child_pointer("fit_model_axes") + "/" + std::to_string(i),
           "fit_model_axes"},
          "not a model-axis size", axes[i].dump(), "an integer from 1 to 4096");
    }
    c.fit_model_axes.push_back(axes[i].get<int>());
  }
  // A kind may be absent when the measurements had no op of it: the roofline is used for it.
  if (object.has("matmul"))
    c.matmul = parse_matmul_fit(object.object("matmul"));
  if (object.has("batched_matmul"))
    c.batched_matmul = parse_matmul_fit(object.object("batched_matmul"));
  if (object.has("norm"))
    c.norm = parse_memory_fit(object.object("norm"));
  if (object.has("softmax"))
    c.softmax = parse_memory_fit(object.object("softmax"));
  if (object.has("elementwise"))
    c.elementwise = parse_memory_fit(object.object("elementwise"));
  c.graph_factor = object.number_or("graph_factor", 1.0, 0.1, 10.0);
  object.reject_unknown_fields();
  return c;
}

}  // namespace

CostModel parse_cost_model(JsonObject& object) {
  CostModel cost;
  cost.matmul_efficiency = object.number("matmul_efficiency", 1e-3, 1.0);
  cost.memory_efficiency = object.number("memory_efficiency", 1e-3, 1.0);
  cost.kernel_overhead_s = object.quantity("kernel_overhead", QuantityKind::Time, 0.0, 1e-2);
  if (object.has("flash_attention_efficiency"))
    cost.flash.forward_efficiency = object.number("flash_attention_efficiency", 1e-3, 1.0);
  if (object.has("flash_attention_backward_efficiency")) {
    cost.flash.backward_efficiency =
        object.number("flash_attention_backward_efficiency", 1e-3, 1.0);
  }
  if (object.has("calibrated"))
    cost.calibrated = parse_calibrated(object.object("calibrated"));
  return cost;
}

nlohmann::json calibrated_cost_to_json(const CalibratedCost& c) {
  nlohmann::json out;
  out["source"] = c.source;
  out["device"] = c.device;
  out["date"] = c.date;
  out["fit_model_axes"] = c.fit_model_axes;
  auto matmul = [](const MatmulFit& f) {
    return nlohmann::json{{"overhead", seconds_text(f.overhead_s)},
                          {"flop_coeff", f.flop_coeff},
                          {"inv_m_coeff", f.inv_m_coeff},
                          {"inv_n_coeff", f.inv_n_coeff},
                          {"inv_k_coeff", f.inv_k_coeff}};
  };
  auto memory = [](const MemoryFit& f) {
    return nlohmann::json{{"overhead", seconds_text(f.overhead_s)}, {"byte_coeff", f.byte_coeff}};
  };
  if (c.matmul.fitted)
    out["matmul"] = matmul(c.matmul);
  if (c.batched_matmul.fitted)
    out["batched_matmul"] = matmul(c.batched_matmul);
  if (c.norm.fitted)
    out["norm"] = memory(c.norm);
  if (c.softmax.fitted)
    out["softmax"] = memory(c.softmax);
  if (c.elementwise.fitted)
    out["elementwise"] = memory(c.elementwise);
  out["graph_factor"] = c.graph_factor;
  return out;
}

}  // namespace meshsim
