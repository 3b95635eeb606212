// kernels/bounds.h: the IO lower bounds, by hand, and their place in reports.
#include <catch2/catch.hpp>
#include <cmath>

#include "kernels/bounds.h"
#include "scenarios/report.h"

using namespace tilesim;

TEST_CASE("bounds: compulsory traffic, Proposition 3 and Saha & Ye, by hand", "[kernels][bounds]") {
    // A100 fp16: M = 196608 / 2 = 98304 elements. N = 1024, d = 64 (Figure 2's head).
    const auto a100 = *sim::find_preset("A100-40GB");
    const auto p = kernels::Problem::square(1024, 64);
    const auto f = kernels::io_bounds(p, kernels::Pass::forward, a100);
    // Forward: Q, K, V read and O written once: 4 N d = 262144 elements, 2 bytes each.
    CHECK(f.compulsory_elements == 4 * 1024 * 64);
    CHECK(f.compulsory_bytes == 2 * 4 * 1024 * 64);
    CHECK(f.M == 98304);
    // N^2 d^2 / M = 2^20 x 2^12 / 98304 = 43690.67; N^2 d / sqrt(M) = 2^26 / 313.5 = 214037: the
    // minimum is the first, so (M >= d^2 = 4096) FlashAttention's tiling is optimal.
    CHECK(f.prop3_elements == Approx(1048576.0 * 4096.0 / 98304.0));
    CHECK(f.saha_ye_elements == Approx(f.prop3_elements));
    CHECK(f.tiling_optimal);
    CHECK(f.saha_ye_bytes == Approx(2 * f.saha_ye_elements));
    // Backward: Q, K, V, O, dO read, dQ, dK, dV written: 8 N d.
    CHECK(kernels::io_bounds(p, kernels::Pass::backward, a100).compulsory_elements == 8 * 1024 * 64);
    // T4, d = 256: M = 32768 < d^2 = 65536, the tight bound is the N^2 d / sqrt(M) term.
    const auto t4 = *sim::find_preset("T4");
    const auto b = kernels::io_bounds(kernels::Problem::square(4096, 256), kernels::Pass::forward, t4);
    CHECK_FALSE(b.tiling_optimal);
    CHECK(b.saha_ye_elements == Approx(4096.0 * 4096.0 * 256.0 / std::sqrt(32768.0)));
    CHECK(b.saha_ye_elements < b.prop3_elements);
    // Rectangular: N^2 is N_q N_kv.
    auto dec = kernels::Problem::square(1, 128);
    dec.N_kv = 32768;
    const auto d = kernels::io_bounds(dec, kernels::Pass::forward, *sim::find_preset("H200"));
    CHECK(d.compulsory_elements == 2 * 128 + 2 * 32768 * 128);
}

TEST_CASE("bounds: every run carries them in JSON, the table lists them, sweeps show them", "[kernels][bounds]") {
    auto s = scenarios::resolve_scenario("small-sram");
    s.numerics = false;
    const auto r = scenarios::run_scenario(s);
    const auto j = scenarios::to_json(r);
    for (const auto& run : j.at("runs")) {
        const auto& b = run.at("bounds");
        CHECK(b.at("compulsory_bytes").get<std::int64_t>() == 16 * 4 * 4096 * 256 * 2);
        CHECK(b.at("saha_ye_bytes").get<double>() < b.at("prop3_bytes").get<double>());
        CHECK(b.at("tiling_optimal") == false);
        CHECK_THAT(b.at("note").get<std::string>(), Catch::Contains("constant 1"));
        CHECK(b.at("hbm_over_compulsory").get<double>() >= 1.0);  // nothing moves less than the compulsory
    }
    const std::string table = scenarios::to_table(r);
    CHECK_THAT(table, Catch::Contains("IO lower bounds") && Catch::Contains("not optimal"));
    const auto sw = scenarios::run_sweep(s, "head_dim", {"64", "256"}, false);
    CHECK_THAT(scenarios::to_table(sw), Catch::Contains("Saha & Ye"));
}
