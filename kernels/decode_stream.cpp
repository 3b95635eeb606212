#include "kernels/decode_stream.h"

#include <cmath>
#include <limits>

namespace tilesim::kernels::decode {

using sim::Tensor;

TilingRule::Blocks split_kv_rule(const Problem& p, std::int64_t /*M*/) {
    const std::int64_t block_n = p.d <= 64 ? 256 : (p.d <= 128 ? 128 : 64);
    return {64, block_n};
}

double theta_decode(double N, double d, double /*M*/) {
    return N * d;
}

std::int64_t cache_numerics_floats(const Problem& p) {
    const PageGeometry g = page_geometry(p);
    const std::int64_t pool = g.pool_rows(p.N_kv);
    return 2 * p.N_q * p.d + p.N_q + 2 * (p.N_kv + (g.paged() ? pool : 0)) * p.d + g.pages;
}

std::vector<BufferSpec> stream_buffers(const Problem& p, std::int64_t B_r, std::int64_t B_c, Tensor out,
                                       Tensor lse) {
    const std::int64_t br = std::min(B_r, p.N_q), bc = std::min(B_c, p.N_kv), d = p.d;
    auto in_place = [](Tensor own, Tensor t) {
        return t == own ? std::optional<Tensor>{} : std::optional<Tensor>(t);
    };
    std::vector<BufferSpec> set = {{Tensor::K, bc, d, "K_j (B_c x d)"},
                                   {Tensor::V, bc, d, "V_j (B_c x d)"},
                                   {Tensor::Q, br, d, "Q_i (B_r x d)"},
                                   {Tensor::O, br, d, "O_i (B_r x d)", in_place(Tensor::O, out)},
                                   {Tensor::S, br, bc, "S_ij/P_ij (B_r x B_c)", Tensor::P},
                                   {Tensor::l, br, 1, "l_i (B_r, fp32)"},
                                   {Tensor::m, br, 1, "m_i, then its log-sum-exp (B_r, fp32)", lse}};
    const PageGeometry g = page_geometry(p);
    if (g.paged())
        set.push_back({Tensor::PT, max_pages_per_block(g, bc), 1, "page-table entries of K_j, V_j (int32)"});
    return set;
}

RowBlock::RowBlock(RunContext& c, Tensor out, Tensor lse, bool probe)
    : c_(c),
      out_(out),
      lse_(lse),
      probe_(probe),
      g_(page_geometry(c.p)),
      table_(g_.paged() && !c.numerics() ? page_table(c.p) : std::vector<std::int64_t>{}),
      tau_(1.0F / std::sqrt(static_cast<float>(c.p.d))) {}

std::int64_t RowBlock::physical_page(std::int64_t k) const {
    if (c_.numerics()) return static_cast<std::int64_t>((*c_.hbm)[Tensor::PT](k, 0));
    return table_[static_cast<std::size_t>(k)];
}

void RowBlock::begin(std::int64_t i, std::int64_t first_token) {
    sim::Hierarchy& h = c_.h;
    const std::int64_t d = c_.p.d;
    i_ = i;
    r0_ = i * c_.t.B_r;
    rows_ = detail::block_len(i, c_.t.B_r, c_.p.N_q);  // ragged last Q block
    next_page_ = g_.paged() ? first_token / g_.page_size : 0;
    const auto ii = static_cast<std::int32_t>(i);
    h.load(Tensor::Q, {r0_, 0, rows_, d}, ii, -1, "decode: load Q_i (stays resident)");
    // O_i = 0, l_i = 0, m_i = -inf live in SRAM only: no HBM traffic.
    h.compute(Tensor::m, {r0_, 0, rows_, 1}, 0, 0, 0, 2 * rows_, ii, -1,
              "decode: m_i = -inf, l_i = 0 on chip", sim::flags::kInit);
    if (c_.numerics()) {
        Q_i_ = (*c_.hbm)[Tensor::Q].middleRows(r0_, rows_);
        O_i_ = Mat::Zero(rows_, d);
        l_i_ = Vec::Zero(rows_);
        m_i_ = Vec::Constant(rows_, -std::numeric_limits<float>::infinity());
    }
}

void RowBlock::load_kv(std::int64_t j, std::int64_t c0, std::int64_t cols) {
    sim::Hierarchy& h = c_.h;
    const std::int64_t d = c_.p.d;
    const auto ii = static_cast<std::int32_t>(i_), jj = static_cast<std::int32_t>(j);
    const bool numerics = c_.numerics();
    if (!g_.paged()) {
        h.load(Tensor::K, {c0, 0, cols, d}, ii, jj, "decode: load K_j");
        h.load(Tensor::V, {c0, 0, cols, d}, ii, jj, "decode: load V_j");
        if (numerics) {
            K_j_ = (*c_.hbm)[Tensor::K].middleRows(c0, cols);
            V_j_ = (*c_.hbm)[Tensor::V].middleRows(c0, cols);
        }
        return;
    }
    // PagedAttention: the addresses first. The entries of the pages K_j touches that this thread
    // block has not read yet (a page that spans two K/V blocks is looked up once), one int32 each.
    const std::int64_t P = g_.page_size, last = (c0 + cols - 1) / P;
    if (last >= next_page_) {
        h.load(Tensor::PT, {next_page_, 0, last - next_page_ + 1, 1}, -1, jj,
               "PagedAttention: read the page-table entries of K_j, V_j");
        next_page_ = last + 1;
    }
    if (numerics) {
        K_j_.resize(cols, d);
        V_j_.resize(cols, d);
    }
    // Then the gather: one move per page run of K_j, and of V_j (the same pages).
    for (Tensor t : {Tensor::K, Tensor::V}) {
        for (std::int64_t tok = c0; tok < c0 + cols;) {
            const std::int64_t k = tok / P;
            const std::int64_t len = std::min(c0 + cols, (k + 1) * P) - tok;
            const std::int64_t phys = physical_page(k) * P + (tok - k * P);
            h.load(t, {phys, 0, len, d}, ii, jj,
                   t == Tensor::K ? "PagedAttention: gather K_j, one page"
                                  : "PagedAttention: gather V_j, one page");
            if (numerics)
                (t == Tensor::K ? K_j_ : V_j_).middleRows(tok - c0, len) = (*c_.hbm)[t].middleRows(phys, len);
            tok += len;
        }
    }
}

void RowBlock::fold(std::int64_t j) {
    sim::Hierarchy& h = c_.h;
    const std::int64_t d = c_.p.d, rows = rows_, r0 = r0_;
    const std::int64_t c0 = j * c_.t.B_c, cols = detail::block_len(j, c_.t.B_c, c_.p.N_kv);
    const auto ii = static_cast<std::int32_t>(i_), jj = static_cast<std::int32_t>(j);
    load_kv(j, c0, cols);
    // FA2's inner step, as kernels/algorithms/flash2_forward.cpp counts it (Algorithm 1, lines 8-10).
    h.compute(Tensor::S, {r0, c0, rows, cols}, 2 * rows * cols * d, rows * cols, rows * d + cols * d,
              rows * cols, ii, jj, "decode: S_ij = tau Q_i K_j^T");
    // m_new = max(m_i, rowmax S_ij): a max per element and one per row.
    h.compute(Tensor::m, {r0, 0, rows, 1}, 0, rows * cols + rows, rows * cols, rows, ii, jj,
              "decode: m_i = max(m_i, rowmax S_ij)");
    // P~_ij = exp(S_ij - m_new): subtract and exp per element.
    h.compute(Tensor::P, {r0, c0, rows, cols}, 0, 2 * rows * cols, rows * cols, rows * cols, ii, jj,
              "decode: P~_ij = exp(S_ij - m_i)", 0, rows * cols);
    // l_i = e^(m_old - m_new) l_i + rowsum P~_ij: a sum per element; subtract, exp, multiply, add per row.
    h.compute(Tensor::l, {r0, 0, rows, 1}, 0, rows * cols + 4 * rows, rows * cols, rows, ii, jj,
              "decode: l_i = e^(m_old - m_i) l_i + rowsum P~_ij", 0, rows);
    // O_i = diag(e^(m_old - m_new)) O_i + P~_ij V_j: 2 flops per element, no division yet.
    h.compute(Tensor::O, {r0, 0, rows, d}, 2 * rows * cols * d, 2 * rows * d,
              rows * cols + cols * d + rows * d, rows * d, ii, jj, "decode: O_i += P~_ij V_j");
    if (!c_.numerics()) return;
    S_ij_.noalias() = tau_ * (Q_i_ * K_j_.transpose());
    const Vec m_new = m_i_.cwiseMax(S_ij_.rowwise().maxCoeff());
    S_ij_ = (S_ij_.colwise() - m_new).array().exp();
    const Vec a = (m_i_ - m_new).array().exp();  // 0 on the first block (m_i = -inf)
    l_i_ = a.cwiseProduct(l_i_) + S_ij_.rowwise().sum();
    O_i_ = O_i_.array().colwise() * a.array();
    O_i_.noalias() += c_.operand(S_ij_) * V_j_;  // P~_ij converted for the GEMM; l_i summed it in fp32
    m_i_ = m_new;
    if (probe_ && c_.o.watch_block == ii)
        c_.probe.push_back({jj, detail::last_step(h), m_i_, l_i_, O_i_, false});
}

void RowBlock::finish(std::int64_t out_col0, std::int64_t lse_col0) {
    sim::Hierarchy& h = c_.h;
    const std::int64_t d = c_.p.d, rows = rows_, r0 = r0_;
    const auto ii = static_cast<std::int32_t>(i_);
    // Deferred rescale: O_i = diag(l_i)^-1 O_i (1 flop per element), L_i = m_i + log l_i (2 per row).
    h.compute(out_, {r0, out_col0, rows, d}, 0, rows * d, rows * d + rows, rows * d, ii, -1,
              "decode: O_i /= l_i");
    h.compute(lse_, {r0, lse_col0, rows, 1}, 0, 2 * rows, 2 * rows, rows, ii, -1,
              "decode: L_i = m_i + log l_i", 0, rows);
    if (!c_.numerics()) return;
    O_i_ = O_i_.array().colwise() / l_i_.array();
    L_i_ = m_i_.array() + l_i_.array().log();
}

}  // namespace tilesim::kernels::decode
