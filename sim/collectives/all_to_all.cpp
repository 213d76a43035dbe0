#include "sim/collectives/all_to_all.hpp"

#include <vector>

namespace meshsim::collectives {

Schedule all_to_all_direct(const Group& group, std::int64_t bytes, int chunks) {
  Schedule schedule;
  const int p = group.size();
  const int k = chunks < 1 ? 1 : chunks;
  for (int shift = 1; shift < p; ++shift) {
    for (int i = 0; i < p; ++i) {
      const int j = (i + shift) % p;
      const std::int64_t block = part_bytes(bytes, p, j);
      for (int piece = 0; piece < k; ++piece) {
        schedule.add(group.chips[static_cast<std::size_t>(i)],
                     group.chips[static_cast<std::size_t>(j)], part_bytes(block, k, piece), {});
      }
    }
  }
  // One step; a member sends (p-1)/p of the buffer.
  schedule.hint = {Pricing::PointToPoint, 1, p > 1 ? bytes - part_bytes(bytes, p, 0) : 0};
  return schedule;
}

Schedule all_to_all_pairwise(const Group& group, std::int64_t bytes, int chunks) {
  Schedule schedule;
  const int p = group.size();
  const int k = chunks < 1 ? 1 : chunks;
  // previous[i * k + piece]: member i's message of the previous round.
  std::vector<std::uint32_t> previous(static_cast<std::size_t>(p) * static_cast<std::size_t>(k));
  for (int shift = 1; shift < p; ++shift) {
    for (int i = 0; i < p; ++i) {
      const int j = (i + shift) % p;
      const std::int64_t block = part_bytes(bytes, p, j);
      for (int piece = 0; piece < k; ++piece) {
        auto& prev = previous[static_cast<std::size_t>(i * k + piece)];
        const auto src = group.chips[static_cast<std::size_t>(i)];
        const auto dst = group.chips[static_cast<std::size_t>(j)];
        prev = shift == 1 ? schedule.add(src, dst, part_bytes(block, k, piece), {})
                          : schedule.add(src, dst, part_bytes(block, k, piece), {prev});
      }
    }
  }
  schedule.hint = {Pricing::PointToPoint, p - 1, p > 1 ? bytes - part_bytes(bytes, p, 0) : 0};
  return schedule;
}

std::uint64_t all_to_all_transfer_count(const Group& group, int chunks) {
  const std::uint64_t p = group.chips.size();
  const std::uint64_t k = chunks < 1 ? 1 : static_cast<std::uint64_t>(chunks);
  return p < 2 ? 0 : (p - 1) * p * k;
}

}  // namespace meshsim::collectives
