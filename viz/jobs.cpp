#include "viz/jobs.h"

#include <algorithm>
#include <cmath>
#include <limits>

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
        c.max_trace_events = req.max_trace_events;
        c.watch_block = req.watch_block;
        out.result = scenarios::run_scenario(s, c);

        // One animation floor for every lane keeps the race fair: a fraction of the cheapest
        // algorithm's mean event time, so zero-cost events get a frame without slowing the rest.
        double mean = std::numeric_limits<double>::infinity();
        for (const auto& r : out.result->runs) {
            if (r.trace && !r.trace->events().empty()) {
                const double m = mean_event_seconds(*r.trace, s.hardware);
                if (m > 0) mean = std::min(mean, m);
            }
        }
        const double floor = std::isfinite(mean) ? 0.15 * mean : 1e-9;
        for (const auto& r : out.result->runs) {
            if (r.trace && r.fit.ok) {
                out.indices.push_back(
                    std::make_shared<const TraceIndex>(build_trace_index(*r.trace, s.hardware, floor)));
            } else {
                out.indices.push_back(nullptr);
            }
        }
    } catch (const std::exception& e) {
        // ScenarioError (bad combination, not enough host memory, cancelled) or a model bug: either
        // way a message for the panel, never a crash.
        out.result.reset();
        out.indices.clear();
        out.error = e.what();
    }
    out.seconds = seconds_since(t0);
    return out;
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
