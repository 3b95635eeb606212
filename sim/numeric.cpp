#include "sim/numeric.h"

#include <cmath>
#include <stdexcept>

namespace tilesim::sim {

bool has_format(Dtype dtype) {
    return dtype != Dtype::fp32 && dtype != Dtype::fp64;
}

FloatFormat format_of(Dtype dtype) {
    switch (dtype) {
        case Dtype::fp16:  // 1 + 5 + 10 bits, bias 15
            return {10, -14, 65504.0, false};
        case Dtype::bf16:  // 1 + 8 + 7 bits, fp32's exponent range
            return {7, -126, 3.3895313892515355e38, false};
        case Dtype::fp8e4m3:  // 1 + 4 + 3 bits, bias 7, no infinity: S.1111.111 is NaN, so max = 1.75 * 2^8
            return {3, -6, 448.0, true};
        case Dtype::fp8e5m2:  // 1 + 5 + 2 bits, bias 15, IEEE-like: max = 1.75 * 2^15
            return {2, -14, 57344.0, true};
        case Dtype::fp32:
        case Dtype::fp64:
            break;
    }
    throw std::logic_error("format_of: no emulated format for " + std::string(dtype_name(dtype)));
}

double round_to(const FloatFormat& f, double x) {
    if (std::isnan(x) || x == 0) return x;
    if (std::isinf(x)) return f.saturates ? std::copysign(f.max_finite, x) : x;
    // The spacing of representable numbers around |x|: 2^(e - mantissa_bits) with e the exponent of
    // |x|, held at the smallest normal exponent below it (the subnormals share that spacing).
    const int e = std::max(std::ilogb(x), f.min_normal_exponent);
    const double q = std::ldexp(1.0, e - f.mantissa_bits);
    // x / q and the product are exact in fp64 for every format here; nearbyint rounds half to even.
    const double r = std::nearbyint(x / q) * q;
    if (std::fabs(r) > f.max_finite) {
        // Past the largest finite value. IEEE rounding reaches infinity only from max + half a spacing
        // on, which is where the nearest-even rounding above first lands beyond max.
        return f.saturates ? std::copysign(f.max_finite, x) : std::copysign(INFINITY, x);
    }
    return r;
}

float round_to(Dtype dtype, float x) {
    if (!has_format(dtype)) return x;
    return static_cast<float>(round_to(format_of(dtype), static_cast<double>(x)));
}

void round_span(Dtype dtype, float* data, std::int64_t n) {
    if (!has_format(dtype)) return;
    const FloatFormat f = format_of(dtype);
    for (std::int64_t k = 0; k < n; ++k) data[k] = static_cast<float>(round_to(f, static_cast<double>(data[k])));
}

double unit_roundoff(Dtype dtype) {
    if (dtype == Dtype::fp32) return std::ldexp(1.0, -24);
    if (dtype == Dtype::fp64) return std::ldexp(1.0, -53);
    return std::ldexp(1.0, -(format_of(dtype).mantissa_bits + 1));
}

}  // namespace tilesim::sim
