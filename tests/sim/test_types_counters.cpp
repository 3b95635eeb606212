// sim/types.h and sim/counters.h: element sizes, names, and the arithmetic of Counters.
#include <catch2/catch.hpp>

#include "sim/counters.h"
#include "sim/types.h"

using namespace tilesim::sim;

TEST_CASE("element sizes: data tensors follow the dtype, statistics are always fp32", "[sim][types]") {
    CHECK(dtype_bytes(Dtype::fp16) == 2);
    CHECK(dtype_bytes(Dtype::bf16) == 2);
    CHECK(dtype_bytes(Dtype::fp32) == 4);
    CHECK(dtype_bytes(Dtype::fp64) == 8);
    for (Dtype dt : {Dtype::fp16, Dtype::bf16, Dtype::fp32, Dtype::fp64}) {
        for (Tensor t : {Tensor::Q, Tensor::K, Tensor::V, Tensor::S, Tensor::P, Tensor::O, Tensor::dQ}) {
            CHECK(element_bytes(t, dt) == dtype_bytes(dt));
        }
        // l, m and L are kept in fp32 whatever the inputs are, as real kernels do.
        for (Tensor t : {Tensor::l, Tensor::m, Tensor::L}) CHECK(element_bytes(t, dt) == 4);
    }
    CHECK(is_statistic(Tensor::L));
    CHECK_FALSE(is_statistic(Tensor::O));
}

TEST_CASE("names round-trip through the parsers, unknown names give nullopt", "[sim][types]") {
    for (std::size_t i = 0; i < kTensorCount; ++i) {
        const auto t = static_cast<Tensor>(i);
        REQUIRE(parse_tensor(tensor_name(t)) == t);
    }
    for (Dtype dt : kDtypes) REQUIRE(parse_dtype(dtype_name(dt)) == dt);
    CHECK(dtype_bytes(Dtype::fp8e4m3) == 1);  // one byte an element
    CHECK(dtype_bytes(Dtype::fp8e5m2) == 1);
    CHECK_FALSE(parse_dtype("int8").has_value());
    CHECK_FALSE(parse_dtype("FP16").has_value());  // case-sensitive, as scenario files are
    CHECK_FALSE(parse_tensor("X").has_value());
    CHECK(level_name(Level::HBM) == "HBM");
    CHECK(level_name(Level::L2) == "L2");
    CHECK(level_name(Level::SRAM) == "SRAM");
    CHECK(Rect{1, 2, 3, 4}.elements() == 12);
}

namespace {
Counters sample_counters(std::int64_t base) {
    Counters c;
    for (std::size_t lv = 0; lv < kLevelCount; ++lv) {
        c.level[lv] = {base + 1, base + 2, base + 3, base + 4};
        for (std::size_t t = 0; t < kTensorCount; ++t) {
            const auto k = static_cast<std::int64_t>(10 * lv + t);
            c.by_tensor[lv][t] = {base + k, base + 2 * k, base + 3 * k, base + 4 * k};
        }
    }
    c.matmul_flops = base * 100;
    c.other_flops = base * 10 + 7;
    c.sram_peak_bytes = base * 1000;
    c.transfers = base + 5;
    return c;
}
}  // namespace

TEST_CASE("Counters::scaled multiplies traffic, flops and transfers but not the SRAM peak",
          "[sim][counters]") {
    const Counters c = sample_counters(3);
    const Counters s = c.scaled(7);
    for (std::size_t lv = 0; lv < kLevelCount; ++lv) {
        CHECK(s.level[lv].read_bytes == 7 * c.level[lv].read_bytes);
        CHECK(s.level[lv].write_bytes == 7 * c.level[lv].write_bytes);
        CHECK(s.level[lv].read_elements == 7 * c.level[lv].read_elements);
        CHECK(s.level[lv].write_elements == 7 * c.level[lv].write_elements);
        for (std::size_t t = 0; t < kTensorCount; ++t) {
            Traffic expect = c.by_tensor[lv][t];
            expect.read_bytes *= 7;
            expect.write_bytes *= 7;
            expect.read_elements *= 7;
            expect.write_elements *= 7;
            CHECK(s.by_tensor[lv][t] == expect);
        }
    }
    CHECK(s.matmul_flops == 7 * c.matmul_flops);
    CHECK(s.other_flops == 7 * c.other_flops);
    CHECK(s.flops() == 7 * c.flops());
    CHECK(s.transfers == 7 * c.transfers);
    // The peak is per thread block: B*H heads do not hold B*H times the SRAM.
    CHECK(s.sram_peak_bytes == c.sram_peak_bytes);
    // scaled() leaves the original alone.
    CHECK(c.matmul_flops == 300);
}

TEST_CASE("Counters += adds traffic and flops, and keeps the larger peak", "[sim][counters]") {
    Counters a = sample_counters(2);
    const Counters b = sample_counters(5);
    const Counters a0 = a;
    a += b;
    for (std::size_t lv = 0; lv < kLevelCount; ++lv) {
        CHECK(a.level[lv].read_bytes == a0.level[lv].read_bytes + b.level[lv].read_bytes);
        CHECK(a.level[lv].write_elements == a0.level[lv].write_elements + b.level[lv].write_elements);
        for (std::size_t t = 0; t < kTensorCount; ++t) {
            CHECK(a.by_tensor[lv][t].read_elements ==
                  a0.by_tensor[lv][t].read_elements + b.by_tensor[lv][t].read_elements);
            CHECK(a.by_tensor[lv][t].write_bytes ==
                  a0.by_tensor[lv][t].write_bytes + b.by_tensor[lv][t].write_bytes);
        }
    }
    CHECK(a.matmul_flops == 200 + 500);
    CHECK(a.other_flops == 27 + 57);
    CHECK(a.transfers == 7 + 10);
    CHECK(a.sram_peak_bytes == 5000);  // max(2000, 5000): phases do not overlap
    Counters big = sample_counters(9);
    big += sample_counters(1);
    CHECK(big.sram_peak_bytes == 9000);

    Traffic t{1, 2, 3, 4};
    CHECK(t.total_bytes() == 3);
    CHECK(t.total_elements() == 7);
    t *= 3;
    CHECK(t == Traffic{3, 6, 9, 12});
}
