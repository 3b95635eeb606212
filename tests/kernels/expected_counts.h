#pragma once
// The tests' own transcription of the papers' IO formulas (../shared/reference/flash-attention-facts.md),
// written without looking at kernels/closed_form.cpp's structure: the simulator is checked against
// this and against kernels::closed_form, two derivations that must agree with it and each other.
//
// Notation: N, d, B_r, B_c (the block sizes in force), T_r = ceil(N/B_r), T_c = ceil(N/B_c).
// Elements per (batch, head).
#include <algorithm>
#include <array>
#include <cstdint>

#include "kernels/problem.h"
#include "sim/hardware.h"
#include "sim/types.h"

namespace tilesim::test {

struct Expected {
    std::array<std::int64_t, sim::kTensorCount> read{};   // HBM reads per tensor
    std::array<std::int64_t, sim::kTensorCount> write{};  // HBM writes per tensor
    std::int64_t read_total = 0;
    std::int64_t write_total = 0;
    std::int64_t l2_read = 0;
    std::int64_t matmul_flops = 0;
    std::int64_t other_flops = 0;
    std::int64_t sram_peak_bytes = 0;
    std::int64_t& r(sim::Tensor t) { return read[static_cast<std::size_t>(t)]; }
    std::int64_t& w(sim::Tensor t) { return write[static_cast<std::size_t>(t)]; }
};

inline std::int64_t cdiv(std::int64_t a, std::int64_t b) {
    return (a + b - 1) / b;
}

inline Expected expected_counts(kernels::AlgorithmId alg, std::int64_t N, std::int64_t d, std::int64_t B_r,
                                std::int64_t B_c, sim::Dtype dtype, const sim::HardwareSpec& hw,
                                std::int64_t extra_passes = 0) {
    using sim::Tensor;
    Expected x;
    const std::int64_t T_r = cdiv(N, B_r), T_c = cdiv(N, B_c);
    const std::int64_t e = static_cast<std::int64_t>(sim::dtype_bytes(dtype));
    const std::int64_t Nd = N * d, N2 = N * N;
    // QK^T and PV: N^2 dot products of length d each, a multiply and an add per term.
    x.matmul_flops = 2 * N2 * d + 2 * N2 * d;
    // A block never holds more rows than the problem has.
    const std::int64_t br = std::min(B_r, N), bc = std::min(B_c, N);
    switch (alg) {
        case kernels::AlgorithmId::standard: {
            // Algorithm 0: reads 3Nd + 2N^2 (Q, K, V; S, P), writes Nd + 2N^2 (S, P; O) when the GEMM
            // operands are read once. A tiled GEMM re-reads K (pass 1) and V (pass 3) for each of the
            // T_r - 1 later Q blocks: from the L2 if one head's K fits there, else from HBM.
            const bool l2_holds_K = hw.l2_bytes > 0 && Nd * e <= hw.l2_bytes;
            const std::int64_t reread = (T_r - 1) * Nd;
            // Softmax: if a row of S (N elements) fits in SRAM, S is read once; else twice (max/sum, then P).
            const bool row_fits = N * e <= hw.sram_bytes;
            x.r(Tensor::Q) = Nd;
            x.r(Tensor::K) = Nd + (l2_holds_K ? 0 : reread);
            x.r(Tensor::V) = Nd + (l2_holds_K ? 0 : reread);
            x.r(Tensor::S) = (row_fits ? N2 : 2 * N2) + extra_passes * N2;
            x.r(Tensor::P) = N2;
            x.w(Tensor::S) = N2 + extra_passes * N2;
            x.w(Tensor::P) = N2;
            x.w(Tensor::O) = Nd;
            x.l2_read = l2_holds_K ? 2 * reread : 0;
            // tau once per element of S (folded into the first eager pass when there is one), 1 flop per
            // element per eager pass, softmax 5 per element (7 when streamed twice: 4 + 3).
            const std::int64_t scale_and_eager = extra_passes == 0 ? N2 : extra_passes * N2;
            x.other_flops = scale_and_eager + (row_fits ? 5 : 7) * N2;
            // Working sets: (Q_i, K_j, S_ij) and (P_ij, V_j, O_i) are the same size; softmax holds
            // floor(sram / row bytes) whole rows (at most N), or one SRAM-sized chunk of a row.
            const std::int64_t gemm = (br * d + bc * d + br * bc) * e;
            const std::int64_t softmax =
                row_fits ? std::min(N, hw.sram_bytes / (N * e)) * N * e : (hw.sram_bytes / e) * e;
            x.sram_peak_bytes = std::max(gemm, softmax);
            break;
        }
        case kernels::AlgorithmId::flash: {
            // Algorithm 1. Reads 2Nd (K, V once) + T_c (2Nd + 2N) (Q_i, O_i, l_i, m_i per K/V block);
            // writes T_c (Nd + 2N) (O_i, l_i, m_i per K/V block) + Nd + 2N (line 2's initialisation).
            x.r(Tensor::K) = Nd;
            x.r(Tensor::V) = Nd;
            x.r(Tensor::Q) = T_c * Nd;
            x.r(Tensor::O) = T_c * Nd;
            x.r(Tensor::l) = T_c * N;
            x.r(Tensor::m) = T_c * N;
            x.w(Tensor::O) = T_c * Nd + Nd;
            x.w(Tensor::l) = T_c * N + N;
            x.w(Tensor::m) = T_c * N + N;
            // 5 per element of S (tau, max, subtract, exp, sum); per K/V block, 5 per row (m_new, l_new)
            // and 3 per element of O (scale, add, divide).
            x.other_flops = 5 * N2 + T_c * (5 * N + 3 * Nd);
            x.sram_peak_bytes = (2 * bc * d + 2 * br * d + br * bc) * e + 2 * br * 4;
            break;
        }
        case kernels::AlgorithmId::flash2: {
            // FA2 order: reads Nd (Q once) + 2 T_r Nd (K, V per Q block); writes Nd (O) + N (L).
            x.r(Tensor::Q) = Nd;
            x.r(Tensor::K) = T_r * Nd;
            x.r(Tensor::V) = T_r * Nd;
            x.w(Tensor::O) = Nd;
            x.w(Tensor::L) = N;
            // As FA1 but 2 per element of O per block (no division in the loop), then the deferred
            // division (Nd) and L = m + log l (2 per row).
            x.other_flops = 5 * N2 + T_c * (5 * N + 2 * Nd) + Nd + 2 * N;
            x.sram_peak_bytes = (2 * bc * d + 2 * br * d + br * bc) * e + 2 * br * 4;
            break;
        }
    }
    for (std::size_t t = 0; t < sim::kTensorCount; ++t) {
        x.read_total += x.read[t];
        x.write_total += x.write[t];
    }
    return x;
}

// The facts file's totals, as printed there (before the per-tensor split), for the extra check that
// the per-tensor sums above add up to the paper's expressions.
inline std::int64_t fa1_paper_reads(std::int64_t N, std::int64_t d, std::int64_t T_c) {
    return 2 * N * d + T_c * (2 * N * d + 2 * N);
}
inline std::int64_t fa1_paper_writes_with_init(std::int64_t N, std::int64_t d, std::int64_t T_c) {
    return T_c * (N * d + 2 * N) + (N * d + 2 * N);
}
inline std::int64_t fa2_paper_reads(std::int64_t N, std::int64_t d, std::int64_t T_r) {
    return N * d + 2 * T_r * N * d;
}
inline std::int64_t fa2_paper_writes(std::int64_t N, std::int64_t d) {
    return N * d + N;
}

}  // namespace tilesim::test
