#include "sim/sweep/result_codec.hpp"

#include <cstring>
#include <stdexcept>

#include "common/error.hpp"

namespace meshsim::sweep {

void ByteWriter::u8(std::uint8_t v) {
  bytes_.push_back(static_cast<char>(v));
}

void ByteWriter::u64(std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));  // little-endian on any host
}

void ByteWriter::i64(std::int64_t v) {
  u64(static_cast<std::uint64_t>(v));
}

void ByteWriter::f64(double v) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  u64(bits);
}

void ByteWriter::str(const std::string& v) {
  u64(v.size());
  bytes_ += v;
}

const char* ByteReader::take(std::size_t n) {
  if (n > bytes_.size() - pos_)
    throw std::runtime_error("sweep result codec: message truncated");
  const char* p = bytes_.data() + pos_;
  pos_ += n;
  return p;
}

std::uint8_t ByteReader::u8() {
  return static_cast<std::uint8_t>(*take(1));
}

std::uint64_t ByteReader::u64() {
  const char* p = take(8);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::int64_t ByteReader::i64() {
  return static_cast<std::int64_t>(u64());
}

double ByteReader::f64() {
  const std::uint64_t bits = u64();
  double v = 0;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

std::string ByteReader::str() {
  const std::uint64_t n = u64();
  if (n > bytes_.size() - pos_)
    throw std::runtime_error("sweep result codec: message truncated");
  return std::string(take(static_cast<std::size_t>(n)), static_cast<std::size_t>(n));
}

namespace {

// One visitor for both directions: Put writes each field, Get reads it back into place. Each
// struct's fields are listed once (below), so the two directions cannot drift apart.
struct Put {
  ByteWriter& w;
  void operator()(const double& v) { w.f64(v); }
  void operator()(const std::int64_t& v) { w.i64(v); }
  void operator()(const std::uint64_t& v) { w.u64(v); }
  void operator()(const std::int32_t& v) { w.i64(v); }
  void operator()(const bool& v) { w.u8(v ? 1 : 0); }
  void operator()(const std::string& v) { w.str(v); }
  void operator()(const ActivationSource& v) { w.i64(static_cast<std::int64_t>(v)); }
  template <std::size_t N>
  void operator()(const std::array<double, N>& v) {
    for (const double x : v)
      w.f64(x);
  }
  template <typename T, typename Fields>
  void list(const std::vector<T>& v, Fields fields) {
    w.u64(v.size());
    for (const T& x : v)
      fields(*this, x);
  }
};

struct Get {
  ByteReader& r;
  void operator()(double& v) { v = r.f64(); }
  void operator()(std::int64_t& v) { v = r.i64(); }
  void operator()(std::uint64_t& v) { v = r.u64(); }
  void operator()(std::int32_t& v) { v = static_cast<std::int32_t>(r.i64()); }
  void operator()(bool& v) { v = r.u8() != 0; }
  void operator()(std::string& v) { v = r.str(); }
  void operator()(ActivationSource& v) {
    const std::int64_t n = r.i64();
    if (n < 0 || n > static_cast<std::int64_t>(ActivationSource::AttentionOrGelu))
      throw std::runtime_error("sweep result codec: bad activation source");
    v = static_cast<ActivationSource>(n);
  }
  template <std::size_t N>
  void operator()(std::array<double, N>& v) {
    for (double& x : v)
      x = r.f64();
  }
  template <typename T, typename Fields>
  void list(std::vector<T>& v, Fields fields) {
    const std::uint64_t n = r.u64();
    if (n > (1u << 24))
      throw std::runtime_error("sweep result codec: list too long");
    v.assign(static_cast<std::size_t>(n), T{});
    for (T& x : v)
      fields(*this, x);
  }
};

// The fields. `x` is const for Put and mutable for Get.
constexpr auto linear_fields = [](auto& v, auto& x) {
  v(x.name);
  v(x.sharding);
  v(x.communicates);
  v(x.forward_compute_s);
  v(x.backward_compute_s);
  v(x.forward_comm_s);
  v(x.backward_comm_s);
  v(x.forward_exposed_s);
  v(x.backward_exposed_s);
  v(x.bytes_per_layer);
};

constexpr auto axis_fields = [](auto& v, auto& x) {
  v(x.bytes_sent_per_chip);
  v(x.exposed_s);
};

constexpr auto chip_fields = [](auto& v, auto& x) {
  v(x.chip);
  v(x.data_index);
  v(x.model_index);
  v(x.finish_s);
  v(x.compute_s);
  v(x.exposed_model_s);
  v(x.exposed_data_s);
  v(x.optimizer_s);
  v(x.recompute_s);
};

constexpr auto activation_fields = [](auto& v, auto& x) {
  v(x.name);
  v(x.source);
  v(x.elements_per_token);
  v(x.kept);
  v(x.sequence_split);
};

constexpr auto memory_fields = [](auto& v, auto& x) {
  v(x.weights_bytes);
  v(x.weight_gather_buffer_bytes);
  v(x.gradient_buffer_bytes);
  v(x.master_weights_bytes);
  v(x.optimizer_state_bytes);
  v(x.gradients_bytes);
  v(x.activations_bytes);
  v(x.runtime_reserve_bytes);
  v(x.total_bytes);
  v(x.capacity_bytes);
  v(x.fits);
  v(x.headroom_bytes);
  v(x.overflow_bytes);
  v(x.params_per_chip);
  v(x.microbatch_images);
  v(x.microbatch_tokens);
  v(x.kept_bytes_per_layer);
  v(x.recompute_bytes_one_layer);
  v(x.lm_head_activation_bytes);
  v(x.sequence_parallel_saving_bytes);
  v.list(x.layer_activations, activation_fields);
};

constexpr auto stage_fields = [](auto& v, auto& x) {
  v(x.stage);
  v(x.layers);
  v(x.in_flight);
  v(x.compute_s);
  v(x.bubble_s);
  memory_fields(v, x.memory);
};

constexpr auto pipeline_fields = [](auto& v, auto& x) {
  v(x.stages);
  v(x.schedule);
  v(x.virtual_stages);
  v(x.microbatches);
  v(x.bubble_s);
  v(x.bubble_fraction);
  v(x.ideal_bubble_fraction);
  v(x.send_bytes_per_chip);
  v(x.exposed_s);
  v.list(x.per_stage, stage_fields);
};

constexpr auto step_fields = [](auto& v, auto& x) {
  v(x.step_time_s);
  v(x.chips);
  v(x.global_batch);
  v(x.microbatch_images);
  v(x.tokens_per_s);
  v(x.images_per_s);
  v(x.tokens_per_s_per_chip);
  v(x.images_per_s_per_chip);
  v(x.model_flop);
  v(x.executed_flop);
  v(x.mfu);
  v(x.hfu);
  v(x.compute_only_s);
  v(x.lower_bound_s);
  v(x.compute_lower_bound_s);
  v(x.comm_lower_bound_s);
  axis_fields(v, x.model_axis);
  axis_fields(v, x.data_axis);
  v(x.bytes_per_link_class);
  v(x.link_utilization);
  v.list(x.linears, linear_fields);
  v(x.other_compute_per_layer_s);
  v(x.lm_head_compute_s);
  v(x.lm_head_exposed_s);
  chip_fields(v, x.slowest);
  v(x.bottleneck);
  v(x.component_busy_s);
  v(x.input_pipeline_s);
  memory_fields(v, x.memory);
  pipeline_fields(v, x.pipeline);
  v(x.topology);
  v(x.mapping);
  v(x.events);
  v(x.transfers);
  v(x.simulated_chips);
  v(x.symmetry);
  v(x.memoized_data_collectives);
  v(x.stepwise_data_collectives);
  // trace, trace_chips: always empty here (encode_step_result refuses a trace)
};

enum : std::uint8_t { kNotRun = 0, kDone = 1, kInputError = 2, kOtherError = 3, kRefused = 4 };

}  // namespace

void encode_step_result(ByteWriter& w, const execution::StepResult& result) {
  if (!result.trace.empty() || !result.trace_chips.empty())
    throw std::logic_error("sweep result codec: a result with a trace");
  Put put{w};
  step_fields(put, result);
}

execution::StepResult decode_step_result(ByteReader& r) {
  execution::StepResult result;
  Get get{r};
  step_fields(get, result);
  return result;
}

void encode_outcome(ByteWriter& w, const ItemOutcome& outcome) {
  switch (outcome.state) {
    case ItemOutcome::State::NotRun:
      w.u8(kNotRun);
      return;
    case ItemOutcome::State::Done:
      w.u8(kDone);
      encode_step_result(w, outcome.result);
      return;
    case ItemOutcome::State::Failed:
    case ItemOutcome::State::Refused:
      break;
  }
  try {
    std::rethrow_exception(outcome.error);
  } catch (const InputError& e) {
    w.u8(outcome.state == ItemOutcome::State::Refused ? kRefused : kInputError);
    w.str(e.site().file);
    w.str(e.site().pointer);
    w.str(e.site().field);
    w.str(e.problem());
    w.str(e.found());
    w.str(e.allowed());
  } catch (const std::exception& e) {
    w.u8(kOtherError);
    w.str(e.what());
  } catch (...) {
    w.u8(kOtherError);
    w.str("unknown exception");
  }
}

ItemOutcome decode_outcome(ByteReader& r) {
  ItemOutcome o;
  const std::uint8_t tag = r.u8();
  switch (tag) {
    case kNotRun:
      return o;
    case kDone:
      o.state = ItemOutcome::State::Done;
      o.result = decode_step_result(r);
      return o;
    case kInputError:
    case kRefused: {
      o.state = tag == kRefused ? ItemOutcome::State::Refused : ItemOutcome::State::Failed;
      ErrorSite site;
      site.file = r.str();
      site.pointer = r.str();
      site.field = r.str();
      std::string problem = r.str();
      std::string found = r.str();
      std::string allowed = r.str();
      o.error = std::make_exception_ptr(
          InputError(std::move(site), std::move(problem), std::move(found), std::move(allowed)));
      return o;
    }
    case kOtherError:
      o.state = ItemOutcome::State::Failed;
      o.error = std::make_exception_ptr(std::runtime_error(r.str()));
      return o;
    default:
      throw std::runtime_error("sweep result codec: bad outcome tag");
  }
}

std::string encode_evaluation(const Evaluation& evaluation) {
  ByteWriter w;
  w.u8(evaluation.out_of_time ? 1 : 0);
  w.u64(evaluation.items.size());
  for (const auto& item : evaluation.items)
    encode_outcome(w, item);
  return w.take();
}

Evaluation decode_evaluation(std::string_view bytes) {
  ByteReader r(bytes);
  Evaluation e;
  e.out_of_time = r.u8() != 0;
  const std::uint64_t n = r.u64();
  if (n > bytes.size())
    throw std::runtime_error("sweep result codec: bad item count");
  e.items.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n; ++i)
    e.items.push_back(decode_outcome(r));
  if (!r.at_end())
    throw std::runtime_error("sweep result codec: trailing bytes");
  return e;
}

}  // namespace meshsim::sweep
