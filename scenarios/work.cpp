#include "scenarios/work.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "kernels/registry.h"
#include "kernels/tiling.h"

namespace tilesim::scenarios {

namespace {

// Bytes per distinct tile in a phase's TileSet (sim/tile_set.h): an 8-byte key in a table kept between a
// quarter and a half full, briefly held twice while it grows (measured: 16 to 20 bytes a tile).
constexpr double kTileSetBytesPerTile = 24;
// A trace event in memory (sim::Event) and as a CSV line of the CLI's --trace.
constexpr double kTraceBytesPerEvent = 250;

std::string format_g(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2g", v);
    return buf;
}

}  // namespace

std::string human_duration(double seconds) {
    char buf[48];
    if (seconds < 60) {
        std::snprintf(buf, sizeof buf, "%.1f s", seconds);
    } else if (seconds < 3600) {
        // One decimal below 20 min, so an estimate just above the 10-minute limit never reads "10 min".
        std::snprintf(buf, sizeof buf, seconds < 1200 && std::fmod(seconds, 60) != 0 ? "%.1f min" : "%.0f min", seconds / 60);
    } else if (seconds < 86400 * 2) {
        std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
    } else {
        std::snprintf(buf, sizeof buf, "%.3g days", seconds / 86400);
    }
    return buf;
}

WorkEstimate estimate_work(const Scenario& s, const RunControls& c) {
    WorkEstimate w;
    const kernels::Problem& p = s.problem;
    const bool backward = kernels::includes(p.passes, kernels::Pass::backward);
    const bool forward = kernels::includes(p.passes, kernels::Pass::forward);
    // Head 0 gives the counts; with numerics every sampled head runs every algorithm again.
    const double heads = s.numerics ? static_cast<double>(s.numerics_heads) : 1.0;
    const double NNd = static_cast<double>(p.N_q) * static_cast<double>(p.N_kv) * static_cast<double>(p.d);
    double largest = -1, tile_set = 0, trace_events = 0;
    for (const auto& key : s.algorithms) {
        for (auto pass : {kernels::Pass::forward, kernels::Pass::backward}) {
            const auto* def = kernels::find_definition(key, pass);
            // A backward alone with numerics still runs its forward (uncounted) for O and l, m.
            const bool runs = kernels::includes(p.passes, pass) ||
                              (pass == kernels::Pass::forward && backward && !forward && s.numerics);
            if (def == nullptr || !runs) continue;
            sim::FitStatus fit;
            const kernels::Tiling t = kernels::resolve_tiling(*def, p, s.tiling, s.hardware, &fit);
            if (!fit.ok) continue;
            const double tiles = static_cast<double>(t.T_r) * static_cast<double>(t.T_c);
            w.tile_steps += tiles * heads;
            if (s.numerics) w.numerics_flops += (pass == kernels::Pass::forward ? 4.0 : 10.0) * NNd * heads;
            if (tiles > largest) {
                largest = tiles;
                w.largest = std::string(key) + " " + std::string(kernels::pass_name(pass)) + ": " +
                            std::to_string(t.T_r) + " x " + std::to_string(t.T_c) + " tiles of " +
                            std::to_string(t.B_r) + " x " + std::to_string(t.B_c);
            }
            // One hierarchy at a time holds its distinct-tile set: at most every tile of every tensor.
            double distinct = 0;
            for (const auto& d : def->tensors(p, t)) {
                if (!d.in_hbm) continue;
                distinct += std::ceil(static_cast<double>(d.rows) /
                                      static_cast<double>(std::max<std::int64_t>(1, d.block_rows))) *
                            std::ceil(static_cast<double>(d.cols) /
                                      static_cast<double>(std::max<std::int64_t>(1, d.block_cols)));
            }
            tile_set = std::max(tile_set, distinct * kTileSetBytesPerTile);
            if (c.trace)
                trace_events += std::min(static_cast<double>(c.max_trace_events), tiles * kEventsPerTileStep);
        }
    }
    // The fp64 reference: the forward's two matmuls, and the gradients' five, at half the float rate.
    if (s.numerics)
        w.numerics_flops += 2.0 * ((forward || backward ? 4.0 : 0.0) + (backward ? 10.0 : 0.0)) * NNd * heads;
    // A block mask is consulted per block for every tile and per query row by the report's
    // allowed-pairs count: cheap steps, a hundredth of a tile step each.
    if (p.mask.blocks) {
        const auto& b = *p.mask.blocks;
        w.tile_steps += (static_cast<double>(p.N_q) * static_cast<double>(b.cols) +
                         4.0 * static_cast<double>(b.rows) * static_cast<double>(b.cols)) /
                        100.0;
    }
    w.host_bytes = tile_set + trace_events * kTraceBytesPerEvent;
    return w;
}

std::string describe_work(const WorkEstimate& w) {
    std::string out = format_g(w.tile_steps) + " tile steps";
    if (!w.largest.empty()) out += " (" + w.largest + ")";
    if (w.numerics_flops > 0) out += " and " + format_g(w.numerics_flops) + " FLOPs of numerics";
    return out + ", about " + human_duration(w.seconds()) + " on a classroom machine";
}

void check_work(const WorkEstimate& w, double max_seconds) {
    if (max_seconds <= 0 || w.seconds() <= max_seconds) return;
    std::string fix = "reduce seq_len";
    if (w.numerics_flops / kNumericsFlopsPerSecond > w.tile_steps / kTileStepsPerSecond) {
        fix += " or numerics_heads, or set numerics=false (count-only: identical counts)";
    } else {
        fix += ", or give the tiles more room (sram_bytes, block_rows, block_cols)";
    }
    throw ScenarioError("this run would take " + describe_work(w) + ", above the limit of " +
                        human_duration(max_seconds) + "; " + fix + ", or pass --allow-long to run it anyway");
}

}  // namespace tilesim::scenarios
