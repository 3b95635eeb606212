#include "viz/thread_grid.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "scenarios/timing.h"
#include "sim/timeline.h"

namespace tilesim::viz {

std::int64_t ThreadGrid::wave_of(std::int64_t u, std::int64_t b) const {
    // The launch hands blocks to free slots in grid order (sim/timeline.h); with identical blocks the
    // k-th block starts in wave k / slots.
    const std::int64_t order = head_major ? u * blocks_per_unit + b : b * units + u;
    return order / std::max<std::int64_t>(1, slots);
}

std::vector<WarpRows> split_rows(std::int64_t warps, bool producer, std::int64_t rows) {
    std::vector<WarpRows> out;
    const std::int64_t producers = producer ? std::min<std::int64_t>(4, warps - 1) : 0;
    const std::int64_t consumers = std::max<std::int64_t>(1, warps - producers);
    const std::int64_t per = (rows + consumers - 1) / consumers;
    std::int64_t next = 0;
    for (std::int64_t w = 0; w < warps; ++w) {
        WarpRows r;
        r.warp = static_cast<std::int32_t>(w);
        r.group = static_cast<std::int32_t>(w / 4);
        r.producer = w < producers;
        if (!r.producer) {
            r.row0 = std::min(next, rows);
            r.rows = std::min(per, rows - r.row0);
            next += per;
        }
        out.push_back(r);
    }
    return out;
}

namespace {

// Which blocks of the pass move each HBM tile: a tile one block alone moves is "its" tile.
std::vector<std::vector<BlockTile>> tiles_by_block(const sim::Trace& trace, std::int32_t phase,
                                                   std::int64_t blocks) {
    using Key = std::tuple<int, std::int64_t, std::int64_t, std::int64_t, std::int64_t>;
    std::map<Key, std::set<std::int64_t>> movers;
    std::vector<std::vector<Key>> order(static_cast<std::size_t>(std::max<std::int64_t>(0, blocks)));
    for (const auto& e : trace.events()) {
        if (e.phase != phase || (e.op != sim::Op::Load && e.op != sim::Op::Store)) continue;
        if (e.block < 0 || e.block >= blocks) continue;
        const Key k{static_cast<int>(e.tensor), e.tile.row0, e.tile.col0, e.tile.rows, e.tile.cols};
        auto& who = movers[k];
        if (who.insert(e.block).second) order[static_cast<std::size_t>(e.block)].push_back(k);
    }
    std::vector<std::vector<BlockTile>> out(order.size());
    for (std::size_t b = 0; b < order.size(); ++b) {
        for (const Key& k : order[b]) {
            BlockTile t;
            t.tensor = static_cast<sim::Tensor>(std::get<0>(k));
            t.tile = {std::get<1>(k), std::get<2>(k), std::get<3>(k), std::get<4>(k)};
            t.owned = movers[k].size() == 1;
            out[b].push_back(t);
        }
    }
    return out;
}

}  // namespace

ThreadGrid make_thread_grid(const scenarios::Scenario& s, const scenarios::AlgorithmRun& run,
                            std::size_t phase_in_run, const sim::Trace* trace, std::int32_t trace_phase) {
    ThreadGrid g;
    if (run.def == nullptr || phase_in_run >= run.phases.size()) return g;
    const sim::Phase& ph = run.phases[phase_in_run];
    g.pass_name = ph.name;
    g.phase = trace_phase;
    g.units = std::max<std::int64_t>(1, run.units);
    g.query_heads_per_unit = std::max<std::int64_t>(1, run.query_heads_per_unit);
    g.batch = std::max<std::int64_t>(1, s.problem.batch);
    g.heads_per_batch = std::max<std::int64_t>(1, g.units / g.batch);
    g.blocks_per_unit = std::max<std::int64_t>(1, ph.parallel_units);
    g.total_blocks = g.units * g.blocks_per_unit;

    // The launch exactly as the timeline plans it: same options, same occupancy.
    std::string note;
    const sim::TimelineOptions opt = scenarios::timeline_options(s, *run.def, &note, g.units);
    const sim::PhaseLaunch L = sim::plan_launch(s.hardware, ph, opt);
    g.head_major = opt.order == sim::GridOrder::head_major;
    g.sms = s.hardware.sm_count;
    g.active_sms = L.active_sms;
    g.blocks_per_sm = L.blocks_per_sm;
    g.slots = std::max<std::int64_t>(1, L.slots);
    g.occupancy_limit = L.occupancy_limit;
    g.smem_per_block_bytes = L.smem_per_block_bytes;
    g.waves = (g.total_blocks + g.slots - 1) / g.slots;
    g.tail_blocks = g.total_blocks - (g.waves - 1) * g.slots;

    g.threads = L.shape.threads;
    g.warps = std::max<std::int64_t>(1, L.shape.threads / 32);
    g.warp_groups = std::max<std::int64_t>(1, (g.warps + 3) / 4);
    g.producer = L.shape.producer;
    g.tile_rows = run.tiling.B_r;
    g.tile_cols = run.tiling.B_c;
    g.d = s.problem.d;
    g.T_r = run.tiling.T_r;
    g.T_c = run.tiling.T_c;
    g.q_resident = run.def->rule.q_resident;
    g.warp_rows = split_rows(g.warps, g.producer, g.tile_rows);

    if (trace != nullptr) {
        g.block_tiles = tiles_by_block(*trace, trace_phase, g.blocks_per_unit);
        g.trace_complete = !trace->truncated();
    }
    return g;
}

const ThreadGrid* lane_thread_grid(const Session& s, std::size_t lane) {
    if (s.model() == nullptr || !s.model()->result || lane >= s.lanes().size()) return nullptr;
    const Lane& l = s.lanes()[lane];
    if (!l.runs_ok() || l.trace() == nullptr || l.runs.empty()) return nullptr;
    const auto& events = l.trace()->events();
    if (events.empty()) return nullptr;
    const std::int64_t k =
        std::clamp<std::int64_t>(s.playback().event(lane), 0, static_cast<std::int64_t>(events.size()) - 1);
    const std::int32_t phase = std::max(0, events[static_cast<std::size_t>(k)].phase);
    // The joined trace numbers the passes of every run in turn: find the run and its own pass.
    std::size_t run = 0, local = static_cast<std::size_t>(phase);
    while (run + 1 < l.runs.size() && local >= l.runs[run]->phases.size())
        local -= l.runs[run++]->phases.size();
    struct Cache {
        const ModelOutput* model = nullptr;
        const sim::Trace* trace = nullptr;
        std::int32_t phase = -1;
        ThreadGrid grid;
    };
    static Cache caches[4];  // per lane, the UI thread only
    Cache& cache = caches[std::min<std::size_t>(lane, 3)];
    if (cache.model != s.model() || cache.trace != l.trace() || cache.phase != phase) {
        cache = {s.model(), l.trace(), phase,
                 make_thread_grid(s.model()->result->scenario, *l.runs[run], local, l.trace(), phase)};
    }
    return &cache.grid;
}

}  // namespace tilesim::viz
