// FlashAttention forward, Algorithm 1 of Dao et al. 2022 (the "FA1" loop order).
// Notation follows the paper: N, d, M, B_r, B_c, T_r, T_c, Q_i, K_j, V_j, S_ij, P~_ij, m_i, l_i.
//
// K_j, V_j are the resident blocks (outer loop); every inner step reads Q_i, O_i, l_i, m_i from HBM,
// folds block j into the online softmax, and writes O_i, l_i, m_i back. That round trip of O_i per
// K/V block is what FA2's loop order removes.
#include <cmath>
#include <limits>

#include "kernels/attention.h"
#include "kernels/detail.h"

namespace tilesim::kernels {

using sim::Tensor;

void run_flash(const Problem& p, const Tiling& t, sim::Hierarchy& h, const Inputs* in, const RunOptions& o,
               RunResult& r) {
    const std::int64_t N = p.N, d = p.d, B_r = t.B_r, B_c = t.B_c, T_r = t.T_r, T_c = t.T_c;
    const bool numerics = in != nullptr;
    const float tau = 1.0F / std::sqrt(static_cast<float>(d));
    const float neg_inf = -std::numeric_limits<float>::infinity();

    // FA1 parallelises over batch and heads: one thread block per (b, h).
    h.begin_phase("flash forward (Algorithm 1)", 1);
    const auto buffers = detail::hold(h, working_sets(AlgorithmId::flash, p, B_r, B_c, h.spec())[0]);

    // HBM-resident output and statistics (only stored when numerics are on).
    Mat O;
    Vec l, m;
    if (numerics) {
        O = Mat::Zero(N, d);
        l = Vec::Zero(N);
        m = Vec::Constant(N, neg_inf);
    }
    // Line 2: initialise O = 0, l = 0, m = -inf in HBM. Counted: these are real writes.
    for (std::int64_t i = 0; i < T_r; ++i) {
        const std::int64_t rows = detail::block_len(i, B_r, N);
        const auto ii = static_cast<std::int32_t>(i);
        h.store(Tensor::O, {i * B_r, 0, rows, d}, ii, -1, "Alg 1 l.2: O = 0 in HBM");
        h.store(Tensor::l, {i * B_r, 0, rows, 1}, ii, -1, "Alg 1 l.2: l = 0 in HBM");
        h.store(Tensor::m, {i * B_r, 0, rows, 1}, ii, -1, "Alg 1 l.2: m = -inf in HBM");
    }

    Mat K_j, V_j, Q_i, O_i, S_ij;
    Vec l_i, m_i;
    for (std::int64_t j = 0; j < T_c; ++j) {
        const std::int64_t c0 = j * B_c;
        const std::int64_t cols = detail::block_len(j, B_c, N);  // ragged last K/V block
        const auto jj = static_cast<std::int32_t>(j);
        // Line 6: load K_j, V_j from HBM to SRAM; they stay for the whole inner loop.
        h.load(Tensor::K, {c0, 0, cols, d}, -1, jj, "Alg 1 l.6: load K_j");
        h.load(Tensor::V, {c0, 0, cols, d}, -1, jj, "Alg 1 l.6: load V_j");
        if (numerics) {
            K_j = in->K.middleRows(c0, cols);
            V_j = in->V.middleRows(c0, cols);
        }
        for (std::int64_t i = 0; i < T_r; ++i) {
            const std::int64_t r0 = i * B_r;
            const std::int64_t rows = detail::block_len(i, B_r, N);
            const auto ii = static_cast<std::int32_t>(i);
            // Line 8: load Q_i, O_i, l_i, m_i.
            h.load(Tensor::Q, {r0, 0, rows, d}, ii, jj, "Alg 1 l.8: load Q_i");
            h.load(Tensor::O, {r0, 0, rows, d}, ii, jj, "Alg 1 l.8: load O_i");
            h.load(Tensor::l, {r0, 0, rows, 1}, ii, jj, "Alg 1 l.8: load l_i");
            h.load(Tensor::m, {r0, 0, rows, 1}, ii, jj, "Alg 1 l.8: load m_i");
            // Line 9: S_ij = tau Q_i K_j^T (matmul, plus one multiply per element for tau).
            h.compute(Tensor::S, {r0, c0, rows, cols}, 2 * rows * cols * d, rows * cols, rows * d + cols * d,
                      rows * cols, ii, jj, "Alg 1 l.9: S_ij = tau Q_i K_j^T");
            // Line 10: m~_ij = rowmax(S_ij), P~_ij = exp(S_ij - m~_ij), l~_ij = rowsum(P~_ij):
            // max, subtract, exp, add = 4 flops per element.
            h.compute(Tensor::P, {r0, c0, rows, cols}, 0, 4 * rows * cols, rows * cols, rows * cols, ii, jj,
                      "Alg 1 l.10: m~_ij, P~_ij, l~_ij");
            // Lines 11-12: m_new, l_new (5 flops per row), then O_i rescaled and P~_ij V_j added
            // (3 flops per element of O_i: scale old, add, divide by l_new).
            h.compute(Tensor::O, {r0, 0, rows, d}, 2 * rows * cols * d, 3 * rows * d + 5 * rows,
                      rows * cols + cols * d + rows * d, rows * d, ii, jj, "Alg 1 l.11-12: rescale O_i");
            if (numerics) {
                Q_i = in->Q.middleRows(r0, rows);
                O_i = O.middleRows(r0, rows);
                l_i = l.segment(r0, rows);
                m_i = m.segment(r0, rows);
                S_ij.noalias() = tau * (Q_i * K_j.transpose());
                const Vec m_tilde = S_ij.rowwise().maxCoeff();
                S_ij = (S_ij.colwise() - m_tilde).array().exp();  // S_ij now holds P~_ij
                const Vec l_tilde = S_ij.rowwise().sum();
                const Vec m_new = m_i.cwiseMax(m_tilde);
                const Vec a = (m_i - m_new).array().exp();      // e^(m_i - m_new); 0 while m_i = -inf
                const Vec b = (m_tilde - m_new).array().exp();  // e^(m~_ij - m_new)
                const Vec l_new = a.cwiseProduct(l_i) + b.cwiseProduct(l_tilde);
                // Line 12: O_i <- diag(l_new)^-1 (diag(l_i) a O_i + b P~_ij V_j)
                Mat PV = S_ij * V_j;
                O_i =
                    (O_i.array().colwise() * (l_i.cwiseProduct(a)).array() + PV.array().colwise() * b.array())
                        .colwise() /
                    l_new.array();
                O.middleRows(r0, rows) = O_i;
                l.segment(r0, rows) = l_new;
                m.segment(r0, rows) = m_new;
            }
            // Lines 12-13: write O_i, l_i, m_i back to HBM.
            h.store(Tensor::O, {r0, 0, rows, d}, ii, jj, "Alg 1 l.12: write O_i");
            h.store(Tensor::l, {r0, 0, rows, 1}, ii, jj, "Alg 1 l.13: write l_i");
            h.store(Tensor::m, {r0, 0, rows, 1}, ii, jj, "Alg 1 l.13: write m_i");
            if (numerics && o.watch_block == ii) {
                const std::int64_t step =
                    h.trace() != nullptr ? static_cast<std::int64_t>(h.trace()->events().size()) - 1 : -1;
                r.probe.push_back({jj, step, m.segment(r0, rows), l.segment(r0, rows), O_i, true});
            }
        }
    }
    detail::drop(h, buffers);
    if (numerics) r.O = std::move(O);
}

}  // namespace tilesim::kernels
