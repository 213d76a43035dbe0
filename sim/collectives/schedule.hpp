#pragma once
// Collectives as pure functions (STYLE.md): a collective on a group of chips becomes a Schedule,
// a list of point-to-point transfers (who sends how many bytes to whom) each with the earlier
// transfers it waits for. The executor (executor.hpp) runs a Schedule on a Network.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace meshsim::collectives {

enum class CollectiveOp { AllGather, ReduceScatter, AllReduce, AllToAll };
const char* to_string(
    CollectiveOp op);  // "all-gather", "reduce-scatter", "all-reduce", "all-to-all"
// Throws InputError (site "--op") naming the four ops.
CollectiveOp parse_collective_op(const std::string& text);

// A group of chips: a logical mesh axis (or several) mapped onto the machine. `chips[i]` is the
// chip id of group member i; `shape` (dimension 0 fastest, product = chips.size()) says how the
// members form a mesh, which the torus and hierarchical algorithms follow. A plain list has shape
// {size}.
struct Group {
  std::vector<std::int32_t> chips;
  std::vector<int> shape;
  int size() const { return static_cast<int>(chips.size()); }
};
Group make_group(std::vector<std::int32_t> chips);

struct Transfer {
  std::int32_t src_chip = 0;
  std::int32_t dst_chip = 0;
  std::int64_t bytes = 0;
};

// What the executor needs to price a schedule's messages (protocol.hpp): NCCL picks a protocol per
// call from the step count and the bytes, and NVLS schedules are priced at the NVLS rate.
enum class Pricing : std::uint8_t { PointToPoint, Nvls };
struct CostHint {
  Pricing pricing = Pricing::PointToPoint;
  int steps = 0;                  // algorithm steps on the critical path (all pipeline slices)
  std::int64_t member_bytes = 0;  // bytes one member puts on its busiest link over the call
};

// Transfers plus dependencies in compressed form: transfer t may start once every transfer in
// deps[dep_offsets[t] .. dep_offsets[t+1]) has arrived. Dependencies always point to earlier
// transfers, so index order is a valid issue order.
struct Schedule {
  std::vector<Transfer> transfers;
  std::vector<std::uint32_t> dep_offsets{0};
  std::vector<std::uint32_t> deps;
  CostHint hint;

  std::uint32_t add(std::int32_t src_chip, std::int32_t dst_chip, std::int64_t bytes,
                    const std::uint32_t* first_dep, std::size_t dep_count);
  std::uint32_t add(std::int32_t src_chip, std::int32_t dst_chip, std::int64_t bytes,
                    std::initializer_list<std::uint32_t> dependencies) {
    return add(src_chip, dst_chip, bytes, dependencies.begin(), dependencies.size());
  }
  // The common case, inline: one dependency (an earlier transfer).
  std::uint32_t add_after(std::int32_t src_chip, std::int32_t dst_chip, std::int64_t bytes,
                          std::uint32_t dependency) {
    const auto index = static_cast<std::uint32_t>(transfers.size());
    if (dependency >= index) {
      dependency_error();
    }
    transfers.push_back({src_chip, dst_chip, bytes});
    deps.push_back(dependency);
    dep_offsets.push_back(static_cast<std::uint32_t>(deps.size()));
    return index;
  }
  std::size_t size() const { return transfers.size(); }
  std::int64_t total_bytes() const;

 private:
  [[noreturn]] static void dependency_error();
};

// Bytes of part `index` when `total` bytes are cut into `parts` near-equal parts (the first
// total % parts parts carry one byte more).
inline std::int64_t part_bytes(std::int64_t total, std::int64_t parts, std::int64_t index) {
  return total / parts + (index < total % parts ? 1 : 0);
}

}  // namespace meshsim::collectives
