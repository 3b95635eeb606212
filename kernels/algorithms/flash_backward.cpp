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
        h.store(Tensor::dQ, {i * B_r, 0, detail::block_len(i, B_r, N_q), d}, static_cast<std::int32_t>(i), -1,
                "Alg 4 l.5: dQ = 0 in HBM", sim::flags::kInit);
    }
    Mat K_j, V_j, dK_j, dV_j, Q_i, dO_i, S_ij, dP_ij;
    for (std::int64_t j = 0; j < T_c; ++j) {
        const std::int64_t c0 = j * B_c, cols = detail::block_len(j, B_c, N_kv);
        const auto jj = static_cast<std::int32_t>(j);
        // Lines 7-8: load K_j, V_j; dK~_j = dV~_j = 0 on chip.
        h.load(Tensor::K, {c0, 0, cols, d}, -1, jj, "Alg 4 l.7: load K_j");
        h.load(Tensor::V, {c0, 0, cols, d}, -1, jj, "Alg 4 l.7: load V_j");
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
            h.store(Tensor::dQ, {r0, 0, rows, d}, ii, jj, "Alg 4 l.21: write dQ_i");
            h.compute(Tensor::dK, {c0, 0, cols, d}, 2 * rc * d, 0, rc + rd + cd, cd, ii, jj,
                      "Alg 4 l.22: dK~_j += tau dS_ij^T Q_i");
            if (numerics) {
                Q_i = (*m)[Tensor::Q].middleRows(r0, rows);
                dO_i = (*m)[Tensor::dO].middleRows(r0, rows);
                const auto l_i = (*m)[Tensor::l].middleRows(r0, rows);
                const auto m_i = (*m)[Tensor::m].middleRows(r0, rows);
                S_ij.noalias() = tau * (Q_i * K_j.transpose());
                // P_ij = exp(S_ij - m_i) / l_i, row by row: the forward's softmax, exactly.
                S_ij = ((S_ij.colwise() - m_i.col(0)).array().exp()).colwise() / l_i.col(0).array();
                dV_j.noalias() += S_ij.transpose() * dO_i;
                dP_ij.noalias() = dO_i * V_j.transpose();
                const Vec D_i = (dO_i.array() * (*m)[Tensor::O].middleRows(r0, rows).array()).rowwise().sum();
                dP_ij = tau * (S_ij.array() * (dP_ij.colwise() - D_i).array());  // dP_ij now holds tau dS_ij
                (*m)[Tensor::dQ].middleRows(r0, rows).noalias() += dP_ij * K_j;
                dK_j.noalias() += dP_ij.transpose() * Q_i;
            }
        }
        // Line 24: write dK_j, dV_j to HBM.
        h.store(Tensor::dK, {c0, 0, cols, d}, -1, jj, "Alg 4 l.24: write dK_j");
        h.store(Tensor::dV, {c0, 0, cols, d}, -1, jj, "Alg 4 l.24: write dV_j");
        if (numerics) {
            (*m)[Tensor::dK].middleRows(c0, cols) = dK_j;
            (*m)[Tensor::dV].middleRows(c0, cols) = dV_j;
        }
    }
    detail::drop(h, buffers);
}

ClosedForm closed_form(const Problem& p, const Tiling& t, const sim::HardwareSpec&, const RunOptions&) {
    ClosedForm f;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d, T_c = t.T_c;
    const std::int64_t NN = N_q * N_kv;
    // Line 7: K, V once. Line 10, once per K/V block: Q_i, O_i, dO_i, dQ_i (N_q d each), l_i, m_i (N_q each).
    f.read(Tensor::K) = N_kv * d;
    f.read(Tensor::V) = N_kv * d;
    for (Tensor x : {Tensor::Q, Tensor::O, Tensor::dO, Tensor::dQ}) f.read(x) = T_c * N_q * d;
    f.read(Tensor::l) = T_c * N_q;
    f.read(Tensor::m) = T_c * N_q;
    // Line 21: dQ_i written per K/V block, plus line 5's initialisation; line 24: dK, dV once.
    f.write(Tensor::dQ) = (T_c + 1) * N_q * d;
    f.write(Tensor::dK) = N_kv * d;
    f.write(Tensor::dV) = N_kv * d;
    // Five GEMMs (S recomputed, dV, dP, dQ, dK) of 2 N_q N_kv d each.
    f.matmul_flops = 10 * NN * d;
    // Per element of S: tau (1), P from l, m (3), dS (2), tau on dS (1); D_i (2 per element of dO_i)
    // once per K/V block.
    f.other_flops = 7 * NN + T_c * 2 * N_q * d;
    f.exp_flops = NN;  // the recomputed exp(S_ij - m_i)
    const std::int64_t br = std::min(t.B_r, N_q), bc = std::min(t.B_c, N_kv);
    const std::int64_t e = detail::el_bytes(Tensor::Q, p.dtype);
    f.sram_peak_bytes = (4 * bc * d + 4 * br * d + 2 * br * bc) * e + 3 * br * 4;
    return f;
}

// The paper's count (Theorem 5's proof): reads 2Nd + T_c (4Nd + 2N), writes 2Nd + T_c Nd (no init).
std::int64_t paper_elements(const Problem& p, const Tiling& t) {
    return 4 * p.N_kv * p.d + t.T_c * (5 * p.N_q * p.d + 2 * p.N_q);
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
        .theta = {"Theta(N^2 d^2 / M)", detail::theta_flash},
        .numerics_bytes = numerics_bytes,
        .tensors = tensors,
        .outputs = {Tensor::dQ, Tensor::dK, Tensor::dV},
        .softmax = OnlineSoftmax::none,
        .schedules = detail::sync_only(),
    };
    return def;
}

}  // namespace tilesim::kernels::algorithms
