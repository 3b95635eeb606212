// sim/program.h and sim/timeline.h on cases small enough to follow by hand. Rates are round numbers
// (bytes, FLOPs and operations per second), so every start and end below is a small integer of
// seconds; each expected time carries its derivation.
#include <catch2/catch.hpp>

#include "sim/program.h"
#include "sim/timeline.h"
#include "tests/sim/work_ops.h"

using namespace tilesim::sim;
using namespace tilesim::sim::test;

namespace {

// Copy 100 B/s, tensor 100 FLOP/s, exp 10/s, FP32 100/s; a load waits 1 s for its first byte.
SmRates round_rates() {
    return rates(100, 100, 10, 100, 1);
}

// `steps` identical steps of: load `bytes`, then a GEMM of `flops`.
BlockWork load_then_gemm(std::int64_t steps, std::int64_t bytes, std::int64_t flops) {
    BlockWork w;
    w.runs.push_back({{{load(bytes), gemm(flops)}}, steps});
    return w;
}

// The op ids of `lane` in issue order.
const std::vector<std::int32_t>& lane(const Program& p, std::size_t l) {
    return p.lane_ops.at(l);
}

}  // namespace

TEST_CASE("timeline: sync, one block, two steps: load, wait, compute, in order", "[sim][timeline]") {
    // Step 0: the load is issued at 0, its first byte arrives at 1 (latency), 100 B at 100 B/s end at 2;
    // the GEMM (200 FLOP at 100 FLOP/s) runs 2..4. Step 1: the load is issued when the GEMM ends (the
    // lane waits for it): 4, bytes from 5, done 6; GEMM 6..8.
    const Program p = build_program(load_then_gemm(2, 100, 200), block_shape(Schedule::sync, true), 1, 1,
                                    round_rates(), 12);
    REQUIRE(p.lanes.size() == 1);
    const auto& ops = lane(p, 0);
    REQUIRE(ops.size() == 4);
    const SimResult s = run_program(p);
    const double issue[] = {0, 2, 4, 6}, start[] = {1, 2, 5, 6}, end[] = {2, 4, 6, 8};
    for (std::size_t k = 0; k < 4; ++k) {
        INFO("op " << k);
        CHECK(s.op_issue[static_cast<std::size_t>(ops[k])] == Approx(issue[k]));
        CHECK(s.op_start[static_cast<std::size_t>(ops[k])] == Approx(start[k]));
        CHECK(s.op_done[static_cast<std::size_t>(ops[k])] == Approx(end[k]));
    }
    CHECK(s.makespan == Approx(8));
    // Busy time is work at full rate: the copy engine 2 x 1 s, the tensor cores 2 x 2 s.
    CHECK(s.busy[0] == Approx(2));
    CHECK(s.busy[1] == Approx(4));
}

TEST_CASE("timeline: producer-consumer with two stages hides the loads", "[sim][timeline]") {
    // Three steps. The producer issues load 0 and load 1 at 0 (two ring slots free); both wait their
    // latency together (0..1), then the copy engine serves them in issue order: load 0 1..2, load 1
    // 2..3. Load 2 needs slot 0 back: GEMM 0 (2..4) releases it at 4, so it is issued at 4, first byte
    // at 5, done 6. The consumer: GEMM 0 2..4, GEMM 1 4..6 (load 1 was there at 3), GEMM 2 6..8.
    // Makespan 8, against 12 for sync (3 x 4).
    const BlockWork w = load_then_gemm(3, 100, 200);
    const Program p =
        build_program(w, block_shape(Schedule::producer_consumer, true), 1, 2, round_rates(), 12);
    REQUIRE(p.lanes.size() == 2);  // producer, consumer
    const auto& loads = lane(p, 0);
    const auto& gemms = lane(p, 1);
    REQUIRE(loads.size() == 3);
    REQUIRE(gemms.size() == 3);
    const SimResult s = run_program(p);
    const double load_issue[] = {0, 0, 4}, load_end[] = {2, 3, 6};
    const double gemm_start[] = {2, 4, 6}, gemm_end[] = {4, 6, 8};
    for (std::size_t k = 0; k < 3; ++k) {
        INFO("step " << k);
        CHECK(s.op_issue[static_cast<std::size_t>(loads[k])] == Approx(load_issue[k]));
        CHECK(s.op_done[static_cast<std::size_t>(loads[k])] == Approx(load_end[k]));
        CHECK(s.op_start[static_cast<std::size_t>(gemms[k])] == Approx(gemm_start[k]));
        CHECK(s.op_done[static_cast<std::size_t>(gemms[k])] == Approx(gemm_end[k]));
    }
    CHECK(s.makespan == Approx(8));
    const Program sync = build_program(w, block_shape(Schedule::sync, true), 1, 2, round_rates(), 12);
    CHECK(run_program(sync).makespan == Approx(12));
}

TEST_CASE("timeline: two blocks on one SM share each agent, and run as one block at half the rates",
          "[sim][timeline]") {
    // Two identical blocks, two steps each, start together. Both loads wait the latency (0..1), then
    // share the copy engine (50 B/s each): done 3. Both GEMMs share the tensor cores: 3..7. Step 1:
    // issue 7, bytes 8..10, GEMMs 10..14. So 14, against 2 x 8 = 16 one after the other: the latency
    // is waited once for both.
    const BlockWork w = load_then_gemm(2, 100, 200);
    const Program two = build_program(w, block_shape(Schedule::sync, true), 2, 1, round_rates(), 12);
    REQUIRE(two.lanes.size() == 2);
    CHECK(run_program(two).makespan == Approx(14));
    SmRates half = round_rates();
    half.copy_bytes /= 2;
    half.tensor_flops /= 2;
    half.sfu_ops /= 2;
    half.fma_ops /= 2;
    half.smem_bytes /= 2;
    const Program one = build_program(w, block_shape(Schedule::sync, true), 1, 1, half, 12);
    CHECK(run_program(one).makespan == Approx(14));
}

TEST_CASE("timeline: a long run of identical steps is simulated in part, with the same length",
          "[sim][timeline]") {
    // 40 steps of 4 s each (sync: latency 1 + copy 1 + GEMM 2) take 160 s; the program keeps 12 of
    // them, and the timeline extrapolates the rest from the steady period.
    const BlockWork w = load_then_gemm(40, 100, 200);
    const Program cut = build_program(w, block_shape(Schedule::sync, true), 1, 1, round_rates(), 12);
    CHECK(cut.step_run.size() == 12);
    CHECK(run_program(cut).makespan == Approx(48));
    const Program all = build_program(w, block_shape(Schedule::sync, true), 1, 1, round_rates(), 1000);
    CHECK(run_program(all).makespan == Approx(160));
}

TEST_CASE("timeline: ping-pong alternates the two warp groups' GEMM windows and hides the softmax",
          "[sim][timeline]") {
    // Steps of [S GEMM 200, softmax 20 exps, O GEMM 200]: each warp group takes half: GEMMs of 1 s,
    // softmax 1 s (10 exps at 10/s). One group alone: 1 + 1 + 1 = 3 s a step; the tensor cores need
    // 4 s a step for both, so with the other group's GEMMs hiding each softmax the steps approach 4 s.
    BlockWork w;
    w.runs.push_back({{{load(100, Tensor::Q), softmax(0, 1)}}, 1});
    w.runs.push_back(
        {{{load(100, Tensor::K), load(100, Tensor::V), gemm(200), softmax(20, 0), gemm(200)}}, 8});
    SmRates r = round_rates();
    r.latency_s = 0;
    r.copy_bytes = 1e6;  // copies out of the way
    const Program p = build_program(w, block_shape(Schedule::pingpong, true), 1, 2, r, 12);
    REQUIRE(p.lanes.size() == 3);  // producer, warp groups A and B
    const SimResult s = run_program(p);
    // The tensor cores are busy 8 steps x 4 s; the makespan is within one step of that.
    CHECK(s.busy[1] == Approx(32));
    CHECK(s.makespan < 32 + 4);
    // Never both groups' GEMMs at once: their tensor-core spans do not overlap.
    std::vector<std::pair<double, double>> a, b;
    for (std::size_t i = 0; i < p.ops.size(); ++i) {
        if (p.ops[i].work[1] <= 0) continue;
        auto& list = p.ops[i].lane == 1 ? a : b;
        list.push_back({s.op_start[i], s.op_done[i]});
    }
    REQUIRE(a.size() == 16);
    REQUIRE(b.size() == 16);
    for (const auto& x : a) {
        for (const auto& y : b) CHECK((x.second <= y.first + 1e-9 || y.second <= x.first + 1e-9));
    }
    // Without the ping-pong's order, the same two groups run in lockstep (the softmaxes coincide):
    // a synchronous single group does 8 x (1 + 2 + 1 + 2) = 48 s of its 4-s GEMM pairs and 2-s softmax.
    const Program sync = build_program(w, block_shape(Schedule::sync, true), 1, 2, r, 12);
    CHECK(run_program(sync).makespan > s.makespan + 8);
}

TEST_CASE("timeline: a ping-pong turn that waits for one wgmma before the next pays the hand-off",
          "[sim][timeline]") {
    // Three steps of [S GEMM 200, softmax 20 exps, O GEMM 200], copies out of the way; each warp group
    // takes half: S 1 s, softmax 1 s (10 exps at 10/s), O 1 s; the hand-off (wgmma_wait_s) 1 s. A
    // group's turns: [S0], [O0, S1], [O1, S2], [O2]; without pipelining it waits for O_j (blocking)
    // before issuing S_j+1, so S_j+1 starts 1 s after O_j ends. By hand (A, B alternate):
    //   A: S0 0-1, softmax 1-2;   B: S0 1-2, softmax 2-3
    //   A: O0 2-3, S1 issued 3, runs 4-5, softmax 5-6
    //   B: O0 5-6 (after A's turn), S1 7-8, softmax 8-9
    //   A: O1 8-9, S2 10-11, softmax 11-12;   B: O1 11-12, S2 13-14, softmax 14-15
    //   A: O2 14-15;   B: O2 15-16: 16 s, the ideal hand-off's 12 (the tensor cores' 12 x 1 s) plus
    //   one second in each of the four two-GEMM turns.
    BlockWork w;
    w.runs.push_back(
        {{{load(100, Tensor::K), load(100, Tensor::V), gemm(200), softmax(20, 0), gemm(200)}}, 3});
    SmRates r = round_rates();
    r.latency_s = 0;
    r.copy_bytes = 1e12;  // copies out of the way
    r.wgmma_wait_s = 1;
    const Program p = build_program(w, block_shape(Schedule::pingpong, true), 1, 2, r, 12);
    REQUIRE(p.lanes.size() == 3);  // producer, warp groups A and B
    const SimResult s = run_program(p);
    CHECK(s.makespan == Approx(16).margin(1e-6));
    CHECK(s.busy[1] == Approx(12).margin(1e-6));
    // Group A's GEMMs in issue order: S0, O0, S1, O1, S2, O2.
    std::vector<std::size_t> a;
    for (std::int32_t id : lane(p, 1)) {
        if (p.ops[static_cast<std::size_t>(id)].work[1] > 0) a.push_back(static_cast<std::size_t>(id));
    }
    REQUIRE(a.size() == 6);
    const double start[] = {0, 2, 4, 8, 10, 14};
    for (std::size_t k = 0; k < 6; ++k) CHECK(s.op_start[a[k]] == Approx(start[k]).margin(1e-6));
    CHECK(s.op_issue[a[2]] == Approx(3).margin(1e-6));  // S1: issued when O0 ends, then the hand-off
    // The ideal hand-off: 12 s.
    SmRates ideal = r;
    ideal.wgmma_wait_s = 0;
    CHECK(run_program(build_program(w, block_shape(Schedule::pingpong, true), 1, 2, ideal, 12)).makespan ==
          Approx(12).margin(1e-6));
    // Intra-warpgroup pipelining issues a turn's two GEMMs back to back (no wait between them), and
    // the schedules without ping-pong have no barrier-held turns: none of them pays it.
    for (Schedule sch : {Schedule::pingpong_pipelined, Schedule::pipelined, Schedule::producer_consumer,
                         Schedule::sync}) {
        const double with = run_program(build_program(w, block_shape(sch, true), 1, 2, r, 12)).makespan;
        const double without = run_program(build_program(w, block_shape(sch, true), 1, 2, ideal, 12)).makespan;
        CHECK(with == Approx(without));
    }
}

TEST_CASE("timeline: FA3's pipelining overlaps the next step's first GEMM with this step's softmax",
          "[sim][timeline]") {
    // One warp group, steps [S 200, softmax 20 exps (2 s), O 200]. Synchronous: 2 + 2 + 2 = 6 s a
    // step. Pipelined: S_j+1 runs under softmax_j, so a step is the tensor cores' 4 s.
    BlockWork w;
    w.runs.push_back({{{load(100, Tensor::Q), softmax(0, 1)}}, 1});
    w.runs.push_back(
        {{{load(100, Tensor::K), load(100, Tensor::V), gemm(200), softmax(20, 0), gemm(200)}}, 10});
    SmRates r = round_rates();
    r.latency_s = 0;
    r.copy_bytes = 1e6;
    const double pipelined =
        run_program(build_program(w, block_shape(Schedule::pipelined, true), 1, 2, r, 20)).makespan;
    const double plain =
        run_program(build_program(w, block_shape(Schedule::producer_consumer, true), 1, 2, r, 20)).makespan;
    CHECK(plain == Approx(60).epsilon(0.02));
    CHECK(pipelined < 10 * 4 + 4);
    CHECK(pipelined > 10 * 4 - 1e-9);
}

TEST_CASE("timeline: occupancy is the tightest of shared memory, registers, threads and blocks",
          "[sim][timeline]") {
    auto hw = *find_preset("H100-SXM");
    // 228 KB per SM: two blocks of 100 KB; 65536 registers: two of 32640; 2048 threads: sixteen of 128.
    Occupancy o = occupancy(hw, 100 * 1024, 128, 32640);
    CHECK(o.blocks_per_sm == 2);
    CHECK(o.limit == "shared memory");
    // Registers bind first: 65536 / 40000 = 1 block, though two would fit in shared memory.
    o = occupancy(hw, 100 * 1024, 128, 40000);
    CHECK(o.blocks_per_sm == 1);
    CHECK(o.limit == "registers");
    // Tiny blocks: the 32-block limit.
    o = occupancy(hw, 1024, 32, 32 * 32);
    CHECK(o.blocks_per_sm == 32);
    CHECK(o.limit == "blocks per SM");
    // Threads: 2048 / 384 = 5.
    o = occupancy(hw, 1024, 384, 384 * 24);
    CHECK(o.blocks_per_sm == 5);
    CHECK(o.limit == "threads");
}

TEST_CASE("timeline: blocks run in waves, the last wave's tail shows", "[sim][timeline]") {
    // Greedy scheduling in grid order: 3 blocks of 1 s on 2 slots take 2 s (two waves, the second half
    // empty); 4 take 2 s as well; 5 take 3.
    CHECK(grid_makespan({1, 1, 1}, 2) == Approx(2));
    CHECK(grid_makespan({1, 1, 1, 1}, 2) == Approx(2));
    CHECK(grid_makespan({1, 1, 1, 1, 1}, 2) == Approx(3));
    // A long block first: the others fill the other slot meanwhile (3, then 1 + 1 + 1).
    CHECK(grid_makespan({3, 1, 1, 1}, 2) == Approx(3));

    // Through the whole timeline: one pass of 5 identical blocks (one class) on a 2-SM machine that
    // holds one block per SM; each block is 2 s of tensor work. 3 waves: 6 s; waves = 5 / 2 = 2.5.
    HardwareSpec hw = *find_preset("classroom");
    hw.sm_count = 2;
    hw.mma_sync_flops_per_s = hw.wgmma_flops_per_s = 2 * 100;  // 100 FLOP/s per SM
    Phase ph;
    ph.name = "toy";
    ph.parallel_units = 5;
    ph.work.classes.push_back({});
    ph.work.classes[0].runs.push_back({{{gemm(200)}}, 1});
    ph.work.class_blocks = {5};
    ph.work.block_class = {0, 0, 0, 0, 0};
    TimelineOptions o;
    o.heads = 1;
    const auto t = simulate_timeline(hw, {ph}, {PhaseMemory{}}, o);
    REQUIRE(t.phases.size() == 1);
    CHECK(t.phases[0].blocks == 5);
    CHECK(t.phases[0].blocks_per_sm == 1);
    CHECK(t.phases[0].waves == Approx(2.5));
    CHECK(t.total_s == Approx(6));
    CHECK(t.phases[0].bound == Agent::tensor);
    // Tensor cores: 5 blocks x 2 s of work over 2 SMs x 6 s.
    CHECK(t.phases[0].busy[static_cast<std::size_t>(Agent::tensor)] == Approx(10.0 / 12.0));
    // Two heads of the same pass: 10 blocks, 5 waves, 10 s.
    o.heads = 2;
    CHECK(simulate_timeline(hw, {ph}, {PhaseMemory{}}, o).total_s == Approx(10));
}

TEST_CASE("timeline: DRAM is a device-wide agent: a pass lasts at least its bytes over DRAM's rate",
          "[sim][timeline]") {
    // The same 5-block pass, now with 12 GB of DRAM traffic on a 1 GB/s machine (classroom: DRAM
    // reaches all of it): 12 s, bound by DRAM, whatever the SMs take.
    HardwareSpec hw = *find_preset("classroom");
    hw.sm_count = 2;
    hw.mma_sync_flops_per_s = hw.wgmma_flops_per_s = 200;
    Phase ph;
    ph.work.classes.push_back({});
    ph.work.classes[0].runs.push_back({{{load(1000), gemm(200)}}, 1});
    ph.work.class_blocks = {5};
    ph.work.block_class = {0, 0, 0, 0, 0};
    PhaseMemory m;  // the SMs' traffic as the L2 model would report it, all of it missing the L2
    m.sm_bytes = 12'000'000'000;
    m.dram_bytes = 12'000'000'000;
    const auto t = simulate_timeline(hw, {ph}, {m}, TimelineOptions{});
    CHECK(t.total_s == Approx(12));
    CHECK(t.phases[0].bound == Agent::dram);
    CHECK(t.phases[0].busy[static_cast<std::size_t>(Agent::dram)] == Approx(1));
}
