#pragma once
// Model-axis rotation (issue 15, docs/execution.md "Model-axis rotation"): on a GPU cluster whose
// nodes and rails are alike, turning every model group one position along its ring (model index m
// to the next one in ring order, in every group at once) maps the machine, its routes and the
// step's programs onto themselves. Every chip then runs the timeline of its group's chip at model
// position 0, and the step can be simulated on those chips alone: a transfer stands for its k
// rotations, each link for its orbit under the rotation, and a chip receives from its ring
// predecessor what it sends to its successor, at the same time.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/network/topology.hpp"

namespace meshsim::execution {

// `image[chip]`: the chip the rotation carries `chip` to (-1: a chip outside the mesh), of order
// `order` (image applied `order` times gives every chip back). `pairs`: the (source, destination)
// chips of every transfer the reduced simulation makes (repeats allowed). Checks that the rotation
// carries each pair's route onto its image's route link for link, consistently (one image per link,
// one preimage per image, alike in bandwidth, latency and class), and that every link of those
// routes has exactly `order` distinct images (no link is shared by two positions of the orbit). On
// success returns "" and `rep`: per link, the least link of its orbit (links off the routes stand
// for themselves), composed after `pre` (per link, the link it stands for under another symmetry
// applied first; empty: none), so a route's links become rep[route link]. Else why not (one line).
std::string rotation_link_rep(const network::Topology& topology,
                              std::vector<std::pair<std::int32_t, std::int32_t>> pairs,
                              const std::vector<std::int32_t>& image, int order,
                              const std::vector<std::int32_t>& pre, std::vector<std::int32_t>& rep);

}  // namespace meshsim::execution
