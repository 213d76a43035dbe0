// Issue 16 items 1 and 6: a sweep that finds no plan says why and where plans exist (nearest chip
// counts), and its progress estimates the work left from the simulations, pruning included.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "sim/cli/progress.hpp"
#include "sim/sweep/no_plan.hpp"
#include "sim/sweep/sweep.hpp"

using namespace meshsim;

TEST_CASE("sweep: the nearest chip counts where a plan fits are the nearest", "[sweep][ux]") {
  const auto m = load_model("vit-22b");
  const auto hw = load_hardware("tpu-v4");
  const sweep::SweepSpace space;  // the published batch, every remat
  // 1000 chips: every plan is invalid (batch or model axis), none is rejected for memory.
  CHECK_FALSE(sweep::some_plan_fits(m, hw, 1000, space));
  const auto n = sweep::nearest_fitting_chips(m, hw, 1000, space);
  REQUIRE(n.below);
  REQUIRE(n.above);
  CHECK(*n.below < 1000);
  CHECK(*n.above > 1000);
  CHECK(sweep::some_plan_fits(m, hw, *n.below, space));
  CHECK(sweep::some_plan_fits(m, hw, *n.above, space));
  // Nothing in between fits: they are the nearest.
  for (std::int64_t c = *n.below + 1; c < *n.above; ++c)
    CHECK_FALSE(sweep::some_plan_fits(m, hw, c, space));
  // What the sweep then says: the reasons that ruled the plans out, not memory.
  sweep::SweepOptions o;
  o.chips = 1000;
  auto r = sweep::run_sweep(m, hw, o);
  REQUIRE(r.top.empty());
  CHECK(r.rejected.count("memory") == 0);
  sweep::find_nearest_chips(m, hw, o.space, r);
  CHECK(r.nearest_chips_below == *n.below);
  CHECK(r.nearest_chips_above == *n.above);
  const std::string text = sweep::no_plan_text(r);
  CHECK(text.find("fits in memory") == std::string::npos);
  CHECK(text.find("none was rejected for memory") != std::string::npos);
  CHECK(text.find(std::to_string(r.rejected.at("batch_not_divisible")) +
                  " have a global batch not divisible") != std::string::npos);
  CHECK(text.find(std::to_string(r.rejected.at("model_axis_does_not_divide")) +
                  " have a model axis that does not divide") != std::string::npos);
  CHECK(text.find("--chips " + std::to_string(*n.above)) != std::string::npos);
}

TEST_CASE("sweep: when memory rules every plan out, the text says so and names a count that fits",
          "[sweep][ux]") {
  const auto m = load_model("vit-22b");
  const auto hw = load_hardware("tpu-v4");
  sweep::SweepOptions o;
  o.chips = 8;
  auto r = sweep::run_sweep(m, hw, o);
  REQUIRE(r.top.empty());
  REQUIRE(r.rejected.count("memory") == 1);
  sweep::find_nearest_chips(m, hw, o.space, r);
  REQUIRE(r.nearest_chips_above > 8);
  CHECK(sweep::some_plan_fits(m, hw, r.nearest_chips_above, o.space));
  CHECK(r.nearest_chips_below == 0);  // fewer chips have even less memory
  const std::string text = sweep::no_plan_text(r);
  CHECK(text.rfind("No plan fits in memory on 8 chips", 0) == 0);
}

TEST_CASE("sweep: the work left that progress reports ends at zero and tracks the simulations",
          "[sweep][ux]") {
  const auto m = load_model("vit-b16");
  const auto hw = load_hardware("tpu-v4");
  sweep::SweepOptions o;
  o.chips = 64;
  o.top = 3;
  o.threads = 1;  // no speculative simulations: every one counted is one the ranking needed
  o.space.global_batches = {1024, 2048, 4096};
  std::vector<sweep::SweepProgress> seen;
  o.progress = [&](const sweep::SweepProgress& p) { seen.push_back(p); };
  const auto r = sweep::run_sweep(m, hw, o);
  REQUIRE(seen.size() == static_cast<std::size_t>(r.fitting));
  CHECK(seen.back().remaining_simulations == 0);
  CHECK(seen.back().simulated == r.simulated);
  // The candidates count is what the old ETA divided by: it is many times the simulations run.
  REQUIRE(r.pruned > 10 * r.simulated);
  for (const auto& p : seen) {
    CHECK(p.remaining_simulations >= 0);
    CHECK(p.remaining_simulations <= p.total - p.done);
  }
  // Once K plans are simulated, the estimate is within a factor of 3 (plus K) of the simulations
  // actually still run, where the candidates left are tens of times more.
  for (const auto& p : seen) {
    if (p.simulated < o.top)
      continue;
    const auto actual = r.simulated - p.simulated;
    CHECK(p.remaining_simulations <= 3 * actual + o.top);
    CHECK(3 * p.remaining_simulations + o.top >= actual);
  }
}

TEST_CASE("progress: a line every interval and at each phase when not a terminal", "[ux]") {
  double now = 0;
  std::string written;
  cli::Progress progress(
      "sweep", true, false, [&](const std::string& s) { written += s; }, [&] { return now; }, 5.0);
  progress.phase("enumerating");
  sweep::SweepProgress p;
  p.total = 100;
  for (int i = 1; i <= 40; ++i) {  // 20 s of updates, two a second
    now = 0.5 * i;
    p.done = i;
    p.simulated = i / 2;
    p.remaining_simulations = 10;
    p.elapsed_s = now;
    progress.sweep(p);
  }
  progress.phase("scaling curve");
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = written.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(written.substr(start, nl - start));
  CHECK(start == written.size());  // whole lines only, no carriage returns
  CHECK(written.find('\r') == std::string::npos);
  REQUIRE(lines.size() == 6);  // 2 phases + one line at 5, 10, 15 and 20 s
  CHECK(lines.front() == "sweep: enumerating");
  CHECK(lines.back() == "sweep: scaling curve");
  // At 20 s: 20 simulations done, 10 left at 1 s each.
  CHECK(lines[4] ==
        "sweep: 40/100 candidates decided, 20 simulated, about 10 more to simulate, 20 s "
        "elapsed, ETA 10 s");
  // Disabled (--quiet): nothing at all.
  std::string quiet;
  cli::Progress off(
      "sweep", false, false, [&](const std::string& s) { quiet += s; }, [&] { return now; });
  off.phase("x");
  off.sweep(p);
  off.steps("y", 1, 2);
  off.finish();
  CHECK(quiet.empty());
}

TEST_CASE("progress: on a terminal one line rewritten in place, phases kept", "[ux]") {
  double now = 0;
  std::string written;
  cli::Progress progress(
      "report", true, true, [&](const std::string& s) { written += s; }, [&] { return now; }, 5.0);
  progress.pending_phase("phase 1/3: sweep");  // not written until work reports
  CHECK(written.empty());
  sweep::SweepProgress p;
  p.total = 4;
  for (int i = 1; i <= 4; ++i) {
    now = i;
    p.done = i;
    p.simulated = i;
    p.remaining_simulations = 4 - i;
    p.elapsed_s = now;
    progress.sweep(p);  // every update, no interval on a terminal
  }
  progress.finish();
  // The phase on its own line, then four updates each starting with a carriage return, then the
  // newline that finish() adds.
  CHECK(written.rfind("\rreport: phase 1/3: sweep   \n", 0) == 0);
  CHECK(std::count(written.begin(), written.end(), '\r') == 5);
  CHECK(std::count(written.begin(), written.end(), '\n') == 2);
  CHECK(written.find("4/4 candidates decided, 4 simulated, about 0 more to simulate, 4 s elapsed, "
                     "ETA 0 s") != std::string::npos);
  CHECK(written.back() == '\n');
}

TEST_CASE("progress: a heartbeat stays silent while a pending phase may still fail", "[ux]") {
  double now = 0;
  std::string written;
  cli::Progress progress(
      "run", true, false, [&](const std::string& s) { written += s; }, [&] { return now; }, 5.0);
  progress.pending_phase("simulating one step on 1024 chips");
  now = 30;  // long checks: a heartbeat would speak, but the step may still be refused
  progress.still("simulating one step on 1024 chips", now);
  CHECK(written.empty());
  progress.finish();
  CHECK(written.empty());      // finished without any update: the pending phase is never written
  progress.confirm_pending();  // the limits are checked: from now on it may speak
  now = 40;
  progress.still("simulating one step on 1024 chips", now);
  CHECK(written == "run: simulating one step on 1024 chips\n");  // the phase, then at 5 s...
  now = 46;
  progress.still("simulating one step on 1024 chips", now);
  CHECK(written ==
        "run: simulating one step on 1024 chips\nrun: simulating one step on 1024 chips: 46 s "
        "elapsed\n");
}
