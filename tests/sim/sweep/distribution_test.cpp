// Where a sweep's simulations run (sim/sweep/distribution.hpp): the hand-out skips only what the
// final pruning rule prunes, for any thread count; the sweep's and the report's answers do not
// depend on what a distribution simulated (everything, or nothing); failures and the time limit.
#include "sim/sweep/distribution.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <random>
#include <thread>

#include "common/error.hpp"
#include "sim/report/sweep_report.hpp"
#include "sim/sweep/capacity.hpp"

using namespace meshsim;

namespace {

// A distribution that simulates every item, last position first (no pruning at all), or none.
class Unusual final : public sweep::Distribution {
 public:
  explicit Unusual(bool all) : all_(all) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  sweep::Evaluation evaluate(const sweep::WorkItems& items) override {
    ++calls;
    sweep::Evaluation e;
    e.items.resize(items.count);
    for (std::size_t i = items.count; all_ && i-- > 0;) {
      e.items[i].result = items.simulate(i);
      e.items[i].state = sweep::ItemOutcome::State::Done;
    }
    return e;
  }
  int conclude(int code, const std::string&) override { return code; }
  int calls = 0;

 private:
  bool all_;
};

// The final rule of docs/sweep.md "Pruning", in order: the positions it keeps.
std::vector<std::size_t> kept_by_rule(const std::vector<double>& bound,
                                      const std::vector<double>& score, std::int64_t top) {
  std::vector<double> accepted;
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < bound.size(); ++i) {
    std::vector<double> sorted = accepted;
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    const bool prune =
        static_cast<std::int64_t>(sorted.size()) >= top && bound[i] < sorted[top - 1];
    if (!prune) {
      kept.push_back(i);
      accepted.push_back(score[i]);
    }
  }
  return kept;
}

}  // namespace

TEST_CASE("distribution: the hand-out skips only what the final rule prunes", "[sweep][mpi]") {
  std::mt19937_64 rng(15);
  std::uniform_real_distribution<double> u(0.2, 1.0);
  for (int trial = 0; trial < 20; ++trial) {
    const std::size_t n = 120;
    std::vector<double> bound(n), score(n);
    for (auto& b : bound)
      b = u(rng);
    std::sort(bound.begin(), bound.end(), std::greater<>());  // best bound first, as the sweep
    for (std::size_t i = 0; i < n; ++i)
      score[i] = bound[i] * u(rng);  // never above its bound
    sweep::WorkItems items;
    items.count = n;
    items.bound = bound;
    items.top = 1 + trial % 5;
    items.simulate = [&](std::size_t i) {
      if (i % 7 == 0)
        std::this_thread::yield();  // vary the completion order between threads
      execution::StepResult r;
      r.tokens_per_s = score[i];
      return r;
    };
    const auto kept = kept_by_rule(bound, score, items.top);
    for (const int threads : {1, 2, 4}) {
      INFO("trial " << trial << ", " << threads << " threads, top " << items.top);
      items.threads = threads;
      const auto e = sweep::evaluate_locally(items);
      REQUIRE(e.items.size() == n);
      CHECK(!e.out_of_time);
      std::vector<std::size_t> done;
      for (std::size_t i = 0; i < n; ++i) {
        if (e.items[i].state == sweep::ItemOutcome::State::Done) {
          done.push_back(i);
          CHECK(e.items[i].result.tokens_per_s == score[i]);
        }
      }
      // Every kept position was simulated; one thread simulates exactly those.
      CHECK(std::includes(done.begin(), done.end(), kept.begin(), kept.end()));
      if (threads == 1)
        CHECK(done == kept);
      CHECK(done.size() < n);  // the bound pruned something
    }
  }
}

TEST_CASE("distribution: the sweep's answer does not depend on what was simulated",
          "[sweep][mpi]") {
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  sweep::SweepOptions o;
  o.chips = 64;
  o.top = 3;
  o.space.global_batches = {4096};
  const auto local = sweep::run_sweep(m, hw, o);
  const std::string expected = report::sweep_json(m, hw, o, local);
  REQUIRE(local.simulated > 0);
  REQUIRE(local.pruned > 0);
  for (const bool all : {true, false}) {
    INFO((all ? "every candidate simulated, last first" : "nothing simulated by the distribution"));
    Unusual d(all);
    o.distribution = &d;
    const auto r = sweep::run_sweep(m, hw, o);
    CHECK(d.calls == 1);
    CHECK(report::sweep_json(m, hw, o, r) == expected);
    CHECK(report::sweep_text(m, hw, o, r) == report::sweep_text(m, hw, o, local));
    CHECK(r.speculative == (all ? r.pruned : 0));
  }
}

TEST_CASE("distribution: the capacity report's answer does not depend on it", "[report][mpi]") {
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  sweep::CapacityOptions o;
  o.chips = 64;
  o.global_batch = 4096;
  o.target_value = 1000;
  o.max_scaling_chips = 256;
  const std::string expected = report::capacity_json(sweep::build_capacity_report(m, hw, o));
  Unusual d(true);
  o.distribution = &d;
  CHECK(report::capacity_json(sweep::build_capacity_report(m, hw, o)) == expected);
  CHECK(d.calls == 2);  // the sweep, then the scaling points
}

TEST_CASE("distribution: a plan the simulator refuses is refused, and the others go on",
          "[sweep][mpi]") {
  sweep::WorkItems items;
  items.count = 40;
  items.simulate = [](std::size_t i) {
    if (i == 5)
      throw InputError({"--chips", "", "chips"}, "beyond the event limit");
    execution::StepResult r;
    r.tokens_per_s = 1;
    return r;
  };
  items.stop_on_failure = true;
  const auto e = sweep::evaluate_locally(items);
  for (std::size_t i = 0; i < items.count; ++i) {
    CHECK(e.items[i].state ==
          (i == 5 ? sweep::ItemOutcome::State::Refused : sweep::ItemOutcome::State::Done));
  }
  CHECK_THROWS_AS(std::rethrow_exception(e.items[5].error), InputError);
}

TEST_CASE("distribution: a failure stops the hand-out, or not, and travels as the error",
          "[sweep][mpi]") {
  sweep::WorkItems items;
  items.count = 40;
  items.simulate = [](std::size_t i) {
    if (i == 5)
      throw std::runtime_error("broken");
    execution::StepResult r;
    r.tokens_per_s = 1;
    return r;
  };
  items.stop_on_failure = true;
  auto e = sweep::evaluate_locally(items);
  REQUIRE(e.items[5].state == sweep::ItemOutcome::State::Failed);
  CHECK_THROWS_AS(std::rethrow_exception(e.items[5].error), std::runtime_error);
  CHECK(e.items.back().state == sweep::ItemOutcome::State::NotRun);  // one thread: stopped at 5
  items.stop_on_failure = false;
  items.threads = 3;
  e = sweep::evaluate_locally(items);
  for (std::size_t i = 0; i < items.count; ++i) {
    CHECK(e.items[i].state ==
          (i == 5 ? sweep::ItemOutcome::State::Failed : sweep::ItemOutcome::State::Done));
  }
}

TEST_CASE("distribution: past max_seconds nothing new starts", "[sweep][mpi]") {
  sweep::WorkItems items;
  items.count = 10;
  items.threads = 2;
  items.max_seconds = 1e-9;
  items.start = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  int called = 0;
  items.simulate = [&](std::size_t) {
    ++called;
    return execution::StepResult{};
  };
  const auto e = sweep::evaluate_locally(items);
  CHECK(e.out_of_time);
  CHECK(called == 0);
  for (const auto& item : e.items)
    CHECK(item.state == sweep::ItemOutcome::State::NotRun);
}
