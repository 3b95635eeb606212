#pragma once
// The model's event trace for other tools (`tilesim run --trace FILE --trace-format ...`):
//   csv       one table: a header, then one row per event of every run, with `algorithm` and `pass`
//   perfetto  Chrome / Perfetto trace-event JSON (ui.perfetto.dev, chrome://tracing): a process per
//             algorithm run, a thread (track) per memory level and per compute kind
//   dinero    Dinero IV's `din` address trace: one HBM access per line, "<label> <hex address>"
// All of them describe head 0 (every head runs the same schedule; the counters are per head x B*H).
//
// Time. A run timed by the scheduled timeline (sim/timeline.h: every schedule but `paper`) has each
// load, store and compute event of head 0 placed on its agent with a start and an end
// (sim::annotate_trace): the exports use those times (scheduled_clock), one track per agent. A run
// without a timeline (schedule = paper) falls back to the serial clock: sim::event_seconds per event,
// end to end in program order. run_clock picks, and every export says which clock it used.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/runner.h"
#include "sim/timeline.h"
#include "sim/trace.h"

namespace tilesim::scenarios {

enum class TraceFormat : std::uint8_t { csv, perfetto, dinero };
std::optional<TraceFormat> parse_trace_format(std::string_view text);
inline constexpr const char* kTraceFormats = "csv, perfetto, dinero";

// ---- time and tracks ----

struct EventSpan {
    double start_s = 0, dur_s = 0;
};
struct TraceClock {
    std::vector<EventSpan> spans;  // one per event of the trace
    double total_s = 0;
    bool step_index = false;  // true: no rates to time events with, so one event = 1 us of "steps"
    bool scheduled = false;   // true: the scheduled timeline's start and end times
    std::string description;  // what the clock is, for axis labels and metadata
};
// Events end to end in program order, each taking sim::event_seconds (its bytes at the HBM or L2
// bandwidth, its FLOPs at the tensor-core rate); allocations, releases and pass markers take no time.
// When every event takes 0 s (a machine without rates), the step index instead.
TraceClock serial_clock(const sim::Trace& t, const sim::HardwareSpec& hw);
// The scheduled timeline's times of `run`'s trace: each placed event from its start_s to its end_s;
// a pass marker at its pass's start in the timeline (passes one after another, each lasting its
// PhaseTimeline::time_s), total_s = the timeline's total. An allocation takes the start of its
// block's next placed event, a release the end of its block's previous one (else the pass's start).
// Empty when the run has no timeline (schedule = paper), no trace, or a trace the timeline did not
// annotate.
std::optional<TraceClock> scheduled_clock(const AlgorithmRun& run);
// scheduled_clock when the run has one, else serial_clock. Needs run.trace.
TraceClock run_clock(const AlgorithmRun& run, const sim::HardwareSpec& hw);

// Tracks (Perfetto thread ids, timeline lanes). Ids below 16 are the memory levels and compute
// kinds of the serial clock; under the scheduled clock events go on agent tracks from
// kFirstAgentTrack up (agent_track), so the serial ids never move.
enum class Track : std::int32_t { passes = 0, hbm = 1, l2 = 2, sram = 3, matmul = 4, vector = 5 };
inline constexpr std::int32_t kFirstAgentTrack = 16;
// The Perfetto thread id of `agent`'s `row`-th track: rows > 0 hold work that overlaps the agent's
// other slices in time (the same agent of blocks running at once on other SMs, or sharing one SM),
// since slices on one track must not overlap.
std::int32_t agent_track(sim::Agent agent, std::int32_t row);
// "tensor cores", "copy engine (loads, stores)", ...: an agent's track name.
std::string agent_label(sim::Agent agent);
std::string_view track_name(Track t);
// The track of an event: HBM for moves to or from HBM (atomics included), L2 for L2 -> SRAM, SRAM for
// allocations and releases, matmul for compute steps with tensor-core FLOPs, vector for the rest of
// the compute, passes for pass markers.
Track track_of(const sim::Event& e);

// What kind of work an event is, for colours and names ("load", "store", "atomic", ...).
enum class EventKind : std::uint8_t { hbm_load, hbm_store, hbm_atomic, l2_load, matmul, vector, sram, pass };
inline constexpr int kEventKindCount = 8;
EventKind kind_of(const sim::Event& e);
std::string_view kind_label(EventKind k);

// "flash forward": a run's name in the exports.
std::string run_title(const AlgorithmRun& r);

// ---- formats ----

// Every run's trace as one CSV table: "algorithm,pass," then the columns of trace_csv (report.h).
std::string trace_csv_table(const ScenarioResult& r);

// Trace-event JSON (the JSON Object Format: {"traceEvents": [...], "displayTimeUnit", "otherData"}):
// "X" complete events with ts/dur in microseconds, "M" metadata naming processes and threads, "i"
// instants for SRAM allocations, a "C" counter of SRAM occupancy (serial clock only: under the
// scheduled clock blocks run at once, and one block's occupancy in program order is not a level in
// time). otherData.clock says which clock each run used.
std::string perfetto_json(const ScenarioResult& r);

// Where each HBM tensor of a run lives in the din address space: row-major, element bytes from
// sim::element_bytes, each tensor starting on a 4 KiB boundary, in the order the runs declare them.
struct DinRegion {
    sim::Tensor tensor = sim::Tensor::Q;
    std::uint64_t base = 0;
    std::int64_t rows = 0, cols = 0, element_bytes = 0;
    std::uint64_t bytes() const { return static_cast<std::uint64_t>(rows * cols * element_bytes); }
};
// One address space per algorithm key (its backward reads what its forward wrote, at the same
// addresses). Throws ScenarioError when it does not fit in din's 32-bit addresses.
std::vector<DinRegion> din_layout(const std::vector<const sim::Trace*>& traces, sim::Dtype dtype);

struct DinOptions {
    // Bytes per access: 0 = one access per element (the default: the sum of the accesses' bytes is
    // exactly the run's HBM counters); a power of two (32 = a GPU's sector, 128 = a cache line) =
    // one access per aligned chunk each tile row touches.
    std::int64_t granularity = 0;
};
// "element", or a power of two 1..4096. Throws ScenarioError naming the fix.
DinOptions parse_din_granularity(std::string_view text);

// Every run's HBM loads (label 0), stores (label 1) and atomics (a read, then a write) in program
// order; between algorithms a "4 0" record (din's cache flush), since each starts from a cold cache.
// Throws ScenarioError when a trace was cut short (the accesses would not add up to the counters).
std::string dinero_din(const ScenarioResult& r, const DinOptions& o = {});

// The export in `format`.
std::string export_trace(const ScenarioResult& r, TraceFormat format, const DinOptions& o = {});

}  // namespace tilesim::scenarios
