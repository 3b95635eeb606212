// Rounding to the storage formats (sim/numeric.h) against the formats decoded independently from
// their bit layouts: every representable value of fp8 e4m3, fp8 e5m2, fp16 and bf16 is enumerated from
// sign, exponent and mantissa fields, and round_to must return the nearest one (ties to the even
// mantissa), saturate (fp8) or overflow to infinity (fp16, bf16) exactly where the format says.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "sim/numeric.h"

using namespace tilesim;
using sim::Dtype;

namespace {

struct Layout {
    int exponent_bits, mantissa_bits, bias;
    bool ieee_specials;  // the all-ones exponent is inf/NaN (fp16, bf16, e5m2); e4m3 uses only S.1111.111 for NaN
};

// Decodes bit pattern `bits` of a format; returns false for NaN and infinity.
bool decode(const Layout& f, std::uint32_t bits, double* out) {
    const std::uint32_t m_mask = (1U << f.mantissa_bits) - 1, e_mask = (1U << f.exponent_bits) - 1;
    const std::uint32_t m = bits & m_mask, e = (bits >> f.mantissa_bits) & e_mask;
    const bool negative = ((bits >> (f.mantissa_bits + f.exponent_bits)) & 1U) != 0;
    if (f.ieee_specials && e == e_mask) return false;
    if (!f.ieee_specials && e == e_mask && m == m_mask) return false;
    const double frac = static_cast<double>(m) / static_cast<double>(1U << f.mantissa_bits);
    const double v = e == 0 ? std::ldexp(frac, 1 - f.bias) : std::ldexp(1.0 + frac, static_cast<int>(e) - f.bias);
    *out = negative ? -v : v;
    return true;
}

struct Value {
    double v;
    bool even;  // mantissa LSB 0
};

std::vector<Value> all_values(const Layout& f) {
    std::vector<Value> vals;
    const int bits = 1 + f.exponent_bits + f.mantissa_bits;
    for (std::uint32_t b = 0; b < (1U << bits); ++b) {
        double v = 0;
        if (decode(f, b, &v)) vals.push_back({v, (b & 1U) == 0});
    }
    std::sort(vals.begin(), vals.end(), [](const Value& a, const Value& b) { return a.v < b.v; });
    // +0 and -0 both decode to 0: keep one (even).
    vals.erase(std::unique(vals.begin(), vals.end(), [](const Value& a, const Value& b) { return a.v == b.v; }),
               vals.end());
    return vals;
}

// The nearest representable value to x, ties to even; nullopt past the largest finite (beyond half a
// spacing): the caller decides between saturation and infinity.
double nearest(const std::vector<Value>& vals, double x, bool* overflow) {
    const double max = vals.back().v;
    const double spacing = vals.back().v - vals[vals.size() - 2].v;
    *overflow = std::fabs(x) >= max + spacing / 2;  // IEEE: the tie at max + spacing / 2 goes to infinity
    if (*overflow) return 0;
    auto hi = std::lower_bound(vals.begin(), vals.end(), x, [](const Value& a, double y) { return a.v < y; });
    if (hi == vals.end()) return vals.back().v;
    if (hi->v == x || hi == vals.begin()) return hi->v;
    auto lo = hi - 1;
    const double dl = x - lo->v, dh = hi->v - x;
    if (dl < dh) return lo->v;
    if (dh < dl) return hi->v;
    return lo->even ? lo->v : hi->v;
}

void check_format(Dtype dt, const Layout& f, bool saturates) {
    const auto vals = all_values(f);
    const double max = vals.back().v;
    CHECK(sim::format_of(dt).max_finite == max);
    CHECK(sim::format_of(dt).saturates == saturates);
    // Every representable value is a fixed point, and every midpoint between neighbours goes to the
    // even one; points a quarter of the way go to the nearer.
    for (std::size_t k = 0; k < vals.size(); ++k) {
        CHECK(sim::round_to(sim::format_of(dt), vals[k].v) == vals[k].v);
        if (k + 1 == vals.size()) break;
        const double a = vals[k].v, b = vals[k + 1].v;
        bool of = false;
        CHECK(sim::round_to(sim::format_of(dt), (a + b) / 2) == nearest(vals, (a + b) / 2, &of));
        CHECK(sim::round_to(sim::format_of(dt), a + (b - a) / 4) == a);
        CHECK(sim::round_to(sim::format_of(dt), b - (b - a) / 4) == b);
    }
    // Random values over the whole range and beyond.
    std::mt19937_64 gen(7);
    std::uniform_real_distribution<double> expo(std::log2(vals[vals.size() / 2 + 1].v) - 4, std::log2(max) + 2);
    for (int k = 0; k < 20000; ++k) {
        const double x = (k % 2 ? -1 : 1) * std::exp2(expo(gen));
        bool of = false;
        const double want = nearest(vals, x, &of);
        const double got = sim::round_to(sim::format_of(dt), x);
        if (of) {
            CHECK(got == (saturates ? std::copysign(max, x) : std::copysign(INFINITY, x)));
        } else {
            CHECK(got == want);
        }
    }
    CHECK(std::isnan(sim::round_to(dt, NAN)));
    CHECK(sim::round_to(dt, INFINITY) == (saturates ? static_cast<float>(max) : INFINITY));
}

}  // namespace

TEST_CASE("rounding: fp8 e4m3 against its 254 finite values (bias 7, max 448, saturating)", "[numeric]") {
    check_format(Dtype::fp8e4m3, {4, 3, 7, false}, true);
    CHECK(sim::round_to(Dtype::fp8e4m3, 500.0F) == 448.0F);        // saturates (satfinite)
    CHECK(sim::round_to(Dtype::fp8e4m3, 1.0F / 3) == 0.34375F);    // 11 x 2^-5
    CHECK(sim::round_to(Dtype::fp8e4m3, 17.0F) == 16.0F);          // tie between 16 and 18: even mantissa
    CHECK(sim::round_to(Dtype::fp8e4m3, 19.0F) == 20.0F);          // tie between 18 and 20: even
    CHECK(sim::round_to(Dtype::fp8e4m3, std::ldexp(1.0F, -10)) == 0.0F);  // half the smallest subnormal 2^-9
}

TEST_CASE("rounding: fp8 e5m2 against its values (IEEE-like, bias 15, max 57344, saturating)", "[numeric]") {
    check_format(Dtype::fp8e5m2, {5, 2, 15, true}, true);
    CHECK(sim::round_to(Dtype::fp8e5m2, 1e6F) == 57344.0F);
}

TEST_CASE("rounding: fp16 against all 63488 finite values (overflow to inf)", "[numeric]") {
    check_format(Dtype::fp16, {5, 10, 15, true}, false);
    CHECK(sim::round_to(Dtype::fp16, 1.0F / 3) == 0.333251953125F);
    CHECK(sim::round_to(Dtype::fp16, 65519.0F) == 65504.0F);
    CHECK(sim::round_to(Dtype::fp16, 65520.0F) == INFINITY);  // the tie at max + half a spacing
}

TEST_CASE("rounding: bf16 against its values (fp32's range, 7 fraction bits)", "[numeric]") {
    check_format(Dtype::bf16, {8, 7, 127, true}, false);
    CHECK(sim::round_to(Dtype::bf16, 1.0F / 3) == 0.333984375F);
}

TEST_CASE("rounding: fp32 and fp64 are stored exactly, and the unit roundoffs", "[numeric]") {
    CHECK(sim::round_to(Dtype::fp32, 0.1F) == 0.1F);
    CHECK(sim::round_to(Dtype::fp64, 0.1F) == 0.1F);
    CHECK_FALSE(sim::has_format(Dtype::fp32));
    CHECK(sim::unit_roundoff(Dtype::fp16) == std::ldexp(1.0, -11));
    CHECK(sim::unit_roundoff(Dtype::bf16) == std::ldexp(1.0, -8));
    CHECK(sim::unit_roundoff(Dtype::fp8e4m3) == std::ldexp(1.0, -4));
    std::vector<float> v = {0.1F, 1.0F / 3, 1000.0F};
    sim::round_span(Dtype::fp8e4m3, v.data(), 3);
    CHECK(v == std::vector<float>{0.1015625F, 0.34375F, 448.0F});
}

TEST_CASE("storage formats: fp8 problems read 1-byte inputs and write bf16, statistics stay fp32", "[numeric]") {
    using sim::Tensor;
    for (auto dt : {Dtype::fp8e4m3, Dtype::fp8e5m2}) {
        for (auto t : {Tensor::Q, Tensor::K, Tensor::V, Tensor::dO}) {
            CHECK(sim::storage_dtype(t, dt) == dt);
            CHECK(sim::element_bytes(t, dt) == 1);
        }
        for (auto t : {Tensor::S, Tensor::P, Tensor::O, Tensor::dQ, Tensor::dK, Tensor::dV, Tensor::dS, Tensor::dP}) {
            CHECK(sim::storage_dtype(t, dt) == Dtype::bf16);
            CHECK(sim::element_bytes(t, dt) == 2);
        }
        CHECK(sim::element_bytes(Tensor::L, dt) == 4);
        CHECK(sim::element_bytes(Tensor::dQacc, dt) == 4);
    }
    CHECK(sim::storage_dtype(Tensor::O, Dtype::fp16) == Dtype::fp16);
    CHECK(sim::parse_dtype("fp8e4m3") == Dtype::fp8e4m3);
    CHECK(sim::parse_dtype("fp8") == std::nullopt);
}
