// FlashAttention forward, Algorithm 1 of Dao et al. 2022 (the "FA1" loop order).
// Notation follows the paper: N, d, M, B_r, B_c, T_r, T_c, Q_i, K_j, V_j, S_ij, P~_ij, m_i, l_i
// (N_q rows of Q and O, N_kv rows of K and V; the paper's N when they are equal).
//
// K_j, V_j are the resident blocks (outer loop); every inner step reads Q_i, O_i, l_i, m_i from HBM,
// folds block j into the online softmax, and writes O_i, l_i, m_i back. That round trip of O_i per
// K/V block is what FA2's loop order removes.
#include <cmath>
#include <limits>

#include "kernels/detail.h"

namespace tilesim::kernels::algorithms {

using sim::Tensor;

namespace {

WorkingSets working_sets(const Problem& p, std::int64_t B_r, std::int64_t B_c, const sim::HardwareSpec&) {
    // A ragged problem (N < block) never holds more rows than exist.
    const std::int64_t br = std::min(B_r, p.N_q), bc = std::min(B_c, p.N_kv), d = p.d;
    return {{{Tensor::K, bc, d, "K_j (B_c x d)"},
             {Tensor::V, bc, d, "V_j (B_c x d)"},
             {Tensor::Q, br, d, "Q_i (B_r x d)"},
             {Tensor::O, br, d, "O_i (B_r x d)"},
             {Tensor::S, br, bc, "S_ij/P_ij (B_r x B_c)", Tensor::P},
             {Tensor::l, br, 1, "l_i (B_r, fp32)"},
             {Tensor::m, br, 1, "m_i (B_r, fp32)"}}};
}

void run(RunContext& c) {
    const Problem& p = c.p;
    sim::Hierarchy& h = c.h;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d;
    const std::int64_t B_r = c.t.B_r, B_c = c.t.B_c, T_r = c.t.T_r, T_c = c.t.T_c;
    const bool numerics = c.numerics();
    const float tau = 1.0F / std::sqrt(static_cast<float>(d));
    const float neg_inf = -std::numeric_limits<float>::infinity();

    // FA1 parallelises over batch and heads: one thread block per (b, h).
    h.begin_phase("flash forward (Algorithm 1)", 1);
    const auto buffers = detail::hold(h, working_sets(p, B_r, B_c, h.spec())[0]);

    // HBM-resident output and statistics (only stored when numerics are on).
    Mat* O = nullptr;
    Mat* l = nullptr;
    Mat* m = nullptr;
    const Mat* Q = nullptr;
    const Mat* K = nullptr;
    const Mat* V = nullptr;
    if (numerics) {
        HbmState& hbm = *c.hbm;
        hbm[Tensor::O] = Mat::Zero(N_q, d);
        hbm[Tensor::l] = Mat::Zero(N_q, 1);
        hbm[Tensor::m] = Mat::Constant(N_q, 1, neg_inf);
        O = &hbm[Tensor::O];
        l = &hbm[Tensor::l];
        m = &hbm[Tensor::m];
        Q = &hbm[Tensor::Q];
        K = &hbm[Tensor::K];
        V = &hbm[Tensor::V];
    }
    // Line 2: initialise O = 0, l = 0, m = -inf in HBM. Counted: these are real writes.
    for (std::int64_t i = 0; i < T_r; ++i) {
        const std::int64_t rows = detail::block_len(i, B_r, N_q);
        const auto ii = static_cast<std::int32_t>(i);
        c.store(Tensor::O, {i * B_r, 0, rows, d}, ii, -1, "Alg 1 l.2: O = 0 in HBM", sim::flags::kInit);
        c.store(Tensor::l, {i * B_r, 0, rows, 1}, ii, -1, "Alg 1 l.2: l = 0 in HBM", sim::flags::kInit);
        c.store(Tensor::m, {i * B_r, 0, rows, 1}, ii, -1, "Alg 1 l.2: m = -inf in HBM", sim::flags::kInit);
    }

    Mat K_j, V_j, Q_i, O_i, S_ij;
    Vec l_i, m_i;
    for (std::int64_t j = 0; j < T_c; ++j) {
        const std::int64_t c0 = j * B_c;
        const std::int64_t cols = detail::block_len(j, B_c, N_kv);  // ragged last K/V block
        const auto jj = static_cast<std::int32_t>(j);
        // The mask's class of each tile (i, j); a K/V block no query may see is never loaded.
        std::vector<TileKind> kinds(static_cast<std::size_t>(T_r));
        bool live = false;
        for (std::int64_t i = 0; i < T_r; ++i) {
            kinds[static_cast<std::size_t>(i)] = detail::tile_kind(p, i * B_r, detail::block_len(i, B_r, N_q), c0, cols);
            live = live || kinds[static_cast<std::size_t>(i)] != TileKind::empty;
        }
        if (!live) continue;
        // Line 6: load K_j, V_j from HBM to SRAM; they stay for the whole inner loop.
        h.load(Tensor::K, {c0, 0, cols, d}, -1, jj, "Alg 1 l.6: load K_j");
        h.load(Tensor::V, {c0, 0, cols, d}, -1, jj, "Alg 1 l.6: load V_j");
        if (numerics) {
            K_j = K->middleRows(c0, cols);
            V_j = V->middleRows(c0, cols);
        }
        for (std::int64_t i = 0; i < T_r; ++i) {
            const std::int64_t r0 = i * B_r;
            const std::int64_t rows = detail::block_len(i, B_r, N_q);
            const auto ii = static_cast<std::int32_t>(i);
            const TileKind kind = kinds[static_cast<std::size_t>(i)];
            if (kind == TileKind::empty) continue;  // masked out: O_i, l_i, m_i stay as they are in HBM
            // Line 8: load Q_i, O_i, l_i, m_i.
            h.load(Tensor::Q, {r0, 0, rows, d}, ii, jj, "Alg 1 l.8: load Q_i");
            h.load(Tensor::O, {r0, 0, rows, d}, ii, jj, "Alg 1 l.8: load O_i");
            h.load(Tensor::l, {r0, 0, rows, 1}, ii, jj, "Alg 1 l.8: load l_i");
            h.load(Tensor::m, {r0, 0, rows, 1}, ii, jj, "Alg 1 l.8: load m_i");
            // Line 9: S_ij = tau Q_i K_j^T (matmul, plus one multiply per element for tau).
            h.compute(Tensor::S, {r0, c0, rows, cols}, 2 * rows * cols * d, rows * cols, rows * d + cols * d,
                      rows * cols, ii, jj, "Alg 1 l.9: S_ij = tau Q_i K_j^T");
            // A tile the mask cuts through is masked element by element (1 flop per element).
            if (kind == TileKind::partial) {
                h.compute(Tensor::S, {r0, c0, rows, cols}, 0, rows * cols, rows * cols, rows * cols, ii, jj,
                          "Alg 1: mask S_ij", sim::flags::kMasked);
            }
            // Line 10: m~_ij = rowmax(S_ij), P~_ij = exp(S_ij - m~_ij), l~_ij = rowsum(P~_ij):
            // max, subtract, exp, add = 4 flops per element.
            h.compute(Tensor::P, {r0, c0, rows, cols}, 0, 4 * rows * cols, rows * cols, rows * cols, ii, jj,
                      "Alg 1 l.10: m~_ij, P~_ij, l~_ij", 0, rows * cols);
            // Lines 11-12: m_new, l_new (5 flops per row), then O_i rescaled and P~_ij V_j added
            // (3 flops per element of O_i: scale old, add, divide by l_new).
            // The two exponentials per row, e^(m_i - m_new) and e^(m~_ij - m_new), are of the 5.
            h.compute(Tensor::O, {r0, 0, rows, d}, 2 * rows * cols * d, 3 * rows * d + 5 * rows,
                      rows * cols + cols * d + rows * d, rows * d, ii, jj, "Alg 1 l.11-12: rescale O_i", 0, 2 * rows);
            if (numerics) {
                Q_i = Q->middleRows(r0, rows);
                O_i = O->middleRows(r0, rows);
                l_i = l->middleRows(r0, rows);
                m_i = m->middleRows(r0, rows);
                S_ij.noalias() = tau * (Q_i * K_j.transpose());
                if (kind == TileKind::partial) detail::mask_tile(p, r0, c0, S_ij);
                // A row with no allowed key here has m~_ij = -inf: its P~ row is 0 (exp(-inf - 0)), and a
                // row with none so far keeps l = 0, O = 0 (finite_or_zero avoids -inf + inf).
                const Vec m_tilde = S_ij.rowwise().maxCoeff();
                S_ij = (S_ij.colwise() - detail::finite_or_zero(m_tilde)).array().exp();  // S_ij now holds P~_ij
                const Vec l_tilde = S_ij.rowwise().sum();
                const Vec m_new = m_i.cwiseMax(m_tilde);
                const Vec m_use = detail::finite_or_zero(m_new);
                const Vec a = (m_i - m_use).array().exp();      // e^(m_i - m_new); 0 while m_i = -inf
                const Vec b = (m_tilde - m_use).array().exp();  // e^(m~_ij - m_new)
                const Vec l_new = a.cwiseProduct(l_i) + b.cwiseProduct(l_tilde);
                const Vec inv = l_new.unaryExpr([](float v) { return v > 0 ? 1.0F / v : 0.0F; });
                // Line 12: O_i <- diag(l_new)^-1 (diag(l_i) a O_i + b P~_ij V_j)
                Mat PV = c.operand(S_ij) * V_j;  // P~_ij converted for the GEMM; l~_ij was summed in fp32
                O_i = (O_i.array().colwise() * (l_i.cwiseProduct(a)).array() + PV.array().colwise() * b.array())
                          .colwise() *
                      inv.array();
                O->middleRows(r0, rows) = O_i;
                l->middleRows(r0, rows) = l_new;
                m->middleRows(r0, rows) = m_new;
            }
            // Lines 12-13: write O_i, l_i, m_i back to HBM.
            c.store(Tensor::O, {r0, 0, rows, d}, ii, jj, "Alg 1 l.12: write O_i");
            c.store(Tensor::l, {r0, 0, rows, 1}, ii, jj, "Alg 1 l.13: write l_i");
            c.store(Tensor::m, {r0, 0, rows, 1}, ii, jj, "Alg 1 l.13: write m_i");
            if (numerics && c.o.watch_block == ii) {
                c.probe.push_back({jj, detail::last_step(h), m->middleRows(r0, rows), l->middleRows(r0, rows),
                                   O_i, true});
            }
        }
    }
    detail::drop(h, buffers);
}

ClosedForm closed_form(const Problem& p, const Tiling& t, const sim::HardwareSpec&, const RunOptions&) {
    ClosedForm f;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d;
    const std::int64_t br = std::min(t.B_r, N_q), bc = std::min(t.B_c, N_kv);
    const std::int64_t e32 = 4;
    // Sums over the tiles the mask leaves (unmasked: rows_nonempty = T_c N_q, area = N_q N_kv, every
    // K/V block live: the paper's formulas).
    const MaskStats st = mask_stats(p.mask, N_q, N_kv, t.B_r, t.B_c);
    // Algorithm 1: K, V read once per live K/V block (line 6); Q_i, O_i, l_i, m_i read once per live tile
    // (line 8); O_i, l_i, m_i written once per live tile (lines 12-13) plus once at initialisation (line 2).
    f.read(Tensor::K) = st.kv_cols_live * d;
    f.read(Tensor::V) = st.kv_cols_live * d;
    f.read(Tensor::Q) = st.rows_nonempty * d;
    f.read(Tensor::O) = st.rows_nonempty * d;
    f.read(Tensor::l) = st.rows_nonempty;
    f.read(Tensor::m) = st.rows_nonempty;
    f.write(Tensor::O) = st.rows_nonempty * d + N_q * d;
    f.write(Tensor::l) = st.rows_nonempty + N_q;
    f.write(Tensor::m) = st.rows_nonempty + N_q;
    f.matmul_flops = 4 * st.area_nonempty * d;  // QK^T and PV, 2 rows cols d each per live tile
    // Per element of S: tau, max, subtract, exp, sum (5). Per row per tile: m_new, l_new (5). Per element
    // of O_i per tile: scale, add, divide (3). The mask on partial tiles: 1 per element.
    f.other_flops = 5 * st.area_nonempty + st.rows_nonempty * (5 + 3 * d) + st.area_partial;
    // Of those, exponentials: one per element of S (P~_ij), two per row per tile.
    f.exp_flops = st.area_nonempty + 2 * st.rows_nonempty;
    const auto eb = detail::element_bytes(p);  // K_j, V_j, Q_i in the input format; O_i, S_ij as written
    f.sram_peak_bytes = (2 * bc * d + br * d) * eb.in + (br * d + br * bc) * eb.out + 2 * br * e32;
    return f;
}

// The paper's count without the initialisation: 2Nd + T_c (3Nd + 4N), T_c N the rows the live tiles touch.
std::int64_t paper_elements(const Problem& p, const Tiling& t) {
    const MaskStats st = mask_stats(p.mask, p.N_q, p.N_kv, t.B_r, t.B_c);
    return 2 * st.kv_cols_live * p.d + st.rows_nonempty * (3 * p.d + 4);
}

std::int64_t numerics_bytes(const Problem& p) {
    // Q, O and K, V (floats), l and m; the run's own tiles are small.
    return (2 * p.N_q * p.d + 2 * p.N_kv * p.d + 2 * p.N_q) * static_cast<std::int64_t>(sizeof(float));
}

std::vector<sim::TensorDecl> tensors(const Problem& p, const Tiling& t) {
    using detail::decl;
    return {decl(Tensor::Q, p.N_q, p.d, t.B_r, p.d, true),
            decl(Tensor::K, p.N_kv, p.d, t.B_c, p.d, true),
            decl(Tensor::V, p.N_kv, p.d, t.B_c, p.d, true),
            decl(Tensor::S, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
            decl(Tensor::P, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
            decl(Tensor::O, p.N_q, p.d, t.B_r, p.d, false),
            decl(Tensor::l, p.N_q, 1, t.B_r, 1, false),
            decl(Tensor::m, p.N_q, 1, t.B_r, 1, false)};
}

}  // namespace

const AlgorithmDef& flash_forward() {
    static const AlgorithmDef def{
        .key = "flash",
        .pass = Pass::forward,
        .name = "FlashAttention (Algorithm 1)",
        .description =
            "K/V blocks outer, Q blocks inner, online softmax; O_i, l_i, m_i round-trip HBM per K/V block",
        .paper = "Dao et al. 2022, Algorithm 1",
        .baseline = false,
        .rule = {detail::paper_rule, false, "paper's rule", detail::kPaperRuleText},
        .working_sets = working_sets,
        .run = run,
        .closed_form = closed_form,
        .paper_elements = paper_elements,
        .theta = {"Theta(N^2 d^2 / M)", detail::theta_flash, "Theta(Nd + N^2 d^2 s / M), s the fraction of tiles kept (Prop. 4)"},
        .numerics_bytes = numerics_bytes,
        .tensors = tensors,
        .outputs = {Tensor::O},
        .softmax = OnlineSoftmax::normalised,
        .schedules = detail::sync_or_producer_consumer(),
    };
    return def;
}

}  // namespace tilesim::kernels::algorithms
