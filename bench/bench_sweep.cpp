// Count-only sweep speed: N = 128 ... 65536 (10 points), three algorithms, default scenario
// (A100-40GB, B = 64, H = 16, d = 64). Prints the wall time; target under 1 s on 2 cores.
#include <chrono>
#include <cstdio>

#include "kernels/registry.h"
#include "scenarios/sweep.h"

using namespace tilesim;

int main() {
    auto s = scenarios::default_scenario();
    std::vector<std::string> values;
    for (long long n = 128; n <= 65536; n *= 2) values.push_back(std::to_string(n));
    double best = 1e30;
    scenarios::SweepResult r;
    for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        r = scenarios::run_sweep(s, "seq_len", values, false);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::int64_t transfers = 0;
    for (const auto& pt : r.points) {
        for (const auto& run : pt.runs) transfers += run.per_head.transfers;
    }
    std::printf(
        "count-only sweep seq_len = 128..65536 (%zu points x %zu algorithms): %.3f s (best of 3), "
        "%lld tile moves simulated\n",
        r.points.size(), s.algorithms.size(), best, static_cast<long long>(transfers));
    for (const auto& f : r.fits) {
        std::printf("  log-log slope of HBM bytes vs N, %-8s %.3f\n",
                    std::string(kernels::info(f.algorithm).key).c_str(), f.slope);
    }
    return 0;
}
