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

std::string fmt_bandwidth(double bytes_per_s) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.9g B/s", bytes_per_s);
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

// Bounds of the matmul model's figures: physical envelopes that catch a wrong unit or prefix.
constexpr double kMinFraction = 0.05;
constexpr double kMaxMatmulOverheadS = 1e-4;                     // 100 us
constexpr double kMinSmBandwidth = 1e9, kMaxSmBandwidth = 1e13;  // 1 GB/s .. 10 TB/s per SM

MatmulModel parse_matmul_model(JsonObject object) {
  MatmulModel model;
  if (object.enumeration("model", {"gpu_tiles", "tpu_mxu"}) == "gpu_tiles") {
    model.kind = MatmulModelKind::GpuTiles;
    GpuTileMatmul& g = model.gpu;
    g.sms = static_cast<int>(object.integer("sms", 1, 1024));
    g.tensor_core_fraction = object.number("tensor_core_fraction", kMinFraction, 1.0);
    g.kernel_overhead_s =
        object.quantity("kernel_overhead", QuantityKind::Time, 0.0, kMaxMatmulOverheadS);
    g.tile_overhead_s =
        object.quantity("tile_overhead", QuantityKind::Time, 0.0, kMaxMatmulOverheadS);
    g.sm_operand_bandwidth = object.quantity("sm_operand_bandwidth", QuantityKind::Bandwidth,
                                             kMinSmBandwidth, kMaxSmBandwidth);
  } else {
    model.kind = MatmulModelKind::TpuMxu;
    TpuMxuMatmul& t = model.tpu;
    t.mxus = static_cast<int>(object.integer("mxus", 1, 256));
    t.mxu_size = static_cast<int>(object.integer("mxu_size", 8, 1024));
    t.mxu_fraction = object.number("mxu_fraction", kMinFraction, 1.0);
    t.op_overhead_s = object.quantity("op_overhead", QuantityKind::Time, 0.0, kMaxMatmulOverheadS);
  }
  object.reject_unknown_fields();
  return model;
}

}  // namespace

std::vector<std::string> matmul_model_fields(const MatmulModel& model) {
  if (model.kind == MatmulModelKind::GpuTiles)
    return {"sms", "tensor_core_fraction", "kernel_overhead", "tile_overhead",
            "sm_operand_bandwidth"};
  if (model.kind == MatmulModelKind::TpuMxu)
    return {"mxus", "mxu_size", "mxu_fraction", "op_overhead"};
  return {};
}

nlohmann::json matmul_model_to_json(const MatmulModel& model) {
  if (model.kind == MatmulModelKind::GpuTiles) {
    const GpuTileMatmul& g = model.gpu;
    return nlohmann::json{{"model", "gpu_tiles"},
                          {"sms", g.sms},
                          {"tensor_core_fraction", g.tensor_core_fraction},
                          {"kernel_overhead", seconds_text(g.kernel_overhead_s)},
                          {"tile_overhead", seconds_text(g.tile_overhead_s)},
                          {"sm_operand_bandwidth", fmt_bandwidth(g.sm_operand_bandwidth)}};
  }
  const TpuMxuMatmul& t = model.tpu;
  return nlohmann::json{{"model", "tpu_mxu"},
                        {"mxus", t.mxus},
                        {"mxu_size", t.mxu_size},
                        {"mxu_fraction", t.mxu_fraction},
                        {"op_overhead", seconds_text(t.op_overhead_s)}};
}

CostModel parse_cost_model(JsonObject& object) {
  CostModel cost;
  // The shape model replaces the single efficiency; a profile has one of the two.
  if (object.has("matmul")) {
    cost.matmul = parse_matmul_model(object.object("matmul"));
    if (object.has("matmul_efficiency")) {
      throw InputError(object.site("matmul_efficiency"),
                       "given together with \"matmul\" (the shape model replaces it)",
                       "both fields", "either \"matmul\" or \"matmul_efficiency\"");
    }
  } else {
    cost.matmul_efficiency = object.number("matmul_efficiency", 1e-3, 1.0);
  }
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
