// FlashAttention-2 forward loop order (Dao 2023). Notation as in Algorithm 1 of the first paper:
// N, d, M, B_r, B_c, T_r, T_c, Q_i, K_j, V_j, S_ij, P~_ij, m_i, l_i; L_i = m_i + log l_i.
//
// Q blocks are outer and resident: Q_i and the O_i accumulator stay in SRAM for the whole inner loop
// over K/V blocks. O_i is kept unnormalised and divided by l_i once at the end (the deferred
// rescale), and only L_i (one value per row) is written, not m and l separately.
#include <cmath>
#include <limits>

#include "kernels/detail.h"

namespace tilesim::kernels::algorithms {

using sim::Tensor;

namespace {

// FA2's own rule, its kernels' square-ish blocks (csrc/flash_attn/src/flash_fwd_launch_template.h; facts
// section 3: <64, 128, 128, 4 warps> at d = 64, <128, 128, 64, 4 warps> at d = 128 on an H100/H200):
// B_r = 128 with B_c = 128 up to d = 64 and 64 up to d = 128, 64 x 64 up to d = 256, 64 x 32 beyond.
// The SRAM fit is checked by resolve_tiling, which shrinks the resident B_r first when M is smaller.
TilingRule::Blocks rule(const Problem& p, std::int64_t /*M*/) {
    if (p.d <= 64) return {128, 128};
    if (p.d <= 128) return {128, 64};
    if (p.d <= 256) return {64, 64};
    return {64, 32};
}

WorkingSets working_sets(const Problem& p, std::int64_t B_r, std::int64_t B_c, const sim::HardwareSpec&) {
    const std::int64_t br = std::min(B_r, p.N_q), bc = std::min(B_c, p.N_kv), d = p.d;
    std::vector<BufferSpec> set;
    // fp8 (FlashAttention-3, Sec. 3.3): the second GEMM's fp8 operand must be K-major, so V_j is
    // transposed in SRAM into a buffer of its own. Listed first so that loads of V land in V_j.
    if (sim::is_fp8(p.dtype)) set.push_back({Tensor::V, d, bc, "V_j^T (d x B_c, fp8, for P~V)"});
    const std::vector<BufferSpec> rest = {{Tensor::K, bc, d, "K_j (B_c x d)"},
             {Tensor::V, bc, d, "V_j (B_c x d)"},
             {Tensor::Q, br, d, "Q_i (B_r x d)"},
             {Tensor::O, br, d, "O_i (B_r x d)"},
             {Tensor::S, br, bc, "S_ij/P_ij (B_r x B_c)", Tensor::P},
             {Tensor::l, br, 1, "l_i (B_r, fp32)"},
             {Tensor::m, br, 1, "m_i, then L_i (B_r, fp32)", Tensor::L}};
    set.insert(set.end(), rest.begin(), rest.end());
    return {set};
}

void run(RunContext& c) {
    const Problem& p = c.p;
    sim::Hierarchy& h = c.h;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d;
    const std::int64_t B_r = c.t.B_r, B_c = c.t.B_c, T_r = c.t.T_r, T_c = c.t.T_c;
    const bool numerics = c.numerics();
    const bool fp8 = sim::is_fp8(p.dtype);
    const float tau = 1.0F / std::sqrt(static_cast<float>(d));
    const float neg_inf = -std::numeric_limits<float>::infinity();

    // FA2 parallelises over (batch, head, Q block): T_r thread blocks per head.
    h.begin_phase("flash2 forward", T_r);
    const auto buffers = detail::hold(h, working_sets(p, B_r, B_c, h.spec())[0]);

    if (numerics) {
        (*c.hbm)[Tensor::O].resize(N_q, d);
        (*c.hbm)[Tensor::L].resize(N_q, 1);
    }
    Mat Q_i, K_j, V_j, S_ij, O_i;
    Vec m_i, l_i;
    for (std::int64_t i = 0; i < T_r; ++i) {
        const std::int64_t r0 = i * B_r;
        const std::int64_t rows = detail::block_len(i, B_r, N_q);  // ragged last Q block
        const auto ii = static_cast<std::int32_t>(i);
        h.begin_block(i);  // one thread block per Q block
        h.load(Tensor::Q, {r0, 0, rows, d}, ii, -1, "FA2: load Q_i (stays resident)");
        // O_i = 0, l_i = 0, m_i = -inf live in SRAM only: no HBM traffic.
        h.compute(Tensor::m, {r0, 0, rows, 1}, 0, 0, 0, 2 * rows, ii, -1, "FA2: m_i = -inf, l_i = 0 on chip",
                  sim::flags::kInit);
        if (numerics) {
            Q_i = (*c.hbm)[Tensor::Q].middleRows(r0, rows);
            O_i = Mat::Zero(rows, d);
            l_i = Vec::Zero(rows);
            m_i = Vec::Constant(rows, neg_inf);
        }
        for (std::int64_t j = 0; j < T_c; ++j) {
            const std::int64_t c0 = j * B_c;
            const std::int64_t cols = detail::block_len(j, B_c, N_kv);
            const auto jj = static_cast<std::int32_t>(j);
            // A masked-out tile is skipped: no K_j, V_j, no arithmetic (causal: the tiles above the diagonal).
            const TileKind kind = detail::tile_kind(p, r0, rows, c0, cols);
            if (kind == TileKind::empty) continue;
            h.load(Tensor::K, {c0, 0, cols, d}, ii, jj, "FA2: load K_j");
            h.load(Tensor::V, {c0, 0, cols, d}, ii, jj, "FA2: load V_j");
            // fp8: V_j^T for the second GEMM, an SRAM-to-SRAM copy (FlashAttention-3 does it with
            // LDSM.T / STSM in the producer warps). No arithmetic; the numbers are unchanged.
            if (fp8) {
                h.compute(Tensor::V, {c0, 0, cols, d}, 0, 0, cols * d, cols * d, ii, jj,
                          "FA3 fp8: transpose V_j in SRAM (K-major operand of P~V)");
            }
            h.compute(Tensor::S, {r0, c0, rows, cols}, 2 * rows * cols * d, rows * cols, rows * d + cols * d,
                      rows * cols, ii, jj, "FA2: S_ij = tau Q_i K_j^T");
            // A tile the mask cuts through is masked element by element (1 flop per element).
            if (kind == TileKind::partial) {
                h.compute(Tensor::S, {r0, c0, rows, cols}, 0, rows * cols, rows * cols, rows * cols, ii, jj,
                          "FA2: mask S_ij", sim::flags::kMasked);
            }
            // m_new = max(m_i, rowmax S_ij): a max per element and one per row.
            h.compute(Tensor::m, {r0, 0, rows, 1}, 0, rows * cols + rows, rows * cols, rows, ii, jj,
                      "FA2: m_i = max(m_i, rowmax S_ij)");
            // P~_ij = exp(S_ij - m_new): subtract and exp per element.
            h.compute(Tensor::P, {r0, c0, rows, cols}, 0, 2 * rows * cols, rows * cols, rows * cols, ii, jj,
                      "FA2: P~_ij = exp(S_ij - m_i)", 0, rows * cols);
            // l_i = e^(m_old - m_new) l_i + rowsum P~_ij: a sum per element; subtract, exp, multiply,
            // add per row.
            h.compute(Tensor::l, {r0, 0, rows, 1}, 0, rows * cols + 4 * rows, rows * cols, rows, ii, jj,
                      "FA2: l_i = e^(m_old - m_i) l_i + rowsum P~_ij", 0, rows);
            // O_i = diag(e^(m_i - m_new)) O_i + P~_ij V_j: 2 flops per element, no division yet.
            h.compute(Tensor::O, {r0, 0, rows, d}, 2 * rows * cols * d, 2 * rows * d,
                      rows * cols + cols * d + rows * d, rows * d, ii, jj, "FA2: O_i += P~_ij V_j");
            if (numerics) {
                K_j = (*c.hbm)[Tensor::K].middleRows(c0, cols);
                V_j = (*c.hbm)[Tensor::V].middleRows(c0, cols);
                S_ij.noalias() = tau * (Q_i * K_j.transpose());
                if (kind == TileKind::partial) detail::mask_tile(p, r0, c0, S_ij);
                const Vec m_new = m_i.cwiseMax(S_ij.rowwise().maxCoeff());
                const Vec m_use = detail::finite_or_zero(m_new);  // rows with no key yet: exp(-inf) = 0
                S_ij = (S_ij.colwise() - m_use).array().exp();
                const Vec a = (m_i - m_use).array().exp();  // 0 on the first block (m_i = -inf)
                l_i = a.cwiseProduct(l_i) + S_ij.rowwise().sum();
                O_i = O_i.array().colwise() * a.array();
                O_i.noalias() += c.operand(S_ij) * V_j;  // l_i summed P~_ij in fp32; the GEMM takes it converted
                m_i = m_new;
                if (c.o.watch_block == ii) c.probe.push_back({jj, detail::last_step(h), m_i, l_i, O_i, false});
            }
        }
        // Deferred rescale: O_i = diag(l_i)^-1 O_i (1 flop per element), L_i = m_i + log l_i (2 per row).
        h.compute(Tensor::O, {r0, 0, rows, d}, 0, rows * d, rows * d + rows, rows * d, ii, -1,
                  "FA2: O_i /= l_i");
        h.compute(Tensor::L, {r0, 0, rows, 1}, 0, 2 * rows, 2 * rows, rows, ii, -1, "FA2: L_i = m_i + log l_i", 0,
                  rows);
        if (numerics) {
            // A row that saw no key (fully masked) has l_i = 0: its output is 0 and L_i = +inf, so that
            // the backward's exp(S_ij - L_i) is 0 for it.
            const Vec inv = l_i.unaryExpr([](float v) { return v > 0 ? 1.0F / v : 0.0F; });
            (*c.hbm)[Tensor::O].middleRows(r0, rows) = O_i.array().colwise() * inv.array();
            (*c.hbm)[Tensor::L].middleRows(r0, rows) = (m_i.array() + l_i.array().log())
                                                            .unaryExpr([](float v) {
                                                                return std::isnan(v) || (std::isinf(v) && v < 0)
                                                                           ? std::numeric_limits<float>::infinity()
                                                                           : v;
                                                            })
                                                            .matrix();
        }
        c.store(Tensor::O, {r0, 0, rows, d}, ii, -1, "FA2: write O_i");
        c.store(Tensor::L, {r0, 0, rows, 1}, ii, -1, "FA2: write L_i");
    }
    detail::drop(h, buffers);
}

ClosedForm closed_form(const Problem& p, const Tiling& t, const sim::HardwareSpec&, const RunOptions&) {
    ClosedForm f;
    const std::int64_t N_q = p.N_q, d = p.d;
    const std::int64_t br = std::min(t.B_r, N_q), bc = std::min(t.B_c, p.N_kv);
    const std::int64_t e32 = 4;
    // Sums over the tiles that are not masked out (without a mask: every tile, so area = N_q N_kv,
    // rows = T_c N_q, cols = T_r N_kv, the unmasked formulas).
    const MaskStats st = mask_stats(p.mask, N_q, p.N_kv, t.B_r, t.B_c);
    // FA2: Q_i read once, K_j and V_j once per (Q block, live K/V block); O_i and L_i written once.
    f.read(Tensor::Q) = N_q * d;
    f.read(Tensor::K) = st.cols_nonempty * d;
    f.read(Tensor::V) = st.cols_nonempty * d;
    f.write(Tensor::O) = N_q * d;
    f.write(Tensor::L) = N_q;
    f.matmul_flops = 4 * st.area_nonempty * d;
    // Per element of S_ij: tau, max, subtract, exp, sum (5); per row per tile 5; per element of O_i per
    // tile 2 (scale, add); the mask on partial tiles (1 per element); at the end, divide by l_i (1 per
    // element) and L_i = m_i + log l_i (2 per row).
    f.other_flops = 5 * st.area_nonempty + st.rows_nonempty * (5 + 2 * d) + st.area_partial + N_q * d + 2 * N_q;
    // Of those, on the special-function unit: exp per element, e^(m_old - m_new) per row per tile,
    // log l_i per row.
    f.exp_flops = st.area_nonempty + st.rows_nonempty + N_q;
    // K_j, V_j, Q_i in the input format, O_i and S_ij as written; an fp8 problem adds V_j^T.
    const auto eb = detail::element_bytes(p);
    const std::int64_t v_transposed = sim::is_fp8(p.dtype) ? bc * d : 0;
    f.sram_peak_bytes = (2 * bc * d + br * d + v_transposed) * eb.in + (br * d + br * bc) * eb.out + 2 * br * e32;
    return f;
}

// The paper's count: Nd + N (writes) + Nd + 2 T_r Nd (reads), with T_r N_kv the K/V rows the live tiles read.
std::int64_t paper_elements(const Problem& p, const Tiling& t) {
    const MaskStats st = mask_stats(p.mask, p.N_q, p.N_kv, t.B_r, t.B_c);
    return 2 * p.N_q * p.d + p.N_q + 2 * st.cols_nonempty * p.d;
}

std::int64_t numerics_bytes(const Problem& p) {
    return (2 * p.N_q * p.d + 2 * p.N_kv * p.d + p.N_q) * static_cast<std::int64_t>(sizeof(float));
}

std::vector<sim::TensorDecl> tensors(const Problem& p, const Tiling& t) {
    using detail::decl;
    return {decl(Tensor::Q, p.N_q, p.d, t.B_r, p.d, true),
            decl(Tensor::K, p.N_kv, p.d, t.B_c, p.d, true),
            decl(Tensor::V, p.N_kv, p.d, t.B_c, p.d, true),
            decl(Tensor::S, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
            decl(Tensor::P, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
            decl(Tensor::O, p.N_q, p.d, t.B_r, p.d, false),
            decl(Tensor::l, p.N_q, 1, t.B_r, 1, false, false),
            decl(Tensor::m, p.N_q, 1, t.B_r, 1, false, false),
            decl(Tensor::L, p.N_q, 1, t.B_r, 1, false)};
}

}  // namespace

const AlgorithmDef& flash2_forward() {
    static const AlgorithmDef def{
        .key = "flash2",
        .pass = Pass::forward,
        .name = "FlashAttention-2 loop order",
        .description = "Q blocks outer and resident, K/V blocks inner, deferred rescale; writes O and L once",
        .paper = "Dao 2023, Algorithm 1",
        .baseline = false,
        .rule = {rule, true, "FA2's kernel tiles",
                 "B_r x B_c = 128 x 128 (d <= 64), 128 x 64 (d <= 128), 64 x 64 (d <= 256), 64 x 32"},
        .working_sets = working_sets,
        .run = run,
        .closed_form = closed_form,
        .paper_elements = paper_elements,
        .theta = {"Theta(N^2 d^2 / M)", detail::theta_flash, "Theta(Nd + N^2 d^2 s / M), s the fraction of tiles kept (Prop. 4)"},
        .numerics_bytes = numerics_bytes,
        .tensors = tensors,
        .outputs = {Tensor::O, Tensor::L},
        .softmax = OnlineSoftmax::deferred,
        .schedules = detail::every_schedule(),
    };
    return def;
}

}  // namespace tilesim::kernels::algorithms
