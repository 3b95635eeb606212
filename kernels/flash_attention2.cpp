// FlashAttention-2 forward loop order (Dao 2023). Notation as in Algorithm 1 of the first paper:
// N, d, M, B_r, B_c, T_r, T_c, Q_i, K_j, V_j, S_ij, P~_ij, m_i, l_i; L_i = m_i + log l_i.
//
// Q blocks are outer and resident: Q_i and the O_i accumulator stay in SRAM for the whole inner loop
// over K/V blocks. O_i is kept unnormalised and divided by l_i once at the end (the deferred
// rescale), and only L_i (one value per row) is written, not m and l separately.
#include <cmath>
#include <limits>

#include "kernels/attention.h"
#include "kernels/detail.h"

namespace tilesim::kernels {

using sim::Tensor;

void run_flash2(const Problem& p, const Tiling& t, sim::Hierarchy& h, const Inputs* in, const RunOptions& o,
                RunResult& r) {
    const std::int64_t N = p.N, d = p.d, B_r = t.B_r, B_c = t.B_c, T_r = t.T_r, T_c = t.T_c;
    const bool numerics = in != nullptr;
    const float tau = 1.0F / std::sqrt(static_cast<float>(d));
    const float neg_inf = -std::numeric_limits<float>::infinity();

    // FA2 parallelises over (batch, head, Q block): T_r thread blocks per head.
    h.begin_phase("flash2 forward", T_r);
    const auto buffers = detail::hold(h, working_sets(AlgorithmId::flash2, p, B_r, B_c, h.spec())[0]);

    Mat O;
    Vec L;
    if (numerics) {
        O.resize(N, d);
        L.resize(N);
    }
    Mat Q_i, K_j, V_j, S_ij, O_i;
    Vec m_i, l_i;
    for (std::int64_t i = 0; i < T_r; ++i) {
        const std::int64_t r0 = i * B_r;
        const std::int64_t rows = detail::block_len(i, B_r, N);  // ragged last Q block
        const auto ii = static_cast<std::int32_t>(i);
        h.load(Tensor::Q, {r0, 0, rows, d}, ii, -1, "FA2: load Q_i (stays resident)");
        // O_i = 0, l_i = 0, m_i = -inf live in SRAM only: no HBM traffic.
        if (numerics) {
            Q_i = in->Q.middleRows(r0, rows);
            O_i = Mat::Zero(rows, d);
            l_i = Vec::Zero(rows);
            m_i = Vec::Constant(rows, neg_inf);
        }
        for (std::int64_t j = 0; j < T_c; ++j) {
            const std::int64_t c0 = j * B_c;
            const std::int64_t cols = detail::block_len(j, B_c, N);
            const auto jj = static_cast<std::int32_t>(j);
            h.load(Tensor::K, {c0, 0, cols, d}, ii, jj, "FA2: load K_j");
            h.load(Tensor::V, {c0, 0, cols, d}, ii, jj, "FA2: load V_j");
            h.compute(Tensor::S, {r0, c0, rows, cols}, 2 * rows * cols * d, rows * cols, rows * d + cols * d,
                      rows * cols, ii, jj, "FA2: S_ij = tau Q_i K_j^T");
            // m_new = max(m_i, rowmax S_ij); P~_ij = exp(S_ij - m_new); l_i = e^(m_i - m_new) l_i + rowsum
            // P~_ij
            h.compute(Tensor::P, {r0, c0, rows, cols}, 0, 4 * rows * cols + 5 * rows, rows * cols,
                      rows * cols, ii, jj, "FA2: m_i, P~_ij, l_i (online softmax)");
            // O_i = diag(e^(m_i - m_new)) O_i + P~_ij V_j: 2 flops per element, no division yet.
            h.compute(Tensor::O, {r0, 0, rows, d}, 2 * rows * cols * d, 2 * rows * d,
                      rows * cols + cols * d + rows * d, rows * d, ii, jj, "FA2: O_i += P~_ij V_j");
            if (numerics) {
                K_j = in->K.middleRows(c0, cols);
                V_j = in->V.middleRows(c0, cols);
                S_ij.noalias() = tau * (Q_i * K_j.transpose());
                const Vec m_new = m_i.cwiseMax(S_ij.rowwise().maxCoeff());
                S_ij = (S_ij.colwise() - m_new).array().exp();
                const Vec a = (m_i - m_new).array().exp();  // 0 on the first block (m_i = -inf)
                l_i = a.cwiseProduct(l_i) + S_ij.rowwise().sum();
                O_i = O_i.array().colwise() * a.array();
                O_i.noalias() += S_ij * V_j;
                m_i = m_new;
                if (o.watch_block == ii) {
                    const std::int64_t step =
                        h.trace() != nullptr ? static_cast<std::int64_t>(h.trace()->events().size()) - 1 : -1;
                    r.probe.push_back({jj, step, m_i, l_i, O_i, false});
                }
            }
        }
        // Deferred rescale: O_i = diag(l_i)^-1 O_i (1 flop per element), L_i = m_i + log l_i (2 per row).
        h.compute(Tensor::O, {r0, 0, rows, d}, 0, rows * d + 2 * rows, rows * d + 2 * rows, rows * d + rows,
                  ii, -1, "FA2: O_i /= l_i, L_i = m_i + log l_i");
        if (numerics) {
            O.middleRows(r0, rows) = O_i.array().colwise() / l_i.array();
            L.segment(r0, rows) = m_i.array() + l_i.array().log();
        }
        h.store(Tensor::O, {r0, 0, rows, d}, ii, -1, "FA2: write O_i");
        h.store(Tensor::L, {r0, 0, rows, 1}, ii, -1, "FA2: write L_i");
    }
    detail::drop(h, buffers);
    if (numerics) r.O = std::move(O);
}

}  // namespace tilesim::kernels
