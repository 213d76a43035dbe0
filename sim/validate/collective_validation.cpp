#include "sim/validate/collective_validation.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include "common/error.hpp"
#include "sim/collectives/executor.hpp"
#include "sim/collectives/nvls.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/engine/simulator.hpp"
#include "sim/limits.hpp"
#include "sim/network/network.hpp"
#include "sim/network/topology.hpp"

namespace meshsim::validate {

bool within_size_target(std::int64_t bytes, double predicted, double measured) {
  const double ratio = predicted / measured;
  constexpr double kRounding = 1e-12;  // a ratio printed as exactly 1.1 is within 10%
  if (bytes >= std::int64_t{64} << 20) {
    return std::abs(ratio - 1) <= 0.10 + kRounding;
  }
  if (bytes >= std::int64_t{1} << 20) {
    return std::abs(ratio - 1) <= 0.25 + kRounding;
  }
  return ratio >= 0.5 - kRounding && ratio <= 2.0 + kRounding;
}

namespace {

collectives::Group consecutive_group(std::int32_t first, int size,
                                     const network::Topology& topology) {
  collectives::Group g;
  g.chips.resize(static_cast<std::size_t>(size));
  std::iota(g.chips.begin(), g.chips.end(), first);
  // Inside one node: a plain list; spanning whole nodes: the machine's {gpus per node, nodes}.
  g.shape = size > topology.gpus_per_node() ? topology.shape() : std::vector<int>{size};
  return g;
}

}  // namespace

void require_gpu_cluster(const HardwareProfile& profile) {
  if (profile.kind != InterconnectKind::GpuCluster) {
    throw InputError({"--hardware", "", "hardware"},
                     "these measurements are of NVIDIA GPUs; the profile is a TPU torus",
                     profile.name, "a GPU cluster profile (h100-sxm, h200-sxm, a100-sxm-80gb)");
  }
}

std::vector<CollectiveRowResult> predict_collectives(const std::vector<CollectiveMeasurement>& rows,
                                                     const HardwareProfile& profile) {
  require_gpu_cluster(profile);
  const network::Topology topology = network::make_topology(profile, profile.gpu.gpus_per_node);
  std::vector<CollectiveRowResult> out;
  for (const auto& m : rows) {
    if (m.group_count * m.group_size > profile.gpu.gpus_per_node) {
      throw InputError({"--hardware", "", "hardware"}, "a measured group does not fit one node",
                       m.groups, "G x S <= " + std::to_string(profile.gpu.gpus_per_node));
    }
    engine::Simulator sim;
    network::Network network(sim, topology);
    std::vector<collectives::Schedule> schedules;
    std::vector<std::unique_ptr<collectives::CollectiveRun>> runs;
    CollectiveRowResult r;
    r.input = m;
    for (int g = 0; g < m.group_count; ++g) {
      const auto group = consecutive_group(g * m.group_size, m.group_size, topology);
      const auto name = collectives::default_collective_algorithm(m.op, topology, group, m.bytes);
      if (g == 0) {
        r.algorithm = std::string(name);
      }
      schedules.push_back(
          collectives::find_collective_algorithm(name, m.op).build(m.op, group, m.bytes, 1));
    }
    for (const auto& schedule : schedules) {
      runs.push_back(std::make_unique<collectives::CollectiveRun>(network, schedule));
      runs.back()->charge_call_overhead(true);
    }
    for (auto& run : runs) {
      run->start();
    }
    sim.run();
    double end_s = 0;
    for (const auto& run : runs) {
      end_s = std::max(end_s, run->end_time().seconds());
    }
    r.protocol = std::string(runs.front()->protocol().name);
    r.predicted_s = end_s;
    r.rel_error = (r.predicted_s - m.time_s) / m.time_s;
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<BusbwRowResult> predict_allreduce_busbw(const std::vector<BusbwMeasurement>& rows,
                                                    const HardwareProfile& profile, int gpus,
                                                    const std::string& algorithm) {
  require_gpu_cluster(profile);
  const auto op = collectives::CollectiveOp::AllReduce;
  std::vector<BusbwRowResult> out;
  for (const auto& m : rows) {
    BusbwRowResult r;
    r.input = m;
    r.gpus = m.gpus.value_or(gpus);
    const network::Topology topology = [&] {
      try {
        limits::check_simulated_chips(r.gpus, {"--gpus", "", "gpus"});
        return network::make_topology(profile, r.gpus);
      } catch (const InputError& e) {
        throw InputError({"--gpus", "", "gpus"}, e.problem(), e.found(), e.allowed());
      }
    }();
    const auto group = consecutive_group(0, r.gpus, topology);
    if (algorithm == "auto") {
      r.algorithm =
          std::string(collectives::default_collective_algorithm(op, topology, group, m.bytes));
    } else {
      if (algorithm == "nvls" && !collectives::nvls_applies(topology, group)) {
        throw InputError(
            {"--algorithm", "", "algorithm"},
            "NVLS does not apply to " + std::to_string(r.gpus) + " GPUs of " + profile.name,
            algorithm,
            "ring or auto (NVLS needs an NVSwitch profile with NVLS figures and "
            "at least its nvls_min_gpus GPUs of one node)");
      }
      r.algorithm = algorithm;
    }
    const auto& chosen = collectives::find_collective_algorithm(r.algorithm, op);
    limits::check_schedule_size(
        chosen.transfer_count(op, group, m.bytes, 1), r.gpus,
        r.algorithm + " all-reduce over " + std::to_string(r.gpus) + " GPUs",
        {"--gpus", "", "gpus"});
    const auto schedule = chosen.build(op, group, m.bytes, 1);
    const auto result = collectives::run_collective(topology, schedule);
    r.protocol = std::string(result.protocol.name);
    r.predicted_s = result.time_s;
    const double n = r.gpus;
    r.predicted_busbw = static_cast<double>(m.bytes) / result.time_s * 2 * (n - 1) / n;
    r.measured_busbw = algorithm == "ring" && m.ring_busbw_bytes_per_s ? *m.ring_busbw_bytes_per_s
                                                                       : m.busbw_bytes_per_s;
    r.rel_error = (r.predicted_busbw - r.measured_busbw) / r.measured_busbw;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace meshsim::validate
