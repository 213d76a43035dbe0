// Pipeline parallelism (docs/execution.md "Pipeline parallelism"): the schedules' orders, the
// simulated bubble against the closed form, memory per stage, and p = 1 against the plain step.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <string>
#include <tuple>

#include "hardware_profiles/hardware.hpp"
#include "models/model.hpp"
#include "sim/execution/pipeline_schedule.hpp"
#include "sim/execution/step.hpp"
#include "sim/plan/plan.hpp"

using meshsim::HardwareProfile;
using meshsim::ModelConfig;
using meshsim::PipelineSchedule;
using meshsim::Plan;
using meshsim::PlanFlags;
using meshsim::execution::max_in_flight;
using meshsim::execution::pipeline_order;
using meshsim::execution::simulate_step;
using meshsim::execution::StepResult;

namespace {

// ViT-L/16 (24 layers) on TPU v4; `free_links` makes every link 1e6 times faster with no latency
// so that the sends between stages cost nothing next to compute (the ideal bubble's premise).
struct Setup {
  ModelConfig model = meshsim::load_model("vit-l16");
  HardwareProfile hw = meshsim::load_hardware("tpu-v4");
  explicit Setup(bool free_links = false) {
    if (free_links) {
      hw.torus.link_bandwidth_bytes_per_s *= 1e6;
      hw.torus.link_latency_s = 0;
    }
  }
  Plan plan(PlanFlags flags) const {
    if (flags.batch.empty())
      flags.batch = "64";
    return meshsim::finalize_plan(meshsim::apply_plan_flags(Plan{}, flags), model, hw, 0);
  }
  StepResult run(PlanFlags flags, bool symmetry = true) const {
    meshsim::execution::StepOptions options;
    options.replica_symmetry = symmetry;
    return simulate_step(model, hw, plan(flags), {}, options);
  }
};

PlanFlags pipe(const std::string& mesh, const std::string& schedule, const std::string& mb,
               const std::string& v = "") {
  PlanFlags f;
  f.mesh = mesh;
  f.schedule = schedule;
  f.microbatches = mb;
  f.virtual_stages = v;
  f.fsdp = "off";
  return f;
}

}  // namespace

TEST_CASE("pipeline order: every pass once, forward before backward, chunk order kept",
          "[execution][pipeline]") {
  for (auto schedule :
       {PipelineSchedule::GPipe, PipelineSchedule::OneFOneB, PipelineSchedule::Interleaved}) {
    const std::int64_t p = 4, m = 8;
    const std::int64_t v = schedule == PipelineSchedule::Interleaved ? 3 : 1;
    for (std::int64_t s = 0; s < p; ++s) {
      const auto order = pipeline_order(schedule, p, m, v, s);
      REQUIRE(order.size() == static_cast<std::size_t>(2 * m * v));
      std::set<std::tuple<int, int, bool>> seen;
      for (const auto& t : order) {
        CHECK(seen.insert({t.chunk, t.microbatch, t.backward}).second);
        if (t.backward)
          CHECK(seen.count({t.chunk, t.microbatch, false}) == 1);
      }
      // A microbatch's chunks run forward in chunk order and backward in reverse.
      for (const auto& t : order) {
        if (!t.backward && t.chunk > 0)
          CHECK(seen.count({t.chunk - 1, t.microbatch, false}) == 1);
      }
    }
  }
}

TEST_CASE("pipeline order: activations in flight are m under GPipe, p - s under 1F1B",
          "[execution][pipeline]") {
  const std::int64_t p = 8, m = 32;
  for (std::int64_t s = 0; s < p; ++s) {
    CHECK(max_in_flight(pipeline_order(PipelineSchedule::GPipe, p, m, 1, s)) == m);
    CHECK(max_in_flight(pipeline_order(PipelineSchedule::OneFOneB, p, m, 1, s)) == p - s);
  }
  // Fewer microbatches than stages: 1F1B holds them all.
  CHECK(max_in_flight(pipeline_order(PipelineSchedule::OneFOneB, 8, 3, 1, 0)) == 3);
  // Interleaved (Megatron-LM): stage 0 holds (p-1) 2 + (v-1) p + 1 chunk-microbatches.
  CHECK(max_in_flight(pipeline_order(PipelineSchedule::Interleaved, 4, 8, 2, 0)) == 6 + 4 + 1);
}

TEST_CASE("pipeline: the simulated bubble is the closed form with free sends",
          "[execution][pipeline]") {
  const Setup s(true);
  struct Case {
    const char* schedule;
    std::int64_t p, m, v;
  };
  for (const Case c : {Case{"gpipe", 4, 16, 1}, Case{"1f1b", 4, 16, 1}, Case{"1f1b", 8, 8, 1},
                       Case{"interleaved", 4, 8, 2}, Case{"interleaved", 4, 16, 3}}) {
    CAPTURE(c.schedule, c.p, c.m, c.v);
    const auto r = s.run(pipe("data=1,pipeline=" + std::to_string(c.p) + ",model=1", c.schedule,
                              std::to_string(c.m), std::to_string(c.v)));
    REQUIRE(r.pipeline.stages == c.p);
    const double vm = static_cast<double>(c.v * c.m);
    const double ideal = static_cast<double>(c.p - 1) / (vm + static_cast<double>(c.p - 1));
    CHECK(r.pipeline.ideal_bubble_fraction == Approx(ideal).epsilon(1e-12));
    // Bubble measure (docs/execution.md): idle compute per stage (mean) over the pipelined part
    // of the step (the step less the optimizer update, which follows the last backward).
    const double pipelined = r.step_time_s - r.slowest.optimizer_s;
    CHECK(r.pipeline.bubble_s / pipelined == Approx(ideal).epsilon(0.01));
  }
}

TEST_CASE("pipeline: stage 0 holds p microbatches of activations under 1F1B, m under GPipe",
          "[execution][pipeline]") {
  const Setup s;
  const std::int64_t p = 4, m = 16;
  for (const char* schedule : {"1f1b", "gpipe"}) {
    const auto r = s.run(pipe("data=1,pipeline=4,model=1", schedule, std::to_string(m)));
    const auto& st0 = r.pipeline.per_stage.at(0);
    const std::int64_t held = std::string(schedule) == "1f1b" ? p : m;
    CHECK(st0.in_flight == held);
    const auto& mem = st0.memory;
    CHECK(mem.activations_bytes ==
          Approx(static_cast<double>(held * st0.layers) * mem.kept_bytes_per_layer +
                 mem.recompute_bytes_one_layer)
              .epsilon(1e-12));
    // The last stage holds one microbatch under 1F1B.
    if (std::string(schedule) == "1f1b")
      CHECK(r.pipeline.per_stage.back().in_flight == 1);
  }
}

TEST_CASE("pipeline: p = 1 is the step without a pipeline, field by field",
          "[execution][pipeline]") {
  const Setup s;
  PlanFlags plain;
  plain.mesh = "4x4";
  PlanFlags named = plain;
  named.mesh = "data=4,pipeline=1,model=4";
  named.schedule = "gpipe";  // ignored without a pipeline
  const auto a = s.run(plain), b = s.run(named);
  CHECK(s.plan(named).mesh.text() == "4x4");
  CHECK(a.step_time_s == b.step_time_s);
  CHECK(a.events == b.events);
  CHECK(a.transfers == b.transfers);
  CHECK(a.mfu == b.mfu);
  CHECK(a.compute_only_s == b.compute_only_s);
  CHECK(a.model_axis.bytes_sent_per_chip == b.model_axis.bytes_sent_per_chip);
  CHECK(a.data_axis.bytes_sent_per_chip == b.data_axis.bytes_sent_per_chip);
  CHECK(a.memory.total_bytes == b.memory.total_bytes);
  CHECK(a.symmetry == b.symmetry);
  CHECK(b.pipeline.stages == 1);
  CHECK(b.pipeline.per_stage.empty());
}

TEST_CASE("pipeline: one data replica simulated equals every chip simulated",
          "[execution][pipeline][symmetry]") {
  const Setup s;
  PlanFlags f = pipe("data=4,pipeline=2,model=2", "1f1b", "4");
  f.fsdp = "on";
  const auto reduced = s.run(f, true), full = s.run(f, false);
  CAPTURE(reduced.symmetry);
  CHECK(reduced.simulated_chips < full.simulated_chips);
  CHECK(reduced.step_time_s == Approx(full.step_time_s).epsilon(1e-12));
  CHECK(reduced.pipeline.send_bytes_per_chip == Approx(full.pipeline.send_bytes_per_chip));
  CHECK(reduced.data_axis.bytes_sent_per_chip == Approx(full.data_axis.bytes_sent_per_chip));
}

TEST_CASE("pipeline: send traffic is 2 (m) activations per stage boundary",
          "[execution][pipeline]") {
  const Setup s;
  const std::int64_t p = 4, m = 8;
  const auto r = s.run(pipe("data=1,pipeline=4,model=1", "1f1b", std::to_string(m)));
  // Every boundary carries each microbatch's activation forward and its gradient back (bf16,
  // tokens x D per microbatch); p - 1 boundaries, averaged over p chips.
  const double act = 2.0 * 64.0 / static_cast<double>(m) * static_cast<double>(s.model.tokens) *
                     static_cast<double>(s.model.width);
  CHECK(r.pipeline.send_bytes_per_chip ==
        Approx(2.0 * static_cast<double>(m * (p - 1)) * act / static_cast<double>(p)));
}

TEST_CASE("pipeline: bad pipeline plans are refused naming the field", "[execution][pipeline]") {
  const Setup s;
  auto refused = [&](PlanFlags f) {
    try {
      (void)s.plan(f);
    } catch (const meshsim::InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(refused(pipe("data=1,pipeline=4,model=1", "1f1b", "16", "2")).find("--virtual-stages") !=
        std::string::npos);
  CHECK(
      refused(pipe("data=1,pipeline=4,model=1", "interleaved", "6", "2")).find("--microbatches") !=
      std::string::npos);
  CHECK(refused(pipe("data=1,pipeline=32,model=1", "1f1b", "4")).find("--mesh") !=
        std::string::npos);
  PlanFlags bad;
  bad.mesh = "data=2,stage=2";
  CHECK(refused(bad).find("not a mesh axis") != std::string::npos);
}
