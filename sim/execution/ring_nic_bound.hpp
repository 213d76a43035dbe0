#pragma once
// A lower bound on a step's time from its collective-matmul ring steps that leave an NVLink node
// (docs/sweep.md "Pruning"). With async on, every linear whose model-axis move the step runs as a
// collective matmul (detail::collective_matmul_pays, the step's own choice) passes k - 1 blocks
// to its ring neighbours; a member whose neighbour lies in another node sends them through its own
// NIC link, a FIFO serial resource, so the step lasts at least the bytes of all such sends over
// the link's bandwidth. Counted for the first model group of stage 0 (its chips really send them).
#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/network/topology.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim::execution {

// 0 where nothing applies: a torus, async off, two model axes, k = 1, or no ring neighbour in
// another node. `topology` is build_topology(hardware, plan).
double model_ring_nic_bound_s(const ModelConfig& model, const HardwareProfile& hardware,
                              const Plan& plan, const network::Topology& topology);

}  // namespace meshsim::execution
