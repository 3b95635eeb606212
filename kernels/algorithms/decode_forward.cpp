// FlashAttention decoding: FlashAttention-2's forward kernel (Dao 2023, Algorithm 1) run on a KV cache,
// one thread block per (batch, KV head, Q block) streaming the whole cache. Notation: N_q, N_kv, d,
// B_r, B_c, T_r, T_c, Q_i, K_j, V_j, S_ij, P~_ij, m_i, l_i, L_i = m_i + log l_i; g = H / H_kv; P the
// page size, n_p = ceil(N_kv / P) pages.
//
// Decoding generates one token at a time: N_q = 1 query (a few for speculative decoding) against a
// cache of N_kv keys and values. FA2's loop order is the right one (Q_i and O_i stay resident, K/V
// stream past once), but it parallelises over Q blocks only, and a decode step has one Q block per
// head: B x H thread blocks for the whole GPU. So the kernel is memory-bound (every byte of K and V is
// used for 2 x 2 N_q flops) and, on a large GPU, starved of thread blocks (see flash_decoding_forward
// for the fix).
//
// Grouped-query attention: the g query heads of a KV group read the same K and V. This definition
// packs them into one Q tile (FlashAttention-3's pack_gqa): a unit of work is one (batch, KV head) with
// g N_q query rows, so each K/V head is read once per group instead of once per query head
// (AlgorithmDef::packs_gqa, kernels::unit_problem).
//
// Paged KV cache (PagedAttention): with page_size > 0 every K_j, V_j is gathered page by page through
// the page table (kernels/decode_stream.h): the same elements, more moves, and one int32 page-table
// read per page per thread block.
#include "kernels/decode_stream.h"

namespace tilesim::kernels::algorithms {

using sim::Tensor;

namespace {

WorkingSets working_sets(const Problem& p, std::int64_t B_r, std::int64_t B_c, const sim::HardwareSpec&) {
    return {decode::stream_buffers(p, B_r, B_c, Tensor::O, Tensor::L)};
}

void run(RunContext& c) {
    sim::Hierarchy& h = c.h;
    const std::int64_t N_q = c.p.N_q, d = c.p.d, T_r = c.t.T_r, T_c = c.t.T_c;
    // One thread block per Q block of the unit: T_r (= 1 for a decode step of one token per head).
    h.begin_phase("decode", T_r);
    const auto buffers = detail::hold(h, working_sets(c.p, c.t.B_r, c.t.B_c, h.spec())[0]);
    if (c.numerics()) {
        (*c.hbm)[Tensor::O].resize(N_q, d);
        (*c.hbm)[Tensor::L].resize(N_q, 1);
    }
    decode::RowBlock rb(c, Tensor::O, Tensor::L, true);
    for (std::int64_t i = 0; i < T_r; ++i) {
        h.begin_block(i);
        rb.begin(i, 0);
        for (std::int64_t j = 0; j < T_c; ++j) rb.fold(j);  // the whole cache, K/V block by K/V block
        rb.finish();
        const std::int64_t r0 = rb.r0(), rows = rb.rows();
        const auto ii = static_cast<std::int32_t>(i);
        if (c.numerics()) {
            (*c.hbm)[Tensor::O].middleRows(r0, rows) = rb.O();
            (*c.hbm)[Tensor::L].middleRows(r0, rows) = rb.L();
        }
        c.store(Tensor::O, {r0, 0, rows, d}, ii, -1, "decode: write O_i");
        c.store(Tensor::L, {r0, 0, rows, 1}, ii, -1, "decode: write L_i");
    }
    detail::drop(h, buffers);
}

ClosedForm closed_form(const Problem& p, const Tiling& t, const sim::HardwareSpec&, const RunOptions&) {
    ClosedForm f;
    // Per unit: N_q query rows (g N_q of the scenario's with pack_gqa) against one K/V head.
    const std::int64_t N_q = p.N_q, N_kv = p.N_kv, d = p.d, T_r = t.T_r, T_c = t.T_c;
    const std::int64_t br = std::min(t.B_r, N_q), bc = std::min(t.B_c, N_kv);
    const std::int64_t e32 = 4;
    const auto eb = detail::element_bytes(p);  // K_j, V_j, Q_i in the input format; O_i, S_ij as written
    const PageGeometry g = page_geometry(p);
    // FA2's order: Q_i read once, K and V streamed once per Q block, O_i and L_i written once.
    f.read(Tensor::Q) = N_q * d;
    f.read(Tensor::K) = T_r * N_kv * d;
    f.read(Tensor::V) = T_r * N_kv * d;
    f.write(Tensor::O) = N_q * d;
    f.write(Tensor::L) = N_q;
    // Paged: every thread block (one per Q block) touches every page once; one int32 entry each.
    f.read(Tensor::PT) = g.paged() ? T_r * g.pages : 0;
    f.matmul_flops = 4 * N_q * N_kv * d;
    // Per element of S: tau, max, subtract, exp, sum (5); per row per K/V block 5 (max, and the
    // rescale of l_i), per element of O_i per K/V block 2; the epilogue N_q d + 2 N_q.
    f.other_flops = 5 * N_q * N_kv + T_c * (5 * N_q + 2 * N_q * d) + N_q * d + 2 * N_q;
    f.exp_flops = N_q * N_kv + T_c * N_q + N_q;
    f.sram_peak_bytes = (2 * bc * d + br * d) * eb.in + (br * d + br * bc) * eb.out + 2 * br * e32 +
                        (g.paged() ? max_pages_per_block(g, bc) * e32 : 0);
    return f;
}

// FA2's count (Nd + N writes, Nd + 2 T_r Nd reads) with N_q query rows against N_kv keys.
std::int64_t paper_elements(const Problem& p, const Tiling& t) {
    return 2 * p.N_q * p.d + p.N_q + 2 * t.T_r * p.N_kv * p.d;
}

std::int64_t numerics_bytes(const Problem& p) {
    return decode::cache_numerics_floats(p) * static_cast<std::int64_t>(sizeof(float));
}

std::vector<sim::TensorDecl> tensors(const Problem& p, const Tiling& t) {
    using detail::decl;
    const PageGeometry g = page_geometry(p);
    // Paged: K and V are the pool of the sequence's pages, drawn on the page grid (the physical
    // order, fragmentation included, is visible in the tiles' addresses).
    const std::int64_t kv_rows = g.pool_rows(p.N_kv), kv_block = g.paged() ? g.page_size : t.B_c;
    std::vector<sim::TensorDecl> out = {decl(Tensor::Q, p.N_q, p.d, t.B_r, p.d, true),
                                        decl(Tensor::K, kv_rows, p.d, kv_block, p.d, true),
                                        decl(Tensor::V, kv_rows, p.d, kv_block, p.d, true),
                                        decl(Tensor::S, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
                                        decl(Tensor::P, p.N_q, p.N_kv, t.B_r, t.B_c, false, false),
                                        decl(Tensor::O, p.N_q, p.d, t.B_r, p.d, false),
                                        decl(Tensor::l, p.N_q, 1, t.B_r, 1, false, false),
                                        decl(Tensor::m, p.N_q, 1, t.B_r, 1, false, false),
                                        decl(Tensor::L, p.N_q, 1, t.B_r, 1, false)};
    if (g.paged()) out.insert(out.begin() + 1, decl(Tensor::PT, g.pages, 1, 1, 1, true));
    return out;
}

}  // namespace

const AlgorithmDef& decode_forward() {
    static const AlgorithmDef def{
        .key = "decode",
        .pass = Pass::forward,
        .name = "FlashAttention decode (packed GQA)",
        .description =
            "FA2's kernel on a KV cache: a thread block per (batch, KV head) streams the whole "
            "cache; a KV group's query heads share its Q tile, pages gathered through the table",
        .paper = "Dao 2023 (FA2's decode path); Shah et al. 2024 (FA3 pack_gqa); Kwon et al. 2023 (paging)",
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
        .softmax = OnlineSoftmax::deferred,
        .packs_gqa = true,
        .paged_kv = true,
        .splits_kv = false,
        .masks = false,  // one query against the whole cache; a mask is refused, not ignored
        .finish_tiling = nullptr,
    };
    return def;
}

}  // namespace tilesim::kernels::algorithms
