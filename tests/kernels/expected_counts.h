#pragma once
// The tests' own transcription of the papers' IO formulas (../shared/reference/flash-attention-facts.md
// and the papers' algorithm listings), written without looking at the definitions' closed_form
// functions: the simulator is checked against this and against each definition's closed form, two
// derivations that must agree with it and each other.
//
// Notation: N_q query rows, N_kv key rows (the papers' N when equal), d, B_r, B_c (the block sizes in
// force), T_r = ceil(N_q/B_r), T_c = ceil(N_kv/B_c). Elements per (batch, head). With a mask, the
// FlashAttention orders skip the tiles it empties and mask the ones it cuts: their counts are sums
// over tiles (test::tile_sums, from a brute-force scan of every element); without one those sums are
// the unmasked grid's (rows = T_c N_q, cols = T_r N_kv, area = N_q N_kv).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "kernels/problem.h"
#include "sim/hardware.h"
#include "sim/types.h"
#include "tests/kernels/mask_brute.h"

namespace tilesim::test {

struct Expected {
    std::array<std::int64_t, sim::kTensorCount> read{};   // HBM reads per tensor
    std::array<std::int64_t, sim::kTensorCount> write{};  // HBM writes per tensor
    std::int64_t read_total = 0;
    std::int64_t write_total = 0;
    std::int64_t l2_read = 0;
    std::int64_t matmul_flops = 0;
    std::int64_t other_flops = 0;
    std::int64_t exp_flops = 0;  // of other_flops, the exponentials and logarithms
    std::int64_t sram_peak_bytes = 0;
    std::int64_t& r(sim::Tensor t) { return read[static_cast<std::size_t>(t)]; }
    std::int64_t& w(sim::Tensor t) { return write[static_cast<std::size_t>(t)]; }
};

inline std::int64_t cdiv(std::int64_t a, std::int64_t b) {
    return (a + b - 1) / b;
}

// The inputs of one check: the sizes in force and the machine. N_kv = 0 means N_kv = N (square).
struct Shape {
    std::int64_t N, d, B_r, B_c;
    sim::Dtype dtype;
    std::int64_t extra_passes = 0;
    std::int64_t N_kv = 0;
    const kernels::Mask* mask = nullptr;
};

// ---- Decoding: decode, flash-decoding (forward only) ----
// Written from the Flash-Decoding description and FA2's split-KV code as the facts file (section 4)
// describes them, and from the PagedAttention paper, not from the definitions' closed_form functions.

// FA2's num_splits_heuristic, transcribed again from the facts file's four steps: (1) 1 split once the
// tiles reach 0.8 x the slots; (2) the candidates 1 .. min(128, slots, KV blocks); (3) efficiency
// e(s) = w / ceil(w), w = tiles x s / slots, skipping s that give each split as many blocks as s - 1;
// (4) the smallest candidate with e(s) >= 0.85 x the best.
inline std::int64_t fa2_splits(std::int64_t tiles, std::int64_t slots, std::int64_t kv_blocks) {
    if (10 * tiles >= 8 * slots) return 1;
    const std::int64_t top = std::min<std::int64_t>({128, slots, kv_blocks});
    auto per_split = [&](std::int64_t s) { return cdiv(kv_blocks, s); };
    auto skipped = [&](std::int64_t s) { return s > 1 && per_split(s) == per_split(s - 1); };
    auto eff = [&](std::int64_t s) {
        const double w = static_cast<double>(tiles * s) / static_cast<double>(slots);
        return w / std::ceil(w);
    };
    double best = 0;
    for (std::int64_t s = 1; s <= top; ++s) {
        if (!skipped(s)) best = std::max(best, eff(s));
    }
    for (std::int64_t s = 1; s <= top; ++s) {
        if (!skipped(s) && eff(s) >= 0.85 * best) return s;
    }
    return 1;
}

// One unit of a decode run: N_q query rows (g x the scenario's when a KV group is packed) against N_kv
// keys; the block sizes and split count in force; P = page size (0: contiguous).
struct DecodeShape {
    std::int64_t N_q, N_kv, d, B_r, B_c;
    sim::Dtype dtype;
    std::int64_t splits = 1;
    std::int64_t page_size = 0;
};

// decode: FA2's loop with one thread block per Q block over the whole cache. Reads Q once, K and V
// once per Q block (T_r), a page-table entry per page per thread block; writes O and L once.
inline void decode_counts(const DecodeShape& s, Expected& x) {
    using sim::Tensor;
    const std::int64_t Nq = s.N_q, Nk = s.N_kv, d = s.d, T_r = cdiv(Nq, s.B_r), T_c = cdiv(Nk, s.B_c);
    // Inputs in the dtype (e); O_i and S_ij as written (es: bf16 for an fp8 problem).
    const std::int64_t e = static_cast<std::int64_t>(sim::dtype_bytes(s.dtype));
    const std::int64_t es = sim::is_fp8(s.dtype) ? 2 : e;
    const std::int64_t br = std::min(s.B_r, Nq), bc = std::min(s.B_c, Nk);
    const std::int64_t pages = s.page_size > 0 ? cdiv(Nk, s.page_size) : 0;
    x.r(Tensor::Q) = Nq * d;
    x.r(Tensor::K) = T_r * Nk * d;
    x.r(Tensor::V) = T_r * Nk * d;
    x.r(Tensor::PT) = T_r * pages;
    x.w(Tensor::O) = Nq * d;
    x.w(Tensor::L) = Nq;
    x.matmul_flops = 2 * Nq * Nk * d + 2 * Nq * Nk * d;
    // As FA2 (forward_counts): 5 per score, per (Q block, K/V block) 5 per row and 2 per element of O_i,
    // then the division by l_i and L = m + log l.
    x.other_flops = 5 * Nq * Nk + T_c * (5 * Nq + 2 * Nq * d) + Nq * d + 2 * Nq;
    x.exp_flops = Nq * Nk + T_c * Nq + Nq;
    // K_j, V_j, Q_i, O_i, S_ij; l_i, m_i (fp32); the int32 entries of the pages one K/V block can span.
    const std::int64_t pt = s.page_size > 0 ? std::min(pages, cdiv(bc, s.page_size) + 1) : 0;
    x.sram_peak_bytes = (2 * bc * d + br * d) * e + (br * d + br * bc) * es + 2 * br * 4 + pt * 4;
}

// flash-decoding: split s of every Q block streams K/V blocks [s n, min((s + 1) n, T_c)), n =
// ceil(T_c / S); a split that gets none writes its partials without loading Q. S = 1 is decode's count.
inline void flash_decoding_counts(const DecodeShape& s, Expected& x) {
    using sim::Tensor;
    decode_counts(s, x);
    if (s.splits == 1) return;
    const std::int64_t Nq = s.N_q, Nk = s.N_kv, d = s.d, T_r = cdiv(Nq, s.B_r), T_c = cdiv(Nk, s.B_c);
    const std::int64_t S = s.splits, n = cdiv(T_c, S), br = std::min(s.B_r, Nq);
    std::int64_t busy = 0, table = 0;
    for (std::int64_t k = 0; k < S; ++k) {
        const std::int64_t first = k * n, last = std::min(T_c, (k + 1) * n);  // blocks [first, last)
        if (first >= last) continue;
        ++busy;
        if (s.page_size > 0) {
            // Its tokens [first B_c, min(last B_c, N_kv)) lie in pages first B_c / P .. (end - 1) / P.
            const std::int64_t t0 = first * s.B_c, t1 = std::min(last * s.B_c, Nk);
            table += (t1 - 1) / s.page_size - t0 / s.page_size + 1;
        }
    }
    x.r(Tensor::Q) = busy * Nq * d;
    x.r(Tensor::PT) = T_r * table;
    // Every split (the empty ones too) writes S partial rows of d + 1 fp32 values; the combine reads them.
    x.w(Tensor::Oacc) = S * Nq * d;
    x.w(Tensor::Lacc) = S * Nq;
    x.r(Tensor::Oacc) = S * Nq * d;
    x.r(Tensor::Lacc) = S * Nq;
    // The epilogue runs once per busy split, not once per Q block.
    x.other_flops = 5 * Nq * Nk + T_c * (5 * Nq + 2 * Nq * d) + busy * (Nq * d + 2 * Nq);
    x.exp_flops = Nq * Nk + T_c * Nq + busy * Nq;
    // Combine, per query row: max of S (S), S subtractions and exps, an S-term sum, a log and an add
    // (4S + 2, S + 1 transcendental); per split a weight exp(Lacc - L) (2, one exp) and 2d for O += w Oacc.
    x.other_flops += Nq * (4 * S + 2) + S * Nq * (2 + 2 * d);
    x.exp_flops += Nq * (S + 1) + S * Nq;
    // The combine holds an fp32 accumulator and one split's fp32 tile (B_r x d each), the S
    // log-sum-exps and L of its rows.
    x.sram_peak_bytes = std::max(x.sram_peak_bytes, (2 * br * d + br * S + br) * 4);
}

inline void forward_counts(std::string_view key, const Shape& s, const sim::HardwareSpec& hw, Expected& x) {
    using sim::Tensor;
    const std::int64_t N_q = s.N, N_kv = s.N_kv > 0 ? s.N_kv : s.N, d = s.d;
    const std::int64_t T_r = cdiv(N_q, s.B_r);
    // Bytes per element: Q, K, V, dO in the problem's dtype (e); what is computed and written (S, P, O,
    // dP, dS, the gradients) in es: the same, except that an fp8 problem writes bf16 (2 bytes).
    const std::int64_t e = static_cast<std::int64_t>(sim::dtype_bytes(s.dtype));
    const std::int64_t es = sim::is_fp8(s.dtype) ? 2 : e;
    const std::int64_t NN = N_q * N_kv, k = s.extra_passes;
    const kernels::Mask none;
    const kernels::Mask& mask = s.mask != nullptr ? *s.mask : none;
    const TileSums t = tile_sums(mask, N_q, N_kv, s.B_r, s.B_c);
    // A block never holds more rows than the problem has.
    const std::int64_t br = std::min(s.B_r, N_q), bc = std::min(s.B_c, N_kv);
    if (key == "standard") {
        // QK^T and PV: N_q N_kv dot products of length d each, a multiply and an add per term, every
        // tile computed (cuBLAS does not skip masked tiles).
        x.matmul_flops = 4 * NN * d;
        // Algorithm 0: reads 3Nd + 2N^2 (Q, K, V; S, P), writes Nd + 2N^2 (S, P; O) when the GEMM
        // operands are read once. A tiled GEMM re-reads K (pass 1) and V (pass 3) for each of the
        // T_r - 1 later Q blocks: from the L2 if one head's K fits there, else from HBM.
        const bool l2_holds_K = hw.l2_bytes > 0 && N_kv * d * e <= hw.l2_bytes;
        const std::int64_t reread = (T_r - 1) * N_kv * d;
        // Softmax: if a row of S (N_kv elements) fits in SRAM, S is read once; else twice (max/sum, then P).
        const bool row_fits = N_kv * es <= hw.sram_bytes;
        x.r(Tensor::Q) = N_q * d;
        x.r(Tensor::K) = N_kv * d + (l2_holds_K ? 0 : reread);
        x.r(Tensor::V) = N_kv * d + (l2_holds_K ? 0 : reread);
        x.r(Tensor::S) = (row_fits ? NN : 2 * NN) + k * NN;
        x.r(Tensor::P) = NN;
        x.w(Tensor::S) = NN + k * NN;
        x.w(Tensor::P) = NN;
        x.w(Tensor::O) = N_q * d;
        x.l2_read = l2_holds_K ? 2 * reread : 0;
        // tau once per element of S (folded into the first eager pass when there is one), 1 flop per
        // element per eager pass, softmax 5 per element (7 when streamed twice: 4 + 3).
        x.other_flops = (k == 0 ? NN : k * NN) + (row_fits ? 5 : 7) * NN;
        x.exp_flops = (row_fits ? 1 : 2) * NN;  // one exp per element per softmax pass over S
        // Working sets: (Q_i, K_j, S_ij) and (P_ij, V_j, O_i) are the same size; softmax holds
        // floor(sram / row bytes) whole rows (at most N_q), or one SRAM-sized chunk of a row.
        // The GEMM sets: (Q_i, K_j, S_ij) and (P_ij, V_j, O_i).
        const std::int64_t gemm = std::max((br * d + bc * d) * e + br * bc * es, (br * bc + br * d) * es + bc * d * e);
        const std::int64_t softmax =
            row_fits ? std::min(N_q, hw.sram_bytes / (N_kv * es)) * N_kv * es : (hw.sram_bytes / es) * es;
        x.sram_peak_bytes = std::max(gemm, softmax);
        if (mask.active()) {
            if (k >= 2) {
                // The framework's second eager pass is masked_fill: it reads the boolean mask (1 B per
                // element) with S, holding as many rows of both as two rows of S would take.
                x.r(Tensor::Mk) = NN;
                const std::int64_t rows2 = hw.sram_bytes / (2 * N_kv * es);
                const std::int64_t held = rows2 >= 1 ? std::min(N_q, rows2) * N_kv : hw.sram_bytes / (2 * es);
                x.sram_peak_bytes = std::max(x.sram_peak_bytes, held * (es + 1));
            } else {
                x.other_flops += (row_fits ? 1 : 2) * NN;  // fused into the softmax: a compare per element read
            }
        }
    } else if (key == "flash") {
        // Algorithm 1. Reads 2Nd (K, V once) + T_c (2Nd + 2N) (Q_i, O_i, l_i, m_i per K/V block);
        // writes T_c (Nd + 2N) (O_i, l_i, m_i per K/V block) + Nd + 2N (line 2's initialisation).
        // With a mask, "per K/V block" is "per tile left" and K, V are read for live K/V blocks only.
        x.r(Tensor::K) = t.kv_live * d;
        x.r(Tensor::V) = t.kv_live * d;
        x.r(Tensor::Q) = t.rows * d;
        x.r(Tensor::O) = t.rows * d;
        x.r(Tensor::l) = t.rows;
        x.r(Tensor::m) = t.rows;
        x.w(Tensor::O) = t.rows * d + N_q * d;
        x.w(Tensor::l) = t.rows + N_q;
        x.w(Tensor::m) = t.rows + N_q;
        x.matmul_flops = 4 * t.area * d;
        // 5 per element of S (tau, max, subtract, exp, sum); per tile, 5 per row (m_new, l_new) and 3 per
        // element of O (scale, add, divide); the mask, 1 per element of a partial tile.
        x.other_flops = 5 * t.area + t.rows * (5 + 3 * d) + t.partial_area;
        // exp(S_ij - m~_ij) per element; e^(m_i - m_new) and e^(m~_ij - m_new) per row per tile.
        x.exp_flops = t.area + 2 * t.rows;
        // K_j, V_j, Q_i (input format); O_i, S_ij (written format); m_i, l_i fp32.
        x.sram_peak_bytes = (2 * bc * d + br * d) * e + (br * d + br * bc) * es + 2 * br * 4;
    } else if (key == "flash2") {
        // FA2 order: reads Nd (Q once) + 2 T_r Nd (K, V per Q block; per live tile with a mask);
        // writes Nd (O) + N (L).
        x.r(Tensor::Q) = N_q * d;
        x.r(Tensor::K) = t.cols * d;
        x.r(Tensor::V) = t.cols * d;
        x.w(Tensor::O) = N_q * d;
        x.w(Tensor::L) = N_q;
        x.matmul_flops = 4 * t.area * d;
        // As FA1 but 2 per element of O per tile (no division in the loop), then the deferred
        // division (Nd) and L = m + log l (2 per row).
        x.other_flops = 5 * t.area + t.rows * (5 + 2 * d) + t.partial_area + N_q * d + 2 * N_q;
        // exp per element; the rescale e^(m_old - m_new) per row per tile; log l_i per row.
        x.exp_flops = t.area + t.rows + N_q;
        // As FA1, and with fp8 the transposed copy V_j^T (d x B_c) for the second GEMM.
        x.sram_peak_bytes = (2 * bc * d + br * d + (sim::is_fp8(s.dtype) ? bc * d : 0)) * e + (br * d + br * bc) * es +
                            2 * br * 4;
    } else if (key == "decode") {
        decode_counts({N_q, N_kv, d, s.B_r, s.B_c, s.dtype}, x);
    } else if (key == "flash-decoding") {
        // One head (B = H = 1): FA2's heuristic over T_r tiles and 2 slots per SM.
        const std::int64_t S = fa2_splits(T_r, 2 * hw.sm_count, cdiv(N_kv, s.B_c));
        flash_decoding_counts({N_q, N_kv, d, s.B_r, s.B_c, s.dtype, S}, x);
    }
}

inline void backward_counts(std::string_view key, const Shape& s, const sim::HardwareSpec& hw, Expected& x) {
    using sim::Tensor;
    const std::int64_t N_q = s.N, N_kv = s.N_kv > 0 ? s.N_kv : s.N, d = s.d;
    const std::int64_t T_r = cdiv(N_q, s.B_r), T_c = cdiv(N_kv, s.B_c);
    // Bytes per element: Q, K, V, dO in the problem's dtype (e); what is computed and written (S, P, O,
    // dP, dS, the gradients) in es: the same, except that an fp8 problem writes bf16 (2 bytes).
    const std::int64_t e = static_cast<std::int64_t>(sim::dtype_bytes(s.dtype));
    const std::int64_t es = sim::is_fp8(s.dtype) ? 2 : e;
    const std::int64_t NN = N_q * N_kv, k = s.extra_passes;
    const kernels::Mask none;
    const kernels::Mask& mask = s.mask != nullptr ? *s.mask : none;
    const TileSums t = tile_sums(mask, N_q, N_kv, s.B_r, s.B_c);
    const std::int64_t br = std::min(s.B_r, N_q), bc = std::min(s.B_c, N_kv);
    if (key == "standard") {
        // Algorithm 3, line by line (each GEMM operand read once, as the paper counts):
        //   1. dV = P^T dO: read P (N^2), dO (Nd); write dV (Nd)
        //   2. dP = dO V^T: read dO, V (Nd each); write dP (N^2)
        //   3. dS = P o (dP - rowsum(P o dP)): read P, dP (N^2 each); write dS (N^2)
        //   4. dQ = dS K: read dS (N^2), K (Nd); write dQ (Nd)
        //   5. dK = dS^T Q: read dS (N^2), Q (Nd); write dK (Nd)
        // = reads 5N^2 + 5Nd, writes 2N^2 + 3Nd. Each eager pass's backward reads and writes dS once.
        // A line-1/5 GEMM re-reads dO or Q for each K/V block after the first, a line-2/4 GEMM V or K for
        // each Q block after the first: from the L2 if one head's operand fits, else from HBM.
        const bool l2_q = hw.l2_bytes > 0 && N_q * d * e <= hw.l2_bytes;
        const bool l2_kv = hw.l2_bytes > 0 && N_kv * d * e <= hw.l2_bytes;
        const std::int64_t re_c = (T_c - 1) * N_q * d, re_r = (T_r - 1) * N_kv * d;
        // Line 3 holds a row of P and a row of dP at once; when two rows do not fit it streams twice.
        const std::int64_t sm = 2 * N_kv * es <= hw.sram_bytes ? 1 : 2;
        x.r(Tensor::P) = NN + sm * NN;
        x.r(Tensor::dP) = sm * NN;
        x.r(Tensor::dS) = 2 * NN + k * NN;
        x.r(Tensor::dO) = 2 * N_q * d + (l2_q ? 0 : re_c);
        x.r(Tensor::Q) = N_q * d + (l2_q ? 0 : re_c);
        x.r(Tensor::V) = N_kv * d + (l2_kv ? 0 : re_r);
        x.r(Tensor::K) = N_kv * d + (l2_kv ? 0 : re_r);
        x.w(Tensor::dV) = N_kv * d;
        x.w(Tensor::dP) = NN;
        x.w(Tensor::dS) = NN + k * NN;
        x.w(Tensor::dQ) = N_q * d;
        x.w(Tensor::dK) = N_kv * d;
        x.l2_read = (l2_q ? 2 * re_c : 0) + (l2_kv ? 2 * re_r : 0);
        x.matmul_flops = 4 * 2 * NN * d;  // lines 1, 2, 4, 5
        // Softmax backward per element: P o dP, the row sum, the subtraction, the product (4); tau once
        // per element (folded into line 3, or the eager scale pass); 1 per element per other eager pass.
        x.other_flops = 4 * NN + (k == 0 ? NN : k * NN);
        // The four GEMMs' sets: dV = P^T dO (P_ij, dO_i, dV_j), dP = dO V^T (dO_i, V_j, dP_ij), dQ = dS K
        // (dS_ij, K_j, dQ_i), dK = dS^T Q (dS_ij, Q_i, dK_j).
        const std::int64_t gemm = std::max({br * bc * es + br * d * e + bc * d * es, (br * d + bc * d) * e + br * bc * es,
                                            br * bc * es + bc * d * e + br * d * es});
        const std::int64_t rows2 = std::min(N_q, hw.sram_bytes / (2 * N_kv * es));
        const std::int64_t softmax = sm == 1 ? 2 * rows2 * N_kv * es : 2 * (hw.sram_bytes / (2 * es)) * es;
        x.sram_peak_bytes = std::max(gemm, softmax);
        // A mask: masked_fill's backward (the second eager pass) reads the boolean mask again.
        if (mask.active() && k >= 2) x.r(Tensor::Mk) = NN;
    } else if (key == "flash") {
        // Algorithm 4 (facts file): reads 2Nd + T_c (4Nd + 2N) (K, V; then Q_i, O_i, dO_i, dQ_i, l_i,
        // m_i per K/V block), writes 2Nd + T_c Nd (dK, dV; dQ_i per K/V block), plus line 5's dQ = 0 (Nd).
        // With a mask: per tile left, and K, V for live K/V blocks (dK, dV are written for every block).
        x.r(Tensor::K) = t.kv_live * d;
        x.r(Tensor::V) = t.kv_live * d;
        x.r(Tensor::Q) = t.rows * d;
        x.r(Tensor::O) = t.rows * d;
        x.r(Tensor::dO) = t.rows * d;
        x.r(Tensor::dQ) = t.rows * d;
        x.r(Tensor::l) = t.rows;
        x.r(Tensor::m) = t.rows;
        x.w(Tensor::dQ) = t.rows * d + N_q * d;
        x.w(Tensor::dK) = N_kv * d;
        x.w(Tensor::dV) = N_kv * d;
        // Lines 11, 16, 17, 21, 22: five GEMMs of 2 rows cols d per tile.
        x.matmul_flops = 5 * 2 * t.area * d;
        // Per element of S_ij: tau (l.11), subtract m, exp, divide by l (l.13), subtract D, multiply
        // (l.20), and tau once on dS (used by l.21 and l.22): 7; the mask on partial tiles (l.12): 1.
        // Line 19's D_i (a product and a sum per element of dO_i) is inside the inner loop: per tile.
        x.other_flops = 7 * t.area + t.partial_area + t.rows * 2 * d;
        x.exp_flops = t.area;  // line 13's exp, recomputed
        // K_j, V_j, dK_j, dV_j; Q_i, O_i, dO_i, dQ_i; S/P and dP/dS tiles; l_i, m_i, D_i in fp32.
        // Inputs K_j, V_j, Q_i, dO_i; dK~_j, dV~_j, O_i, dQ_i, S_ij, dP_ij as written; l_i, m_i, D_i.
        x.sram_peak_bytes = (2 * bc * d + 2 * br * d) * e + (2 * bc * d + 2 * br * d + 2 * br * bc) * es + 3 * br * 4;
    } else if (key == "flash2") {
        // FA2 backward as its kernel runs it, three launches:
        //   D = rowsum(dO o O): read dO, O (Nd each); write D (N); zero dQacc (Nd, fp32)
        //   main, K/V outer: read K, V (Nd each); per K/V block Q_i, dO_i (Nd each), L_i, D_i (N each),
        //     and dQacc_i += dS_ij K_j by atomics: a read and a write of Nd (fp32) per K/V block;
        //     write dK, dV (Nd each)
        //   convert: read dQacc (Nd, fp32), write dQ (Nd)
        // With a mask: per tile left, K, V for live K/V blocks.
        x.r(Tensor::dO) = N_q * d + t.rows * d;
        x.r(Tensor::O) = N_q * d;
        x.r(Tensor::K) = t.kv_live * d;
        x.r(Tensor::V) = t.kv_live * d;
        x.r(Tensor::Q) = t.rows * d;
        x.r(Tensor::L) = t.rows;
        x.r(Tensor::D) = t.rows;
        x.r(Tensor::dQacc) = t.rows * d + N_q * d;
        x.w(Tensor::D) = N_q;
        x.w(Tensor::dQacc) = N_q * d + t.rows * d;
        x.w(Tensor::dK) = N_kv * d;
        x.w(Tensor::dV) = N_kv * d;
        x.w(Tensor::dQ) = N_q * d;
        x.matmul_flops = 5 * 2 * t.area * d;  // S, dV, dP, dQacc, dK
        // D: 2 per element of dO; per element of S: tau, subtract L, exp, subtract D, multiply (5); the
        // mask on partial tiles (1); dK *= tau and dQ = tau dQacc: one per element of each.
        x.other_flops = 2 * N_q * d + 5 * t.area + t.partial_area + N_kv * d + N_q * d;
        x.exp_flops = t.area;  // exp(S_ij - L_i), recomputed
        const std::int64_t pre = br * d * (e + es) + br * 4;  // dO_i, O_i, D_i
        const std::int64_t main = (2 * bc * d + 2 * br * d) * e + (2 * bc * d + 2 * br * bc) * es + br * d * 4 + 2 * br * 4;
        const std::int64_t conv = br * d * 4 + br * d * es;
        x.sram_peak_bytes = std::max({pre, main, conv});
    }
    (void)T_c;
}

inline Expected expected_counts(std::string_view key, kernels::Pass pass, const Shape& s,
                                const sim::HardwareSpec& hw) {
    Expected x;
    if (pass == kernels::Pass::forward) {
        forward_counts(key, s, hw, x);
    } else {
        backward_counts(key, s, hw, x);
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
// Algorithm 4 (facts file): reads 2Nd + T_c (4Nd + 2N), writes 2Nd + T_c Nd, before line 5's dQ = 0.
inline std::int64_t alg4_paper_reads(std::int64_t N, std::int64_t d, std::int64_t T_c) {
    return 2 * N * d + T_c * (4 * N * d + 2 * N);
}
inline std::int64_t alg4_paper_writes(std::int64_t N, std::int64_t d, std::int64_t T_c) {
    return 2 * N * d + T_c * N * d;
}
// Algorithm 3 (facts file): reads 5N^2 + 5Nd, writes 2N^2 + 3Nd, each GEMM operand read once.
inline std::int64_t alg3_paper_reads(std::int64_t N, std::int64_t d) {
    return 5 * N * N + 5 * N * d;
}
inline std::int64_t alg3_paper_writes(std::int64_t N, std::int64_t d) {
    return 2 * N * N + 3 * N * d;
}

}  // namespace tilesim::test
