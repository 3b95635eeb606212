// L2-model sweep speed: N = 128 ... 16384 (8 points), 16 heads, d = 64, standard attention and
// FlashAttention-2, forward, count-only, with the L2 simulated line by line over every head's thread
// blocks (l2 = true) on the H100-SXM preset. Prints the wall time (target under 10 s on 2 cores) and,
// per point, the three traffics and the predicted time. Usage: bench_l2 [hardware = H100-SXM]
#include <chrono>
#include <cstdio>
#include <string>

#include "scenarios/sweep.h"

using namespace tilesim;

int main(int argc, char** argv) {
    const std::string hardware = argc > 1 ? argv[1] : "H100-SXM";
    auto s = scenarios::default_scenario();
    scenarios::apply_settings(s, {"hardware=" + hardware, "batch=1", "heads=16", "head_dim=64",
                                  "algorithms=standard,flash2", "l2=true"});
    std::vector<std::string> values;
    for (long long n = 128; n <= 16384; n *= 2) values.push_back(std::to_string(n));
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = scenarios::run_sweep(s, "seq_len", values, false);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "L2-model sweep seq_len = 128..16384, 16 heads, d = 64, standard + flash2 forward on %s: %.2f s\n",
        hardware.c_str(), wall);
    std::printf("%8s %-9s %12s %12s %12s %12s %10s %8s\n", "N", "algorithm", "into SMs GB", "L2 read GB",
                "L2 hits GB", "DRAM GB", "pred ms", "bound");
    for (const auto& pt : r.points) {
        for (const auto& run : pt.runs) {
            const auto& t = run.traffic;
            std::printf(
                "%8s %-9s %12.4f %12.4f %12.4f %12.4f %10.4f %8s\n", pt.value_text.c_str(),
                std::string(run.key()).c_str(), static_cast<double>(t.sm_load_bytes + t.sm_store_bytes) / 1e9,
                static_cast<double>(t.l2_read_bytes) / 1e9, static_cast<double>(t.l2_read_hit_bytes) / 1e9,
                static_cast<double>(t.dram_read_bytes + t.dram_write_bytes) / 1e9, run.cost.total_s * 1e3,
                std::string(sim::agent_name(run.timeline.bound)).c_str());
        }
    }
    return 0;
}
