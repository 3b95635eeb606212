#pragma once
// What the sweep benchmarks share: a count-only sweep run three times, the best wall time kept, and
// the tile moves it simulated (every point's runs, per head).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/sweep.h"

namespace tilesim::bench {

struct TimedSweep {
    scenarios::SweepResult result;
    double best_s = 0;           // best of 3
    std::int64_t transfers = 0;  // tile moves simulated
    std::size_t runs_per_point() const {
        return result.points.empty() ? 0 : result.points.front().runs.size();
    }
};

inline TimedSweep timed_sweep(const scenarios::Scenario& s, const std::vector<std::string>& values) {
    TimedSweep t;
    t.best_s = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        t.result = scenarios::run_sweep(s, "seq_len", values, false);
        t.best_s =
            std::min(t.best_s, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    for (const auto& pt : t.result.points) {
        for (const auto& run : pt.runs) t.transfers += run.per_head.transfers;
    }
    return t;
}

}  // namespace tilesim::bench
