#include "viz/lanes.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tilesim::viz {

std::shared_ptr<const sim::Trace> join_traces(const std::vector<const sim::Trace*>& traces,
                                              std::vector<std::int64_t>* starts) {
    std::int64_t cap = 0;
    for (const auto* t : traces) cap += t->max_events();
    // An empty trace with room for all: append() onto it copies the first and renumbers the rest.
    auto out = std::make_shared<sim::Trace>(cap);
    if (starts != nullptr) starts->clear();
    for (const auto* t : traces) {
        if (starts != nullptr) starts->push_back(static_cast<std::int64_t>(out->events().size()));
        out->append(*t);
    }
    return out;
}

LaneData make_lane(const std::vector<scenarios::AlgorithmRun>& runs, const std::string& key) {
    LaneData lane;
    lane.key = key;
    std::vector<const sim::Trace*> traces;
    bool all_traced = true;
    for (std::size_t k = 0; k < runs.size(); ++k) {
        const auto& r = runs[k];
        if (r.key() != key) continue;
        lane.runs.push_back(k);
        if (!r.fit.ok) {
            if (!lane.failed) lane.failed = k;
            continue;
        }
        lane.per_head += r.per_head;
        lane.predicted_s += r.cost.total_s;
        if (r.trace) {
            traces.push_back(r.trace.get());
        } else {
            all_traced = false;
        }
    }
    if (lane.failed || !all_traced || traces.empty()) return lane;
    if (traces.size() == 1) {
        lane.trace = runs[lane.runs.front()].trace;
        lane.pass_starts = {0};
    } else {
        lane.trace = join_traces(traces, &lane.pass_starts);
    }
    return lane;
}

void index_lanes(std::vector<LaneData>& lanes, const sim::HardwareSpec& hw) {
    double mean = std::numeric_limits<double>::infinity();
    for (const auto& l : lanes) {
        if (l.trace && !l.trace->events().empty()) {
            const double m = mean_event_seconds(*l.trace, hw);
            if (m > 0) mean = std::min(mean, m);
        }
    }
    const double floor = std::isfinite(mean) ? 0.15 * mean : 1e-9;
    for (auto& l : lanes) {
        if (l.trace) l.index = std::make_shared<const TraceIndex>(build_trace_index(*l.trace, hw, floor));
    }
}

}  // namespace tilesim::viz
