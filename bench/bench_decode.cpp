// Count-only decode sweep speed: N_kv = 1024 ... 1048576 (11 points) on the built-in `decode` (standard,
// flash2, decode, flash-decoding; H200, B = 1, H = 32, N_q = 1, d = 128) and `decode-paged` (decode and
// flash-decoding on 16-token shuffled pages: every K/V block gathered page by page). Prints the wall
// time of each sweep (target under 1 s on 2 cores), the tile moves simulated, and the log-log slopes of
// HBM bytes against N_kv (1: the cache is read once). Usage: bench_decode [scenario ...]
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/registry.h"
#include "scenarios/sweep.h"

using namespace tilesim;

int main(int argc, char** argv) {
    std::vector<std::string> ids;
    for (int a = 1; a < argc; ++a) ids.emplace_back(argv[a]);
    if (ids.empty()) ids = {"decode", "decode-paged"};
    std::vector<std::string> values;
    for (long long n = 1024; n <= 1048576; n *= 2) values.push_back(std::to_string(n));
    for (const auto& id : ids) {
        const auto s = scenarios::resolve_scenario(id);
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
            "count-only decode sweep '%s', seq_len (N_kv) = 1024..1048576 (%zu points x %zu runs): %.3f s (best "
            "of 3), %lld tile moves simulated\n",
            id.c_str(), r.points.size(), r.points.empty() ? std::size_t{0} : r.points.front().runs.size(), best,
            static_cast<long long>(transfers));
        for (const auto& f : r.fits) {
            std::printf("  log-log slope of HBM bytes vs N_kv, %-15s %s\n", std::string(f.def->key).c_str(),
                        f.slope ? std::to_string(*f.slope).c_str() : "undefined");
        }
    }
    return 0;
}
