#pragma once
// Replaying the model's trace: the view model behind every animated panel.
//
// The GUI never recomputes an algorithm. It walks the events the model recorded (head 0) and sums
// them: the counters shown at step k are prefix sums of events 0..k, so at the last step they equal
// the model's own per-head counters exactly (a test checks this). The same walk fills each HBM
// tile's read and write counts (the heat tint) and tracks the SRAM occupancy and its peak. What is
// drawn comes from the trace's own declarations: the tensors (shapes, tile grids, whether they ever
// live in HBM), the SRAM buffers (Allocate / Release events) and the passes.
//
// Two clocks run over a trace:
//   model time       sum of sim::event_seconds: what the counters panel reports;
//   animation clock  the same, except each event lasts at least a small floor, so zero-cost events
//                    (a pass beginning) still get a frame on screen. The race between algorithms
//                    uses it; the floor is shared by every lane so the race stays fair.
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "sim/counters.h"
#include "sim/hardware.h"
#include "sim/trace.h"
#include "viz/tile_grid.h"

namespace tilesim::viz {

// Counters rebuilt from a trace prefix. Only what events carry: transfers per level and tensor
// (bytes and elements), flops, SRAM occupancy. (SRAM operand traffic of compute steps is not in the
// events, so the SRAM level is not reproduced.) An atomic add (flags::kAtomic) is one event but two
// HBM accesses: the memory side reads the old value before writing the sum.
struct ReplayTotals {
    std::array<std::array<sim::Traffic, sim::kTensorCount>, sim::kLevelCount> by_tensor{};
    std::array<sim::Traffic, sim::kLevelCount> level{};
    std::int64_t flops = 0;  // matmul + other
    std::int64_t transfers = 0;
    std::int64_t sram_used_bytes = 0;
    std::int64_t sram_peak_bytes = 0;
    double model_seconds = 0;
    std::int64_t applied = 0;  // events summed

    const sim::Traffic& at(sim::Level l) const { return level[static_cast<std::size_t>(l)]; }
    const sim::Traffic& at(sim::Level l, sim::Tensor t) const {
        return by_tensor[static_cast<std::size_t>(l)][static_cast<std::size_t>(t)];
    }
    void add(const sim::Event& e, const sim::HardwareSpec& hw);
};

// True for a tile written to HBM (the events "jump to next HBM write" stops at).
inline bool is_hbm_write(const sim::Event& e) {
    return e.op == sim::Op::Store && e.to == sim::Level::HBM;
}

// The steps a person can step through when a trace is too long to step event by event: the first
// and last events, every pass boundary and every HBM write, then evenly spaced other events up to
// `max_steps` in all (more only when the mandatory ones alone exceed it). Sorted, no duplicates.
std::vector<std::int64_t> decimate(const std::vector<sim::Event>& events, std::size_t max_steps);

// Immutable per-trace index, built once per model run (off the UI thread).
struct TraceIndex {
    std::vector<double> anim_start;          // n + 1 entries: event k runs [anim_start[k], anim_start[k+1])
    std::vector<double> model_start;         // n + 1 entries, exact model seconds
    std::vector<std::int64_t> steps;         // decimated steps (all events when the trace is short)
    std::vector<std::int64_t> hbm_writes;    // indices of HBM-write events, ascending
    std::vector<std::int64_t> phase_events;  // indices of Phase events, ascending
    // Per SRAM buffer of the trace (Trace::buffers()): the events that allocate and release it (-1:
    // not in the recorded events; `released` = size() while it is still live at the end) and the
    // events that put a tile in it (loads into it, computes in it), ascending.
    struct BufferLife {
        std::int64_t allocated = -1;
        std::int64_t released = -1;
    };
    std::vector<BufferLife> buffers;
    std::vector<std::vector<std::int64_t>> arrivals;
    // Where the paper's loops move on (the presenter keys): events whose Q block index i (resp. K/V
    // block index j) differs from the last event that had one, counting a pass's first as a change.
    std::vector<std::int64_t> q_block_starts;
    std::vector<std::int64_t> kv_block_starts;
    bool has_recompute = false;  // some event carries flags::kRecompute (the legend explains hatching)
    bool has_atomic = false;     // some event carries flags::kAtomic
    bool decimated = false;
    std::int64_t size() const { return static_cast<std::int64_t>(anim_start.size()) - 1; }
    double anim_duration() const { return anim_start.empty() ? 0.0 : anim_start.back(); }
    // The event whose animation interval contains `t` (clamped to [0, n-1]); -1 for an empty trace.
    std::int64_t event_at(double t) const;
};

inline constexpr std::size_t kMaxSteps = 20'000;

// Mean model seconds per event, for choosing the animation floor.
double mean_event_seconds(const sim::Trace& trace, const sim::HardwareSpec& hw);
TraceIndex build_trace_index(const sim::Trace& trace, const sim::HardwareSpec& hw, double min_event_seconds,
                             std::size_t max_steps = kMaxSteps);

// One declared tensor's cells: HBM reads and writes so far and, for tiles computed on chip, how many
// elements were recomputed (flags::kRecompute: the forward had computed them already).
struct HeatTensor {
    sim::TensorDecl decl;
    CellTraffic traffic;
    std::vector<std::int64_t> recomputed_elements;
};

// Cell grids of the tensors a trace declares, in declaration (data-flow) order.
struct HeatMap {
    std::vector<HeatTensor> tensors;
    const HeatTensor* find(sim::Tensor t) const;
    void add(const sim::Event& e);
    void reset();

  private:
    HeatTensor* find_mut(sim::Tensor t);
};
HeatMap make_heat_map(const sim::Trace& trace);

// A cursor over one trace: the totals and heat after events [0, k]. Moving forward applies the
// events in between; moving back replays from the start (cheap: the trace is capped).
class Replay {
  public:
    Replay() = default;
    Replay(std::shared_ptr<const sim::Trace> trace, sim::HardwareSpec hw);
    // State after events 0..k (k = -1: nothing applied). Clamped to the trace.
    void seek(std::int64_t k);
    std::int64_t position() const { return totals_.applied - 1; }
    const ReplayTotals& totals() const { return totals_; }
    const HeatMap& heat() const { return heat_; }
    const sim::Trace* trace() const { return trace_.get(); }

  private:
    std::shared_ptr<const sim::Trace> trace_;
    sim::HardwareSpec hw_;
    ReplayTotals totals_;
    HeatMap heat_;
};

}  // namespace tilesim::viz
