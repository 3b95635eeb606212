// FlashAttention backward, Algorithm 4 of Dao et al. 2022 (Appendix B.4), without dropout.
// Notation: N (N_q, N_kv), d, M, B_r, B_c, T_r, T_c, Q_i, K_j, V_j, O_i, dO_i, dQ_i, dK_j, dV_j, S_ij,
// P_ij, dP_ij, dS_ij, l_i, m_i (saved by Algorithm 1), D_i = rowsum(dO_i o O_i).
//
// No N x N matrix is stored: S_ij and P_ij are recomputed on chip from Q_i, K_j and the saved l_i, m_i
// (the recomputation the paper trades for HBM traffic). K_j, V_j are resident (outer loop); dK_j and
// dV_j accumulate on chip and are written once; every inner step reads Q_i, O_i, dO_i, dQ_i, l_i, m_i
// and writes dQ_i back (line 21), as the forward of Algorithm 1 does with O_i.
#include <cmath>

#include "kernels/detail.h"

namespace tilesim::kernels::algorithms {

using sim::Tensor;

namespace {

WorkingSets working_sets(const Problem& p, std::int64_t B_r, std::int64_t B_c, const sim::HardwareSpec&) {
    const std::int64_t br = std::min(B_r, p.N_q), bc = std::min(B_c, p.N_kv), d = p.d;
    return {{{Tensor::K, bc, d, "K_j (B_c x d)"},
             {Tensor::V, bc, d, "V_j (B_c x d)"},
             {Tensor::dK, bc, d, "dK~_j (B_c x d)"},
             {Tensor::dV, bc, d, "dV~_j (B_c x d)"},
             {Tensor::Q, br, d, "Q_i (B_r x d)"},
             {Tensor::O, br, d, "O_i (B_r x d)"},
             {Tensor::dO, br, d, "dO_i (B_r x d)"},
             {Tensor::dQ, br, d, "dQ_i (B_r x d)"},
             {Tensor::S, br, bc, "S_ij/P_ij (B_r x B_c)", Tensor::P},
             {Tensor::dP, br, bc, "dP_ij/dS_ij (B_r x B_c)", Tensor::dS},
             {Tensor::l, br, 1, "l_i (B_r, fp32)"},
             {Tensor::m, br, 1, "m_i (B_r, fp32)"},
             {Tensor::D, br, 1, "D_i (B_r, fp32)"}}};
}

void run(RunContext& c) {
    const Problem& p = c.p;
    sim::Hierarchy& h = c.h;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d;
    const std::int64_t B_r = c.t.B_r, B_c = c.t.B_c, T_r = c.t.T_r, T_c = c.t.T_c;
    const bool numerics = c.numerics();
    const float tau = 1.0F / std::sqrt(static_cast<float>(d));
    constexpr auto kRe = sim::flags::kRecompute;

    // Parallel over batch and heads, as the forward: one thread block per (b, h).
    h.begin_phase("flash backward (Algorithm 4)", 1);
    const auto buffers = detail::hold(h, working_sets(p, B_r, B_c, h.spec())[0]);
    HbmState* m = c.hbm;
    if (numerics) {
        (*m)[Tensor::dQ] = Mat::Zero(N_q, d);
        (*m)[Tensor::dK].resize(N_kv, d);
        (*m)[Tensor::dV].resize(N_kv, d);
    }
    // Line 5: initialise dQ = 0 in HBM (counted, as the forward counts its line 2).
    for (std::int64_t i = 0; i < T_r; ++i) {
        c.store(Tensor::dQ, {i * B_r, 0, detail::block_len(i, B_r, N_q), d}, static_cast<std::int32_t>(i), -1,
                "Alg 4 l.5: dQ = 0 in HBM", sim::flags::kInit);
    }
    Mat K_j, V_j, dK_j, dV_j, Q_i, dO_i, S_ij, dP_ij;
    for (std::int64_t j = 0; j < T_c; ++j) {
        const std::int64_t c0 = j * B_c, cols = detail::block_len(j, B_c, N_kv);
        const auto jj = static_cast<std::int32_t>(j);
        // The mask's class of each tile (i, j); a K/V block no query sees is not loaded (its dK_j, dV_j
        // are 0 and still written).
        std::vector<TileKind> kinds(static_cast<std::size_t>(T_r));
        bool live = false;
        for (std::int64_t i = 0; i < T_r; ++i) {
            kinds[static_cast<std::size_t>(i)] = detail::tile_kind(p, i * B_r, detail::block_len(i, B_r, N_q), c0, cols);
            live = live || kinds[static_cast<std::size_t>(i)] != TileKind::empty;
        }
        // Lines 7-8: load K_j, V_j; dK~_j = dV~_j = 0 on chip.
        if (live) {
            h.load(Tensor::K, {c0, 0, cols, d}, -1, jj, "Alg 4 l.7: load K_j");
            h.load(Tensor::V, {c0, 0, cols, d}, -1, jj, "Alg 4 l.7: load V_j");
        }
        if (numerics) {
            K_j = (*m)[Tensor::K].middleRows(c0, cols);
            V_j = (*m)[Tensor::V].middleRows(c0, cols);
            dK_j = Mat::Zero(cols, d);
            dV_j = Mat::Zero(cols, d);
        }
        for (std::int64_t i = 0; i < T_r; ++i) {
            const std::int64_t r0 = i * B_r, rows = detail::block_len(i, B_r, N_q);
            const auto ii = static_cast<std::int32_t>(i);
            const std::int64_t rc = rows * cols, rd = rows * d, cd = cols * d;
            const TileKind kind = kinds[static_cast<std::size_t>(i)];
            if (kind == TileKind::empty) continue;
            // Line 10: load Q_i, O_i, dO_i, dQ_i, l_i, m_i.
            h.load(Tensor::Q, {r0, 0, rows, d}, ii, jj, "Alg 4 l.10: load Q_i");
            h.load(Tensor::O, {r0, 0, rows, d}, ii, jj, "Alg 4 l.10: load O_i");
            h.load(Tensor::dO, {r0, 0, rows, d}, ii, jj, "Alg 4 l.10: load dO_i");
            h.load(Tensor::dQ, {r0, 0, rows, d}, ii, jj, "Alg 4 l.10: load dQ_i");
            h.load(Tensor::l, {r0, 0, rows, 1}, ii, jj, "Alg 4 l.10: load l_i");
            h.load(Tensor::m, {r0, 0, rows, 1}, ii, jj, "Alg 4 l.10: load m_i");
            // Lines 11-13: S_ij = tau Q_i K_j^T and P_ij = diag(l_i)^-1 exp(S_ij - m_i), recomputed.
            h.compute(Tensor::S, {r0, c0, rows, cols}, 2 * rc * d, rc, rd + cd, rc, ii, jj,
                      "Alg 4 l.11: S_ij = tau Q_i K_j^T (recomputed)", kRe);
            // Line 12: S_ij^masked = MASK(S_ij), on the tiles the mask cuts through (1 flop per element).
            if (kind == TileKind::partial) {
                h.compute(Tensor::S, {r0, c0, rows, cols}, 0, rc, rc, rc, ii, jj, "Alg 4 l.12: mask S_ij",
                          sim::flags::kMasked);
            }
            h.compute(Tensor::P, {r0, c0, rows, cols}, 0, 3 * rc, rc + 2 * rows, rc, ii, jj,
                      "Alg 4 l.13: P_ij = diag(l_i)^-1 exp(S_ij - m_i) (recomputed)", kRe, rc);
            // Line 16: dV~_j += P_ij^T dO_i.
            h.compute(Tensor::dV, {c0, 0, cols, d}, 2 * rc * d, 0, rc + rd + cd, cd, ii, jj,
                      "Alg 4 l.16: dV~_j += P_ij^T dO_i");
            // Line 17: dP_ij = dO_i V_j^T.
            h.compute(Tensor::dP, {r0, c0, rows, cols}, 2 * rc * d, 0, rd + cd, rc, ii, jj,
                      "Alg 4 l.17: dP_ij = dO_i V_j^T");
            // Lines 19-20: D_i = rowsum(dO_i o O_i) (2 flops per element, every inner step), then
            // dS_ij = P_ij o (dP_ij - D_i) (2 per element) and tau folded into dS_ij (1 per element).
            h.compute(Tensor::D, {r0, 0, rows, 1}, 0, 2 * rd, 2 * rd, rows, ii, jj,
                      "Alg 4 l.19: D_i = rowsum(dO_i o O_i)");
            h.compute(Tensor::dS, {r0, c0, rows, cols}, 0, 3 * rc, 2 * rc + rows, rc, ii, jj,
                      "Alg 4 l.20: dS_ij = P_ij o (dP_ij - D_i)");
            // Line 21: dQ_i += tau dS_ij K_j, written back to HBM; line 22: dK~_j += tau dS_ij^T Q_i.
            h.compute(Tensor::dQ, {r0, 0, rows, d}, 2 * rc * d, 0, rc + cd + rd, rd, ii, jj,
                      "Alg 4 l.21: dQ_i += tau dS_ij K_j");
            h.compute(Tensor::dK, {c0, 0, cols, d}, 2 * rc * d, 0, rc + rd + cd, cd, ii, jj,
                      "Alg 4 l.22: dK~_j += tau dS_ij^T Q_i");
            if (numerics) {
                Q_i = (*m)[Tensor::Q].middleRows(r0, rows);
                dO_i = (*m)[Tensor::dO].middleRows(r0, rows);
                const auto l_i = (*m)[Tensor::l].middleRows(r0, rows);
                const auto m_i = (*m)[Tensor::m].middleRows(r0, rows);
                S_ij.noalias() = tau * (Q_i * K_j.transpose());
                if (kind == TileKind::partial) detail::mask_tile(p, r0, c0, S_ij);
                // P_ij = exp(S_ij - m_i) / l_i, row by row: the forward's softmax, exactly. A fully masked
                // row (l_i = 0, m_i = -inf) has P_ij = 0.
                const Vec inv = l_i.col(0).unaryExpr([](float v) { return v > 0 ? 1.0F / v : 0.0F; });
                S_ij = ((S_ij.colwise() - detail::finite_or_zero(m_i.col(0))).array().exp()).colwise() * inv.array();
                dV_j.noalias() += c.operand(S_ij).transpose() * dO_i;
                dP_ij.noalias() = dO_i * V_j.transpose();
                const Vec D_i = (dO_i.array() * (*m)[Tensor::O].middleRows(r0, rows).array()).rowwise().sum();
                dP_ij = tau * (S_ij.array() * (dP_ij.colwise() - D_i).array());  // dP_ij now holds tau dS_ij
                const Mat dS_op = c.operand(dP_ij);  // dS_ij as the two GEMMs take it
                (*m)[Tensor::dQ].middleRows(r0, rows).noalias() += dS_op * K_j;
                dK_j.noalias() += dS_op.transpose() * Q_i;
            }
            // Line 21 (end): dQ_i written back to HBM, in its storage format.
            c.store(Tensor::dQ, {r0, 0, rows, d}, ii, jj, "Alg 4 l.21: write dQ_i");
        }
        // Line 24: write dK_j, dV_j to HBM (zeros for a block the mask hides from every query).
        if (numerics) {
            (*m)[Tensor::dK].middleRows(c0, cols) = dK_j;
            (*m)[Tensor::dV].middleRows(c0, cols) = dV_j;
        }
        c.store(Tensor::dK, {c0, 0, cols, d}, -1, jj, "Alg 4 l.24: write dK_j");
        c.store(Tensor::dV, {c0, 0, cols, d}, -1, jj, "Alg 4 l.24: write dV_j");
    }
    detail::drop(h, buffers);
}

ClosedForm closed_form(const Problem& p, const Tiling& t, const sim::HardwareSpec&, const RunOptions&) {
    ClosedForm f;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d;
    // Sums over the tiles the mask leaves (unmasked: rows_nonempty = T_c N_q, area = N_q N_kv).
    const MaskStats st = mask_stats(p.mask, N_q, N_kv, t.B_r, t.B_c);
    // Line 7: K, V once per live K/V block. Line 10, once per live tile: Q_i, O_i, dO_i, dQ_i (its rows x
    // d each), l_i, m_i (its rows each).
    f.read(Tensor::K) = st.kv_cols_live * d;
    f.read(Tensor::V) = st.kv_cols_live * d;
    for (Tensor x : {Tensor::Q, Tensor::O, Tensor::dO, Tensor::dQ}) f.read(x) = st.rows_nonempty * d;
    f.read(Tensor::l) = st.rows_nonempty;
    f.read(Tensor::m) = st.rows_nonempty;
    // Line 21: dQ_i written per live tile, plus line 5's initialisation; line 24: dK, dV once.
    f.write(Tensor::dQ) = st.rows_nonempty * d + N_q * d;
    f.write(Tensor::dK) = N_kv * d;
    f.write(Tensor::dV) = N_kv * d;
    // Five GEMMs (S recomputed, dV, dP, dQ, dK) of 2 rows cols d each per live tile.
    f.matmul_flops = 10 * st.area_nonempty * d;
    // Per element of S: tau (1), P from l, m (3), dS (2), tau on dS (1), the mask on partial tiles (1);
    // D_i (2 per element of dO_i) once per live tile.
    f.other_flops = 7 * st.area_nonempty + st.area_partial + st.rows_nonempty * 2 * d;
    f.exp_flops = st.area_nonempty;  // the recomputed exp(S_ij - m_i)
    const std::int64_t br = std::min(t.B_r, N_q), bc = std::min(t.B_c, N_kv);
    // K_j, V_j, Q_i, dO_i in the input format; dK~_j, dV~_j, O_i, dQ_i, S_ij, dP_ij as written.
    const auto eb = detail::element_bytes(p);
    f.sram_peak_bytes = (2 * bc * d + 2 * br * d) * eb.in + (2 * bc * d + 2 * br * d + 2 * br * bc) * eb.out + 3 * br * 4;
    return f;
}

// The paper's count (Theorem 5's proof): reads 2Nd + T_c (4Nd + 2N), writes 2Nd + T_c Nd (no init),
// T_c N the rows the live tiles touch.
std::int64_t paper_elements(const Problem& p, const Tiling& t) {
    const MaskStats st = mask_stats(p.mask, p.N_q, p.N_kv, t.B_r, t.B_c);
    return 2 * st.kv_cols_live * p.d + 2 * p.N_kv * p.d + st.rows_nonempty * (5 * p.d + 2);
}

std::int64_t numerics_bytes(const Problem& p) {
    return (p.N_q * p.d + 2 * p.N_kv * p.d) * static_cast<std::int64_t>(sizeof(float));  // dQ, dK, dV
}

std::vector<sim::TensorDecl> tensors(const Problem& p, const Tiling& t) {
    using detail::decl;
    return {decl(Tensor::Q, p.N_q, p.d, t.B_r, p.d, true),
            decl(Tensor::K, p.N_kv, p.d, t.B_c, p.d, true),
            decl(Tensor::V, p.N_kv, p.d, t.B_c, p.d, true),
            decl(Tensor::O, p.N_q, p.d, t.B_r, p.d, true),
            decl(Tensor::dO, p.N_q, p.d, t.B_r, p.d, true),
            decl(Tensor::l, p.N_q, 1, t.B_r, 1, true),
            decl(Tensor::m, p.N_q, 1, t.B_r, 1, true),
            decl(Tensor::S, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
            decl(Tensor::P, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
            decl(Tensor::dP, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
            decl(Tensor::dS, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
            decl(Tensor::D, p.N_q, 1, t.B_r, 1, false, false),
            decl(Tensor::dQ, p.N_q, p.d, t.B_r, p.d, false),
            decl(Tensor::dK, p.N_kv, p.d, t.B_c, p.d, false),
            decl(Tensor::dV, p.N_kv, p.d, t.B_c, p.d, false)};
}

}  // namespace

const AlgorithmDef& flash_backward() {
    static const AlgorithmDef def{
        .key = "flash",
        .pass = Pass::backward,
        .name = "FlashAttention backward (Alg. 4)",
        .description = "S_ij, P_ij recomputed on chip from Q_i, K_j, l_i, m_i; dQ_i round-trips HBM per K/V block",
        .paper = "Dao et al. 2022, Algorithm 4",
        .baseline = false,
        .rule = {detail::paper_rule, false, "paper's rule", detail::kPaperRuleText},
        .working_sets = working_sets,
        .run = run,
        .closed_form = closed_form,
        .paper_elements = paper_elements,
        .theta = {"Theta(N^2 d^2 / M)", detail::theta_flash, "Theta(Nd + N^2 d^2 s / M), s the fraction of tiles kept (Prop. 4)"},
        .numerics_bytes = numerics_bytes,
        .tensors = tensors,
        .outputs = {Tensor::dQ, Tensor::dK, Tensor::dV},
        .softmax = OnlineSoftmax::none,
        .schedules = detail::sync_only(),
    };
    return def;
}

}  // namespace tilesim::kernels::algorithms
