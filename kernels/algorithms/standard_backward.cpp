// Standard attention backward, Algorithm 3 of Dao et al. 2022: every intermediate goes through HBM.
// Notation: N (N_q query rows, N_kv key rows), d, B_r, B_c, T_r, T_c; P_ij, dP_ij, dS_ij tiles of the
// N_q x N_kv matrices P (saved by the forward), dP and dS (written here).
//
// Five passes, as five kernel launches (the paper's lines 1-5), plus a framework's eager passes:
//   1. dV = P^T dO     (dV_j accumulates in SRAM while P_ij, dO_i stream past)
//   2. dP = dO V^T     (dO_i stays in SRAM while the V_j stream past; dP_ij written to HBM)
//   3. dS = P o (dP - rowsum(P o dP)), row by row: the softmax backward as its own kernel
//   (e) the backward of each eager forward pass (dropout, mask, scale), one pass over dS each
//   4. dQ = dS K       (dQ_i accumulates while dS_ij, K_j stream past)
//   5. dK = dS^T Q     (dK_j accumulates while dS_ij, Q_i stream past)
// As in the forward, a tiled GEMM re-reads its streamed d-wide operand once per output block after
// the first; those re-reads are L2 -> SRAM loads when one head's operand fits in the L2 (as on a real
// GPU), HBM reads otherwise. The scale tau is folded into the softmax backward when no eager scale
// pass exists (as the forward folds it into S = tau Q K^T).
#include <cmath>
#include <limits>

#include "kernels/detail.h"
#include "kernels/tiling.h"

namespace tilesim::kernels::algorithms {

using sim::Level;
using sim::Tensor;

namespace {

// One tiled GEMM pass whose output block accumulates over the inner loop: out_o = sum_k op(tile_ok) X_k.
// `outer_rows` = true: out has N_q rows (block B_r, outer loop over i), the N x N tile is tile_ik and X
// has N_kv rows (blocks over j); false: out has N_kv rows (outer over j), the tile is tile_kj transposed
// and X has N_q rows.
struct AccumulatePass {
    const char* phase;
    Tensor out, tile, x;
    bool outer_rows;
    const char* load_tile;
    const char* load_x;
    const char* reload_x;
    const char* update;
    const char* store;
};

void accumulate(RunContext& c, const AccumulatePass& a, const std::vector<BufferSpec>& set) {
    const Problem& p = c.p;
    sim::Hierarchy& h = c.h;
    const std::int64_t d = p.d;
    const std::int64_t n_out = a.outer_rows ? p.N_q : p.N_kv, n_in = a.outer_rows ? p.N_kv : p.N_q;
    const std::int64_t B_out = a.outer_rows ? c.t.B_r : c.t.B_c, B_in = a.outer_rows ? c.t.B_c : c.t.B_r;
    const std::int64_t T_out = ceil_div(n_out, B_out), T_in = ceil_div(n_in, B_in);
    const bool x_in_l2 = h.spec().l2_bytes >= h.bytes_of(a.x, n_in * d);
    h.begin_phase(a.phase, T_out);
    const auto ids = detail::hold(h, set);
    Mat acc;
    for (std::int64_t o = 0; o < T_out; ++o) {
        const std::int64_t o0 = o * B_out, on = detail::block_len(o, B_out, n_out);
        h.begin_block(o);  // a thread block per output block
        if (c.numerics()) acc = Mat::Zero(on, d);
        for (std::int64_t k = 0; k < T_in; ++k) {
            const std::int64_t k0 = k * B_in, kn = detail::block_len(k, B_in, n_in);
            // Block indices in the paper's sense: i over Q rows, j over K/V rows.
            const auto ii = static_cast<std::int32_t>(a.outer_rows ? o : k);
            const auto jj = static_cast<std::int32_t>(a.outer_rows ? k : o);
            const sim::Rect tile = a.outer_rows ? sim::Rect{o0, k0, on, kn} : sim::Rect{k0, o0, kn, on};
            h.load(a.tile, tile, ii, jj, a.load_tile);
            const Level from = o == 0 || !x_in_l2 ? Level::HBM : Level::L2;
            h.transfer(a.x, {k0, 0, kn, d}, from, Level::SRAM, ii, jj, o == 0 ? a.load_x : a.reload_x);
            h.compute(a.out, {o0, 0, on, d}, 2 * on * kn * d, 0, on * kn + kn * d + on * d, on * d, ii, jj,
                      a.update);
            if (c.numerics()) {
                const HbmState& m = *c.hbm;
                const auto t = m[a.tile].block(tile.row0, tile.col0, tile.rows, tile.cols);
                if (a.outer_rows) {
                    acc.noalias() += t * m[a.x].middleRows(k0, kn);
                } else {
                    acc.noalias() += t.transpose() * m[a.x].middleRows(k0, kn);
                }
            }
        }
        if (c.numerics()) (*c.hbm)[a.out].middleRows(o0, on) = acc;
        c.store(a.out, {o0, 0, on, d}, a.outer_rows ? static_cast<std::int32_t>(o) : -1,
                a.outer_rows ? -1 : static_cast<std::int32_t>(o), a.store);
    }
    detail::drop(h, ids);
}

// Visits the rows of an N_q x N_kv matrix in the chunks a row pass allows.
// One thread block per chunk of whole rows, or per row when rows are streamed.
template <class F>
void for_each_row_chunk(const Problem& p, const RowPass& rp, sim::Hierarchy& h, F&& f) {
    if (rp.one_pass) {
        for (std::int64_t r0 = 0; r0 < p.N_q; r0 += rp.rows) {
            h.begin_block(r0 / rp.rows);
            f(sim::Rect{r0, 0, std::min(rp.rows, p.N_q - r0), p.N_kv});
        }
    } else {
        for (std::int64_t r = 0; r < p.N_q; ++r) {
            h.begin_block(r);
            for (std::int64_t c0 = 0; c0 < p.N_kv; c0 += rp.chunk) f(sim::Rect{r, c0, 1, std::min(rp.chunk, p.N_kv - c0)});
        }
    }
}

WorkingSets working_sets(const Problem& p, std::int64_t B_r, std::int64_t B_c, const sim::HardwareSpec& hw) {
    const std::int64_t br = std::min(B_r, p.N_q), bc = std::min(B_c, p.N_kv), d = p.d;
    const RowPass rp = row_pass_shape(p, hw, 2);
    const std::int64_t rows = rp.one_pass ? rp.rows : 1, cols = rp.one_pass ? p.N_kv : rp.chunk;
    return {{{Tensor::P, br, bc, "P_ij (B_r x B_c)"}, {Tensor::dO, br, d, "dO_i (B_r x d)"},
             {Tensor::dV, bc, d, "dV_j (B_c x d)"}},
            {{Tensor::dO, br, d, "dO_i (B_r x d)"}, {Tensor::V, bc, d, "V_j (B_c x d)"},
             {Tensor::dP, br, bc, "dP_ij (B_r x B_c)"}},
            {{Tensor::P, rows, cols, "P rows (softmax backward)"},
             {Tensor::dP, rows, cols, "dP rows, then dS (softmax backward)", Tensor::dS}},
            // The eager passes stream dS in the softmax backward's row shape: one buffer of it, and the
            // mask pass the same rows of the boolean mask Mk.
            p.mask.active() ? std::vector<BufferSpec>{{Tensor::dS, rows, cols, "dS rows (eager backward)"},
                                                      {Tensor::Mk, rows, cols, "Mk rows (the mask)"}}
                            : std::vector<BufferSpec>{{Tensor::dS, rows, cols, "dS rows (eager backward)"}},
            {{Tensor::dS, br, bc, "dS_ij (B_r x B_c)"}, {Tensor::K, bc, d, "K_j (B_c x d)"},
             {Tensor::dQ, br, d, "dQ_i (B_r x d)"}},
            {{Tensor::dS, br, bc, "dS_ij (B_r x B_c)"}, {Tensor::Q, br, d, "Q_i (B_r x d)"},
             {Tensor::dK, bc, d, "dK_j (B_c x d)"}}};
}

// Line 3: dS = P o (dP - D) with D = rowsum(P o dP), and tau when no eager pass applies it.
void softmax_backward(RunContext& c, const std::vector<BufferSpec>& set) {
    const Problem& p = c.p;
    sim::Hierarchy& h = c.h;
    const RowPass rp = row_pass_shape(p, h.spec(), 2);
    const bool fold_tau = c.o.extra_passes == 0;
    const float tau = 1.0F / std::sqrt(static_cast<float>(p.d));
    const float scale = fold_tau ? tau : 1.0F;
    h.begin_phase("standard bwd: dS = P o (dP - rowsum(P o dP))", rp.one_pass ? ceil_div(p.N_q, rp.rows) : p.N_q);
    const auto ids = detail::hold(h, set);
    Mat* dS = nullptr;
    if (c.numerics()) {
        (*c.hbm)[Tensor::dS].resize(p.N_q, p.N_kv);
        dS = &(*c.hbm)[Tensor::dS];
    }
    const Mat* P = c.numerics() ? &(*c.hbm)[Tensor::P] : nullptr;
    const Mat* dP = c.numerics() ? &(*c.hbm)[Tensor::dP] : nullptr;
    const std::int64_t per_el = 4 + (fold_tau ? 1 : 0);  // multiply, sum; subtract, multiply; (tau)
    if (rp.one_pass) {
        for_each_row_chunk(p, rp, h, [&](const sim::Rect& r) {
            h.load(Tensor::P, r, -1, -1, "Alg 3 l.3: read P rows");
            h.load(Tensor::dP, r, -1, -1, "Alg 3 l.3: read dP rows");
            h.compute(Tensor::dS, r, 0, per_el * r.elements(), 2 * r.elements(), r.elements(), -1, -1,
                      "Alg 3 l.3: dS = P o (dP - rowsum(P o dP))");
            if (c.numerics()) {
                const auto Pb = P->middleRows(r.row0, r.rows);
                const auto dPb = dP->middleRows(r.row0, r.rows);
                const Vec D = (Pb.array() * dPb.array()).rowwise().sum();
                dS->middleRows(r.row0, r.rows) = scale * (Pb.array() * (dPb.colwise() - D).array());
            }
            c.store(Tensor::dS, r, -1, -1, "Alg 3 l.3: write dS rows to HBM");
        });
    } else {
        // A row does not fit: stream it once for D = rowsum(P o dP) (2 flops per element), a second
        // time to write dS (2, or 3 with tau). P and dP are each read twice.
        for (std::int64_t row = 0; row < p.N_q; ++row) {
            h.begin_block(row);
            float D = 0.0F;
            for (std::int64_t c0 = 0; c0 < p.N_kv; c0 += rp.chunk) {
                const sim::Rect r{row, c0, 1, std::min(rp.chunk, p.N_kv - c0)};
                h.load(Tensor::P, r, -1, -1, "Alg 3 l.3: read P chunk (rowsum)");
                h.load(Tensor::dP, r, -1, -1, "Alg 3 l.3: read dP chunk (rowsum)");
                h.compute(Tensor::dP, r, 0, 2 * r.cols, 2 * r.cols, 0, -1, -1, "D += sum(P o dP)");
                if (c.numerics()) D += (P->block(row, c0, 1, r.cols).array() * dP->block(row, c0, 1, r.cols).array()).sum();
            }
            for (std::int64_t c0 = 0; c0 < p.N_kv; c0 += rp.chunk) {
                const sim::Rect r{row, c0, 1, std::min(rp.chunk, p.N_kv - c0)};
                h.load(Tensor::P, r, -1, -1, "Alg 3 l.3: re-read P chunk");
                h.load(Tensor::dP, r, -1, -1, "Alg 3 l.3: re-read dP chunk");
                h.compute(Tensor::dS, r, 0, (per_el - 2) * r.cols, 2 * r.cols, r.cols, -1, -1, "dS = P o (dP - D)");
                if (c.numerics()) {
                    dS->block(row, c0, 1, r.cols) =
                        scale * (P->block(row, c0, 1, r.cols).array() * (dP->block(row, c0, 1, r.cols).array() - D));
                }
                c.store(Tensor::dS, r, -1, -1, "Alg 3 l.3: write dS chunk to HBM");
            }
        }
    }
    detail::drop(h, ids);
}

// The backward of a framework's eager passes over S (the forward ran scale, mask, dropout in that
// order; their backward runs in reverse): each reads and writes all of dS once, 1 flop per element.
void eager_backward(RunContext& c, const std::vector<BufferSpec>& set) {
    static const char* const kNames[] = {"eager bwd: scale dS", "eager bwd: mask dS", "eager bwd: dropout dS"};
    const Problem& p = c.p;
    sim::Hierarchy& h = c.h;
    const RowPass rp = row_pass_shape(p, h.spec(), 2);
    const float tau = 1.0F / std::sqrt(static_cast<float>(p.d));
    for (std::int64_t k = c.o.extra_passes - 1; k >= 0; --k) {
        const char* name = kNames[std::min<std::int64_t>(k, 2)];
        h.begin_phase(name, rp.one_pass ? ceil_div(p.N_q, rp.rows) : p.N_q);
        const auto ids = detail::hold(h, set);
        const bool masking = k == 1 && p.mask.active();
        for_each_row_chunk(p, rp, h, [&](const sim::Rect& r) {
            h.load(Tensor::dS, r, -1, -1, name);
            // masked_fill's backward zeroes the masked gradients: it reads the mask again. (They are 0
            // already, since P is 0 there, but the framework runs the pass.)
            if (masking) h.load(Tensor::Mk, r, -1, -1, "eager bwd: read the mask Mk");
            h.compute(Tensor::dS, r, 0, r.elements(), r.elements(), r.elements(), -1, -1, name,
                      masking ? sim::flags::kMasked : 0);
            if (c.numerics() && k == 0) (*c.hbm)[Tensor::dS].block(r.row0, r.col0, r.rows, r.cols) *= tau;
            c.store(Tensor::dS, r, -1, -1, name);
        });
        detail::drop(h, ids);
    }
}

void run(RunContext& c) {
    const Problem& p = c.p;
    sim::Hierarchy& h = c.h;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d;
    const std::int64_t B_r = c.t.B_r, B_c = c.t.B_c, T_r = c.t.T_r, T_c = c.t.T_c;
    const auto sets = working_sets(p, B_r, B_c, h.spec());
    if (c.numerics()) {
        HbmState& m = *c.hbm;
        m[Tensor::dV].resize(N_kv, d);
        m[Tensor::dP].resize(N_q, N_kv);
        m[Tensor::dQ].resize(N_q, d);
        m[Tensor::dK].resize(N_kv, d);
    }
    // Line 1: dV = P^T dO.
    accumulate(c,
               {"standard bwd: dV = P^T dO", Tensor::dV, Tensor::P, Tensor::dO, false, "Alg 3 l.1: load P_ij",
                "Alg 3 l.1: load dO_i", "Alg 3 l.1: re-load dO_i", "Alg 3 l.1: dV_j += P_ij^T dO_i",
                "Alg 3 l.1: write dV_j to HBM"},
               sets[0]);
    // Line 2: dP = dO V^T, each tile written to HBM.
    {
        const bool v_in_l2 = h.spec().l2_bytes >= h.bytes_of(Tensor::V, N_kv * d);
        h.begin_phase("standard bwd: dP = dO V^T", T_r * T_c);
        const auto ids = detail::hold(h, sets[1]);
        for (std::int64_t i = 0; i < T_r; ++i) {
            const std::int64_t r0 = i * B_r, rows = detail::block_len(i, B_r, N_q);
            const auto ii = static_cast<std::int32_t>(i);
            h.begin_block(i * T_c);  // a thread block per output tile dP_ij, as in the forward's S = QK^T
            h.load(Tensor::dO, {r0, 0, rows, d}, ii, -1, "Alg 3 l.2: load dO_i");
            for (std::int64_t j = 0; j < T_c; ++j) {
                const std::int64_t c0 = j * B_c, cols = detail::block_len(j, B_c, N_kv);
                const auto jj = static_cast<std::int32_t>(j);
                h.begin_block(i * T_c + j);
                h.transfer(Tensor::V, {c0, 0, cols, d}, i == 0 || !v_in_l2 ? Level::HBM : Level::L2, Level::SRAM,
                           ii, jj, i == 0 ? "Alg 3 l.2: load V_j" : "Alg 3 l.2: re-load V_j");
                h.compute(Tensor::dP, {r0, c0, rows, cols}, 2 * rows * cols * d, 0, rows * d + cols * d,
                          rows * cols, ii, jj, "Alg 3 l.2: dP_ij = dO_i V_j^T");
                if (c.numerics()) {
                    HbmState& m = *c.hbm;
                    m[Tensor::dP].block(r0, c0, rows, cols).noalias() =
                        m[Tensor::dO].middleRows(r0, rows) * m[Tensor::V].middleRows(c0, cols).transpose();
                }
                c.store(Tensor::dP, {r0, c0, rows, cols}, ii, jj, "Alg 3 l.2: write dP_ij to HBM");
            }
        }
        detail::drop(h, ids);
    }
    // Line 3 (and the eager passes' backward).
    softmax_backward(c, sets[2]);
    eager_backward(c, sets[3]);
    // Lines 4-5: dQ = dS K, dK = dS^T Q (tau is already in dS).
    accumulate(c,
               {"standard bwd: dQ = dS K", Tensor::dQ, Tensor::dS, Tensor::K, true, "Alg 3 l.4: load dS_ij",
                "Alg 3 l.4: load K_j", "Alg 3 l.4: re-load K_j", "Alg 3 l.4: dQ_i += dS_ij K_j",
                "Alg 3 l.4: write dQ_i to HBM"},
               sets[4]);
    accumulate(c,
               {"standard bwd: dK = dS^T Q", Tensor::dK, Tensor::dS, Tensor::Q, false, "Alg 3 l.5: load dS_ij",
                "Alg 3 l.5: load Q_i", "Alg 3 l.5: re-load Q_i", "Alg 3 l.5: dK_j += dS_ij^T Q_i",
                "Alg 3 l.5: write dK_j to HBM"},
               sets[5]);
}

ClosedForm closed_form(const Problem& p, const Tiling& t, const sim::HardwareSpec& hw, const RunOptions& o) {
    ClosedForm f;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d, T_r = t.T_r, T_c = t.T_c;
    const std::int64_t NN = N_q * N_kv, extra = o.extra_passes;
    const std::int64_t e = detail::el_bytes(Tensor::Q, p.dtype);
    // A GEMM's streamed operand is re-read once per output block after the first: from the L2 when
    // one head's operand fits there, else from HBM. dO and Q have N_q rows, V and K have N_kv.
    const bool q_side_l2 = hw.l2_bytes >= N_q * d * e, kv_side_l2 = hw.l2_bytes >= N_kv * d * e;
    const std::int64_t re_q = (T_c - 1) * N_q * d;   // dO in line 1, Q in line 5 (outer over j)
    const std::int64_t re_kv = (T_r - 1) * N_kv * d; // V in line 2, K in line 4 (outer over i)
    // Softmax backward: P and dP read once when a row of each fits in SRAM, twice when streamed.
    const std::int64_t es = detail::el_bytes(Tensor::P, p.dtype);  // P, dP, dS (bf16 for an fp8 problem)
    const bool rows_fit = 2 * N_kv * es <= hw.sram_bytes;
    const std::int64_t softmax_reads = rows_fit ? 1 : 2;
    f.read(Tensor::P) = NN + softmax_reads * NN;         // line 1, line 3
    f.read(Tensor::dO) = 2 * N_q * d + (q_side_l2 ? 0 : re_q);  // lines 1 and 2
    f.read(Tensor::V) = N_kv * d + (kv_side_l2 ? 0 : re_kv);
    f.read(Tensor::dP) = softmax_reads * NN;
    f.read(Tensor::dS) = 2 * NN + extra * NN;  // lines 4 and 5, each eager backward pass
    f.read(Tensor::K) = N_kv * d + (kv_side_l2 ? 0 : re_kv);
    f.read(Tensor::Q) = N_q * d + (q_side_l2 ? 0 : re_q);
    f.write(Tensor::dV) = N_kv * d;
    f.write(Tensor::dP) = NN;
    f.write(Tensor::dS) = NN + extra * NN;
    if (p.mask.active() && extra >= 2) f.read(Tensor::Mk) = NN;  // the mask pass's backward reads Mk
    f.write(Tensor::dQ) = N_q * d;
    f.write(Tensor::dK) = N_kv * d;
    f.l2_read_elements = (q_side_l2 ? 2 * re_q : 0) + (kv_side_l2 ? 2 * re_kv : 0);
    f.matmul_flops = 8 * NN * d;  // four GEMMs of 2 N_q N_kv d each
    // Softmax backward 4 per element, tau 1 per element (folded in, or the eager scale pass), and 1 per
    // element for each further eager pass.
    f.other_flops = 4 * NN + std::max<std::int64_t>(1, extra) * NN;
    const std::int64_t br = std::min(t.B_r, N_q), bc = std::min(t.B_c, N_kv);
    // GEMM sets: a B_r x B_c tile (P, dP or dS, as written), one input-side operand and the output
    // block (dV, dQ, dK as written; dP_ij in line 2, where both operands are inputs).
    const std::int64_t gemm = std::max({br * bc * es + br * d * e + bc * d * es, br * d * e + bc * d * e + br * bc * es,
                                        br * bc * es + bc * d * e + br * d * es});
    const std::int64_t rows = std::min(N_q, hw.sram_bytes / (2 * N_kv * es));
    const std::int64_t softmax = rows_fit ? 2 * rows * N_kv * es : 2 * std::max<std::int64_t>(1, hw.sram_bytes / (2 * es)) * es;
    // The eager backward passes hold one of the softmax backward's two row buffers: never the peak.
    f.sram_peak_bytes = std::max(gemm, softmax);
    return f;
}

// The paper's count (the facts of Algorithm 3): reads 5N^2 + 5Nd, writes 2N^2 + 3Nd.
std::int64_t paper_elements(const Problem& p, const Tiling&) {
    return 7 * p.N_q * p.N_kv + 5 * p.N_q * p.d + 3 * p.N_kv * p.d;
}

std::int64_t numerics_bytes(const Problem& p) {
    // dP, dS (N_q x N_kv) and dQ, dK, dV; P is the forward's.
    return (2 * p.N_q * p.N_kv + p.N_q * p.d + 2 * p.N_kv * p.d) * static_cast<std::int64_t>(sizeof(float));
}

std::vector<sim::TensorDecl> tensors(const Problem& p, const Tiling& t) {
    using detail::decl;
    std::vector<sim::TensorDecl> out = {decl(Tensor::Q, p.N_q, p.d, t.B_r, p.d, true),
                                        decl(Tensor::K, p.N_kv, p.d, t.B_c, p.d, true),
                                        decl(Tensor::V, p.N_kv, p.d, t.B_c, p.d, true),
                                        decl(Tensor::dO, p.N_q, p.d, t.B_r, p.d, true),
                                        decl(Tensor::P, p.N_q, p.N_kv, t.B_r, t.B_c, true),
                                        decl(Tensor::dP, p.N_q, p.N_kv, t.B_r, t.B_c, false),
                                        decl(Tensor::dS, p.N_q, p.N_kv, t.B_r, t.B_c, false),
                                        decl(Tensor::dQ, p.N_q, p.d, t.B_r, p.d, false),
                                        decl(Tensor::dK, p.N_kv, p.d, t.B_c, p.d, false),
                                        decl(Tensor::dV, p.N_kv, p.d, t.B_c, p.d, false)};
    if (p.mask.active()) out.push_back(decl(Tensor::Mk, p.N_q, p.N_kv, t.B_r, t.B_c, false));
    return out;
}

}  // namespace

const AlgorithmDef& standard_backward() {
    static const AlgorithmDef def{
        .key = "standard",
        .pass = Pass::backward,
        .name = "Standard attention backward (Alg. 3)",
        .description = "P read back from HBM; dP and dS written to HBM and read back: five passes",
        .paper = "Dao et al. 2022, Algorithm 3",
        .baseline = true,
        .rule = {detail::paper_rule, false, "paper's rule", detail::kPaperRuleText},
        .working_sets = working_sets,
        .run = run,
        .closed_form = closed_form,
        .paper_elements = paper_elements,
        .theta = {"Theta(Nd + N^2)", detail::theta_standard},
        .numerics_bytes = numerics_bytes,
        .tensors = tensors,
        .outputs = {Tensor::dQ, Tensor::dK, Tensor::dV},
        .softmax = OnlineSoftmax::none,
        .schedules = detail::sync_only(sim::MmaKind::wgmma),
    };
    return def;
}

}  // namespace tilesim::kernels::algorithms
