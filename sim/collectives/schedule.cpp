#include "sim/collectives/schedule.hpp"

#include <stdexcept>

#include "common/error.hpp"

namespace meshsim::collectives {

const char* to_string(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::AllGather:
      return "all-gather";
    case CollectiveOp::ReduceScatter:
      return "reduce-scatter";
    case CollectiveOp::AllReduce:
      return "all-reduce";
    case CollectiveOp::AllToAll:
      return "all-to-all";
  }
  return "?";
}

CollectiveOp parse_collective_op(const std::string& text) {
  for (auto op : {CollectiveOp::AllGather, CollectiveOp::ReduceScatter, CollectiveOp::AllReduce,
                  CollectiveOp::AllToAll}) {
    if (text == to_string(op)) {
      return op;
    }
  }
  throw InputError({"--op", "", "op"}, "unknown collective", text,
                   "all-gather, reduce-scatter, all-reduce, all-to-all");
}

Group make_group(std::vector<std::int32_t> chips) {
  Group group;
  group.shape = {static_cast<int>(chips.size())};
  group.chips = std::move(chips);
  return group;
}

std::uint32_t Schedule::add(std::int32_t src_chip, std::int32_t dst_chip, std::int64_t bytes,
                            const std::uint32_t* first_dep, std::size_t dep_count) {
  const auto index = static_cast<std::uint32_t>(transfers.size());
  for (std::size_t i = 0; i < dep_count; ++i) {
    if (first_dep[i] >= index) {
      dependency_error();
    }
  }
  transfers.push_back({src_chip, dst_chip, bytes});
  deps.insert(deps.end(), first_dep, first_dep + dep_count);
  dep_offsets.push_back(static_cast<std::uint32_t>(deps.size()));
  return index;
}

void Schedule::dependency_error() {
  throw std::logic_error("Schedule: a dependency must be an earlier transfer");
}

std::int64_t Schedule::total_bytes() const {
  std::int64_t total = 0;
  for (const auto& t : transfers) {
    total += t.bytes;
  }
  return total;
}

}  // namespace meshsim::collectives
