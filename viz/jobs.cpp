#include "viz/jobs.h"

#include <algorithm>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace tilesim::viz {

void lower_thread_priority() {
#ifdef __linux__
    // On Linux a nice value applies to one thread when given its thread id.
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    setpriority(PRIO_PROCESS, tid, 10);
#endif
}

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

scenarios::RunControls controls_for(const std::atomic<bool>& cancel, JobProgress& progress) {
    scenarios::RunControls c;
    c.cancel = &cancel;
    c.progress = [&progress](std::int64_t done, std::int64_t total) {
        progress.total = total;
        progress.done = done;
    };
    return c;
}
}  // namespace

ModelOutput run_model(const ModelRequest& req, const std::atomic<bool>& cancel, JobProgress& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    ModelOutput out;
    out.request = req;
    try {
        scenarios::Scenario s = req.scenario;
        s.numerics = req.numerics;
        scenarios::RunControls c = controls_for(cancel, progress);
        c.trace = true;
        // A lane plays all its passes: they share its event budget.
        const auto passes = static_cast<std::int64_t>(scenarios::passes_of(s).size());
        c.max_trace_events =
            std::max<std::int64_t>(1, req.max_trace_events / std::max<std::int64_t>(1, passes));
        c.watch_block = req.watch_block;
        out.result = scenarios::run_scenario(s, c);
        for (const auto& key : s.algorithms) out.lanes.push_back(make_lane(out.result->runs, key));
        index_lanes(out.lanes, s.hardware);
    } catch (const std::exception& e) {
        // ScenarioError (bad combination, not enough host memory, cancelled) or a model bug: either
        // way a message for the panel, never a crash.
        out.result.reset();
        out.lanes.clear();
        out.error = e.what();
    }
    out.seconds = seconds_since(t0);
    return out;
}

const LaneData* ModelOutput::lane(std::string_view key) const {
    for (const auto& l : lanes) {
        if (l.key == key) return &l;
    }
    return nullptr;
}

SweepOutput run_sweep_job(const SweepRequest& req, const std::atomic<bool>& cancel, JobProgress& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    SweepOutput out;
    out.request = req;
    try {
        out.result =
            scenarios::run_sweep(req.base, req.key, req.values, false, controls_for(cancel, progress));
    } catch (const std::exception& e) {
        out.result.reset();
        out.error = e.what();
    }
    out.seconds = seconds_since(t0);
    return out;
}

}  // namespace tilesim::viz
