#pragma once
// Checking the GPU's O against the CPU fp64 oracle (kernels/reference.h), head by head. Host-only.
#include <cstdint>
#include <vector>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/reference.h"

namespace tilesim::kernels::cuda {

// Tolerance on ||O - O_ref||_F / ||O_ref||_F. The inputs the reference sees are the GPU's fp16 values
// (widened exactly), so only the kernels' own rounding counts. fp16 has unit roundoff u = 2^-11 =
// 4.9e-4; a rounding to fp16 contributes about u / sqrt(3) = 2.8e-4 relative RMS error. Standard
// attention rounds S (an absolute error |S| u in the exponent, so a relative error of about |S| u in
// each probability), P and O to fp16; FlashAttention rounds P~_ij (as the mma operand) and O. With
// random normal inputs (|S| of order 1 after the scale) both land near 3e-4 to 8e-4; 2e-3 (about 4u)
// leaves room for the largest scores while still catching any indexing or masking error, which
// shows up as an O(1) relative error.
inline constexpr double kRelTolerance = 2e-3;
// FlashAttention must be no less accurate than the standard kernel up to this factor.
inline constexpr double kFlashVsStandard = 2.0;

// One head's Q, K, V from the device (fp16 values widened to float), and its O.
Inputs device_inputs(const AttentionRunner& r, std::int64_t bh);
Mat device_output(const AttentionRunner& r, std::int64_t bh);

// `count` heads spread over [0, bh): first, last and evenly spaced between (fewer if bh is smaller).
std::vector<std::int64_t> sample_heads(std::int64_t bh, std::int64_t count);

// Relative Frobenius error and max abs error; NaN anywhere in O (an unwritten element, since O is
// poisoned with NaN before each run) makes rel_fro infinite, so it can never pass.
ErrorStats check_output(const Mat& O, const MatD& ref);

// The oracle's O for one head: every row up to N = kFullCheckMaxN (the fp64 reference holds N^2
// doubles, 2 GiB at 16384); above that kSampledRows rows spread over the sequence, first and last
// included (each row of O depends only on its own query, so a sample is checked exactly).
inline constexpr std::int64_t kFullCheckMaxN = 16384;
inline constexpr std::int64_t kSampledRows = 1024;
struct HeadReference {
    std::int64_t bh = 0;
    std::vector<std::int64_t> rows;  // rows of O covered
    MatD O;                          // rows.size() x d
};
HeadReference reference_for_head(const AttentionRunner& r, std::int64_t bh, bool causal);
// The device's O (as it is now) on the reference's rows against it.
ErrorStats check_head(const AttentionRunner& r, const HeadReference& ref);

}  // namespace tilesim::kernels::cuda
