// FlashAttention-2 backward (Dao 2023, Algorithm 2, as its kernel runs it), without dropout.
// Notation: N (N_q, N_kv), d, B_r, B_c, T_r, T_c, Q_i, K_j, V_j, dO_i, S_ij, P_ij, dP_ij, dS_ij,
// L_i = m_i + log l_i (saved by the forward), D_i = rowsum(dO_i o O_i).
//
// Three kernel launches:
//   1. D = rowsum(dO o O), one value per query row, written to HBM; the fp32 accumulator dQacc zeroed.
//   2. K/V blocks outer (one thread block per K/V block): dK_j and dV_j accumulate on chip and are
//      written once; for every Q block, P_ij = exp(S_ij - L_i) is recomputed from L_i alone, and
//      dS_ij K_j is added into dQacc_i with fp32 atomics, because many thread blocks (one per K/V
//      block) contribute to the same dQ_i at once.
//   3. dQ = tau dQacc, converted to the input dtype.
// Atomics: an atomic add of a tile is a read-modify-write at the memory side. It is counted as an
// HBM read and an HBM write of the fp32 tile (the same bytes Algorithm 4 moves by loading and storing
// dQ_i), and marked atomic in the trace; a profiler sees it as L2 reduction traffic.
#include <cmath>

#include "kernels/detail.h"

namespace tilesim::kernels::algorithms {

using sim::Tensor;

namespace {

WorkingSets working_sets(const Problem& p, std::int64_t B_r, std::int64_t B_c, const sim::HardwareSpec&) {
    const std::int64_t br = std::min(B_r, p.N_q), bc = std::min(B_c, p.N_kv), d = p.d;
    return {{{Tensor::dO, br, d, "dO_i (B_r x d)"}, {Tensor::O, br, d, "O_i (B_r x d)"},
             {Tensor::D, br, 1, "D_i (B_r, fp32)"}},
            {{Tensor::K, bc, d, "K_j (B_c x d)"},
             {Tensor::V, bc, d, "V_j (B_c x d)"},
             {Tensor::dK, bc, d, "dK_j (B_c x d)"},
             {Tensor::dV, bc, d, "dV_j (B_c x d)"},
             {Tensor::Q, br, d, "Q_i (B_r x d)"},
             {Tensor::dO, br, d, "dO_i (B_r x d)"},
             {Tensor::dQacc, br, d, "dS_ij K_j (B_r x d, fp32)"},
             {Tensor::S, br, bc, "S_ij/P_ij (B_r x B_c)", Tensor::P},
             {Tensor::dP, br, bc, "dP_ij/dS_ij (B_r x B_c)", Tensor::dS},
             {Tensor::L, br, 1, "L_i (B_r, fp32)"},
             {Tensor::D, br, 1, "D_i (B_r, fp32)"}},
            {{Tensor::dQacc, br, d, "dQacc_i (B_r x d, fp32)"}, {Tensor::dQ, br, d, "dQ_i (B_r x d)"}}};
}

// Pass 1: D_i = rowsum(dO_i o O_i) for every Q block, and dQacc = 0.
void preprocess(RunContext& c, const std::vector<BufferSpec>& set) {
    const Problem& p = c.p;
    sim::Hierarchy& h = c.h;
    const std::int64_t d = p.d, B_r = c.t.B_r;
    h.begin_phase("flash2 bwd: D = rowsum(dO o O)", c.t.T_r);
    const auto ids = detail::hold(h, set);
    if (c.numerics()) {
        HbmState& m = *c.hbm;
        m[Tensor::D] = (m[Tensor::dO].array() * m[Tensor::O].array()).rowwise().sum();
        m[Tensor::dQacc] = Mat::Zero(p.N_q, d);
    }
    for (std::int64_t i = 0; i < c.t.T_r; ++i) {
        const std::int64_t r0 = i * B_r, rows = detail::block_len(i, B_r, p.N_q);
        const auto ii = static_cast<std::int32_t>(i);
        h.begin_block(i);
        h.load(Tensor::dO, {r0, 0, rows, d}, ii, -1, "FA2 bwd: load dO_i");
        h.load(Tensor::O, {r0, 0, rows, d}, ii, -1, "FA2 bwd: load O_i");
        h.compute(Tensor::D, {r0, 0, rows, 1}, 0, 2 * rows * d, 2 * rows * d, rows, ii, -1,
                  "FA2 bwd: D_i = rowsum(dO_i o O_i)");
        c.store(Tensor::D, {r0, 0, rows, 1}, ii, -1, "FA2 bwd: write D_i");
        c.store(Tensor::dQacc, {r0, 0, rows, d}, ii, -1, "FA2 bwd: dQacc_i = 0", sim::flags::kInit);
    }
    detail::drop(h, ids);
}

// Pass 2: K/V blocks outer; dK_j, dV_j on chip; dQacc_i += dS_ij K_j by atomics.
void main_loop(RunContext& c, const std::vector<BufferSpec>& set) {
    const Problem& p = c.p;
    sim::Hierarchy& h = c.h;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d;
    const std::int64_t B_r = c.t.B_r, B_c = c.t.B_c, T_r = c.t.T_r, T_c = c.t.T_c;
    const bool numerics = c.numerics();
    const float tau = 1.0F / std::sqrt(static_cast<float>(d));
    constexpr auto kRe = sim::flags::kRecompute;
    // FA2's backward kernels launch 8 warps at d = 64 and 128 (Flash_bwd_kernel_traits<d, .., 8, ..>; this
    // project's flash_bwd.cuh too): one block per SM at up to 255 registers a thread.
    h.begin_phase("flash2 bwd: dK, dV (K/V blocks outer), dQ by atomics", T_c, 8);
    const auto ids = detail::hold(h, set);
    HbmState* m = c.hbm;
    if (numerics) {
        (*m)[Tensor::dK].resize(N_kv, d);
        (*m)[Tensor::dV].resize(N_kv, d);
    }
    Mat K_j, V_j, dK_j, dV_j, Q_i, dO_i, S_ij, dP_ij;
    for (std::int64_t j = 0; j < T_c; ++j) {
        const std::int64_t c0 = j * B_c, cols = detail::block_len(j, B_c, N_kv);
        const auto jj = static_cast<std::int32_t>(j);
        h.begin_block(j);  // one thread block per K/V block
        // The mask's class of each tile (i, j); a K/V block no query sees is not loaded.
        std::vector<TileKind> kinds(static_cast<std::size_t>(T_r));
        bool live = false;
        for (std::int64_t i = 0; i < T_r; ++i) {
            kinds[static_cast<std::size_t>(i)] = detail::tile_kind(p, i * B_r, detail::block_len(i, B_r, N_q), c0, cols);
            live = live || kinds[static_cast<std::size_t>(i)] != TileKind::empty;
        }
        if (live) {
            h.load(Tensor::K, {c0, 0, cols, d}, -1, jj, "FA2 bwd: load K_j");
            h.load(Tensor::V, {c0, 0, cols, d}, -1, jj, "FA2 bwd: load V_j");
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
            h.load(Tensor::Q, {r0, 0, rows, d}, ii, jj, "FA2 bwd: load Q_i");
            h.load(Tensor::dO, {r0, 0, rows, d}, ii, jj, "FA2 bwd: load dO_i");
            h.load(Tensor::L, {r0, 0, rows, 1}, ii, jj, "FA2 bwd: load L_i");
            h.load(Tensor::D, {r0, 0, rows, 1}, ii, jj, "FA2 bwd: load D_i");
            h.compute(Tensor::S, {r0, c0, rows, cols}, 2 * rc * d, rc, rd + cd, rc, ii, jj,
                      "FA2 bwd: S_ij = tau Q_i K_j^T (recomputed)", kRe);
            if (kind == TileKind::partial) {
                h.compute(Tensor::S, {r0, c0, rows, cols}, 0, rc, rc, rc, ii, jj, "FA2 bwd: mask S_ij",
                          sim::flags::kMasked);
            }
            h.compute(Tensor::P, {r0, c0, rows, cols}, 0, 2 * rc, rc + rows, rc, ii, jj,
                      "FA2 bwd: P_ij = exp(S_ij - L_i) (recomputed)", kRe, rc);
            h.compute(Tensor::dV, {c0, 0, cols, d}, 2 * rc * d, 0, rc + rd + cd, cd, ii, jj,
                      "FA2 bwd: dV_j += P_ij^T dO_i");
            h.compute(Tensor::dP, {r0, c0, rows, cols}, 2 * rc * d, 0, rd + cd, rc, ii, jj,
                      "FA2 bwd: dP_ij = dO_i V_j^T");
            h.compute(Tensor::dS, {r0, c0, rows, cols}, 0, 2 * rc, 2 * rc + rows, rc, ii, jj,
                      "FA2 bwd: dS_ij = P_ij o (dP_ij - D_i)");
            h.compute(Tensor::dQacc, {r0, 0, rows, d}, 2 * rc * d, 0, rc + cd, rd, ii, jj,
                      "FA2 bwd: dS_ij K_j");
            h.atomic_add(Tensor::dQacc, {r0, 0, rows, d}, ii, jj, "FA2 bwd: dQacc_i += dS_ij K_j (atomic)");
            h.compute(Tensor::dK, {c0, 0, cols, d}, 2 * rc * d, 0, rc + rd + cd, cd, ii, jj,
                      "FA2 bwd: dK_j += dS_ij^T Q_i");
            if (numerics) {
                Q_i = (*m)[Tensor::Q].middleRows(r0, rows);
                dO_i = (*m)[Tensor::dO].middleRows(r0, rows);
                const auto L_i = (*m)[Tensor::L].middleRows(r0, rows);
                const auto D_i = (*m)[Tensor::D].middleRows(r0, rows);
                S_ij.noalias() = tau * (Q_i * K_j.transpose());
                if (kind == TileKind::partial) detail::mask_tile(p, r0, c0, S_ij);
                // P_ij from the logsumexp alone; a fully masked row has L_i = +inf, so P_ij = 0.
                S_ij = (S_ij.colwise() - L_i.col(0)).array().exp();
                dV_j.noalias() += c.operand(S_ij).transpose() * dO_i;
                dP_ij.noalias() = dO_i * V_j.transpose();
                dP_ij = S_ij.array() * (dP_ij.colwise() - D_i.col(0)).array();  // dP_ij now holds dS_ij
                const Mat dS_op = c.operand(dP_ij);  // dS_ij as the two GEMMs take it
                (*m)[Tensor::dQacc].middleRows(r0, rows).noalias() += dS_op * K_j;
                dK_j.noalias() += dS_op.transpose() * Q_i;
            }
        }
        // dK_j = tau dK_j (c d flops), then dK_j, dV_j written once.
        h.compute(Tensor::dK, {c0, 0, cols, d}, 0, cols * d, cols * d, cols * d, -1, jj, "FA2 bwd: dK_j *= tau");
        if (numerics) {
            (*m)[Tensor::dK].middleRows(c0, cols) = tau * dK_j;
            (*m)[Tensor::dV].middleRows(c0, cols) = dV_j;
        }
        c.store(Tensor::dK, {c0, 0, cols, d}, -1, jj, "FA2 bwd: write dK_j");
        c.store(Tensor::dV, {c0, 0, cols, d}, -1, jj, "FA2 bwd: write dV_j");
    }
    detail::drop(h, ids);
}

// Pass 3: dQ = tau dQacc, in the input dtype.
void convert(RunContext& c, const std::vector<BufferSpec>& set) {
    const Problem& p = c.p;
    sim::Hierarchy& h = c.h;
    const std::int64_t d = p.d, B_r = c.t.B_r;
    const float tau = 1.0F / std::sqrt(static_cast<float>(d));
    h.begin_phase("flash2 bwd: dQ = tau dQacc (fp32 -> input dtype)", c.t.T_r);
    const auto ids = detail::hold(h, set);
    if (c.numerics()) (*c.hbm)[Tensor::dQ] = tau * (*c.hbm)[Tensor::dQacc];
    for (std::int64_t i = 0; i < c.t.T_r; ++i) {
        const std::int64_t r0 = i * B_r, rows = detail::block_len(i, B_r, p.N_q);
        const auto ii = static_cast<std::int32_t>(i);
        h.begin_block(i);
        h.load(Tensor::dQacc, {r0, 0, rows, d}, ii, -1, "FA2 bwd: load dQacc_i");
        h.compute(Tensor::dQ, {r0, 0, rows, d}, 0, rows * d, rows * d, rows * d, ii, -1,
                  "FA2 bwd: dQ_i = tau dQacc_i");
        c.store(Tensor::dQ, {r0, 0, rows, d}, ii, -1, "FA2 bwd: write dQ_i");
    }
    detail::drop(h, ids);
}

void run(RunContext& c) {
    const auto sets = working_sets(c.p, c.t.B_r, c.t.B_c, c.h.spec());
    preprocess(c, sets[0]);
    main_loop(c, sets[1]);
    convert(c, sets[2]);
}

ClosedForm closed_form(const Problem& p, const Tiling& t, const sim::HardwareSpec&, const RunOptions&) {
    ClosedForm f;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d;
    // Sums over the tiles the mask leaves (unmasked: rows_nonempty = T_c N_q, area = N_q N_kv).
    const MaskStats st = mask_stats(p.mask, N_q, N_kv, t.B_r, t.B_c);
    // Pass 1 reads dO and O once and writes D (one per row) and the zeroed dQacc.
    // Pass 2 reads K, V once per live K/V block; per live tile Q_i, dO_i (its rows x d each), L_i, D_i
    // (its rows each); every dQacc_i atomic is a read and a write of its rows x d (fp32) per live tile;
    // dK, dV written once. Pass 3 reads dQacc once and writes dQ.
    f.read(Tensor::dO) = N_q * d + st.rows_nonempty * d;
    f.read(Tensor::O) = N_q * d;
    f.read(Tensor::K) = st.kv_cols_live * d;
    f.read(Tensor::V) = st.kv_cols_live * d;
    f.read(Tensor::Q) = st.rows_nonempty * d;
    f.read(Tensor::L) = st.rows_nonempty;
    f.read(Tensor::D) = st.rows_nonempty;
    f.read(Tensor::dQacc) = st.rows_nonempty * d + N_q * d;
    f.write(Tensor::D) = N_q;
    f.write(Tensor::dQacc) = N_q * d + st.rows_nonempty * d;
    f.write(Tensor::dK) = N_kv * d;
    f.write(Tensor::dV) = N_kv * d;
    f.write(Tensor::dQ) = N_q * d;
    f.matmul_flops = 10 * st.area_nonempty * d;  // S recomputed, dV, dP, dQacc, dK: 2 rows cols d each per live tile
    // D: 2 per element of dO; per element of S: tau (1), exp(S - L) (2), dS (2), the mask on partial
    // tiles (1); tau on dK and on dQ.
    f.other_flops = 2 * N_q * d + 5 * st.area_nonempty + st.area_partial + N_kv * d + N_q * d;
    f.exp_flops = st.area_nonempty;  // the recomputed exp(S_ij - L_i)
    const std::int64_t br = std::min(t.B_r, N_q), bc = std::min(t.B_c, N_kv);
    const std::int64_t e32 = 4;
    // Inputs (K_j, V_j, Q_i, dO_i) in their format; dK_j, dV_j, O_i, dQ_i, S_ij, dP_ij as written.
    const auto eb = detail::element_bytes(p);
    const std::int64_t pre = br * d * (eb.in + eb.out) + br * e32;
    const std::int64_t main = (2 * bc * d + 2 * br * d) * eb.in + (2 * bc * d + 2 * br * bc) * eb.out +
                              br * d * e32 + 2 * br * e32;
    const std::int64_t conv = br * d * (e32 + eb.out);
    f.sram_peak_bytes = std::max({pre, main, conv});
    return f;
}

// The headline formula: 4 N_kv d + 5 N_q d + N_q + T_c (4 N_q d + 2 N_q), everything counted (the zeroing too).
std::int64_t paper_elements(const Problem& p, const Tiling& t) {
    const std::int64_t N_q = p.N_q, d = p.d;
    const MaskStats st = mask_stats(p.mask, N_q, p.N_kv, t.B_r, t.B_c);
    return 2 * N_q * d + N_q + N_q * d + 2 * st.kv_cols_live * d + 2 * p.N_kv * d + st.rows_nonempty * (4 * d + 2) +
           2 * N_q * d;
}

std::int64_t numerics_bytes(const Problem& p) {
    return (3 * p.N_q * p.d + 2 * p.N_kv * p.d + p.N_q) * static_cast<std::int64_t>(sizeof(float));
}

std::vector<sim::TensorDecl> tensors(const Problem& p, const Tiling& t) {
    using detail::decl;
    return {decl(Tensor::Q, p.N_q, p.d, t.B_r, p.d, true),
            decl(Tensor::K, p.N_kv, p.d, t.B_c, p.d, true),
            decl(Tensor::V, p.N_kv, p.d, t.B_c, p.d, true),
            decl(Tensor::O, p.N_q, p.d, t.B_r, p.d, true),
            decl(Tensor::dO, p.N_q, p.d, t.B_r, p.d, true),
            decl(Tensor::L, p.N_q, 1, t.B_r, 1, true),
            decl(Tensor::D, p.N_q, 1, t.B_r, 1, false),
            decl(Tensor::S, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
            decl(Tensor::P, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
            decl(Tensor::dP, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
            decl(Tensor::dS, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
            decl(Tensor::dQacc, p.N_q, p.d, t.B_r, p.d, false),
            decl(Tensor::dQ, p.N_q, p.d, t.B_r, p.d, false),
            decl(Tensor::dK, p.N_kv, p.d, t.B_c, p.d, false),
            decl(Tensor::dV, p.N_kv, p.d, t.B_c, p.d, false)};
}

}  // namespace

const AlgorithmDef& flash2_backward() {
    static const AlgorithmDef def{
        .key = "flash2",
        .pass = Pass::backward,
        .name = "FlashAttention-2 backward",
        .description = "D = rowsum(dO o O) pass; K/V blocks outer; P_ij from L_i; dQ by fp32 atomics, then converted",
        .paper = "Dao 2023, Algorithm 2",
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
        .schedules = detail::sync_or_producer_consumer(),
    };
    return def;
}

}  // namespace tilesim::kernels::algorithms
