#pragma once
// The timeline of one layer on one chip (issue 16, item 1): the compute stream, the model-axis
// sends, collectives and receives and the data-axis collectives of one transformer layer of one
// microbatch on the first chip of the mesh, taken from the step's trace events
// (one chip traced: replica symmetry stays on). The HTML report draws it as floating bars.
#include <nlohmann/json.hpp>

#include "sim/execution/step.hpp"

namespace meshsim::report {

// The timeline as JSON (docs/run-json.md "layer_timeline"): the chip and its mesh position, the
// layer (the middle one of those the chip runs) and microbatch (the last, whose backward pass is
// followed by the layer's gradient sync), then one entry per pass, forward and backward (the
// backward with its recompute), each with its events. Times in seconds: `origin_s` is the pass's
// first compute slice in the step, each event's start_s is relative to it (negative for work
// started earlier, a prefetched weight all-gather). Null when the result has no trace.
nlohmann::json layer_timeline_json(const execution::StepResult& traced);

// The trace options that give the timeline: the first chip of replica 0 alone, replica symmetry
// kept, so the step costs what it costs untraced (docs/execution.md "Replica symmetry").
execution::TraceOptions layer_timeline_trace();

}  // namespace meshsim::report
