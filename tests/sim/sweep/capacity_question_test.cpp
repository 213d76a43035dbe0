// Capacity questions (`report --days N`, `--budget USD`, docs/report.md "Capacity questions"): the
// answer is the smallest candidate chip count that meets the limit, checked against independent
// sweeps of its neighbours; cost is chips x hours x the profile's price.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.hpp"
#include "sim/sweep/capacity.hpp"
#include "sim/sweep/sweep.hpp"
#include "tests/cli_runner.hpp"

using namespace meshsim;

namespace {

sweep::CapacityOptions small_options() {
  sweep::CapacityOptions o;
  o.threads = 2;
  o.global_batch = 4096;
  o.target_kind = sweep::TargetKind::Steps;
  o.target_value = 10000;
  o.max_scaling_chips = 256;
  o.max_search_chips = 512;
  return o;
}

// Days to train on `chips` chips by an independent sweep (0 when nothing fits).
double days_on(const ModelConfig& m, const HardwareProfile& hw, std::int64_t chips,
               const sweep::CapacityOptions& o) {
  sweep::SweepOptions so;
  so.chips = chips;
  so.top = std::max<std::int64_t>(2, o.top);
  so.threads = o.threads;
  so.space.global_batches = {o.global_batch};
  const auto r = sweep::run_sweep(m, hw, so);
  if (r.top.empty())
    return 0;
  return o.target_value * r.top.front().result.step_time_s / 86400.0;
}

}  // namespace

TEST_CASE("capacity candidates: powers of two and whole-cube torus slices", "[report][capacity]") {
  const auto v4 = sweep::capacity_candidates(load_hardware("tpu-v4"));
  const std::set<std::int64_t> set(v4.begin(), v4.end());
  CHECK(set.size() == v4.size());  // no duplicates
  CHECK(std::is_sorted(v4.begin(), v4.end()));
  for (std::int64_t c = 1; c <= 4096; c *= 2)
    CHECK(set.count(c) == 1);
  CHECK(set.count(192) == 1);   // 4x4x12: whole 4x4x4 cubes, wrap-around on every side
  CHECK(set.count(1728) == 1);  // 12x12x12
  CHECK(set.count(96) == 0);    // 4x4x6 is not whole cubes
  CHECK(v4.back() == 4096);
  const auto h100 = sweep::capacity_candidates(load_hardware("h100-sxm"));
  CHECK(h100.front() == 1);
  CHECK(h100.back() == 65536);  // the largest power of two within max_gpus (114,688)
  CHECK(h100.size() == 17);     // 2^0 .. 2^16
}

TEST_CASE("report --days: the smallest count within the days, its smaller neighbour is not",
          "[report][capacity]") {
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  auto o = small_options();
  // The limit: exactly the days on 64 chips, so 64 chips meets it and the answer is at most 64.
  const double limit = days_on(m, hw, 64, o);
  REQUIRE(limit > 0);
  sweep::CapacityGoal goal;
  goal.max_days = limit;
  const auto rep = sweep::answer_capacity_question(m, hw, o, goal);
  REQUIRE(rep.search);
  const auto& q = *rep.search;
  REQUIRE(q.answer_chips > 0);
  CHECK(q.answer_chips <= 64);
  CHECK(rep.options.chips == q.answer_chips);
  REQUIRE(rep.has_best);
  CHECK(rep.time_to_train_s / 86400.0 <= limit);
  // The next smaller candidate does not meet it (or there is none).
  const auto& cand = q.candidates;
  const auto it = std::find(cand.begin(), cand.end(), q.answer_chips);
  REQUIRE(it != cand.end());
  if (it != cand.begin()) {
    const double smaller = days_on(m, hw, *(it - 1), o);
    CHECK((smaller == 0 || smaller > limit));
  }
  // Fewer sweeps than candidates (bisection), and the report there is the plain report's.
  CHECK(q.simulated.size() < cand.size());
  auto plain = o;
  plain.chips = q.answer_chips;
  const auto direct = sweep::build_capacity_report(m, hw, plain);
  CHECK(direct.time_to_train_s == rep.time_to_train_s);
  CHECK(direct.sweep.top.front().plan.mesh.text() == rep.sweep.top.front().plan.mesh.text());
}

TEST_CASE("report --budget: cost is chips x hours x the profile's price, within the budget",
          "[report][capacity]") {
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  REQUIRE(hw.price_per_chip_hour_usd);
  auto o = small_options();
  sweep::CapacityGoal goal;
  goal.max_cost_usd = 1e9;  // any count that fits meets it: the answer is the smallest that fits
  const auto rep = sweep::answer_capacity_question(m, hw, o, goal);
  REQUIRE(rep.search);
  REQUIRE(rep.search->answer_chips > 0);
  REQUIRE(rep.cost_usd);
  CHECK(*rep.cost_usd == Approx(static_cast<double>(rep.search->answer_chips) *
                                rep.time_to_train_s / 3600.0 * *hw.price_per_chip_hour_usd));
  for (const auto& p : rep.search->simulated) {
    if (p.chips < rep.search->answer_chips)
      CHECK_FALSE(p.has_plan);  // smaller counts simulated: nothing fits
    if (p.has_plan) {
      REQUIRE(p.cost_usd);
      CHECK(*p.cost_usd ==
            Approx(static_cast<double>(p.chips) * p.days * 24.0 * *hw.price_per_chip_hour_usd));
    }
  }
  // A budget below the cheapest cost: no count meets it, the cheapest found is reported.
  goal.max_cost_usd = *rep.cost_usd * 1e-6;
  const auto none = sweep::answer_capacity_question(m, hw, o, goal);
  REQUIRE(none.search);
  CHECK(none.search->answer_chips == 0);
  REQUIRE(none.search->cheapest_cost_usd);
  CHECK(*none.search->cheapest_cost_usd > *goal.max_cost_usd);
}

TEST_CASE("report --budget needs a price", "[report][capacity]") {
  const auto m = load_model("vit-b16");
  auto hw = load_hardware("tpu-v4");
  hw.price_per_chip_hour_usd.reset();
  sweep::CapacityGoal goal;
  goal.max_cost_usd = 1000;
  CHECK_THROWS_AS(sweep::answer_capacity_question(m, hw, small_options(), goal), InputError);
}

TEST_CASE("cli report --days: JSON answer, exit 0 also when no count meets it", "[cli][report]") {
  using meshsim::testing::run_meshsim;
  const std::string base =
      "report --model vit-b16 --hardware tpu-v4 --global-batch 4096 --steps 10k "
      "--max-chips 256 --max-scaling-chips 256 -j 2 --json";
  auto r = run_meshsim(base + " --days 0.001");
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  const auto& q = j.at("capacity_question");
  CHECK(q.at("met") == false);
  CHECK(q.at("answer_chips").is_null());
  CHECK(q.at("fastest").at("chips") == j.at("inputs").at("chips"));
  CHECK(q.at("counts_simulated").get<std::size_t>() == q.at("simulated").size());
  // The text says so, with the best reachable days.
  r = run_meshsim(
      "report --model vit-b16 --hardware tpu-v4 --global-batch 4096 --steps 10k "
      "--max-chips 256 --max-scaling-chips 256 -j 2 --days 0.001");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("no chip count up to 256 trains within 0.001 days; best reachable") !=
        std::string::npos);
  // --chips with --days is refused, and neither is refused too, naming --chips.
  r = run_meshsim(base + " --days 3 --chips 64");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--chips") != std::string::npos);
  r = run_meshsim("report --model vit-b16 --hardware tpu-v4");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--chips") != std::string::npos);
  r = run_meshsim(base + " --days soon");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--days") != std::string::npos);
  // A search whose largest count's sweep is refused for its work (H100 up to 65,536 GPUs) names
  // the search's bound, in one line, and writes nothing.
  r = run_meshsim("report --model vit-22b --hardware h100-sxm --days 30 -j 2 --quiet");
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("meshsim: --max-chips: ", 0) == 0);
  CHECK(r.err.find("--max-chips below 65536") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("cli report --price: replaces the profile's price, recorded, and costs follow",
          "[cli][report]") {
  using meshsim::testing::run_meshsim;
  const auto r = run_meshsim(
      "report --model vit-b16 --hardware h100-sxm --chips 16 --global-batch 1024 --steps 1000 "
      "--max-scaling-chips 32 -j 2 --json --price 2.5");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("price_per_chip_hour_usd") == 2.5);
  CHECK(j.at("price_source") == "--price on the command line");
  CHECK(j.at("cost_usd").get<double>() == Approx(j.at("chip_hours").get<double>() * 2.5));
  // The scaling table's days and cost columns: steps x step time, chips x hours x price.
  const double steps = j.at("inputs").at("steps").get<double>();
  int simulated = 0;
  for (const auto& p : j.at("scaling").at("points")) {
    if (!p.at("simulated").get<bool>())
      continue;
    ++simulated;
    const double step = p.at("step_time_s").get<double>();
    CHECK(p.at("time_to_train_days").get<double>() == Approx(steps * step / 86400));
    CHECK(p.at("cost_usd").get<double>() ==
          Approx(p.at("chips").get<double>() * steps * step / 3600 * 2.5));
  }
  CHECK(simulated >= 2);
  // Without --price the profile's (cited) price is used.
  const auto stock = nlohmann::json::parse(
      run_meshsim("report --model vit-b16 --hardware h100-sxm --chips 16 --global-batch 1024 "
                  "--steps 1000 --max-scaling-chips 16 --json")
          .out);
  CHECK(stock.at("price_per_chip_hour_usd").get<double>() > 1.0);
  CHECK(stock.at("price_source").get<std::string>().find("p5.48xlarge") != std::string::npos);
}
