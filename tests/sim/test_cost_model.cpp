// sim/cost_model.h: roofline per phase (slowest resource), phases add, wave-quantised occupancy.
// Every expected time is computed by hand in the comments from round-number rates.
#include <catch2/catch.hpp>

#include "sim/cost_model.h"

using namespace tilesim::sim;

namespace {

// Round rates: HBM 1 GB/s, L2 2 GB/s, SRAM 10 GB/s, 4 SMs, matmul 1 TFLOP/s, vector 10 GFLOP/s.
HardwareSpec round_machine() {
    HardwareSpec hw;
    hw.name = "round";
    hw.hbm_bytes_per_s = 1e9;
    hw.l2_bytes_per_s = 2e9;
    hw.sram_bytes_per_s = 1e10;
    hw.sram_bytes = 1024;
    hw.sm_count = 4;
    hw.l2_bytes = 1 << 20;
    hw.matmul_flops_per_s = 1e12;
    hw.vector_flops_per_s = 1e10;
    return hw;
}

Phase make_phase(const char* name, std::int64_t units, std::int64_t hbm_r, std::int64_t hbm_w,
                 std::int64_t l2_r, std::int64_t sram_rw, std::int64_t matmul, std::int64_t other) {
    Phase p;
    p.name = name;
    p.parallel_units = units;
    auto& c = p.counters;
    c.level[static_cast<std::size_t>(Level::HBM)].read_bytes = hbm_r;
    c.level[static_cast<std::size_t>(Level::HBM)].write_bytes = hbm_w;
    // One tensor, every tile moved once: nothing for the L2 to absorb, so DRAM = the HBM traffic.
    auto& q = c.by_tensor[static_cast<std::size_t>(Level::HBM)][static_cast<std::size_t>(Tensor::Q)];
    q.read_bytes = hbm_r;
    q.write_bytes = hbm_w;
    p.hbm_unique[static_cast<std::size_t>(Tensor::Q)] = q;
    c.level[static_cast<std::size_t>(Level::L2)].read_bytes = l2_r;
    c.level[static_cast<std::size_t>(Level::SRAM)].read_bytes = sram_rw;
    c.matmul_flops = matmul;
    c.other_flops = other;
    return p;
}

}  // namespace

TEST_CASE("predict: an HBM-bound phase on full waves", "[sim][cost]") {
    const auto hw = round_machine();
    // 2 units x 2 heads = 4 blocks on 4 SMs: one full wave, occupancy 1.
    // HBM: (3000 + 1000) B x 2 heads = 8000 B / 1e9 = 8 us.
    // L2 (every off-chip request passes through it): 8000 B / 2e9 = 4 us.
    // SRAM: 20000 x 2 = 40000 B / 1e10 = 4 us. Compute: 2e6 x 2 / 1e12 + 1000 x 2 / 1e10 = 4 us + 0.2 us.
    const auto cb = predict(hw, {make_phase("a", 2, 3000, 1000, 0, 20000, 2'000'000, 1000)}, 2);
    REQUIRE(cb.phases.size() == 1);
    const auto& p = cb.phases[0];
    CHECK(p.name == "a");
    CHECK(p.occupancy == Approx(1.0));
    CHECK(p.hbm_s == Approx(8e-6));
    CHECK(p.l2_s == Approx(4e-6));
    CHECK(p.sram_s == Approx(4e-6));
    CHECK(p.compute_s == Approx(4.2e-6));
    CHECK(p.time_s == Approx(8e-6));
    CHECK(p.bound == "HBM");
    CHECK(cb.total_s == Approx(8e-6));
}

TEST_CASE("predict: partial waves slow on-chip work but not HBM", "[sim][cost]") {
    const auto hw = round_machine();
    // 1 unit x 6 heads = 6 blocks on 4 SMs: ceil(6/4) = 2 waves of 4 slots, occupancy 6/8 = 0.75.
    // HBM: 1000 x 6 = 6000 B -> 6 us (not divided by occupancy: all SMs share the bandwidth).
    // SRAM: 30000 x 6 = 180000 B / 1e10 = 18 us / 0.75 = 24 us.
    // Compute: (1e6 x 6 / 1e12 = 6 us) + (1000 x 6 / 1e10 = 0.6 us) = 6.6 us / 0.75 = 8.8 us.
    const auto cb = predict(hw, {make_phase("b", 1, 1000, 0, 0, 30000, 1'000'000, 1000)}, 6);
    const auto& p = cb.phases.at(0);
    CHECK(p.occupancy == Approx(0.75));
    CHECK(p.hbm_s == Approx(6e-6));
    CHECK(p.sram_s == Approx(24e-6));
    CHECK(p.compute_s == Approx(8.8e-6));
    CHECK(p.time_s == Approx(24e-6));
    CHECK(p.bound == "SRAM");

    // 5 blocks on 4 SMs: 2 waves, occupancy 5/8.
    CHECK(predict(hw, {make_phase("c", 5, 0, 0, 0, 0, 1, 0)}, 1).phases[0].occupancy == Approx(0.625));
    // 1 block on 4 SMs: occupancy 1/4: a lone block gets one SM's share of the compute.
    const auto lone = predict(hw, {make_phase("d", 1, 0, 0, 0, 0, 4'000'000, 0)}, 1).phases[0];
    CHECK(lone.occupancy == Approx(0.25));
    CHECK(lone.compute_s == Approx(4e-6 / 0.25));
    CHECK(lone.bound == "compute");
}

TEST_CASE("predict: each phase takes its slowest resource and the phases add", "[sim][cost]") {
    const auto hw = round_machine();
    // heads = 4, units = 1: 4 blocks, one wave.
    // The L2 term carries the HBM moves and the L2 loads: (HBM + L2 bytes) / 2 GB/s.
    // p1: HBM 2000 x 4 = 8000 B -> 8 us; L2 (2000 + 10000) x 4 = 48000 B / 2e9 = 24 us -> L2-bound, 24 us.
    // p2: HBM 500 x 4 = 2000 B -> 2 us (L2 1 us); matmul 5e6 x 4 / 1e12 = 20 us, other 25000 x 4 / 1e10
    //     = 10 us: compute 30 us -> compute-bound.
    // p3: HBM (4000 + 1000) x 4 = 20000 B -> 20 us; L2 10 us -> HBM-bound.
    // Total: 24 + 30 + 20 = 74 us.
    const auto cb = predict(
        hw,
        {make_phase("p1", 1, 2000, 0, 10000, 0, 0, 0), make_phase("p2", 1, 500, 0, 0, 0, 5'000'000, 25000),
         make_phase("p3", 1, 4000, 1000, 0, 0, 0, 0)},
        4);
    REQUIRE(cb.phases.size() == 3);
    CHECK(cb.phases[0].l2_s == Approx(24e-6));
    CHECK(cb.phases[0].bound == "L2");
    CHECK(cb.phases[0].time_s == Approx(24e-6));
    CHECK(cb.phases[1].compute_s == Approx(30e-6));
    CHECK(cb.phases[1].bound == "compute");
    CHECK(cb.phases[2].hbm_s == Approx(20e-6));
    CHECK(cb.phases[2].bound == "HBM");
    CHECK(cb.total_s == Approx(74e-6));
    double sum = 0;
    for (const auto& p : cb.phases) {
        CHECK(p.time_s == Approx(std::max({p.hbm_s, p.l2_s, p.sram_s, p.compute_s})));
        sum += p.time_s;
    }
    CHECK(cb.total_s == Approx(sum));
    CHECK(predict(hw, {}, 4).total_s == 0.0);
}

TEST_CASE("predict: a missing rate (0) costs nothing rather than dividing by zero", "[sim][cost]") {
    auto hw = round_machine();
    hw.l2_bytes_per_s = 0;
    const auto cb = predict(hw, {make_phase("x", 1, 1000, 0, 1000, 0, 0, 0)}, 1);
    CHECK(cb.phases[0].l2_s == 0.0);
    // One thread block on 4 SMs draws a quarter of the HBM bandwidth: 1000 B / 0.25 GB/s = 4 us.
    CHECK(cb.phases[0].hbm_s == Approx(4e-6));
}

TEST_CASE("event_seconds: a move at its off-chip level's bandwidth, compute at the matmul rate",
          "[sim][cost]") {
    const auto hw = round_machine();
    Event e;
    e.op = Op::Load;
    e.from = Level::HBM;
    e.to = Level::SRAM;
    e.bytes = 2000;
    CHECK(event_seconds(hw, e) == Approx(2e-6));  // 2000 B / 1 GB/s
    e.from = Level::L2;
    CHECK(event_seconds(hw, e) == Approx(1e-6));  // 2000 B / 2 GB/s
    e.op = Op::Store;
    e.from = Level::SRAM;
    e.to = Level::HBM;
    CHECK(event_seconds(hw, e) == Approx(2e-6));
    e.op = Op::Compute;
    e.flops = 3'000'000;
    CHECK(event_seconds(hw, e) == Approx(3e-6));  // 3e6 / 1e12
    e.op = Op::Phase;
    CHECK(event_seconds(hw, e) == 0.0);
}
