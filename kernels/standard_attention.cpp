// Standard attention, Algorithm 0 of Dao et al. 2022: S = tau Q K^T and P = softmax(S) are
// materialised in HBM. Notation: N, d, B_r, B_c, T_r, T_c, Q_i, K_j, V_j, S_ij, P_ij.
//
// Three passes, as three kernel launches:
//   1. S = tau Q K^T, tiled B_r x B_c: Q_i stays in SRAM while the K_j stream past.
//   2. P = softmax(S) row by row (whole rows when one fits in SRAM, else two streamed passes).
//   3. O = P V, tiled B_r x B_c: O_i accumulates in SRAM while P_ij, V_j stream past.
// The paper counts each operand of a GEMM read once from HBM. Re-reads of K_j (pass 1) and V_j
// (pass 3) for every Q block after the first are served by the L2 when one head's K (or V) fits in
// it, as on real GPUs, and are then counted as L2 -> SRAM loads; without an L2 (or when K does not
// fit) they are HBM reads. See docs/io-derivations.md.
// Optional extra element-wise passes over S model a framework's eager mode (scale, mask, dropout).
#include <cmath>

#include "kernels/attention.h"
#include "kernels/detail.h"

namespace tilesim::kernels {

using sim::Level;
using sim::Tensor;

namespace {

// One element-wise or softmax step covers rows [r0, r0+rows) x cols [c0, c0+cols) of S.
struct Chunk {
    std::int64_t r0, c0, rows, cols;
};

// Visits S in the chunks the softmax shape allows: blocks of whole rows, or row pieces.
template <class F>
void for_each_chunk(const Problem& p, const SoftmaxShape& sm, F&& f) {
    if (sm.one_pass) {
        for (std::int64_t r0 = 0; r0 < p.N; r0 += sm.rows) f(Chunk{r0, 0, std::min(sm.rows, p.N - r0), p.N});
    } else {
        for (std::int64_t r = 0; r < p.N; ++r) {
            for (std::int64_t c0 = 0; c0 < p.N; c0 += sm.chunk)
                f(Chunk{r, c0, 1, std::min(sm.chunk, p.N - c0)});
        }
    }
}

}  // namespace

void run_standard(const Problem& p, const Tiling& t, sim::Hierarchy& h, const Inputs* in, const RunOptions& o,
                  RunResult& r) {
    const std::int64_t N = p.N, d = p.d, B_r = t.B_r, B_c = t.B_c, T_r = t.T_r, T_c = t.T_c;
    const bool numerics = in != nullptr;
    const float tau = 1.0F / std::sqrt(static_cast<float>(d));
    const auto sets = working_sets(AlgorithmId::standard, p, B_r, B_c, h.spec());
    const SoftmaxShape sm = softmax_shape(p, h.spec());
    const std::int64_t extra = o.standard_extra_passes;
    // One head's K (or V) in the L2? Then GEMM re-reads hit the L2 (see the file comment).
    const bool operand_in_l2 = h.spec().l2_bytes >= h.bytes_of(Tensor::K, N * d);
    const Level reread_from = operand_in_l2 ? Level::L2 : Level::HBM;

    Mat S, P, O;  // "HBM" contents, numerics only
    if (numerics) {
        S.resize(N, N);
        P.resize(N, N);
        O.resize(N, d);
    }

    // Pass 1: S = tau Q K^T (unscaled when an extra pass applies tau, as eager frameworks do).
    h.begin_phase("standard: S = QK^T", T_r * T_c);
    auto ids = detail::hold(h, sets[0]);
    for (std::int64_t i = 0; i < T_r; ++i) {
        const std::int64_t r0 = i * B_r, rows = detail::block_len(i, B_r, N);
        const auto ii = static_cast<std::int32_t>(i);
        h.load(Tensor::Q, {r0, 0, rows, d}, ii, -1, "Alg 0 l.1: load Q_i");
        for (std::int64_t j = 0; j < T_c; ++j) {
            const std::int64_t c0 = j * B_c, cols = detail::block_len(j, B_c, N);
            const auto jj = static_cast<std::int32_t>(j);
            h.transfer(Tensor::K, {c0, 0, cols, d}, i == 0 ? Level::HBM : reread_from, Level::SRAM, ii, jj,
                       i == 0 ? "Alg 0 l.1: load K_j" : "Alg 0 l.1: re-load K_j");
            h.compute(Tensor::S, {r0, c0, rows, cols}, 2 * rows * cols * d, extra == 0 ? rows * cols : 0,
                      rows * d + cols * d, rows * cols, ii, jj, "Alg 0 l.1: S_ij = tau Q_i K_j^T");
            if (numerics) {
                const float scale = extra == 0 ? tau : 1.0F;
                S.block(r0, c0, rows, cols).noalias() =
                    scale * (in->Q.middleRows(r0, rows) * in->K.middleRows(c0, cols).transpose());
            }
            h.store(Tensor::S, {r0, c0, rows, cols}, ii, jj, "Alg 0 l.1: write S_ij to HBM");
        }
    }
    detail::drop(h, ids);

    // Optional framework passes: each reads and writes all of S once (1 flop per element).
    static const char* const kPassNames[] = {"eager: scale S", "eager: mask S", "eager: dropout S"};
    const std::int64_t steps = sm.one_pass ? ceil_div(N, sm.rows) : N;
    for (std::int64_t k = 0; k < extra; ++k) {
        const char* name = kPassNames[std::min<std::int64_t>(k, 2)];
        h.begin_phase(name, steps);
        ids = detail::hold(h, sets[1]);
        for_each_chunk(p, sm, [&](const Chunk& c) {
            h.load(Tensor::S, {c.r0, c.c0, c.rows, c.cols}, -1, -1, name);
            h.compute(Tensor::S, {c.r0, c.c0, c.rows, c.cols}, 0, c.rows * c.cols, c.rows * c.cols,
                      c.rows * c.cols, -1, -1, name);
            if (numerics && k == 0) S.block(c.r0, c.c0, c.rows, c.cols) *= tau;
            h.store(Tensor::S, {c.r0, c.c0, c.rows, c.cols}, -1, -1, name);
        });
        detail::drop(h, ids);
    }

    // Pass 2: P = softmax(S), row-wise.
    h.begin_phase("standard: P = softmax(S)", steps);
    ids = detail::hold(h, sets[1]);
    if (sm.one_pass) {
        // Whole rows fit: read S once, write P once (5 flops per element: max, sub, exp, sum, divide).
        for_each_chunk(p, sm, [&](const Chunk& c) {
            h.load(Tensor::S, {c.r0, 0, c.rows, N}, -1, -1, "Alg 0 l.2: read S rows");
            h.compute(Tensor::P, {c.r0, 0, c.rows, N}, 0, 5 * c.rows * N, c.rows * N, c.rows * N, -1, -1,
                      "Alg 0 l.2: P = softmax(S)");
            if (numerics) {
                auto Sb = S.middleRows(c.r0, c.rows);
                const Vec mx = Sb.rowwise().maxCoeff();
                Mat E = (Sb.colwise() - mx).array().exp();
                const Vec sum = E.rowwise().sum();
                P.middleRows(c.r0, c.rows) = E.array().colwise() / sum.array();
            }
            h.store(Tensor::P, {c.r0, 0, c.rows, N}, -1, -1, "Alg 0 l.2: write P rows to HBM");
        });
    } else {
        // A row does not fit: one streamed pass for the running max and sum (online, 4 flops per
        // element), a second to write P (exp and divide, 3 flops per element). S is read twice.
        for (std::int64_t row = 0; row < N; ++row) {
            float mx = -std::numeric_limits<float>::infinity(), sum = 0.0F;
            for (std::int64_t c0 = 0; c0 < N; c0 += sm.chunk) {
                const std::int64_t cols = std::min(sm.chunk, N - c0);
                h.load(Tensor::S, {row, c0, 1, cols}, -1, -1, "Alg 0 l.2: read S chunk (max, sum)");
                h.compute(Tensor::S, {row, c0, 1, cols}, 0, 4 * cols, cols, 0, -1, -1,
                          "softmax: running max, sum");
                if (numerics) {
                    const float cmx = S.block(row, c0, 1, cols).maxCoeff();
                    const float nmx = std::max(mx, cmx);
                    sum = sum * std::exp(mx - nmx) + (S.block(row, c0, 1, cols).array() - nmx).exp().sum();
                    mx = nmx;
                }
            }
            for (std::int64_t c0 = 0; c0 < N; c0 += sm.chunk) {
                const std::int64_t cols = std::min(sm.chunk, N - c0);
                h.load(Tensor::S, {row, c0, 1, cols}, -1, -1, "Alg 0 l.2: re-read S chunk");
                h.compute(Tensor::P, {row, c0, 1, cols}, 0, 3 * cols, cols, cols, -1, -1, "softmax: P chunk");
                if (numerics)
                    P.block(row, c0, 1, cols) = (S.block(row, c0, 1, cols).array() - mx).exp() / sum;
                h.store(Tensor::P, {row, c0, 1, cols}, -1, -1, "Alg 0 l.2: write P chunk to HBM");
            }
        }
    }
    detail::drop(h, ids);

    // Pass 3: O = P V, O_i accumulated in SRAM.
    h.begin_phase("standard: O = PV", T_r);
    ids = detail::hold(h, sets[2]);
    Mat O_i;
    for (std::int64_t i = 0; i < T_r; ++i) {
        const std::int64_t r0 = i * B_r, rows = detail::block_len(i, B_r, N);
        const auto ii = static_cast<std::int32_t>(i);
        if (numerics) O_i = Mat::Zero(rows, d);
        for (std::int64_t j = 0; j < T_c; ++j) {
            const std::int64_t c0 = j * B_c, cols = detail::block_len(j, B_c, N);
            const auto jj = static_cast<std::int32_t>(j);
            h.load(Tensor::P, {r0, c0, rows, cols}, ii, jj, "Alg 0 l.3: load P_ij");
            h.transfer(Tensor::V, {c0, 0, cols, d}, i == 0 ? Level::HBM : reread_from, Level::SRAM, ii, jj,
                       i == 0 ? "Alg 0 l.3: load V_j" : "Alg 0 l.3: re-load V_j");
            h.compute(Tensor::O, {r0, 0, rows, d}, 2 * rows * cols * d, 0, rows * cols + cols * d + rows * d,
                      rows * d, ii, jj, "Alg 0 l.3: O_i += P_ij V_j");
            if (numerics) O_i.noalias() += P.block(r0, c0, rows, cols) * in->V.middleRows(c0, cols);
        }
        if (numerics) O.middleRows(r0, rows) = O_i;
        h.store(Tensor::O, {r0, 0, rows, d}, ii, -1, "Alg 0 l.3: write O_i to HBM");
    }
    detail::drop(h, ids);
    if (numerics) r.O = std::move(O);
}

}  // namespace tilesim::kernels
