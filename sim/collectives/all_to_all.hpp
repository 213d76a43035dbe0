#pragma once
// All-to-all: each member holds `bytes` split into p blocks and sends block j to member j.
#include <cstdint>

#include "sim/collectives/schedule.hpp"

namespace meshsim::collectives {

// Direct: every block is a message issued at once (in shift order: i -> i+1 for all i, then i+2,
// ...), each cut into `chunks` pieces; the network's sharing rule sorts out the contention.
Schedule all_to_all_direct(const Group& group, std::int64_t bytes, int chunks);
// Pairwise exchange: p-1 rounds; in round s member i sends its block to i+s, after its round s-1
// message has arrived (one message in flight per member).
Schedule all_to_all_pairwise(const Group& group, std::int64_t bytes, int chunks);
// Transfers of either schedule: (p - 1) p chunks (chunks < 1 counts as 1).
std::uint64_t all_to_all_transfer_count(const Group& group, int chunks);

}  // namespace meshsim::collectives
