#pragma once
// Internal (include from .cpp only): reads and writes a profile's "cost_model" object.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/json_fields.hpp"
#include "hardware_profiles/cost_model.hpp"

namespace meshsim {

// Fields: "matmul" (the shape model) or matmul_efficiency (0, 1], memory_efficiency (0, 1],
// kernel_overhead ("5 us", a time), and optionally "calibrated" (written by `meshsim calibrate`;
// docs/validation.md gives its fields).
CostModel parse_cost_model(JsonObject& object);

// The "matmul" object (docs/hardware.md) as parse_cost_model reads it back.
nlohmann::json matmul_model_to_json(const MatmulModel& model);
// The figure fields of a "matmul" object of this kind (each needs a source entry).
std::vector<std::string> matmul_model_fields(const MatmulModel& model);

// The "calibrated" object as parse_cost_model reads it back.
nlohmann::json calibrated_cost_to_json(const CalibratedCost& calibrated);

}  // namespace meshsim
