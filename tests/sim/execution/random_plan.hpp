#pragma once
// Random valid plans for the step's property tests: ViT-B/16 or ViT-L/16 (model axes of 1, 2 and
// 4 chips divide their 12 or 16 heads and every feature count) on 16 << [0, max_chip_shift] chips
// of one of `hardware`, with random microbatches, async, bidirectional rings, FSDP, remat,
// attention kernel, activation layout and gradient sync.
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "sim/plan/plan.hpp"

namespace meshsim::testing {

struct RandomPlan {
  std::string model, hardware;
  std::int64_t chips = 0, k = 1;  // the mesh is (chips / k) x k
  PlanFlags flags;
};

class PlanDraws {
 public:
  PlanDraws(std::uint64_t seed, std::vector<std::string> hardware, int max_chip_shift,
            std::int64_t max_batch_multiple)
      : rng_(seed),
        hardware_(std::move(hardware)),
        max_chip_shift_(max_chip_shift),
        max_batch_multiple_(max_batch_multiple) {}

  std::string pick(const std::vector<std::string>& values) {
    return values[std::uniform_int_distribution<std::size_t>(0, values.size() - 1)(rng_)];
  }

  RandomPlan next() {
    RandomPlan p;
    p.model = pick({"vit-b16", "vit-l16"});
    p.hardware = pick(hardware_);
    const std::int64_t chips = std::int64_t{16}
                               << std::uniform_int_distribution<int>(0, max_chip_shift_)(rng_);
    const std::int64_t k = std::int64_t{1} << std::uniform_int_distribution<int>(0, 2)(rng_);
    const std::int64_t mb = std::int64_t{1} << std::uniform_int_distribution<int>(0, 2)(rng_);
    const std::int64_t batch =
        chips / k * mb * std::uniform_int_distribution<std::int64_t>(1, max_batch_multiple_)(rng_);
    p.chips = chips;
    p.k = k;
    auto& f = p.flags;
    f.mesh = std::to_string(chips / k) + "x" + std::to_string(k);
    f.batch = std::to_string(batch);
    f.microbatches = std::to_string(mb);
    f.async = pick({"on", "off"});
    f.bidirectional = pick({"on", "off"});
    f.fsdp = pick({"on", "off"});
    f.remat = pick({"none", "selective", "full"});
    f.attention = pick({"unfused", "flash"});
    f.activation_layout = pick({"sharded", "replicated"});
    f.grad_sync = pick({"per-microbatch", "last"});
    return p;
  }

  static std::string describe(const RandomPlan& p) {
    const auto& f = p.flags;
    return p.model + " on " + p.hardware + ": mesh " + f.mesh + " batch " + f.batch + " mb " +
           f.microbatches + " async " + f.async + " bidi " + f.bidirectional + " fsdp " + f.fsdp +
           " remat " + f.remat + " optimizer " + f.optimizer + " grad " + f.gradient_dtype +
           " attention " + f.attention + " activations " + f.activation_layout + " grad sync " +
           f.grad_sync;
  }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> hardware_;
  int max_chip_shift_;
  std::int64_t max_batch_multiple_;
};

}  // namespace meshsim::testing
