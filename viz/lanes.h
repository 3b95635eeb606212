#pragma once
// A lane of the animation is one algorithm key: its passes played one after the other. When a
// scenario runs the backward, the lane plays the forward's trace and then the backward's, joined
// with sim::Trace::append (steps, pass and buffer ids renumbered), so every view (the replayed
// counters, the SRAM box, the HBM heat map, the timeline) sees one trace and needs no special case.
// Built off the UI thread, with the model run (jobs.cpp).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/runner.h"
#include "viz/replay.h"

namespace tilesim::viz {

struct LaneData {
    std::string key;
    std::vector<std::size_t> runs;            // indices into ScenarioResult::runs, in pass order
    std::optional<std::size_t> failed;        // the first of them that did not fit in SRAM
    std::shared_ptr<const sim::Trace> trace;  // the passes' traces joined; null when one is missing
    std::vector<std::int64_t> pass_starts;    // the event where each pass begins in `trace`
    std::shared_ptr<const TraceIndex> index;  // null with no trace
    sim::Counters per_head;                   // the passes' per-head counters added up
    double predicted_s = 0;                   // the passes' predicted times added up (all heads)
};

// Joins traces in order into one (a copy; the originals stay as they are). `starts` receives the
// event index at which each begins. The joined trace may hold as many events as all of them.
std::shared_ptr<const sim::Trace> join_traces(const std::vector<const sim::Trace*>& traces,
                                              std::vector<std::int64_t>* starts);

// The lane of `key` from `runs` (a ScenarioResult's runs): its passes in order, their traces joined
// (shared without a copy when there is one pass), counters added. No index yet (see index_lanes).
LaneData make_lane(const std::vector<scenarios::AlgorithmRun>& runs, const std::string& key);

// Builds every lane's TraceIndex with one animation floor, so the race between lanes is fair: a
// fraction of the cheapest lane's mean event time, so zero-cost events get a frame without slowing
// the rest.
void index_lanes(std::vector<LaneData>& lanes, const sim::HardwareSpec& hw);

}  // namespace tilesim::viz
