// sim/cost_model.h estimate_dram and the Hierarchy's distinct-tile HBM counts it rests on.
#include <catch2/catch.hpp>

#include "kernels/registry.h"
#include "sim/cost_model.h"
#include "sim/hierarchy.h"

using namespace tilesim;
using sim::Level;
using sim::Tensor;

namespace {

sim::HardwareSpec machine(std::int64_t l2_bytes, std::int64_t sms) {
    sim::HardwareSpec hw;
    hw.name = "test";
    hw.sram_bytes = 1 << 20;
    hw.hbm_bytes_per_s = 1e9;
    hw.l2_bytes_per_s = 2e9;
    hw.sram_bytes_per_s = 1e10;
    hw.matmul_flops_per_s = 1e12;
    hw.vector_flops_per_s = 1e10;
    hw.l2_bytes = l2_bytes;
    hw.sm_count = sms;
    return hw;
}

}  // namespace

TEST_CASE("hierarchy: distinct HBM tiles are counted once per direction and phase", "[sim][dram]") {
    sim::Hierarchy h(machine(0, 1), sim::Dtype::fp32, false);
    sim::FitStatus st;
    REQUIRE(h.allocate(Tensor::K, 4, 4, "K_j", &st));
    h.begin_phase("p", 1);
    // K tile (0,0) loaded three times, tile (4,0) once: 4 loads of 16 elements, 2 distinct tiles.
    for (int k = 0; k < 3; ++k) h.load(Tensor::K, {0, 0, 4, 4}, 0, 0, "");
    h.load(Tensor::K, {4, 0, 4, 4}, 0, 1, "");
    // O written twice at one place: one distinct write.
    h.store(Tensor::O, {0, 0, 4, 4}, 0, 0, "");
    h.store(Tensor::O, {0, 0, 4, 4}, 0, 0, "");
    const auto& ph = h.phases().back();
    CHECK(ph.counters.at(Level::HBM, Tensor::K).read_elements == 64);
    CHECK(ph.hbm_unique[static_cast<std::size_t>(Tensor::K)].read_elements == 32);
    CHECK(ph.hbm_unique[static_cast<std::size_t>(Tensor::K)].read_bytes == 128);
    CHECK(ph.hbm_unique[static_cast<std::size_t>(Tensor::O)].write_elements == 16);
    // A new phase forgets what the last one touched: a launch starts from DRAM.
    h.begin_phase("q", 1);
    h.load(Tensor::K, {0, 0, 4, 4}, 0, 0, "");
    CHECK(h.phases().back().hbm_unique[static_cast<std::size_t>(Tensor::K)].read_elements == 16);
}

TEST_CASE("estimate_dram: re-reads hit the L2 only while the in-flight footprint fits", "[sim][dram]") {
    sim::Phase ph;
    ph.name = "p";
    ph.parallel_units = 2;  // two thread blocks per head
    const auto hbm = static_cast<std::size_t>(Level::HBM);
    auto& k = ph.counters.by_tensor[hbm][static_cast<std::size_t>(Tensor::K)];
    k.read_bytes = 4000;                                                   // K read four times over...
    ph.hbm_unique[static_cast<std::size_t>(Tensor::K)].read_bytes = 1000;  // ...1000 distinct bytes
    auto& o = ph.counters.by_tensor[hbm][static_cast<std::size_t>(Tensor::O)];
    o.write_bytes = 500;  // O written once
    ph.hbm_unique[static_cast<std::size_t>(Tensor::O)].write_bytes = 500;
    ph.counters.level[hbm].read_bytes = 4000;
    ph.counters.level[hbm].write_bytes = 500;

    // 8 SMs / 2 blocks per head = 4 heads in flight (of 10); re-used footprint = K's 1000 B each:
    // 4000 B in flight. An L2 of 4000 B holds it: DRAM sees K once and O once, per head, x 10 heads.
    const auto fits = sim::estimate_dram(machine(4000, 8), {ph}, 10);
    REQUIRE(fits.phases.size() == 1);
    CHECK(fits.phases[0].reuse_footprint_bytes == 4000);
    CHECK(fits.phases[0].reuse_fits_l2);
    CHECK(fits.read_bytes == 10 * 1000);
    CHECK(fits.write_bytes == 10 * 500);

    // One byte less of L2: every re-read goes to DRAM, as in the paper's model.
    const auto misses = sim::estimate_dram(machine(3999, 8), {ph}, 10);
    CHECK_FALSE(misses.phases[0].reuse_fits_l2);
    CHECK(misses.read_bytes == 10 * 4000);
    CHECK(misses.write_bytes == 10 * 500);

    // No L2 at all: the paper's model exactly.
    CHECK(sim::estimate_dram(machine(0, 8), {ph}, 10).read_bytes == 10 * 4000);

    // Fewer heads than would fill the SMs: only those are in flight (2 heads x 1000 B fits 2000 B).
    CHECK(sim::estimate_dram(machine(2000, 8), {ph}, 2).phases[0].reuse_fits_l2);
}

TEST_CASE("estimate_dram: FlashAttention-2 with an L2 that holds K and V reads Q, K, V once", "[sim][dram]") {
    // Per head, the compulsory traffic: Q, K, V read once (3Nd), O written once (Nd), L once (N, fp32).
    kernels::Problem p;
    p.batch = 2;
    p.heads = 3;
    p.N_q = p.N_kv = 1000;  // ragged against both blocks
    p.d = 64;
    p.dtype = sim::Dtype::fp16;
    auto hw = *sim::find_preset("H100-SXM");
    kernels::RunOptions o;
    o.numerics = false;
    const auto r = kernels::run(*kernels::find_definition("flash2", kernels::Pass::forward), p, {128, 64}, hw, nullptr, o);
    REQUIRE(r.fit.ok);
    const auto est = sim::estimate_dram(hw, r.phases, p.bh());
    CHECK(est.phases.at(0).reuse_fits_l2);
    CHECK(est.read_bytes == p.bh() * 3 * p.N_q * p.d * 2);
    CHECK(est.write_bytes == p.bh() * (p.N_q * p.d * 2 + p.N_q * 4));
    // The paper's HBM count is larger: K and V once per Q block (T_r = 8).
    CHECK(r.counters.at(Level::HBM).read_bytes == (p.N_q * p.d + 2 * 8 * p.N_q * p.d) * 2);

    // Standard attention: DRAM = HBM (its re-reads were already L2 loads; S and P are streamed once).
    const auto s = kernels::run(*kernels::find_definition("standard", kernels::Pass::forward), p, {}, hw, nullptr, o);
    const auto s_est = sim::estimate_dram(hw, s.phases, p.bh());
    CHECK(s_est.total_bytes() == s.counters.at(Level::HBM).total_bytes() * p.bh());

    // The classroom machine has no L2: DRAM is the paper's count for every algorithm.
    auto toy = *sim::find_preset("classroom");
    p.batch = p.heads = 1;
    p.N_q = p.N_kv = 18;
    p.d = 4;
    p.dtype = sim::Dtype::fp32;
    const auto f = kernels::run(*kernels::find_definition("flash", kernels::Pass::forward), p, {}, toy, nullptr, o);
    CHECK(sim::estimate_dram(toy, f.phases, 1).total_bytes() == f.counters.at(Level::HBM).total_bytes());
}
