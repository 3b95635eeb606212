// Flash-Decoding (split-KV; Dao, Haziza, Massa, Sizov 2023, as FlashAttention-2's split-KV kernel and
// its combine kernel run it). Notation: N_q, N_kv, d, B_r, B_c, T_r, T_c, Q_i, K_j, V_j, S_ij, P~_ij,
// m_i, l_i, L_i; S splits; P the page size, n_p = ceil(N_kv / P) pages.
//
// A decode step has one Q block per (batch, head): B x H thread blocks, too few to fill a GPU. So the
// K/V sequence of each head is cut into S splits that run side by side:
//   1. split-KV: T_r x S thread blocks per head. Split s takes n = ceil(T_c / S) consecutive K/V blocks
//      (FA2's n_blocks_per_split), runs FA2's loop over them from its own Q_i, and writes its partial
//      output Oacc_s,i = O_i / l_i and its log-sum-exp Lacc_s,i = m_i + log l_i, both in fp32. A split
//      that ceil(T_c / S) leaves without blocks (T_c = 10, S = 7: n = 2, splits 5 and 6 empty) writes 0
//      and -inf without loading Q_i, as FA2 does.
//   2. combine: T_r thread blocks per head read every split's Lacc_s,i, take L_i = log sum_s
//      exp(Lacc_s,i) (a log-sum-exp: max first), then O_i = sum_s exp(Lacc_s,i - L_i) Oacc_s,i, and
//      write O_i and L_i. The merge is exact: each split's softmax is over its own keys, and the
//      weights exp(Lacc_s - L) put them back on the common denominator.
// With S = 1 there is nothing to combine: the kernel writes O and L directly (FA2 then skips the
// combine and the scratch), and the counts are decode's for one query head.
// S = kv_splits, or FA2's occupancy heuristic (kernels/split_heuristic.h) when it is 0.
//
// Grouped-query attention is not packed here (FA2 counts B x H tiles): each query head streams its KV
// head's cache. The L2 serves the group's other heads when they run together (the DRAM estimate).
#include <cmath>
#include <limits>
#include <sstream>

#include "kernels/decode_stream.h"
#include "kernels/split_heuristic.h"

namespace tilesim::kernels::algorithms {

using sim::Tensor;

namespace {

constexpr int kMaxSplits = 128;  // FA2's split kernel supports up to 128 (flash_api.cpp)

// The split count for blocks B_r x B_c: kv_splits, or FA2's heuristic over B x H x T_r tiles against 2
// thread blocks per SM (FA2 counts ceil(N_q / 64) m-blocks; the model's T_r is ceil(N_q / B_r) with
// B_r = 64 unless the SRAM shrank it) and T_c K/V blocks.
struct SplitInputs {
    std::int64_t T_r, T_c, tiles, slots, S;
};
SplitInputs split_count(const Problem& p, std::int64_t B_r, std::int64_t B_c, const sim::HardwareSpec& hw) {
    SplitInputs x{};
    x.T_r = ceil_div(p.N_q, std::max<std::int64_t>(1, B_r));
    x.T_c = ceil_div(p.N_kv, std::max<std::int64_t>(1, B_c));
    x.tiles = p.batch * p.heads * x.T_r;
    x.slots = 2 * std::max<std::int64_t>(1, hw.sm_count);
    x.S = p.kv_splits > 0 ? p.kv_splits : num_splits_heuristic(x.tiles, x.slots, x.T_c, kMaxSplits);
    return x;
}

// Why that count, in words, for the report's notes.
std::string split_reason(const Problem& p, const SplitInputs& x) {
    std::ostringstream why;
    if (p.kv_splits > 0) {
        why << "kv_splits = " << p.kv_splits << " (set)";
        return why.str();
    }
    why << "FA2's heuristic: " << x.tiles << " tiles (B x H x T_r = " << p.batch << " x " << p.heads << " x "
        << x.T_r << ")";
    if (static_cast<double>(x.tiles) >= 0.8 * static_cast<double>(x.slots)) {
        why << " >= 0.8 x " << x.slots << " thread-block slots (2 per SM x " << x.slots / 2
            << " SMs): the machine is full without splitting";
    } else if (x.S == 1) {
        why << " < 0.8 x " << x.slots << " thread-block slots, but T_c = " << x.T_c
            << " K/V block(s) leave nothing worth splitting";
    } else {
        const double waves = static_cast<double>(x.tiles * x.S) / static_cast<double>(x.slots);
        why.setf(std::ios::fixed);
        why.precision(2);
        why << " < 0.8 x " << x.slots << " thread-block slots (2 per SM x " << x.slots / 2 << " SMs): " << x.S
            << " splits make " << x.tiles * x.S << " thread blocks, wave efficiency "
            << waves / std::ceil(waves) << ", the smallest split count within 85% of the best";
    }
    return why.str();
}

void finish_tiling(const Problem& p, const sim::HardwareSpec& hw, Tiling& t) {
    const SplitInputs x = split_count(p, t.B_r, t.B_c, hw);
    const std::int64_t S = x.S;
    t.splits = S;
    const std::int64_t n = ceil_div(t.T_c, S), used = ceil_div(t.T_c, n);
    std::ostringstream note;
    note << S << " split(s) of n = ceil(T_c / S) = ceil(" << t.T_c << " / " << S << ") = " << n
         << " K/V block(s)";
    if (used < S) note << ", the last " << S - used << " empty (they write 0 and -inf)";
    note << "; " << split_reason(p, x);
    t.splits_note = note.str();
}

// The combine's buffers: the fp32 accumulator (O_i in place at the end), one split's Oacc tile, all
// splits' Lacc for the Q block, and L_i.
std::vector<BufferSpec> combine_buffers(const Problem& p, std::int64_t B_r, std::int64_t S) {
    const std::int64_t br = std::min(B_r, p.N_q);
    return {{Tensor::Oacc, br, p.d, "O_i accumulator (B_r x d, fp32)", Tensor::O},
            {Tensor::Oacc, br, p.d, "Oacc_s,i (B_r x d, fp32)"},
            {Tensor::Lacc, br, S, "Lacc_i (B_r x S, fp32)"},
            {Tensor::L, br, 1, "L_i (B_r, fp32)"}};
}

WorkingSets working_sets(const Problem& p, std::int64_t B_r, std::int64_t B_c, const sim::HardwareSpec& hw) {
    const std::int64_t S = split_count(p, B_r, B_c, hw).S;
    if (S == 1) return {decode::stream_buffers(p, B_r, B_c, Tensor::O, Tensor::L)};
    return {decode::stream_buffers(p, B_r, B_c, Tensor::Oacc, Tensor::Lacc), combine_buffers(p, B_r, S)};
}

// S = 1: one pass that writes O and L directly, as FA2 does without splits.
void run_unsplit(RunContext& c) {
    sim::Hierarchy& h = c.h;
    const std::int64_t d = c.p.d;
    h.begin_phase("flash-decoding: 1 split (O written directly, no combine)", c.t.T_r);
    const auto buffers = detail::hold(h, working_sets(c.p, c.t.B_r, c.t.B_c, h.spec())[0]);
    if (c.numerics()) {
        (*c.hbm)[Tensor::O].resize(c.p.N_q, d);
        (*c.hbm)[Tensor::L].resize(c.p.N_q, 1);
    }
    decode::RowBlock rb(c, Tensor::O, Tensor::L, false);
    for (std::int64_t i = 0; i < c.t.T_r; ++i) {
        h.begin_block(i);
        rb.begin(i, 0);
        for (std::int64_t j = 0; j < c.t.T_c; ++j) rb.fold(j);
        rb.finish();
        const auto ii = static_cast<std::int32_t>(i);
        if (c.numerics()) {
            (*c.hbm)[Tensor::O].middleRows(rb.r0(), rb.rows()) = rb.O();
            (*c.hbm)[Tensor::L].middleRows(rb.r0(), rb.rows()) = rb.L();
        }
        c.store(Tensor::O, {rb.r0(), 0, rb.rows(), d}, ii, -1, "decode: write O_i");
        c.store(Tensor::L, {rb.r0(), 0, rb.rows(), 1}, ii, -1, "decode: write L_i");
    }
    detail::drop(h, buffers);
}

// Phase 1: split s of Q block i streams K/V blocks [s n, min((s + 1) n, T_c)).
void run_splits(RunContext& c, const std::vector<BufferSpec>& set) {
    sim::Hierarchy& h = c.h;
    const std::int64_t d = c.p.d, S = c.t.splits, T_c = c.t.T_c, B_r = c.t.B_r, N_q = c.p.N_q;
    const std::int64_t n = ceil_div(T_c, S);  // FA2's n_blocks_per_split
    h.begin_phase("flash-decoding: split-KV", c.t.T_r * S);
    const auto buffers = detail::hold(h, set);
    HbmState* hbm = c.hbm;
    if (hbm != nullptr) {
        (*hbm)[Tensor::Oacc].resize(N_q, S * d);
        (*hbm)[Tensor::Lacc].resize(N_q, S);
    }
    decode::RowBlock rb(c, Tensor::Oacc, Tensor::Lacc, false);
    for (std::int64_t i = 0; i < c.t.T_r; ++i) {
        const std::int64_t r0 = i * B_r, rows = detail::block_len(i, B_r, N_q);
        const auto ii = static_cast<std::int32_t>(i);
        for (std::int64_t s = 0; s < S; ++s) {
            h.begin_block(i * S + s);  // thread block (i, s)
            const std::int64_t j0 = s * n, j1 = std::min(T_c, j0 + n);
            if (j0 >= j1) {
                // An empty split exits before loading Q_i: partial output 0, log-sum-exp -inf (its
                // weight exp(-inf - L_i) in the combine is 0).
                h.compute(Tensor::Oacc, {r0, s * d, rows, d}, 0, 0, 0, rows * d + rows, ii, -1,
                          "flash-decoding: empty split: Oacc = 0, Lacc = -inf", sim::flags::kInit);
                if (hbm != nullptr) {
                    (*hbm)[Tensor::Oacc].block(r0, s * d, rows, d).setZero();
                    (*hbm)[Tensor::Lacc]
                        .block(r0, s, rows, 1)
                        .setConstant(-std::numeric_limits<float>::infinity());
                }
            } else {
                rb.begin(i, j0 * c.t.B_c);
                for (std::int64_t j = j0; j < j1; ++j) rb.fold(j);
                rb.finish(s * d, s);  // Oacc_s,i = O_i / l_i, Lacc_s,i = m_i + log l_i
                if (hbm != nullptr) {
                    (*hbm)[Tensor::Oacc].block(r0, s * d, rows, d) = rb.O();
                    (*hbm)[Tensor::Lacc].block(r0, s, rows, 1) = rb.L();
                }
            }
            c.store(Tensor::Oacc, {r0, s * d, rows, d}, ii, -1, "flash-decoding: write Oacc_s,i (fp32)");
            c.store(Tensor::Lacc, {r0, s, rows, 1}, ii, -1, "flash-decoding: write Lacc_s,i (fp32)");
        }
    }
    detail::drop(h, buffers);
}

// Phase 2, the combine: O_i = sum_s exp(Lacc_s,i - L_i) Oacc_s,i with L_i = log sum_s exp(Lacc_s,i).
void run_combine(RunContext& c, const std::vector<BufferSpec>& set) {
    sim::Hierarchy& h = c.h;
    const std::int64_t d = c.p.d, S = c.t.splits, B_r = c.t.B_r, N_q = c.p.N_q;
    h.begin_phase("flash-decoding: combine", c.t.T_r);
    const auto buffers = detail::hold(h, set);
    HbmState* hbm = c.hbm;
    if (hbm != nullptr) {
        (*hbm)[Tensor::O].resize(N_q, d);
        (*hbm)[Tensor::L].resize(N_q, 1);
    }
    Mat acc;
    Vec L_i;
    for (std::int64_t i = 0; i < c.t.T_r; ++i) {
        const std::int64_t r0 = i * B_r, rows = detail::block_len(i, B_r, N_q);
        const auto ii = static_cast<std::int32_t>(i);
        h.begin_block(i);
        h.load(Tensor::Lacc, {r0, 0, rows, S}, ii, -1, "combine: load Lacc_i (every split)");
        // Per row: the max over S (S), exp(Lacc_s - max) (2S, S of them exps), the sum (S), log and
        // add the max back (2, one log).
        h.compute(Tensor::L, {r0, 0, rows, 1}, 0, rows * (4 * S + 2), rows * S, rows, ii, -1,
                  "combine: L_i = log sum_s exp(Lacc_s,i)", 0, rows * (S + 1));
        if (hbm != nullptr) {
            const Mat lse = (*hbm)[Tensor::Lacc].middleRows(r0, rows);
            const Vec mx = lse.rowwise().maxCoeff();  // finite: every Q block has a non-empty split
            L_i = mx.array() + (lse.colwise() - mx).array().exp().rowwise().sum().log();
            acc = Mat::Zero(rows, d);
        }
        for (std::int64_t s = 0; s < S; ++s) {
            h.load(Tensor::Oacc, {r0, s * d, rows, d}, ii, -1, "combine: load Oacc_s,i");
            // Weight exp(Lacc_s,i - L_i) per row (subtract, exp), then a multiply-add per element.
            h.compute(Tensor::O, {r0, 0, rows, d}, 0, 2 * rows + 2 * rows * d, rows * d + rows + rows * d,
                      rows * d, ii, -1, "combine: O_i += exp(Lacc_s,i - L_i) Oacc_s,i", 0, rows);
            if (hbm != nullptr) {
                const Vec w = ((*hbm)[Tensor::Lacc].block(r0, s, rows, 1) - L_i).array().exp();
                acc.noalias() += (w.asDiagonal() * (*hbm)[Tensor::Oacc].block(r0, s * d, rows, d)).eval();
            }
        }
        if (hbm != nullptr) {
            (*hbm)[Tensor::O].middleRows(r0, rows) = acc;
            (*hbm)[Tensor::L].middleRows(r0, rows) = L_i;
        }
        c.store(Tensor::O, {r0, 0, rows, d}, ii, -1, "combine: write O_i");
        c.store(Tensor::L, {r0, 0, rows, 1}, ii, -1, "combine: write L_i");
    }
    detail::drop(h, buffers);
}

void run(RunContext& c) {
    if (c.t.splits == 1) {
        run_unsplit(c);
        return;
    }
    const WorkingSets sets = working_sets(c.p, c.t.B_r, c.t.B_c, c.h.spec());
    run_splits(c, sets[0]);
    run_combine(c, sets[1]);
}

// Page-table entries one Q block's splits read: every page once (n_p), plus one for every boundary
// between two non-empty splits that falls inside a page (both neighbours look that page up). The
// sum over splits of pages_touched(b_s, e_s) telescopes to this (docs/io-derivations.md).
std::int64_t table_reads_per_q_block(const PageGeometry& g, std::int64_t B_c, std::int64_t T_c,
                                     std::int64_t S) {
    const std::int64_t n = ceil_div(T_c, S), used = ceil_div(T_c, n);
    std::int64_t inside = 0;
    for (std::int64_t s = 1; s < used; ++s) inside += (s * n * B_c) % g.page_size != 0 ? 1 : 0;
    return g.pages + inside;
}

ClosedForm closed_form(const Problem& p, const Tiling& t, const sim::HardwareSpec&, const RunOptions&) {
    ClosedForm f;
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d, T_r = t.T_r, T_c = t.T_c, S = t.splits;
    const std::int64_t br = std::min(t.B_r, N_q), bc = std::min(t.B_c, N_kv);
    const std::int64_t e32 = 4;
    const auto eb = detail::element_bytes(p);  // K_j, V_j, Q_i in the input format; O_i, S_ij as written
    const PageGeometry g = page_geometry(p);
    const std::int64_t used = ceil_div(T_c, ceil_div(T_c, S));  // S' non-empty splits
    // Every K/V block is read by exactly one split of each Q block; each non-empty split loads its Q_i.
    f.read(Tensor::Q) = used * N_q * d;
    f.read(Tensor::K) = T_r * N_kv * d;
    f.read(Tensor::V) = T_r * N_kv * d;
    f.read(Tensor::PT) = g.paged() ? T_r * table_reads_per_q_block(g, bc, T_c, S) : 0;
    f.matmul_flops = 4 * N_q * N_kv * d;
    // FA2's per-element and per-block work over all (i, j) tiles, and an epilogue per non-empty split.
    f.other_flops = 5 * N_q * N_kv + T_c * (5 * N_q + 2 * N_q * d) + used * (N_q * d + 2 * N_q);
    f.exp_flops = N_q * N_kv + T_c * N_q + used * N_q;
    const std::int64_t stream = (2 * bc * d + br * d) * eb.in + (br * d + br * bc) * eb.out + 2 * br * e32 +
                                (g.paged() ? max_pages_per_block(g, bc) * e32 : 0);
    if (S == 1) {
        f.write(Tensor::O) = N_q * d;
        f.write(Tensor::L) = N_q;
        f.sram_peak_bytes = stream;
        return f;
    }
    // Scratch: every split (empty ones too) writes its fp32 partials; the combine reads them all.
    f.write(Tensor::Oacc) = S * N_q * d;
    f.write(Tensor::Lacc) = S * N_q;
    f.read(Tensor::Oacc) = S * N_q * d;
    f.read(Tensor::Lacc) = S * N_q;
    f.write(Tensor::O) = N_q * d;
    f.write(Tensor::L) = N_q;
    // Combine per row: L_i in 4S + 2 (S + 1 exp/log), per split a weight (2, one exp) and a
    // multiply-add per element (2d).
    f.other_flops += N_q * (4 * S + 2) + S * (2 * N_q + 2 * N_q * d);
    f.exp_flops += N_q * (S + 1) + S * N_q;
    f.sram_peak_bytes = std::max(stream, (br * S + br) * e32 + 2 * br * d * e32);
    return f;
}

// The facts file's per-call traffic: the split kernel reads Q and the cache, writes S partials of
// d + 1 fp32 values per row; the combine reads them and writes O and L.
std::int64_t paper_elements(const Problem& p, const Tiling& t) {
    const std::int64_t scratch = t.splits > 1 ? 2 * t.splits * p.N_q * (p.d + 1) : 0;
    return p.N_q * p.d + 2 * p.N_kv * p.d + scratch + p.N_q * p.d + p.N_q;
}

std::int64_t numerics_bytes(const Problem& p) {
    // The cache's floats (decode_stream.h), plus the scratch. The scratch is S N_q (d + 1) floats. S is at
    // most kv_splits, or 128; and the heuristic splits only when B x H x T_r is below 0.8 x 2 x SMs (< 512
    // tiles on any preset), so N_q <= 512 x 64.
    const std::int64_t S = p.kv_splits > 0 ? p.kv_splits : std::min<std::int64_t>(kMaxSplits, p.N_kv);
    const std::int64_t split_rows = p.kv_splits > 0 ? p.N_q : std::min<std::int64_t>(p.N_q, 512 * 64);
    return (decode::cache_numerics_floats(p) + S * split_rows * (p.d + 1)) *
           static_cast<std::int64_t>(sizeof(float));
}

std::vector<sim::TensorDecl> tensors(const Problem& p, const Tiling& t) {
    using detail::decl;
    const PageGeometry g = page_geometry(p);
    const std::int64_t kv_rows = g.pool_rows(p.N_kv), kv_block = g.paged() ? g.page_size : t.B_c;
    std::vector<sim::TensorDecl> out = {decl(Tensor::Q, p.N_q, p.d, t.B_r, p.d, true),
                                        decl(Tensor::K, kv_rows, p.d, kv_block, p.d, true),
                                        decl(Tensor::V, kv_rows, p.d, kv_block, p.d, true),
                                        decl(Tensor::S, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
                                        decl(Tensor::P, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
                                        decl(Tensor::l, p.N_q, 1, t.B_r, 1, false, false),
                                        decl(Tensor::m, p.N_q, 1, t.B_r, 1, false, false)};
    if (g.paged()) out.insert(out.begin() + 1, decl(Tensor::PT, g.pages, 1, 1, 1, true));
    if (t.splits > 1) {
        // Split s's partials sit side by side: row i of Oacc holds the S partial outputs of query i.
        out.push_back(decl(Tensor::Oacc, p.N_q, t.splits * p.d, t.B_r, p.d, false));
        out.push_back(decl(Tensor::Lacc, p.N_q, t.splits, t.B_r, 1, false));
    }
    out.push_back(decl(Tensor::O, p.N_q, p.d, t.B_r, p.d, false));
    out.push_back(decl(Tensor::L, p.N_q, 1, t.B_r, 1, false));
    return out;
}

}  // namespace

const AlgorithmDef& flash_decoding_forward() {
    static const AlgorithmDef def{
        .key = "flash-decoding",
        .pass = Pass::forward,
        .name = "Flash-Decoding (split-KV + combine)",
        .description =
            "the KV sequence cut in S splits that run in parallel, each writing a partial O and "
            "its log-sum-exp (fp32); a combine pass merges them; S by FA2's occupancy heuristic",
        .paper = "Dao, Haziza, Massa, Sizov 2023 (Flash-Decoding); FA2's split-KV and combine kernels",
        .baseline = false,
        .rule = {decode::split_kv_rule, true, "FA2's split-KV tiles", decode::kSplitKvRuleText},
        .working_sets = working_sets,
        .run = run,
        .closed_form = closed_form,
        .paper_elements = paper_elements,
        .theta = {"Theta(N_kv d) for a fixed N_q", decode::theta_decode},
        .numerics_bytes = numerics_bytes,
        .tensors = tensors,
        .outputs = {Tensor::O, Tensor::L},
        .softmax = OnlineSoftmax::none,
        .packs_gqa = false,
        .paged_kv = true,
        .splits_kv = true,
        .masks = false,  // one query against the whole cache; a mask is refused, not ignored
        .finish_tiling = finish_tiling,
    };
    return def;
}

}  // namespace tilesim::kernels::algorithms
