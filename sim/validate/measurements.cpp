#include "sim/validate/measurements.hpp"

#include <set>
#include <utility>

#include "common/json_fields.hpp"
#include "models/model.hpp"

namespace meshsim {
namespace {

constexpr const char* kSchema = "meshsim.cuda-measurements/v1";
constexpr double kMaxSeconds = 3600;
constexpr double kMaxCount = 1e18;  // FLOP and bytes of one op
constexpr std::int64_t kMaxDim = std::int64_t{1} << 40;

OpKind parse_kind(JsonObject& object) {
  const std::string kind =
      object.enumeration("kind", {"matmul", "batched_matmul", "norm", "softmax", "elementwise"});
  if (kind == "matmul")
    return OpKind::Matmul;
  if (kind == "batched_matmul")
    return OpKind::BatchedMatmul;
  if (kind == "norm")
    return OpKind::Norm;
  if (kind == "softmax")
    return OpKind::Softmax;
  return OpKind::Elementwise;
}

// median/min/max with min <= median <= max; the derived rates are read and must be consistent.
void parse_timing(JsonObject& object, double flop, double bytes, double& median_s, double& min_s,
                  double& max_s, std::int64_t& repeats) {
  median_s = object.number("median_s", 1e-9, kMaxSeconds);
  min_s = object.number("min_s", 1e-9, kMaxSeconds);
  max_s = object.number("max_s", 1e-9, kMaxSeconds);
  repeats = object.integer("repeats", 1, 1000000);
  if (!(min_s <= median_s && median_s <= max_s)) {
    throw InputError(object.site("median_s"), "timings out of order",
                     "min_s " + std::to_string(min_s) + ", median_s " + std::to_string(median_s) +
                         ", max_s " + std::to_string(max_s),
                     "min_s <= median_s <= max_s");
  }
  object.number("tflop_per_s", 0, 1e6);
  object.number("gb_per_s", 0, 1e7);
  (void)flop;
  (void)bytes;
}

MeasuredOp parse_op(JsonObject object) {
  MeasuredOp op;
  op.op = object.string("op");
  if (op.op.empty())
    throw InputError(object.site("op"), "empty op name", "''", "an op name");
  op.pass =
      object.enumeration("pass", {"forward", "backward", "backward_input", "backward_weight"});
  op.kind = parse_kind(object);
  op.batch = object.integer("batch", 1, kMaxDim);
  op.m = object.integer("m", 1, kMaxDim);
  op.n = object.integer("n", 1, kMaxDim);
  const bool tensor_core = op.kind == OpKind::Matmul || op.kind == OpKind::BatchedMatmul;
  op.k = object.integer("k", tensor_core ? 1 : 0, tensor_core ? kMaxDim : 0);
  op.flop = object.number("flop", tensor_core ? 1.0 : 0.0, kMaxCount);
  op.bytes = object.number("bytes", 1.0, kMaxCount);
  parse_timing(object, op.flop, op.bytes, op.median_s, op.min_s, op.max_s, op.repeats);
  object.number("max_rel_error", 0, 1e9);
  object.integer("check_samples", 1, kMaxDim);
  object.reject_unknown_fields();
  return op;
}

MeasuredShape parse_shape(JsonObject object) {
  MeasuredShape shape;
  shape.batch_images = object.integer("batch_images", 1, 1 << 20);
  shape.model_axis = object.integer("model_axis", 1, 4096);
  object.integer("tokens", 1, kMaxDim);
  {
    JsonObject check = object.object("correctness");
    if (!check.boolean("passed")) {
      throw InputError(check.site("passed"),
                       "this shape failed the harness's correctness check, so its timings are "
                       "not evidence",
                       "false", "true (rerun the harness and fix the failing op)");
    }
    check.integer("nonfinite_outputs", 0, 0);
    check.number("tolerance", 0, 1);
    check.reject_unknown_fields();
  }
  object.raw("clocks_after");
  {
    JsonObject layer = object.object("layer");
    const double flop = layer.number("flop", 0, kMaxCount);
    const double bytes = layer.number("bytes", 0, kMaxCount);
    shape.layer_kernels = layer.integer("kernels", 1, 100000);
    std::int64_t repeats = 0;
    parse_timing(layer, flop, bytes, shape.layer_median_s, shape.layer_min_s, shape.layer_max_s,
                 repeats);
    layer.reject_unknown_fields();
  }
  const nlohmann::json& ops = object.array("ops");
  if (ops.empty())
    throw InputError(object.site("ops"), "no ops", "[]", "the layer's measured ops");
  std::set<std::pair<std::string, std::string>> seen;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    MeasuredOp op = parse_op(
        JsonObject(ops[i], object.file(), object.child_pointer("ops") + "/" + std::to_string(i)));
    if (!seen.emplace(op.op, op.pass).second) {
      throw InputError({object.file(), object.child_pointer("ops") + "/" + std::to_string(i), "op"},
                       "the same op and pass twice in one shape", op.op + " " + op.pass,
                       "each (op, pass) once per shape");
    }
    shape.ops.push_back(std::move(op));
  }
  object.reject_unknown_fields();
  return shape;
}

// Heads, width and MLP features of the measured model: from the file's "model" object (the
// harness writes them), else from the zoo model it names; none known: zeros (nothing to check).
struct ModelDims {
  std::int64_t heads = 0, width = 0, mlp_dim = 0;
};
ModelDims measured_model_dims(const nlohmann::json& value, const std::string& path) {
  ModelDims dims;
  if (!value.is_object())
    return dims;
  JsonObject object(value, path, "/model");
  if (object.has("heads") && object.has("width") && object.has("mlp_dim")) {
    dims.heads = object.integer("heads", 1, kMaxDim);
    dims.width = object.integer("width", 1, kMaxDim);
    dims.mlp_dim = object.integer("mlp_dim", 1, kMaxDim);
    return dims;
  }
  if (object.has("name")) {
    const std::string name = object.string("name");
    if (name.find('/') == std::string::npos && name.find(".json") == std::string::npos) {
      try {
        const ModelConfig model = load_model(name);
        dims.heads = model.heads;
        dims.width = model.width;
        dims.mlp_dim = model.mlp_dim;
      } catch (const InputError&) {
        // A model outside the zoo without its dimensions: nothing to check against.
      }
    }
  }
  return dims;
}

// A chip of model axis k holds 1/k of the heads, the width and the MLP features: a measured
// model_axis must divide all three, as a plan's must (issue 17 item 15).
void check_model_axis(const MeasuredShape& shape, const ModelDims& dims, const std::string& path,
                      std::size_t index) {
  const std::int64_t k = shape.model_axis;
  const auto bad = [&](const char* what, std::int64_t value) {
    return InputError({path, "/shapes/" + std::to_string(index) + "/model_axis", ""},
                      "the model axis does not divide the measured model's " + std::string(what) +
                          " (" + std::to_string(value) + ")",
                      std::to_string(k), "a common divisor of heads, width and mlp_dim");
  };
  if (dims.heads > 0 && dims.heads % k != 0)
    throw bad("heads", dims.heads);
  if (dims.width > 0 && dims.width % k != 0)
    throw bad("width", dims.width);
  if (dims.mlp_dim > 0 && dims.mlp_dim % k != 0)
    throw bad("mlp_dim", dims.mlp_dim);
}

}  // namespace

Op to_op(const MeasuredOp& measured) {
  Op op;
  op.name = measured.op;
  op.kind = measured.kind;
  op.batch = measured.batch;
  op.m = measured.m;
  op.n = measured.n;
  op.k = measured.k;
  op.flop = measured.flop;
  op.bytes_read = measured.bytes;
  op.bytes_written = 0;
  return op;
}

MeasurementSet load_measurements(const std::string& path) {
  const nlohmann::json document = read_json_file(path);
  JsonObject top(document, path, "");
  MeasurementSet set;
  set.file = path;
  top.enumeration("schema", {kSchema});
  top.string("generator");
  set.synthetic = top.boolean_or("synthetic", false);
  set.date = top.string("date");
  {
    JsonObject device = top.object("device");
    set.device_name = device.string("name");
    if (set.device_name.empty())
      throw InputError(device.site("name"), "empty GPU name", "''", "the GPU's name");
    set.sm_count = device.integer("sm_count", 1, 100000);
    device.string("compute_capability");
    device.number("memory_bytes", 0, 1e15);
    device.integer("l2_bytes", 0, std::int64_t{1} << 40);
    device.string("pci_bus_id");
    const nlohmann::json& driver = device.raw("driver_version");
    if (driver.is_string())
      set.driver_version = driver.get<std::string>();
    device.integer("cuda_driver_api_version", 0, 1000000);
    device.integer("cuda_runtime_version", 0, 1000000);
    device.integer("cublaslt_version", 0, 100000000);
    device.reject_unknown_fields();
  }
  top.raw("clocks_before");
  top.raw("clocks_after");
  const ModelDims dims = measured_model_dims(top.raw("model"), path);
  top.raw("method");
  if (!top.boolean("all_checks_passed")) {
    throw InputError(top.site("all_checks_passed"),
                     "the harness's correctness checks failed, so the timings are not evidence",
                     "false", "true");
  }
  const nlohmann::json& shapes = top.array("shapes");
  if (shapes.empty())
    throw InputError(top.site("shapes"), "no shapes", "[]", "measured shapes");
  std::set<std::pair<std::int64_t, std::int64_t>> seen;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    MeasuredShape shape = parse_shape(JsonObject(shapes[i], path, "/shapes/" + std::to_string(i)));
    check_model_axis(shape, dims, path, i);
    if (!seen.emplace(shape.batch_images, shape.model_axis).second) {
      throw InputError(
          {path, "/shapes/" + std::to_string(i), "batch_images"}, "the same shape twice",
          "b=" + std::to_string(shape.batch_images) + " k=" + std::to_string(shape.model_axis),
          "each (batch_images, model_axis) once");
    }
    set.shapes.push_back(std::move(shape));
  }
  top.reject_unknown_fields();
  return set;
}

}  // namespace meshsim
