#pragma once
// The timeline view's data: what the scheduled timeline (sim/timeline.h) computed for one run, laid
// out for drawing, with no ImGui (tests check it). The view only reads run.timeline: the sample SM's
// spans become bars on rows (one per warp-group lane and agent), the pass's launch its waves, and the
// busy fractions and bound agent are the model's own. Nothing here schedules anything.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/runner.h"
#include "sim/timeline.h"

namespace tilesim::viz {

// One row of the chart: one lane of the sample SM's program (a warp group, a producer, a block's
// loads) on one agent.
struct ScheduleRow {
    sim::Agent agent = sim::Agent::copy;
    std::int32_t lane = 0;
    std::string label;  // "tensor / block 0: warp group A"
};

// One span of the sample, as a bar.
struct ScheduleBar {
    std::int32_t row = 0;
    sim::Agent agent = sim::Agent::copy;
    double issue_s = 0, start_s = 0, end_s = 0;  // from the pass's start
    sim::WorkKind kind = sim::WorkKind::compute;
    sim::Tensor tensor = sim::Tensor::Q;
    std::int32_t block = 0, step = 0;
};
// "load K, step 3, block 0": what a bar is, for its tooltip (made on hover, not for every bar).
std::string bar_label(const ScheduleBar& b);

// The pass's grid over the SMs: `waves` = blocks / slots, drawn as ceil(waves) slots-wide waves, the
// last one `tail_blocks` of `slots` full (0: every wave full).
struct WaveInfo {
    std::int64_t blocks = 0, slots = 1, blocks_per_sm = 1, active_sms = 0;
    double waves = 0;
    std::int64_t wave_count = 0;   // ceil(waves)
    std::int64_t tail_blocks = 0;  // blocks in the last wave when it is partial, else 0
    double sm_time_s = 0, time_s = 0;
    std::string occupancy_limit;
};

struct SchedulePass {
    std::string name;
    std::string schedule, mma;
    std::vector<ScheduleRow> rows;        // agent order (copy, tensor, sfu, ...), then lane
    std::vector<ScheduleBar> bars;        // one per sample span
    std::int32_t sample_blocks = 0;       // co-resident blocks the sample SM runs in step
    double simulated_s = 0, block_s = 0;  // the spans' extent; the whole block (extrapolated)
    WaveInfo waves;
    std::array<double, sim::kAgentCount> busy{};
    sim::Agent bound = sim::Agent::tensor;
    std::string note;
};

struct ScheduleView {
    std::string title;  // "flash2 forward"
    std::string schedule, schedule_note;
    std::vector<SchedulePass> passes;
    std::array<double, sim::kAgentCount> busy{};  // time-weighted over the passes
    sim::Agent bound = sim::Agent::tensor;
    double total_s = 0;
    std::string empty_reason;  // why there is nothing to draw (paper mode, a pass that did not fit)
};

ScheduleView build_schedule_view(const scenarios::AlgorithmRun& run);

// Seconds during which some bar of agent `a` and some bar of agent `b` run at once (the union of a's
// bars intersected with the union of b's): how much softmax hides under the GEMMs.
double overlap_seconds(const SchedulePass& p, sim::Agent a, sim::Agent b);

// The scenario key values the view offers: "auto" then every schedule (sim::all_schedules()).
std::vector<std::string> schedule_choices();

}  // namespace tilesim::viz
