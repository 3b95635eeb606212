#pragma once
// The thread hierarchy of one kernel pass, read from the model: the grid of thread blocks over
// (batch, head, block of the pass), the waves they run in over the SMs (sim::plan_launch: blocks per
// SM from the occupancy of the pass's working set), the warps inside one block, and which tiles each
// block touches (from the trace's `block` ids, so no algorithm's loop order is re-derived here).
//
// No ImGui: threads_panel.cpp draws this, tests check it against the model's launch.
#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/runner.h"
#include "sim/trace.h"
#include "viz/session.h"

namespace tilesim::viz {

// One HBM tile a block moves, and whether it is the only block of its pass that moves it.
struct BlockTile {
    sim::Tensor tensor = sim::Tensor::Q;
    sim::Rect tile{};
    bool owned = false;  // no other block of the pass loads or stores it (Q_i, O_i for FA2)
};

// A warp of one block and the rows of the block's S_ij (and Q_i) tile it computes.
struct WarpRows {
    std::int32_t warp = 0;
    std::int32_t group = 0;  // its warp group (4 warps)
    bool producer = false;   // a producer warp issues copies and owns no rows
    std::int64_t row0 = 0, rows = 0;
};

struct ThreadGrid {
    std::string pass_name;
    std::int32_t phase = -1;  // id in the lane's (joined) trace
    std::int64_t units = 1;   // simulated units: (batch, head), or (batch, KV head) packed
    std::int64_t query_heads_per_unit = 1;
    std::int64_t batch = 1, heads_per_batch = 1;  // units = batch x heads_per_batch
    std::int64_t blocks_per_unit = 1;             // the pass's parallel_units
    std::int64_t total_blocks = 1;                // units x blocks_per_unit
    bool head_major = true;                       // grid order: all blocks of head 0 first
    std::int64_t sms = 1, active_sms = 1, blocks_per_sm = 1, slots = 1;
    std::string occupancy_limit;  // "shared memory", "registers", ...
    std::int64_t smem_per_block_bytes = 0;
    std::int64_t waves = 1;        // ceil(total_blocks / slots)
    std::int64_t tail_blocks = 0;  // blocks in the last wave (== slots when it is full)
    // Inside a block (the launch's block shape).
    std::int64_t threads = 128;
    std::int64_t warps = 4;
    std::int64_t warp_groups = 1;
    bool producer = false;
    std::int64_t tile_rows = 0;  // rows of S_ij a block computes at a time: B_r of the tiling
    std::int64_t tile_cols = 0;  // B_c
    std::int64_t d = 0;
    std::int64_t T_r = 1, T_c = 1;
    // The definition's tiling rule: Q blocks resident (each block keeps Q_i and loops over K/V
    // blocks, FlashAttention-2's order) or K/V blocks resident (an outer loop over K_j, V_j, as in
    // FlashAttention's Algorithm 1 and the backwards).
    bool q_resident = true;
    std::vector<WarpRows> warp_rows;
    // Per block id of unit 0, the tiles it moves (from the trace; empty when the trace was capped
    // before the pass).
    std::vector<std::vector<BlockTile>> block_tiles;
    bool trace_complete = true;

    // The wave of block `b` of unit `u` in the grid's launch order.
    std::int64_t wave_of(std::int64_t u, std::int64_t b) const;
};

// The pass (kernel) of `run` with id `phase_in_run` (0-based among run.phases), whose events are the
// trace's phase `trace_phase`. Null trace: no tiles.
ThreadGrid make_thread_grid(const scenarios::Scenario& s, const scenarios::AlgorithmRun& run,
                            std::size_t phase_in_run, const sim::Trace* trace, std::int32_t trace_phase);

// The grid of the pass under the play head in lane `lane` of the session (null when that lane has
// nothing to show: no model, a failed fit, no trace). Cached per model result and pass, so drawing it
// every frame costs one lookup; valid until the next Session::update().
const ThreadGrid* lane_thread_grid(const Session& s, std::size_t lane);

// The warps' rows: `warps` warps (the first group producers when `producer`), splitting `rows`
// evenly among the consumers (the last ones may get fewer, or none).
std::vector<WarpRows> split_rows(std::int64_t warps, bool producer, std::int64_t rows);

}  // namespace tilesim::viz
