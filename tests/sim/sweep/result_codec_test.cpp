// The result codec that MPI ranks exchange outcomes with (sim/sweep/result_codec.hpp): exact round
// trips of real simulated steps (the same bytes again, the same run report), failures that come
// back as the same error, and malformed messages refused.
#include "sim/sweep/result_codec.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

#include "sim/execution/step.hpp"
#include "sim/report/run_report.hpp"

using namespace meshsim;

namespace {

Plan plan_for(const ModelConfig& m, const HardwareProfile& hw, const std::string& mesh,
              const std::string& batch, const std::string& remat) {
  PlanFlags f;
  f.mesh = mesh;
  f.batch = batch;
  f.remat = remat;
  f.microbatches = "2";
  return finalize_plan(apply_plan_flags(Plan{}, f), m, hw, 0);
}

std::string encoded(const execution::StepResult& r) {
  sweep::ByteWriter w;
  sweep::encode_step_result(w, r);
  return w.take();
}

}  // namespace

TEST_CASE("result codec: a simulated step comes back field for field", "[sweep][mpi]") {
  struct Case {
    const char* model;
    const char* hardware;
    const char* mesh;
    const char* batch;
    const char* remat;
  };
  // A torus and a GPU cluster (every link class), an encoder and a decoder (LM-head fields),
  // selective remat (activation tensors kept and recomputed).
  for (const Case c : {Case{"vit-b16", "tpu-v4", "16x4", "1024", "selective"},
                       Case{"vit-b16", "h100-sxm", "8x4", "256", "none"},
                       Case{"llama3-8b", "h100-sxm", "2x8", "16", "full"},
                       // A pipeline: per-stage results and their memory.
                       Case{"llama3-8b", "tpu-v4", "data=2,pipeline=2,model=4", "16", "full"},
                       // Two model axes.
                       Case{"vit-b16", "tpu-v4", "8x2x2", "256", "none"}}) {
    INFO(c.model << " on " << c.hardware << " " << c.mesh);
    const auto m = load_model(c.model);
    const auto hw = load_hardware(c.hardware);
    const Plan plan = plan_for(m, hw, c.mesh, c.batch, c.remat);
    auto r = execution::simulate_step(m, hw, plan);
    r.trace.clear();
    REQUIRE(!r.linears.empty());
    REQUIRE(!r.memory.layer_activations.empty());
    const std::string bytes = encoded(r);
    sweep::ByteReader in(bytes);
    const auto back = sweep::decode_step_result(in);
    CHECK(in.at_end());
    // Exact: the decoded result encodes to the same bytes, and reports the same bytes.
    CHECK(encoded(back) == bytes);
    const report::RunInputs inputs{&m, &hw, &plan};
    CHECK(report::run_json(inputs, back) == report::run_json(inputs, r));
    CHECK(report::run_text(inputs, back) == report::run_text(inputs, r));
    CHECK(back.step_time_s == r.step_time_s);
    CHECK(back.events == r.events);
    CHECK(back.symmetry == r.symmetry);
    CHECK(back.memory.layer_activations.size() == r.memory.layer_activations.size());
    CHECK(back.bytes_per_link_class == r.bytes_per_link_class);
    CHECK(back.component_busy_s == r.component_busy_s);
    CHECK(back.pipeline.per_stage.size() == r.pipeline.per_stage.size());
  }
}

TEST_CASE("result codec: the structs it lists field by field have not grown", "[sweep][mpi]") {
  // A field added to any of these must be added to sim/sweep/result_codec.cpp (step_fields and
  // the lists it calls), or MPI sweeps would drop it; then update the sizes here. (x86-64, GCC
  // and Clang on Debian 12.)
  CHECK(sizeof(execution::StepResult) == 912);
  CHECK(sizeof(execution::PipelineResult) == 120);
  CHECK(sizeof(execution::PipelineStage) == 224);
  CHECK(sizeof(execution::LinearTiming) == 152);
  CHECK(sizeof(execution::AxisTraffic) == 16);
  CHECK(sizeof(execution::ChipBreakdown) == 72);
  CHECK(sizeof(MemoryBreakdown) == 184);
  CHECK(sizeof(ActivationTensor) == 56);
}

TEST_CASE("result codec: failures come back as the same error", "[sweep][mpi]") {
  sweep::Evaluation e;
  e.out_of_time = true;
  e.items.resize(5);
  e.items[4].state = sweep::ItemOutcome::State::Refused;
  e.items[4].error = std::make_exception_ptr(
      InputError({"--mesh", "", "mesh"}, "beyond the event limit", "3e9", "at most 1e9"));
  e.items[1].state = sweep::ItemOutcome::State::Failed;
  const InputError input({"--chips", "/x", "chips"}, "too many events", "2e9", "at most 1e9");
  e.items[1].error = std::make_exception_ptr(input);
  e.items[2].state = sweep::ItemOutcome::State::Failed;
  e.items[2].error = std::make_exception_ptr(std::runtime_error("out of memory"));
  e.items[3].state = sweep::ItemOutcome::State::Done;
  e.items[3].result.tokens_per_s = 1.0 / 3.0;
  e.items[3].result.linears.push_back({"fused_in_proj", "row", "all-gather input"});
  const auto back = sweep::decode_evaluation(sweep::encode_evaluation(e));
  CHECK(back.out_of_time);
  REQUIRE(back.items.size() == 5);
  REQUIRE(back.items[4].state == sweep::ItemOutcome::State::Refused);
  CHECK_THROWS_AS(std::rethrow_exception(back.items[4].error), InputError);
  CHECK(back.items[0].state == sweep::ItemOutcome::State::NotRun);
  REQUIRE(back.items[1].state == sweep::ItemOutcome::State::Failed);
  try {
    std::rethrow_exception(back.items[1].error);
  } catch (const InputError& got) {
    CHECK(std::string(got.what()) == input.what());
    CHECK(got.site().field == "chips");
  } catch (...) {
    FAIL("an InputError must come back as one");
  }
  try {
    std::rethrow_exception(back.items[2].error);
  } catch (const InputError&) {
    FAIL("an internal error must not come back as bad input");
  } catch (const std::exception& got) {
    CHECK(std::string(got.what()) == "out of memory");
  }
  REQUIRE(back.items[3].state == sweep::ItemOutcome::State::Done);
  CHECK(back.items[3].result.tokens_per_s == 1.0 / 3.0);
  CHECK(back.items[3].result.linears.at(0).communicates == "all-gather input");
}

TEST_CASE("result codec: truncated or padded messages are refused", "[sweep][mpi]") {
  sweep::Evaluation e;
  e.items.resize(2);
  e.items[0].state = sweep::ItemOutcome::State::Done;
  e.items[0].result.memory.layer_activations.push_back({"softmax.output"});
  e.items[0].result.symmetry = "on: replicas";
  const std::string bytes = sweep::encode_evaluation(e);
  for (std::size_t n = 0; n < bytes.size(); ++n)
    CHECK_THROWS_AS(sweep::decode_evaluation(std::string_view(bytes).substr(0, n)),
                    std::runtime_error);
  CHECK_THROWS_AS(sweep::decode_evaluation(bytes + "x"), std::runtime_error);
  CHECK_NOTHROW(sweep::decode_evaluation(bytes));
  // A result with a trace is not for sweeps: refused rather than sent without it.
  execution::StepResult traced;
  traced.trace.push_back({"matmul", "compute"});
  sweep::ByteWriter w;
  CHECK_THROWS_AS(sweep::encode_step_result(w, traced), std::logic_error);
}
