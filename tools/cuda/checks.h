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

// Forward tolerance by dtype: fp16 as above; bf16 has u = 2^-8 (8x fp16's), so 8x the bound.
inline double forward_tolerance(sim::Dtype dtype) {
    return dtype == sim::Dtype::bf16 ? 8 * kRelTolerance : kRelTolerance;
}

// FP8 (e4m3: 3 mantissa bits) forward, against the fp64 reference on the 16-bit inputs: the
// quantisation of Q, K, V and P~ is part of the error. Rounding to e4m3 is 2^-4 to 2^-5 relative, about
// 2.7% RMS per element. O = sum_k P_k V_k / sum_k P_k with random inputs is a small average of V, and each
// rounded factor moves it by about its own relative error: S through Q and K (0.027 sqrt(2) per product,
// summed over d = 128 terms: tau dS ~ 0.038, so P ~ 3.8%), P~ itself (2.7%), V (2.7%): together about
// sqrt(3.8^2 + 2.7^2 + 2.7^2) ~ 5.4%, as measured on the H200 (4.8e-2 to 5.6e-2, run 3). The bound is
// 2^-3 = 12.5%, about twice that; an indexing or layout error gives O(1). (Run 3 checked against a first
// bound of 2^-4, derived from FA3's RMSE ratio, which does not carry over to a relative error; all
// passed, with 10% margin, too little for other seeds.)
inline constexpr double kFp8Tolerance = 1.0 / 8;

// Tolerance on each gradient's ||dX - dX_ref||_F / ||dX_ref||_F (X = Q, K, V). The fp64 reference sees
// the GPU's own Q, K, V, dO (exact in double), so only the kernels' roundings count, each about u / sqrt(3)
// RMS relative (u = 2^-11 fp16, 2^-8 bf16). The flash backward rounds P and dS to the input type as
// mma operands, and D = rowsum(dO o O) inherits O's rounding; standard rounds S, P, dP and dS in memory
// (its dS = P (dP - D) also takes the cancellation dP - D on rounded dP). Chained, three to five such
// roundings give about 2-3 u RMS with random normal inputs; 8 u (3.9e-3 fp16, 3.1e-2 bf16) leaves room
// for that and for the largest rows, while an indexing, masking or race error gives O(1).
inline double backward_tolerance(sim::Dtype dtype) {
    return dtype == sim::Dtype::bf16 ? 8.0 / 256 : 8.0 / 2048;
}

// The fp64 reference gradients of one head (Algorithm 3 in double): P = softmax(tau Q K^T) (causal:
// keys <= query), dV = P^T dO, dP = dO V^T, dS = P o (dP - rowsum(P o dP)), dQ = tau dS K,
// dK = tau dS^T Q. N^2 doubles are held: the GPU checks call it for N <= kBackwardCheckMaxN.
inline constexpr std::int64_t kBackwardCheckMaxN = 4096;
struct Gradients {
    MatD dQ, dK, dV;
};
Gradients reference_gradients(const Mat& Q, const Mat& K, const Mat& V, const Mat& dO, bool causal);

// One head's dQ, dK, dV errors against the reference (NaN anywhere: infinite).
struct GradErrors {
    ErrorStats dQ, dK, dV;
    double worst() const;
};
struct HeadGradReference {
    std::int64_t bh = 0;
    Gradients g;
};
HeadGradReference reference_gradients_for_head(const AttentionRunner& r, std::int64_t bh, bool causal);
GradErrors check_gradients(const AttentionRunner& r, const HeadGradReference& ref);

// Decode: the fp64 O of head (b, h) (queries at positions N - q_len + l) and the GPU's against it.
ErrorStats check_decode_head(const DecodeRunner& r, std::int64_t b, std::int64_t h);

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
