#pragma once
// Sweep results (schema meshsim.sweep/v1, docs/sweep.md) and capacity reports (schema
// meshsim.report/v1, docs/report.md) as JSON and as human text. Text in, text out: writing files is
// the CLI's job (atomically).
#include <string>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/sweep/capacity.hpp"
#include "sim/sweep/sweep.hpp"

namespace meshsim::report {

std::string sweep_json(const ModelConfig& model, const HardwareProfile& hardware,
                       const sweep::SweepOptions& options, const sweep::SweepResult& result);
std::string sweep_text(const ModelConfig& model, const HardwareProfile& hardware,
                       const sweep::SweepOptions& options, const sweep::SweepResult& result);

std::string capacity_json(const sweep::CapacityReport& report);
std::string capacity_text(const sweep::CapacityReport& report);

}  // namespace meshsim::report
