#include "sim/validate/runs.hpp"

#include <set>

#include "common/csv.hpp"
#include "common/error.hpp"
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/step.hpp"

namespace meshsim {
namespace {

// The PlanFlags member a column sets ("" for the columns that are not plan flags).
std::string* flag_of(PlanFlags& f, const std::string& column) {
  if (column == "mesh")
    return &f.mesh;
  if (column == "global_batch")
    return &f.batch;
  if (column == "microbatches")
    return &f.microbatches;
  if (column == "fsdp")
    return &f.fsdp;
  if (column == "remat")
    return &f.remat;
  if (column == "mapping")
    return &f.mapping;
  if (column == "sharding")
    return &f.sharding;
  if (column == "async")
    return &f.async;
  if (column == "bidirectional")
    return &f.bidirectional;
  if (column == "optimizer")
    return &f.optimizer;
  if (column == "master-weights")
    return &f.master_weights;
  if (column == "grad-dtype")
    return &f.gradient_dtype;
  if (column == "weight-grad-input")
    return &f.weight_grad_input;
  if (column == "attention")
    return &f.attention;
  if (column == "activation-layout")
    return &f.activation_layout;
  if (column == "grad-sync")
    return &f.grad_sync;
  return nullptr;
}

// "--mesh" -> "mesh", "--batch" -> "global_batch": the column a flag's error belongs to.
std::string column_of_flag(const std::string& flag) {
  if (flag == "--batch")
    return "global_batch";
  if (flag.rfind("--", 0) == 0)
    return flag.substr(2);
  return {};
}

}  // namespace

const std::vector<std::string>& measured_run_columns() {
  static const std::vector<std::string> columns = {
      "id",           "model",        "hardware", "chips", "mesh",
      "global_batch", "microbatches", "fsdp",     "remat", "measured_images_per_s",
      "source"};
  return columns;
}

const std::vector<std::string>& measured_run_optional_columns() {
  static const std::vector<std::string> columns = {
      "mapping",   "sharding",          "async",      "bidirectional",
      "optimizer", "master-weights",    "grad-dtype", "weight-grad-input",
      "attention", "activation-layout", "grad-sync"};
  return columns;
}

MeasuredRunSet load_measured_runs(const std::string& path) {
  const CsvTable table = read_csv_file(path);
  check_csv_columns(table, measured_run_columns(), measured_run_optional_columns());
  MeasuredRunSet set;
  set.file = path;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < table.rows.size(); ++i) {
    const CsvRow row(table, i);
    MeasuredRun run;
    run.line = table.line_of_row[i];
    run.id = row.text("id");
    if (run.id.empty())
      throw InputError({path, row.where("id"), "id"}, "empty id", "", "a name for the run");
    if (!ids.insert(run.id).second)
      throw InputError({path, row.where("id"), "id"}, "id given twice", "'" + run.id + "'",
                       "a different id on every row");
    run.model = row.text("model");
    run.hardware = row.text("hardware");
    if (run.model.empty())
      throw InputError({path, row.where("model"), "model"}, "empty", "", "a zoo model or a file");
    if (run.hardware.empty())
      throw InputError({path, row.where("hardware"), "hardware"}, "empty", "",
                       "a hardware profile name or a file");
    run.chips = row.integer("chips", 1, std::int64_t{1} << 40);
    run.measured_images_per_s = row.number("measured_images_per_s", 0);
    run.source = row.text("source");
    for (const auto& column : table.header) {
      if (std::string* flag = flag_of(run.flags, column))
        *flag = row.text(column);
    }
    set.runs.push_back(std::move(run));
  }
  return set;
}

namespace {

// Runs `body` for one row, giving its errors the file, the row's line and the column.
template <typename Body>
void in_row(const MeasuredRunSet& set, const MeasuredRun& run, Body body) {
  const std::string line = "line " + std::to_string(run.line);
  auto wrap = [&](const InputError& e, const std::string& column) {
    return InputError(
        {set.file, line + (column.empty() ? "" : ", column " + column), e.site().field}, e.what(),
        "", "");
  };
  try {
    try {
      body();
    } catch (const InputError& e) {
      if (e.site().file == set.file)
        throw;
      throw wrap(e, column_of_flag(e.site().file));
    }
  } catch (const InputError& e) {
    if (e.site().file == set.file)
      throw;
    throw wrap(e, "");
  }
}

PreparedRun prepare_one(const MeasuredRun& run, const HardwareProfile& hardware) {
  PreparedRun p;
  p.run = &run;
  p.model = load_model(run.model);
  p.plan = finalize_plan(apply_plan_flags(Plan{}, run.flags), p.model, hardware, run.chips);
  return p;
}

}  // namespace

std::vector<PreparedRun> prepare_measured_runs(const MeasuredRunSet& set,
                                               const HardwareProfile& hardware) {
  std::vector<PreparedRun> out;
  for (const MeasuredRun& run : set.runs) {
    in_row(set, run, [&] { out.push_back(prepare_one(run, hardware)); });
  }
  return out;
}

RunComparison predict_prepared_run(const PreparedRun& row, const HardwareProfile& hardware) {
  const auto result = execution::simulate_step(row.model, hardware, row.plan);
  RunComparison c;
  c.id = row.run->id;
  c.hardware = hardware.name;
  c.measured_images_per_s = row.run->measured_images_per_s;
  c.predicted_images_per_s = result.images_per_s;
  c.step_time_s = result.step_time_s;
  c.rel_error = (c.predicted_images_per_s - c.measured_images_per_s) / c.measured_images_per_s;
  return c;
}

std::vector<RunComparison> predict_measured_runs(const MeasuredRunSet& set,
                                                 const std::string& hardware_override) {
  std::vector<RunComparison> out;
  for (const MeasuredRun& run : set.runs) {
    in_row(set, run, [&] {
      const HardwareProfile hardware =
          load_hardware(hardware_override.empty() ? run.hardware : hardware_override);
      out.push_back(predict_prepared_run(prepare_one(run, hardware), hardware));
    });
  }
  return out;
}

}  // namespace meshsim
