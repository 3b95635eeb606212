// Count-only decode sweep speed: N_kv = 1024 ... 1048576 (11 points) on the built-in `decode` (standard,
// flash2, decode, flash-decoding; H200, B = 1, H = 32, N_q = 1, d = 128) and `decode-paged` (decode and
// flash-decoding on 16-token shuffled pages: every K/V block gathered page by page). Prints the wall
// time of each sweep (target under 1 s on 2 cores), the tile moves simulated, and the log-log slopes of
// HBM bytes against N_kv (1: the cache is read once). Usage: bench_decode [scenario ...]
#include <cstdio>
#include <string>
#include <vector>

#include "bench/timed_sweep.h"
#include "kernels/registry.h"

using namespace tilesim;

int main(int argc, char** argv) {
    std::vector<std::string> ids;
    for (int a = 1; a < argc; ++a) ids.emplace_back(argv[a]);
    if (ids.empty()) ids = {"decode", "decode-paged"};
    std::vector<std::string> values;
    for (long long n = 1024; n <= 1048576; n *= 2) values.push_back(std::to_string(n));
    for (const auto& id : ids) {
        const auto s = scenarios::resolve_scenario(id);
        const bench::TimedSweep t = bench::timed_sweep(s, values);
        std::printf(
            "count-only decode sweep '%s', seq_len (N_kv) = 1024..1048576 (%zu points x %zu runs): %.3f s (best "
            "of 3), %lld tile moves simulated\n",
            id.c_str(), t.result.points.size(), t.runs_per_point(), t.best_s, static_cast<long long>(t.transfers));
        for (const auto& f : t.result.fits) {
            std::printf("  log-log slope of HBM bytes vs N_kv, %-15s %s\n", std::string(f.def->key).c_str(),
                        f.slope ? std::to_string(*f.slope).c_str() : "undefined");
        }
    }
    return 0;
}
