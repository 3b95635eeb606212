// sim/cost_model.h for decoding: fewer thread blocks than SMs draw a share of the HBM bandwidth, and the
// DRAM estimate sees a KV group's shared tensors once per group of heads in flight together. Expected
// values worked out by hand in the comments, on round-number rates.
#include <catch2/catch.hpp>

#include "sim/cost_model.h"

using namespace tilesim::sim;

namespace {

HardwareSpec machine(std::int64_t sms, std::int64_t l2_bytes) {
    HardwareSpec hw;
    hw.name = "round";
    hw.hbm_bytes_per_s = 1e9;
    hw.l2_bytes_per_s = 1e12;  // fast enough never to bind here
    hw.sram_bytes_per_s = 1e12;
    hw.sram_bytes = 1024;
    hw.sm_count = sms;
    hw.l2_bytes = l2_bytes;
    hw.matmul_flops_per_s = 1e12;
    hw.vector_flops_per_s = 1e12;
    return hw;
}

// A phase that reads K (k_all bytes, k_unique distinct) and Q once, per head.
Phase phase(std::int64_t units, std::int64_t k_all, std::int64_t k_unique, std::int64_t q) {
    Phase p;
    p.name = "p";
    p.parallel_units = units;
    const auto hbm = static_cast<std::size_t>(Level::HBM);
    auto set = [&](Tensor t, std::int64_t all, std::int64_t unique) {
        p.counters.by_tensor[hbm][static_cast<std::size_t>(t)].read_bytes = all;
        p.hbm_unique[static_cast<std::size_t>(t)].read_bytes = unique;
        p.counters.level[hbm].read_bytes += all;
    };
    set(Tensor::K, k_all, k_unique);
    set(Tensor::Q, q, q);
    return p;
}

HeadGroups groups_of(std::int64_t g) {
    HeadGroups h;
    h.size = g;
    h.shared[static_cast<std::size_t>(Tensor::K)] = true;
    h.shared[static_cast<std::size_t>(Tensor::V)] = true;
    return h;
}

}  // namespace

TEST_CASE("predict: a pass with fewer thread blocks than SMs draws their share of the HBM bandwidth",
          "[sim][cost][decode]") {
    // 8 SMs. 2 heads x 1 block = 2 blocks: 2 / 8 of 1 GB/s; 1000 B per head: 2000 B / 0.25 GB/s = 8 us.
    const auto hw = machine(8, 0);
    const auto few = predict(hw, {phase(1, 1000, 1000, 0)}, 2).phases.at(0);
    CHECK(few.thread_blocks == 2);
    CHECK(few.hbm_occupancy == Approx(0.25));
    CHECK(few.hbm_s == Approx(8e-6));
    CHECK(few.bound == "HBM");
    // The same bytes cut over 4 blocks per head (a split-KV pass): 8 blocks fill the SMs: 2 us.
    const auto split = predict(hw, {phase(4, 1000, 1000, 0)}, 2).phases.at(0);
    CHECK(split.thread_blocks == 8);
    CHECK(split.hbm_occupancy == 1.0);
    CHECK(split.hbm_s == Approx(2e-6));
    // More blocks than SMs never exceed the bandwidth: 24 blocks, still 2 us.
    CHECK(predict(hw, {phase(12, 1000, 1000, 0)}, 2).phases.at(0).hbm_occupancy == 1.0);
}

TEST_CASE("estimate_dram: a KV group's heads in flight together fetch its K once", "[sim][dram][decode]") {
    // 8 heads in groups of 4, 1 block per head, 8 SMs: all 8 heads in flight, 2 groups. Each head reads K
    // (1000 B, once) and Q (10 B). DRAM: K once per group (2 x 1000) + Q per head (8 x 10) = 2080 B.
    const auto hw = machine(8, 1 << 20);
    const auto est = estimate_dram(hw, {phase(1, 1000, 1000, 10)}, 8, groups_of(4));
    REQUIRE(est.phases.size() == 1);
    CHECK(est.phases[0].heads_in_flight == 8);
    CHECK(est.phases[0].group_fetches == 1);
    CHECK(est.read_bytes == 2 * 1000 + 8 * 10);
    // Without groups: every head's K: 8 x 1010 = 8080 B.
    CHECK(estimate_dram(hw, {phase(1, 1000, 1000, 10)}, 8).read_bytes == 8 * 1010);
    // 2 SMs: 2 heads in flight, a group of 4 runs in 2 waves: K fetched twice per group: 2 x 2 x 1000 + 80.
    const auto narrow = estimate_dram(machine(2, 1 << 20), {phase(1, 1000, 1000, 10)}, 8, groups_of(4));
    CHECK(narrow.phases[0].heads_in_flight == 2);
    CHECK(narrow.phases[0].group_fetches == 2);
    CHECK(narrow.read_bytes == 2 * 2 * 1000 + 8 * 10);
    // Re-reads inside a head (K read 3000 B over 1000 distinct): the re-used footprint counts K once per
    // group in flight (2 x 1000 B), so an L2 of 2000 B holds it and DRAM sees K once per group...
    const auto fits = estimate_dram(machine(8, 2000), {phase(1, 3000, 1000, 10)}, 8, groups_of(4));
    CHECK(fits.phases[0].reuse_footprint_bytes == 2000);
    CHECK(fits.phases[0].reuse_fits_l2);
    CHECK(fits.read_bytes == 2 * 1000 + 8 * 10);
    // ...one byte less and every re-read goes to DRAM, still shared by the group's heads in lockstep.
    const auto misses = estimate_dram(machine(8, 1999), {phase(1, 3000, 1000, 10)}, 8, groups_of(4));
    CHECK_FALSE(misses.phases[0].reuse_fits_l2);
    CHECK(misses.read_bytes == 2 * 3000 + 8 * 10);
    // A group size that does not divide the heads is ignored (no sharing assumed).
    CHECK(estimate_dram(hw, {phase(1, 1000, 1000, 10)}, 6, groups_of(4)).read_bytes == 6 * 1010);
    // predict() times what estimate_dram() sees: 2080 B at 1 GB/s (8 blocks on 8 SMs) = 2.08 us.
    CHECK(predict(hw, {phase(1, 1000, 1000, 10)}, 8, groups_of(4)).phases.at(0).hbm_s == Approx(2.08e-6));
}
