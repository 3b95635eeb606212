// Count-only sweep speed: N = 128 ... 65536 (10 points), every algorithm, forward and backward, on the
// default scenario (A100-40GB, B = 64, H = 16, d = 64). Prints the wall time (target under 1 s on 2
// cores) and the slopes. Usage: bench_sweep [pass = forward+backward]
#include <chrono>
#include <cstdio>
#include <string>

#include "kernels/registry.h"
#include "scenarios/sweep.h"

using namespace tilesim;

int main(int argc, char** argv) {
    const std::string pass = argc > 1 ? argv[1] : "forward+backward";
    auto s = scenarios::default_scenario();
    scenarios::apply_setting(s, "pass", pass);
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
        "count-only sweep seq_len = 128..65536, pass %s (%zu points x %zu runs): %.3f s (best of 3), "
        "%lld tile moves simulated\n",
        pass.c_str(), r.points.size(), r.points.empty() ? std::size_t{0} : r.points.front().runs.size(), best,
        static_cast<long long>(transfers));
    for (const auto& f : r.fits) {
        std::printf("  log-log slope of HBM bytes vs N, %-8s %-8s %s\n", std::string(f.def->key).c_str(),
                    std::string(kernels::pass_name(f.def->pass)).c_str(),
                    f.slope ? std::to_string(*f.slope).c_str() : "undefined");
    }
    return 0;
}
