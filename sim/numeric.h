#pragma once
// Rounding to the storage formats, emulated in fp32/fp64 arithmetic: what a value becomes when a
// kernel stores it in fp16, bf16 or fp8 and reads it back. Round to nearest, ties to even, with
// subnormals, like the hardware's conversions (cvt.rn). Overflow: fp16 and bf16 go to +-inf (IEEE);
// the fp8 formats saturate to their largest finite value, as the satfinite conversions that fp8
// kernels use (FlashAttention-3, Transformer Engine) do.
#include <cstdint>

#include "sim/types.h"

namespace tilesim::sim {

// A binary floating-point format: `mantissa_bits` stored fraction bits, the smallest normal exponent,
// the largest finite value, and what overflow does.
struct FloatFormat {
    int mantissa_bits;
    int min_normal_exponent;  // 2^min_normal_exponent is the smallest normal number
    double max_finite;
    bool saturates;  // true: overflow clamps to +-max_finite; false: it becomes +-inf
};

// The format of `dtype`; fp32 and fp64 have none here (the simulator computes in fp32, so storing
// in either is exact).
bool has_format(Dtype dtype);
FloatFormat format_of(Dtype dtype);  // requires has_format(dtype)

// `x` rounded to `dtype` (x itself for fp32 and fp64). NaN stays NaN.
float round_to(Dtype dtype, float x);
double round_to(const FloatFormat& f, double x);

// Rounds every element of [data, data + n) to `dtype` in place.
void round_span(Dtype dtype, float* data, std::int64_t n);

// Unit roundoff 2^-(mantissa_bits + 1) of `dtype` (2^-24 for fp32, 2^-53 for fp64).
double unit_roundoff(Dtype dtype);

}  // namespace tilesim::sim
