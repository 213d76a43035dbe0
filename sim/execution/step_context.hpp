#pragma once
// The Context a step's programs are built from (program.hpp): the plan's shapes, its linears'
// sharding, a decoder's LM head, and the machine figures the programs' choices read (one
// model-axis ring step). Internal to sim/execution.
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/placement.hpp"
#include "sim/execution/program.hpp"
#include "sim/network/topology.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim::execution::detail {

// `topology` and `placement` (build_topology and place of `plan`) must outlive the context.
Context make_context(const ModelConfig& model, const HardwareProfile& hardware, const Plan& plan,
                     const network::Topology& topology, const Placement& placement);

}  // namespace meshsim::execution::detail
