// Count-only sweep speed: N = 128 ... 65536 (10 points), every algorithm, forward and backward, on the
// default scenario (A100-40GB, B = 64, H = 16, d = 64). Prints the wall time (target under 1 s on 2
// cores) and the slopes. Usage: bench_sweep [pass = forward+backward]
#include <cstdio>
#include <string>

#include "bench/timed_sweep.h"
#include "kernels/registry.h"

using namespace tilesim;

int main(int argc, char** argv) {
    const std::string pass = argc > 1 ? argv[1] : "forward+backward";
    auto s = scenarios::default_scenario();
    scenarios::apply_setting(s, "pass", pass);
    std::vector<std::string> values;
    for (long long n = 128; n <= 65536; n *= 2) values.push_back(std::to_string(n));
    const bench::TimedSweep t = bench::timed_sweep(s, values);
    std::printf(
        "count-only sweep seq_len = 128..65536, pass %s (%zu points x %zu runs): %.3f s (best of 3), "
        "%lld tile moves simulated\n",
        pass.c_str(), t.result.points.size(), t.runs_per_point(), t.best_s, static_cast<long long>(t.transfers));
    for (const auto& f : t.result.fits) {
        std::printf("  log-log slope of HBM bytes vs N, %-8s %-8s %s\n", std::string(f.def->key).c_str(),
                    std::string(kernels::pass_name(f.def->pass)).c_str(),
                    f.slope ? std::to_string(*f.slope).c_str() : "undefined");
    }
    return 0;
}
