// sim/work.h: the per-block work summary the hierarchy keeps for the timeline, and what the hierarchy
// records beside it (the SMs' traffic, the working set split into shared memory and registers).
#include <catch2/catch.hpp>

#include "kernels/registry.h"
#include "sim/work.h"
#include "tests/kernels/problem_util.h"

using namespace tilesim;
using namespace tilesim::sim;

namespace {
void load(WorkRecorder& r, std::int64_t bytes) {
    r.add(WorkKind::load, Tensor::K, 0, bytes, 0, 0, 0, 0);
}
void gemm(WorkRecorder& r, std::int64_t flops) {
    r.add(WorkKind::compute, Tensor::S, 0, 0, flops, 0, 0, 0);
}
void store(WorkRecorder& r, std::int64_t bytes) {
    r.add(WorkKind::store, Tensor::O, 0, bytes, 0, 0, 0, 0);
}
}  // namespace

TEST_CASE("work: steps start at a load after arithmetic, identical steps are one run", "[sim][work]") {
    WorkRecorder r;
    r.begin_phase(3);
    // Block 0: [load, gemm] x 3 then [load, gemm, store].
    r.begin_block(0);
    for (int k = 0; k < 3; ++k) {
        load(r, 100);
        gemm(r, 10);
    }
    load(r, 100);
    gemm(r, 10);
    store(r, 50);
    // Block 1: the same: one class with two blocks.
    r.begin_block(1);
    for (int k = 0; k < 3; ++k) {
        load(r, 100);
        gemm(r, 10);
    }
    load(r, 100);
    gemm(r, 10);
    store(r, 50);
    // Block 2: two loads in one step (loads before any arithmetic belong together), a ragged GEMM.
    r.begin_block(2);
    load(r, 100);
    load(r, 100);
    gemm(r, 7);
    const PhaseWork w = r.finish();
    REQUIRE(w.classes.size() == 2);
    CHECK(w.block_class == std::vector<std::int32_t>{0, 0, 1});
    CHECK(w.class_blocks == std::vector<std::int64_t>{2, 1});
    const BlockWork& a = w.classes[0];
    REQUIRE(a.runs.size() == 2);
    CHECK(a.runs[0].repeat == 3);
    CHECK(a.runs[0].step.ops.size() == 2);
    CHECK(a.runs[1].repeat == 1);
    CHECK(a.runs[1].step.ops.size() == 3);
    CHECK(a.steps() == 4);
    CHECK(a.load_bytes() == 400);
    CHECK(a.store_bytes() == 50);
    CHECK(a.mma_flops() == 40);
    REQUIRE(w.classes[1].runs.size() == 1);
    CHECK(w.classes[1].runs[0].step.ops.size() == 3);
    CHECK(w.has_tensor_work());
}

TEST_CASE("work: a block entered again continues where it stopped and may change class", "[sim][work]") {
    WorkRecorder r;
    r.begin_phase(2);
    r.begin_block(0);
    load(r, 100);
    gemm(r, 10);
    r.begin_block(1);
    load(r, 100);
    gemm(r, 10);
    // Back to block 0 (standard attention's S pass re-enters the block it began): one more step.
    r.begin_block(0);
    load(r, 100);
    gemm(r, 10);
    const PhaseWork w = r.finish();
    // Block 0 is [load, gemm] x 2, block 1 [load, gemm] x 1: two classes, one block each.
    REQUIRE(w.classes.size() == 2);
    const BlockWork& b0 = w.classes[static_cast<std::size_t>(w.block_class[0])];
    const BlockWork& b1 = w.classes[static_cast<std::size_t>(w.block_class[1])];
    CHECK(b0.steps() == 2);
    CHECK(b1.steps() == 1);
    CHECK(w.class_blocks[static_cast<std::size_t>(w.block_class[0])] == 1);
    CHECK(w.class_blocks[static_cast<std::size_t>(w.block_class[1])] == 1);
}

TEST_CASE("work: the hierarchy's summary of FlashAttention-2: T_r blocks of T_c steps, the SMs' traffic",
          "[sim][work]") {
    // N = 1000, d = 64, blocks 128 x 128 on an H100: T_r = T_c = 8 (the last ragged, 104 rows).
    const auto hw = *find_preset("H100-SXM");
    kernels::RunOptions o;
    o.numerics = false;
    const auto r = kernels::run(*kernels::find_definition("flash2", kernels::Pass::forward),
                                test::problem(1000, 64, Dtype::fp16), {}, hw, nullptr, o);
    REQUIRE(r.fit.ok);
    REQUIRE(r.tiling.T_r == 8);
    REQUIRE(r.phases.size() == 1);
    const Phase& ph = r.phases[0];
    const PhaseWork& w = ph.work;
    // Full Q blocks and the ragged one: two classes, 7 + 1 blocks.
    REQUIRE(w.classes.size() == 2);
    CHECK(w.class_blocks[0] + w.class_blocks[1] == 8);
    // A block: [load Q_i, init], 7 x [load K_j, V_j, 5 steps of arithmetic], the ragged last K/V block
    // with the epilogue and the stores: 9 steps in 3 runs (the last step differs: ragged and final).
    const BlockWork& full = w.classes[static_cast<std::size_t>(w.block_class[0])];
    CHECK(full.steps() == 9);
    REQUIRE(full.runs.size() == 3);
    CHECK(full.runs[1].repeat == 7);
    // The SMs load what the paper counts as HBM reads (no atomics here), and store its writes.
    CHECK(ph.sm.load_bytes == r.counters.at(Level::HBM).read_bytes);
    CHECK(ph.sm.store_bytes == r.counters.at(Level::HBM).write_bytes);
    CHECK(ph.sm.atomic_bytes == 0);
    // Shared memory: the tiles loads fill (K_j, V_j: 128 x 64 fp16, Q_i too): 3 x 16 KiB. Registers:
    // O_i (128 x 64 fp16), S_ij/P_ij (128 x 128), m_i/L_i and l_i (128 fp32 each).
    CHECK(ph.smem_bytes == 3 * 128 * 64 * 2);
    CHECK(ph.register_bytes == 128 * 64 * 2 + 128 * 128 * 2 + 2 * 128 * 4);
    CHECK(ph.smem_bytes + ph.register_bytes == r.counters.sram_peak_bytes);
}
