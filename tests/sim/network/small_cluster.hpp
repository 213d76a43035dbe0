#pragma once
// H100-like GPU-cluster figures for tests (docs/HARDWARE.md: NVLink 450 GB/s and one 400 Gb/s NIC
// per GPU; round latencies), on leaf switches of `leaf_ports` node ports so that a few nodes make
// several leaves (and, with `pod_nodes`, several pods).
#include "hardware_profiles/hardware.hpp"

namespace meshsim::testing {

inline GpuClusterInterconnect small_cluster(int leaf_ports, int pod_nodes = 0,
                                            double oversubscription = 1) {
  GpuClusterInterconnect gpu;
  gpu.gpus_per_node = 8;
  gpu.nvlink_bandwidth_bytes_per_s = 450e9;
  gpu.nvlink_latency_s = 1e-6;
  gpu.nic_bandwidth_bytes_per_s = 50e9;
  gpu.network_latency_s = 10e-6;
  gpu.leaf_switch_ports = leaf_ports;
  gpu.oversubscription = oversubscription;
  gpu.pod_nodes = pod_nodes;
  return gpu;
}

}  // namespace meshsim::testing
