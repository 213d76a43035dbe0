#pragma once
// Where the logical mesh lies on the physical machine: the topology a plan runs on and the chip of
// every (data, model) mesh position, built from the plan's axis mapping (sim/plan/plan.hpp).
#include <cstdint>
#include <vector>

#include "hardware_profiles/hardware.hpp"
#include "sim/collectives/schedule.hpp"
#include "sim/network/topology.hpp"
#include "sim/plan/plan.hpp"

namespace meshsim::execution {

// The machine of a finalized plan: on a torus the plan's slice shape (mapping.torus_shape) with
// wrap-around on dimensions that are multiples of the profile's wraparound_multiple; on a GPU
// cluster the nodes that hold the mesh.
network::Topology build_topology(const HardwareProfile& hardware, const Plan& plan);

struct Placement {
  std::int64_t data = 1;           // t
  std::int64_t model = 1;          // k
  std::int64_t pipeline = 1;       // p
  std::vector<std::int32_t> chip;  // [(d p + s) k + m]: chip id of mesh position (d, s, m)
  // The k chips of model group g = d p + s as a group, ordered as a ring of neighbours (snake
  // order over the axis's torus factors), and the t chips of replica position j = s k + m likewise.
  collectives::Group model_group(std::int64_t g) const;
  collectives::Group data_group(std::int64_t j) const;
  // Ring order of model-axis members (model_ring[i] = the model index at ring position i).
  std::vector<int> model_ring;
  std::vector<int> model_shape, data_shape;  // the axes' mesh shapes (dimension 0 fastest)
};

// Places a finalized one-model-axis plan on `topology` (which build_topology made for it).
Placement place(const Plan& plan, const network::Topology& topology);

}  // namespace meshsim::execution
