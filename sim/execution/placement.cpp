#include "sim/execution/placement.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "sim/collectives/ring_phases.hpp"

namespace meshsim::execution {
namespace {

std::vector<int> factor_shape(const std::vector<TorusFactor>& factors) {
  std::vector<int> shape;
  for (const auto& f : factors) {
    if (f.size > 1)
      shape.push_back(static_cast<int>(f.size));
  }
  if (shape.empty())
    shape.push_back(1);
  return shape;
}

}  // namespace

network::Topology build_topology(const HardwareProfile& hardware, const Plan& plan) {
  if (hardware.kind == InterconnectKind::GpuCluster) {
    auto topology = network::make_gpu_cluster(hardware.gpu, plan.mesh.chips());
    // Achievable link rates, protocols, NVLS and the per-call overhead (issue 12,
    // docs/fidelity.md).
    topology.apply_collective_costs(hardware.collectives);
    return topology;
  }
  std::vector<int> shape;
  std::vector<bool> wrap;
  const int multiple = std::max(1, hardware.torus.wraparound_multiple);
  for (std::int64_t n : plan.mapping.torus_shape) {
    shape.push_back(static_cast<int>(n));
    wrap.push_back(n % multiple == 0);
  }
  auto topology = network::make_torus(shape, wrap, hardware.torus.link_bandwidth_bytes_per_s,
                                      hardware.torus.link_latency_s);
  topology.apply_collective_costs(hardware.collectives);
  return topology;
}

Placement place(const Plan& plan, const network::Topology& topology) {
  Placement p;
  p.data = plan.mesh.data;
  p.model = plan.mesh.model();
  p.model1 = std::max<std::int64_t>(1, plan.mesh.model1);
  p.model2 = std::max<std::int64_t>(1, plan.mesh.model2);
  p.pipeline = plan.mesh.pipeline;
  const std::int64_t stages = p.pipeline;
  if (stages > 1 && p.model2 > 1)
    throw std::logic_error("place: a pipeline with two model axes is not simulated");
  p.chip.assign(static_cast<std::size_t>(p.data * stages * p.model), 0);
  if (topology.kind() == network::TopologyKind::GpuCluster) {
    // Model-major ranks (docs/plans.md "Mapping"): rank = (s t + d) k + m, GPU id = rank: the
    // pipeline axis outermost (stages across nodes), the model axis innermost.
    for (std::int64_t d = 0; d < p.data; ++d) {
      for (std::int64_t s = 0; s < stages; ++s) {
        for (std::int64_t m = 0; m < p.model; ++m) {
          p.chip[static_cast<std::size_t>((d * stages + s) * p.model + m)] =
              static_cast<std::int32_t>((s * p.data + d) * p.model + m);
        }
      }
    }
    p.model_shape = {static_cast<int>(p.model)};
    // model1 x model2 inside a node when k fits (model-major ranks). model1's members are
    // consecutive ranks; model2's are k1 apart, so a node holds per_node / k1 of them.
    p.model1_shape = {static_cast<int>(p.model1)};
    {
      const std::int64_t per_node = topology.shape().empty() ? 1 : topology.shape()[0];
      const std::int64_t m2_per_node = std::max<std::int64_t>(1, per_node / p.model1);
      if (m2_per_node > 1 && p.model2 > m2_per_node && p.model2 % m2_per_node == 0) {
        p.model2_shape = {static_cast<int>(m2_per_node), static_cast<int>(p.model2 / m2_per_node)};
      } else {
        p.model2_shape = {static_cast<int>(p.model2)};
      }
    }
    // Data-axis members that share a node come first in the group's shape, so the hierarchical
    // algorithm's inner (NVLink) dimension is right.
    const std::int64_t per_node = topology.shape().empty() ? 1 : topology.shape()[0];
    const std::int64_t data_per_node = std::max<std::int64_t>(1, per_node / p.model);
    if (data_per_node > 1 && p.data > data_per_node && p.data % data_per_node == 0) {
      p.data_shape = {static_cast<int>(data_per_node), static_cast<int>(p.data / data_per_node)};
    } else {
      p.data_shape = {static_cast<int>(p.data)};
    }
  } else {
    // Each axis fills its torus factors (innermost first) with its index in mixed radix; axes
    // listed first (model, then data) take the inner positions of a shared dimension.
    const auto& shape = plan.mapping.torus_shape;
    std::vector<std::int64_t> stride(shape.size(), 1);
    for (std::size_t dim = 1; dim < shape.size(); ++dim)
      stride[dim] = stride[dim - 1] * shape[dim - 1];
    // The data factors hold data x pipeline, stages innermost (neighbouring stages adjacent).
    for (std::int64_t d = 0; d < p.data * stages; ++d) {
      for (std::int64_t m = 0; m < p.model; ++m) {
        std::vector<std::int64_t> coord(shape.size(), 0), filled(shape.size(), 1);
        auto fill = [&](const std::vector<TorusFactor>& factors, std::int64_t index) {
          for (const auto& f : factors) {
            auto dim = static_cast<std::size_t>(f.dim);
            coord[dim] += (index % f.size) * filled[dim];
            filled[dim] *= f.size;
            index /= f.size;
          }
        };
        fill(plan.mapping.model1, m % p.model1);
        fill(plan.mapping.model2, m / p.model1);
        fill(plan.mapping.data, d);
        std::int64_t id = 0;
        for (std::size_t dim = 0; dim < shape.size(); ++dim)
          id += coord[dim] * stride[dim];
        p.chip[static_cast<std::size_t>(d * p.model + m)] = static_cast<std::int32_t>(id);
      }
    }
    p.model1_shape = factor_shape(plan.mapping.model1);
    p.model2_shape = factor_shape(plan.mapping.model2);
    // The whole model group: model1's factors inner, then model2's (mixed radix as above).
    std::vector<TorusFactor> both = plan.mapping.model1;
    both.insert(both.end(), plan.mapping.model2.begin(), plan.mapping.model2.end());
    p.model_shape = factor_shape(both);
    p.data_shape = factor_shape(plan.mapping.data);
    if (stages > 1) {
      // The t members of a stage's data group: the data factors with the stages divided out of
      // the innermost ones; a 1-D ring in member order when they do not divide evenly.
      std::int64_t rest = stages;
      std::vector<int> member_shape;
      for (int n : p.data_shape) {
        const std::int64_t g = std::gcd(rest, static_cast<std::int64_t>(n));
        if (rest > 1 && g != n && rest / g > 1) {
          rest = -1;
          break;
        }
        rest /= g;
        if (n / g > 1)
          member_shape.push_back(static_cast<int>(n / g));
      }
      if (rest != 1 || member_shape.empty())
        member_shape = {static_cast<int>(p.data)};
      p.data_shape = member_shape;
    }
  }
  p.model_ring = collectives::snake_order(p.model_shape);
  return p;
}

namespace {

// The `count` chips at mesh positions first, first + stride, ..., as a group of `shape`.
collectives::Group strided_group(const std::vector<std::int32_t>& chip, std::int64_t first,
                                 std::int64_t stride, std::int64_t count,
                                 const std::vector<int>& shape) {
  collectives::Group g;
  g.chips.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i)
    g.chips.push_back(chip[static_cast<std::size_t>(first + i * stride)]);
  g.shape = shape;
  return g;
}

}  // namespace

collectives::Group Placement::model_group(std::int64_t d) const {
  return strided_group(chip, d * model, 1, model, model_shape);
}

collectives::Group Placement::model1_group(std::int64_t d, std::int64_t m2) const {
  return strided_group(chip, d * model + m2 * model1, 1, model1, model1_shape);
}

collectives::Group Placement::model2_group(std::int64_t d, std::int64_t m1) const {
  return strided_group(chip, d * model + m1, model1, model2, model2_shape);
}

collectives::Group Placement::data_group(std::int64_t m) const {
  return strided_group(chip, m, pipeline * model, data, data_shape);
}

}  // namespace meshsim::execution
