#pragma once
// Replica symmetry (docs/execution.md "Replica symmetry"): when every data replica (the k chips of
// one data index) runs on links of its own, laid out like replica 0's, and every data-axis group's
// collectives run on links of their own, all replicas follow the same timeline and the step can be
// simulated on replica 0 alone, with the data-axis collectives run in full on their own links.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/execution/placement.hpp"
#include "sim/network/topology.hpp"

namespace meshsim::execution {

// Returns "" when the step is replica-symmetric, else why not (one line, for reports).
// `model_pairs`: the (source, destination) model indices of every point-to-point exchange inside a
// replica (ring sends and the transfers of model-axis collectives, which the caller has checked
// are the same in every replica). `data_links[m]`: every link the data-axis collectives of data
// group m use.
std::string replica_symmetry_violation(
    const network::Topology& topology, const Placement& placement,
    const std::vector<std::pair<std::int32_t, std::int32_t>>& model_pairs,
    const std::vector<std::vector<std::int32_t>>& data_links);

}  // namespace meshsim::execution
