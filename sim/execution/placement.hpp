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
  std::int64_t model = 1;          // k = k1 x k2
  std::int64_t model1 = 1;         // k1
  std::int64_t model2 = 1;         // k2 (1 on a data x model mesh)
  std::int64_t pipeline = 1;       // p (1 with two model axes: plan_validate refuses both)
  std::vector<std::int32_t> chip;  // [(d p + s) k + m]: chip id of mesh position (d, s, m)
  // The k chips of model group g = d p + s as a group, ordered as a ring of neighbours (snake
  // order over the axis's torus factors), and the t chips of replica position j = s k + m likewise.
  collectives::Group model_group(std::int64_t g) const;
  collectives::Group data_group(std::int64_t j) const;
  // Two model axes (p = 1): model index m = m1 + k1 x m2. The k1 chips of replica d with model2
  // index m2, and the k2 chips of replica d with model index m1.
  collectives::Group model1_group(std::int64_t d, std::int64_t m2) const;
  collectives::Group model2_group(std::int64_t d, std::int64_t m1) const;
  std::vector<int> model1_shape, model2_shape;
  // Ring order of model-axis members (model_ring[i] = the model index at ring position i).
  std::vector<int> model_ring;
  std::vector<int> model_shape, data_shape;  // the axes' mesh shapes (dimension 0 fastest)
};

// Places a finalized plan on `topology` (which build_topology made for it).
Placement place(const Plan& plan, const network::Topology& topology);

}  // namespace meshsim::execution
