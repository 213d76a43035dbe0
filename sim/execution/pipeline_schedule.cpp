#include "sim/execution/pipeline_schedule.hpp"

#include <algorithm>
#include <stdexcept>

namespace meshsim::execution {

std::vector<PipelineTask> pipeline_order(PipelineSchedule schedule, std::int64_t p, std::int64_t m,
                                         std::int64_t v, std::int64_t stage) {
  if (p < 1 || m < 1 || v < 1 || stage < 0 || stage >= p)
    throw std::logic_error("pipeline_order: bad sizes");
  std::vector<PipelineTask> out;
  out.reserve(static_cast<std::size_t>(2 * m * v));
  auto task = [](std::int64_t chunk, std::int64_t mb, bool backward) {
    return PipelineTask{static_cast<std::int32_t>(chunk), static_cast<std::int32_t>(mb), backward};
  };
  if (schedule == PipelineSchedule::GPipe) {
    for (std::int64_t mb = 0; mb < m; ++mb)
      out.push_back(task(0, mb, false));
    for (std::int64_t mb = 0; mb < m; ++mb)
      out.push_back(task(0, mb, true));
    return out;
  }
  if (schedule == PipelineSchedule::OneFOneB) {
    const std::int64_t warmup = std::min(p - stage - 1, m);
    std::int64_t f = 0, b = 0;
    for (; f < warmup; ++f)
      out.push_back(task(0, f, false));
    while (f < m) {
      out.push_back(task(0, f++, false));
      out.push_back(task(0, b++, true));
    }
    while (b < m)
      out.push_back(task(0, b++, true));
    return out;
  }
  if (m % p != 0)
    throw std::logic_error("pipeline_order: interleaved needs m a multiple of p");
  // The i-th forward (backward) of a stage: microbatches in groups of p, each group through every
  // chunk (backwards through the chunks in reverse).
  const std::int64_t total = m * v;
  auto nth = [&](std::int64_t i, bool backward) {
    const std::int64_t in_group = i % (p * v);
    std::int64_t chunk = in_group / p;
    if (backward)
      chunk = v - 1 - chunk;
    const std::int64_t mb = (i / (p * v)) * p + in_group % p;
    return task(chunk, mb, backward);
  };
  const std::int64_t warmup = std::min(total, (p - stage - 1) * 2 + (v - 1) * p);
  std::int64_t f = 0, b = 0;
  for (; f < warmup; ++f)
    out.push_back(nth(f, false));
  while (f < total) {
    out.push_back(nth(f++, false));
    out.push_back(nth(b++, true));
  }
  while (b < total)
    out.push_back(nth(b++, true));
  return out;
}

std::int64_t max_in_flight(const std::vector<PipelineTask>& order) {
  std::int64_t now = 0, most = 0;
  for (const auto& t : order) {
    now += t.backward ? -1 : 1;
    most = std::max(most, now);
  }
  return most;
}

double ideal_bubble_fraction(PipelineSchedule schedule, std::int64_t p, std::int64_t m,
                             std::int64_t v) {
  const double vm = static_cast<double>(schedule == PipelineSchedule::Interleaved ? v * m : m);
  return static_cast<double>(p - 1) / (vm + static_cast<double>(p - 1));
}

}  // namespace meshsim::execution
