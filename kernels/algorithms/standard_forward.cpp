// Standard attention, Algorithm 0 of Dao et al. 2022: S = tau Q K^T and P = softmax(S) are
// materialised in HBM. Notation: N (N_q query rows, N_kv key rows), d, B_r, B_c, T_r, T_c, Q_i, K_j,
// V_j, S_ij, P_ij.
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
#include <limits>

#include "kernels/detail.h"
#include "kernels/tiling.h"

namespace tilesim::kernels::algorithms {

using sim::Level;
using sim::Tensor;

namespace {

// One element-wise or softmax step covers rows [r0, r0+rows) x cols [c0, c0+cols) of S.
struct Chunk {
    std::int64_t r0, c0, rows, cols;
};

// Visits S in the chunks the row pass allows: blocks of whole rows, or row pieces.
// One thread block per chunk of whole rows, or per row when rows are streamed.
template <class F>
void for_each_chunk(const Problem& p, const RowPass& sm, sim::Hierarchy& h, F&& f) {
    if (sm.one_pass) {
        for (std::int64_t r0 = 0; r0 < p.N_q; r0 += sm.rows) {
            h.begin_block(r0 / sm.rows);
            f(Chunk{r0, 0, std::min(sm.rows, p.N_q - r0), p.N_kv});
        }
    } else {
        for (std::int64_t r = 0; r < p.N_q; ++r) {
            h.begin_block(r);
            for (std::int64_t c0 = 0; c0 < p.N_kv; c0 += sm.chunk) f(Chunk{r, c0, 1, std::min(sm.chunk, p.N_kv - c0)});
        }
    }
}

WorkingSets working_sets(const Problem& p, std::int64_t B_r, std::int64_t B_c, const sim::HardwareSpec& hw) {
    const std::int64_t br = std::min(B_r, p.N_q), bc = std::min(B_c, p.N_kv), d = p.d;
    const RowPass sm = row_pass_shape(p, hw, 1);
    std::vector<BufferSpec> softmax;
    if (sm.one_pass) {
        softmax.push_back({Tensor::S, sm.rows, p.N_kv, "S rows (softmax)", Tensor::P});
    } else {
        softmax.push_back({Tensor::S, 1, sm.chunk, "S row chunk (softmax)", Tensor::P});
    }
    WorkingSets sets = {{{Tensor::Q, br, d, "Q_i (B_r x d)"},
                         {Tensor::K, bc, d, "K_j (B_c x d)"},
                         {Tensor::S, br, bc, "S_ij (B_r x B_c)"}},
                        softmax,
                        {{Tensor::P, br, bc, "P_ij (B_r x B_c)"},
                         {Tensor::V, bc, d, "V_j (B_c x d)"},
                         {Tensor::O, br, d, "O_i (B_r x d)"}}};
    if (p.mask.active()) {
        // The eager mask pass streams rows of S with the same rows of the framework's boolean mask Mk
        // (1 byte per element), in the row shape that fits two matrices.
        const RowPass mp = row_pass_shape(p, hw, 2);
        const std::int64_t rows = mp.one_pass ? mp.rows : 1, cols = mp.one_pass ? p.N_kv : mp.chunk;
        sets.push_back({{Tensor::S, rows, cols, "S rows (mask pass)"}, {Tensor::Mk, rows, cols, "Mk rows (the mask)"}});
    }
    return sets;
}

void run(RunContext& c) {
    const Problem& p = c.p;
    sim::Hierarchy& h = c.h;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d;
    const std::int64_t B_r = c.t.B_r, B_c = c.t.B_c, T_r = c.t.T_r, T_c = c.t.T_c;
    const bool numerics = c.numerics();
    const float tau = 1.0F / std::sqrt(static_cast<float>(d));
    const auto sets = working_sets(p, B_r, B_c, h.spec());
    const RowPass sm = row_pass_shape(p, h.spec(), 1);
    const std::int64_t extra = c.o.extra_passes;
    // One head's K (or V) in the L2? Then GEMM re-reads hit the L2 (see the file comment).
    const bool operand_in_l2 = h.spec().l2_bytes >= h.bytes_of(Tensor::K, N_kv * d);
    const Level reread_from = operand_in_l2 ? Level::L2 : Level::HBM;

    Mat* S = nullptr;  // "HBM" contents, numerics only
    Mat* P = nullptr;
    Mat* O = nullptr;
    const Mat* Q = nullptr;
    const Mat* K = nullptr;
    const Mat* V = nullptr;
    if (numerics) {
        HbmState& hbm = *c.hbm;
        hbm[Tensor::S].resize(N_q, N_kv);
        hbm[Tensor::P].resize(N_q, N_kv);
        hbm[Tensor::O].resize(N_q, d);
        S = &hbm[Tensor::S];
        P = &hbm[Tensor::P];
        O = &hbm[Tensor::O];
        Q = &hbm[Tensor::Q];
        K = &hbm[Tensor::K];
        V = &hbm[Tensor::V];
    }

    // Pass 1: S = tau Q K^T (unscaled when an extra pass applies tau, as eager frameworks do).
    h.begin_phase("standard: S = QK^T", T_r * T_c);
    auto ids = detail::hold(h, sets[0]);
    for (std::int64_t i = 0; i < T_r; ++i) {
        const std::int64_t r0 = i * B_r, rows = detail::block_len(i, B_r, N_q);
        const auto ii = static_cast<std::int32_t>(i);
        // A thread block per output tile S_ij; Q_i is loaded by the row's first.
        h.begin_block(i * T_c);
        h.load(Tensor::Q, {r0, 0, rows, d}, ii, -1, "Alg 0 l.1: load Q_i");
        for (std::int64_t j = 0; j < T_c; ++j) {
            const std::int64_t c0 = j * B_c, cols = detail::block_len(j, B_c, N_kv);
            const auto jj = static_cast<std::int32_t>(j);
            h.begin_block(i * T_c + j);
            h.transfer(Tensor::K, {c0, 0, cols, d}, i == 0 ? Level::HBM : reread_from, Level::SRAM, ii, jj,
                       i == 0 ? "Alg 0 l.1: load K_j" : "Alg 0 l.1: re-load K_j");
            h.compute(Tensor::S, {r0, c0, rows, cols}, 2 * rows * cols * d, extra == 0 ? rows * cols : 0,
                      rows * d + cols * d, rows * cols, ii, jj, "Alg 0 l.1: S_ij = tau Q_i K_j^T");
            if (numerics) {
                const float scale = extra == 0 ? tau : 1.0F;
                S->block(r0, c0, rows, cols).noalias() =
                    scale * (Q->middleRows(r0, rows) * K->middleRows(c0, cols).transpose());
            }
            c.store(Tensor::S, {r0, c0, rows, cols}, ii, jj, "Alg 0 l.1: write S_ij to HBM");
        }
    }
    detail::drop(h, ids);

    // Optional framework passes: each reads and writes all of S once (1 flop per element). With a mask,
    // the second is masked_fill: it also reads the framework's boolean mask Mk (1 byte per element).
    static const char* const kPassNames[] = {"eager: scale S", "eager: mask S", "eager: dropout S"};
    const std::int64_t steps = sm.one_pass ? ceil_div(N_q, sm.rows) : N_q;
    const float neg_inf = -std::numeric_limits<float>::infinity();
    for (std::int64_t k = 0; k < extra; ++k) {
        const char* name = kPassNames[std::min<std::int64_t>(k, 2)];
        const bool masking = k == 1 && p.mask.active();
        const RowPass shape = masking ? row_pass_shape(p, h.spec(), 2) : sm;
        h.begin_phase(name, shape.one_pass ? ceil_div(N_q, shape.rows) : N_q);
        ids = detail::hold(h, sets[masking ? 3 : 1]);
        for_each_chunk(p, shape, h, [&](const Chunk& ch) {
            const sim::Rect r{ch.r0, ch.c0, ch.rows, ch.cols};
            h.load(Tensor::S, r, -1, -1, name);
            if (masking) h.load(Tensor::Mk, r, -1, -1, "eager: read the mask Mk");
            h.compute(Tensor::S, r, 0, ch.rows * ch.cols, ch.rows * ch.cols, ch.rows * ch.cols, -1, -1, name,
                      masking ? sim::flags::kMasked : 0);
            if (numerics && k == 0) S->block(ch.r0, ch.c0, ch.rows, ch.cols) *= tau;
            if (numerics && masking) {
                for (std::int64_t q = ch.r0; q < ch.r0 + ch.rows; ++q) {
                    for (std::int64_t kk = ch.c0; kk < ch.c0 + ch.cols; ++kk) {
                        if (!allowed(p.mask, N_q, N_kv, q, kk)) (*S)(q, kk) = neg_inf;
                    }
                }
            }
            c.store(Tensor::S, r, -1, -1, name);
        });
        detail::drop(h, ids);
    }
    // Without an eager mask pass the mask is fused into the softmax (1 flop per element it reads).
    const bool fused_mask = p.mask.active() && extra < 2;

    // Pass 2: P = softmax(S), row-wise.
    h.begin_phase("standard: P = softmax(S)", steps);
    ids = detail::hold(h, sets[1]);
    if (sm.one_pass) {
        // Whole rows fit: read S once, write P once (5 flops per element: max, sub, exp, sum, divide).
        for_each_chunk(p, sm, h, [&](const Chunk& ch) {
            h.load(Tensor::S, {ch.r0, 0, ch.rows, N_kv}, -1, -1, "Alg 0 l.2: read S rows");
            h.compute(Tensor::P, {ch.r0, 0, ch.rows, N_kv}, 0, (fused_mask ? 6 : 5) * ch.rows * N_kv,
                      ch.rows * N_kv, ch.rows * N_kv, -1, -1, "Alg 0 l.2: P = softmax(S)", 0, ch.rows * N_kv);
            if (numerics) {
                Mat Sb = S->middleRows(ch.r0, ch.rows);
                if (fused_mask) detail::mask_tile(p, ch.r0, 0, Sb);
                // A fully masked row (max -inf) has P = 0, not NaN.
                const Vec mx = detail::finite_or_zero(Sb.rowwise().maxCoeff());
                Mat E = (Sb.colwise() - mx).array().exp();
                const Vec inv = E.rowwise().sum().unaryExpr([](float v) { return v > 0 ? 1.0F / v : 0.0F; });
                P->middleRows(ch.r0, ch.rows) = E.array().colwise() * inv.array();
            }
            c.store(Tensor::P, {ch.r0, 0, ch.rows, N_kv}, -1, -1, "Alg 0 l.2: write P rows to HBM");
        });
    } else {
        // A row does not fit: one streamed pass for the running max and sum (online, 4 flops per
        // element), a second to write P (exp and divide, 3 flops per element). S is read twice.
        for (std::int64_t row = 0; row < N_q; ++row) {
            h.begin_block(row);
            float mx = -std::numeric_limits<float>::infinity(), sum = 0.0F;
            for (std::int64_t c0 = 0; c0 < N_kv; c0 += sm.chunk) {
                const std::int64_t cols = std::min(sm.chunk, N_kv - c0);
                h.load(Tensor::S, {row, c0, 1, cols}, -1, -1, "Alg 0 l.2: read S chunk (max, sum)");
                h.compute(Tensor::S, {row, c0, 1, cols}, 0, (fused_mask ? 5 : 4) * cols, cols, 0, -1, -1,
                          "softmax: running max, sum", 0, cols);
                if (numerics) {
                    Mat chunk = S->block(row, c0, 1, cols);
                    if (fused_mask) detail::mask_tile(p, row, c0, chunk);
                    const float cmx = chunk.maxCoeff();
                    const float nmx = std::max(mx, cmx);
                    if (!std::isinf(nmx)) {  // nothing allowed yet: the running sum stays 0
                        sum = sum * std::exp(mx - nmx) + (chunk.array() - nmx).exp().sum();
                        mx = nmx;
                    }
                }
            }
            for (std::int64_t c0 = 0; c0 < N_kv; c0 += sm.chunk) {
                const std::int64_t cols = std::min(sm.chunk, N_kv - c0);
                h.load(Tensor::S, {row, c0, 1, cols}, -1, -1, "Alg 0 l.2: re-read S chunk");
                h.compute(Tensor::P, {row, c0, 1, cols}, 0, (fused_mask ? 4 : 3) * cols, cols, cols, -1, -1,
                          "softmax: P chunk", 0, cols);
                if (numerics) {
                    Mat chunk = S->block(row, c0, 1, cols);
                    if (fused_mask) detail::mask_tile(p, row, c0, chunk);
                    const float inv = sum > 0 ? 1.0F / sum : 0.0F;
                    P->block(row, c0, 1, cols) = ((chunk.array() - (std::isinf(mx) ? 0.0F : mx)).exp() * inv).matrix();
                }
                c.store(Tensor::P, {row, c0, 1, cols}, -1, -1, "Alg 0 l.2: write P chunk to HBM");
            }
        }
    }
    detail::drop(h, ids);

    // Pass 3: O = P V, O_i accumulated in SRAM.
    h.begin_phase("standard: O = PV", T_r);
    ids = detail::hold(h, sets[2]);
    Mat O_i;
    for (std::int64_t i = 0; i < T_r; ++i) {
        const std::int64_t r0 = i * B_r, rows = detail::block_len(i, B_r, N_q);
        const auto ii = static_cast<std::int32_t>(i);
        h.begin_block(i);  // a thread block per row block of O
        if (numerics) O_i = Mat::Zero(rows, d);
        for (std::int64_t j = 0; j < T_c; ++j) {
            const std::int64_t c0 = j * B_c, cols = detail::block_len(j, B_c, N_kv);
            const auto jj = static_cast<std::int32_t>(j);
            h.load(Tensor::P, {r0, c0, rows, cols}, ii, jj, "Alg 0 l.3: load P_ij");
            h.transfer(Tensor::V, {c0, 0, cols, d}, i == 0 ? Level::HBM : reread_from, Level::SRAM, ii, jj,
                       i == 0 ? "Alg 0 l.3: load V_j" : "Alg 0 l.3: re-load V_j");
            h.compute(Tensor::O, {r0, 0, rows, d}, 2 * rows * cols * d, 0, rows * cols + cols * d + rows * d,
                      rows * d, ii, jj, "Alg 0 l.3: O_i += P_ij V_j");
            if (numerics) O_i.noalias() += P->block(r0, c0, rows, cols) * V->middleRows(c0, cols);
        }
        if (numerics) O->middleRows(r0, rows) = O_i;
        c.store(Tensor::O, {r0, 0, rows, d}, ii, -1, "Alg 0 l.3: write O_i to HBM");
    }
    detail::drop(h, ids);
}

ClosedForm closed_form(const Problem& p, const Tiling& t, const sim::HardwareSpec& hw, const RunOptions& o) {
    ClosedForm f;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d, T_r = t.T_r;
    const std::int64_t NN = N_q * N_kv, extra = o.extra_passes;
    const std::int64_t br = std::min(t.B_r, N_q), bc = std::min(t.B_c, N_kv);
    const std::int64_t e = detail::el_bytes(Tensor::Q, p.dtype);
    // Algorithm 0: reads Q, K, V once, S once, P once; writes S, P (N_q N_kv each), O (N_q d).
    // GEMM re-reads of K and V by the T_r - 1 later Q blocks: L2 when one head's K fits, else HBM.
    const bool in_l2 = hw.l2_bytes >= N_kv * d * e;
    const std::int64_t rereads = (T_r - 1) * N_kv * d;
    // Softmax: one read of S when a whole row fits in SRAM, two streamed reads otherwise.
    const std::int64_t es = detail::el_bytes(Tensor::S, p.dtype);  // S, P (bf16 for an fp8 problem)
    const bool row_fits = N_kv * es <= hw.sram_bytes;
    f.read(Tensor::Q) = N_q * d;
    f.read(Tensor::K) = N_kv * d + (in_l2 ? 0 : rereads);
    f.read(Tensor::V) = N_kv * d + (in_l2 ? 0 : rereads);
    f.read(Tensor::S) = NN * (extra + (row_fits ? 1 : 2));
    f.read(Tensor::P) = NN;
    f.write(Tensor::S) = NN * (1 + extra);
    f.write(Tensor::P) = NN;
    f.write(Tensor::O) = N_q * d;
    f.l2_read_elements = in_l2 ? 2 * rereads : 0;
    f.matmul_flops = 4 * NN * d;  // QK^T and PV: 2 N_q N_kv d each, whatever the tiling
    // tau: one multiply per element of S (in pass 1, or the first eager pass); each further
    // eager pass 1 flop per element; softmax 5 per element in one pass, 4 + 3 when streamed.
    f.other_flops = std::max<std::int64_t>(1, extra) * NN + (row_fits ? 5 : 7) * NN;
    f.exp_flops = (row_fits ? 1 : 2) * NN;  // exp once per element, twice when streamed
    // A mask: applied by the second eager pass (masked_fill), which also reads the boolean Mk, or, without
    // one, fused into the softmax (1 flop per element per read of S). The GEMMs compute every tile.
    std::int64_t mask_set = 0;
    if (p.mask.active()) {
        if (extra >= 2) {
            f.read(Tensor::Mk) = NN;
            const RowPass mp = row_pass_shape(p, hw, 2);
            mask_set = (mp.one_pass ? mp.rows * N_kv : mp.chunk) * (es + 1);
        } else {
            f.other_flops += (row_fits ? 1 : 2) * NN;
        }
    }
    // Working sets: GEMM tiles (Q_i, K_j, S_ij), softmax rows (or a chunk), (P_ij, V_j, O_i).
    const std::int64_t gemm = std::max((br * d + bc * d) * e + br * bc * es, (br * bc + br * d) * es + bc * d * e);
    const std::int64_t sm_rows = std::min(N_q, hw.sram_bytes / (N_kv * es));
    const std::int64_t softmax = row_fits ? sm_rows * N_kv * es : (hw.sram_bytes / es) * es;
    f.sram_peak_bytes = std::max({gemm, softmax, mask_set});
    return f;
}

// The paper's count with every GEMM operand read once: 4Nd + 4N^2.
std::int64_t paper_elements(const Problem& p, const Tiling&) {
    return 2 * p.N_q * p.d + 2 * p.N_kv * p.d + 4 * p.N_q * p.N_kv;
}

std::int64_t numerics_bytes(const Problem& p) {
    // Q, O, K, V and S, P in "HBM" (floats).
    return (2 * p.N_q * p.d + 2 * p.N_kv * p.d + 2 * p.N_q * p.N_kv) * static_cast<std::int64_t>(sizeof(float));
}

std::vector<sim::TensorDecl> tensors(const Problem& p, const Tiling& t) {
    using detail::decl;
    std::vector<sim::TensorDecl> out = {
        decl(Tensor::Q, p.N_q, p.d, t.B_r, p.d, true),  decl(Tensor::K, p.N_kv, p.d, t.B_c, p.d, true),
        decl(Tensor::V, p.N_kv, p.d, t.B_c, p.d, true), decl(Tensor::S, p.N_q, p.N_kv, t.B_r, t.B_c, false),
        decl(Tensor::P, p.N_q, p.N_kv, t.B_r, t.B_c, false), decl(Tensor::O, p.N_q, p.d, t.B_r, p.d, false)};
    // The framework's boolean mask (built before the run; read by the eager mask pass when there is one).
    if (p.mask.active()) out.push_back(decl(Tensor::Mk, p.N_q, p.N_kv, t.B_r, t.B_c, false));
    return out;
}

}  // namespace

const AlgorithmDef& standard_forward() {
    static const AlgorithmDef def{
        .key = "standard",
        .pass = Pass::forward,
        .name = "Standard attention (Algorithm 0)",
        .description = "S = QK^T and P = softmax(S) written to and read back from HBM: three passes",
        .paper = "Dao et al. 2022, Algorithm 0",
        .baseline = true,
        .rule = {detail::paper_rule, false, "paper's rule", detail::kPaperRuleText},
        .working_sets = working_sets,
        .run = run,
        .closed_form = closed_form,
        .paper_elements = paper_elements,
        .theta = {"Theta(Nd + N^2)", detail::theta_standard},
        .numerics_bytes = numerics_bytes,
        .tensors = tensors,
        .outputs = {Tensor::O},
        .softmax = OnlineSoftmax::none,
        .schedules = detail::sync_only(sim::MmaKind::wgmma),
    };
    return def;
}

}  // namespace tilesim::kernels::algorithms
