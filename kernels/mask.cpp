#include "kernels/mask.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

namespace tilesim::kernels {

std::int64_t BlockMask::count(TileKind k) const {
    return std::count(kinds.begin(), kinds.end(), k);
}

std::string mask_text(const Mask& m) {
    return m.active() ? (m.source.empty() ? std::string("custom") : m.source) : std::string("none");
}

namespace {

// The keys query row q may see under the element rule: [lo, hi] (empty when lo > hi). Both ends
// are non-decreasing in q, which the tile classification relies on; a row with no key at all
// (q' < 0 under a causal rule or documents) has hi = -1 < lo = 0, and such rows form a prefix.
struct Interval {
    std::int64_t lo, hi;
    bool empty() const { return lo > hi; }
};

Interval rule_interval(const Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t q) {
    const std::int64_t qp = q + (N_kv - N_q);  // bottom-right alignment
    Interval iv{0, N_kv - 1};
    if (m.causal || m.window > 0) iv.hi = std::min(iv.hi, qp);
    if (m.window > 0) iv.lo = std::max(iv.lo, qp - m.window + 1);
    if (!m.doc_starts.empty()) {
        if (qp < 0) return {0, -1};
        // The document holding q': the last start <= q'.
        const auto it = std::upper_bound(m.doc_starts.begin(), m.doc_starts.end(), qp);
        const std::int64_t start = *(it - 1);
        const std::int64_t end = it == m.doc_starts.end() ? N_kv - 1 : *it - 1;
        iv.lo = std::max(iv.lo, start);
        iv.hi = std::min(iv.hi, end);
    }
    if (iv.hi < 0) iv = {0, -1};  // keep the ends monotone for rows with no key
    return iv;
}

// The first q in [lo, hi) with pred(q), or hi; pred must be false then true along q.
template <class F>
std::int64_t first_true(std::int64_t lo, std::int64_t hi, F pred) {
    while (lo < hi) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        if (pred(mid)) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

// The rule's class on rows [r0, r1) x keys [c0, c1), exactly, with O(log) row evaluations. The rows
// with any key are a suffix [qv, r1); among them the rows whose interval reaches column c0 are a
// suffix [qa, r1) and the rows whose interval starts before c1 a prefix [qv, qb]: some row meets the
// tile iff qa <= qb. Every row covers the tile iff the first row's hi and the last row's lo do.
TileKind rule_class(const Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t r0, std::int64_t r1,
                    std::int64_t c0, std::int64_t c1) {
    if (!m.has_rule()) return TileKind::full;
    auto iv = [&](std::int64_t q) { return rule_interval(m, N_q, N_kv, q); };
    const std::int64_t qv = first_true(r0, r1, [&](std::int64_t q) { return !iv(q).empty(); });
    if (qv == r1) return TileKind::empty;
    const std::int64_t qa = first_true(qv, r1, [&](std::int64_t q) { return iv(q).hi >= c0; });
    const std::int64_t qb = first_true(qv, r1, [&](std::int64_t q) { return iv(q).lo > c1 - 1; }) - 1;
    if (qa > qb) return TileKind::empty;
    const bool full = qv == r0 && iv(r0).hi >= c1 - 1 && iv(r1 - 1).lo <= c0;
    return full ? TileKind::full : TileKind::partial;
}

}  // namespace

bool allowed(const Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t q, std::int64_t k) {
    if (m.has_rule()) {
        const Interval iv = rule_interval(m, N_q, N_kv, q);
        if (k < iv.lo || k > iv.hi) return false;
    }
    if (m.blocks) {
        const BlockMask& b = *m.blocks;
        if (b.at(q / b.block_q, k / b.block_kv) == TileKind::empty) return false;
    }
    return true;
}

TileKind classify(const Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t r0, std::int64_t rows,
                  std::int64_t c0, std::int64_t cols) {
    const std::int64_t r1 = r0 + rows, c1 = c0 + cols;
    if (!m.blocks) return rule_class(m, N_q, N_kv, r0, r1, c0, c1);
    // Each mask block the tile overlaps: empty blocks remove their part; the rule decides the rest.
    const BlockMask& b = *m.blocks;
    bool any = false, all = true;
    for (std::int64_t bi = r0 / b.block_q; bi <= (r1 - 1) / b.block_q; ++bi) {
        const std::int64_t sr0 = std::max(r0, bi * b.block_q), sr1 = std::min(r1, (bi + 1) * b.block_q);
        for (std::int64_t bj = c0 / b.block_kv; bj <= (c1 - 1) / b.block_kv; ++bj) {
            const std::int64_t sc0 = std::max(c0, bj * b.block_kv), sc1 = std::min(c1, (bj + 1) * b.block_kv);
            if (b.at(bi, bj) == TileKind::empty) {
                all = false;
                continue;
            }
            const TileKind k = rule_class(m, N_q, N_kv, sr0, sr1, sc0, sc1);
            any = any || k != TileKind::empty;
            all = all && k == TileKind::full;
        }
    }
    return !any ? TileKind::empty : all ? TileKind::full : TileKind::partial;
}

MaskStats mask_stats(const Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t B_r, std::int64_t B_c) {
    MaskStats s;
    const std::int64_t T_r = (N_q + B_r - 1) / B_r, T_c = (N_kv + B_c - 1) / B_c;
    std::vector<bool> col_live(static_cast<std::size_t>(T_c), false);
    for (std::int64_t i = 0; i < T_r; ++i) {
        const std::int64_t r0 = i * B_r, rows = std::min(B_r, N_q - r0);
        bool row_live = false;
        for (std::int64_t j = 0; j < T_c; ++j) {
            const std::int64_t c0 = j * B_c, cols = std::min(B_c, N_kv - c0);
            const TileKind k = m.active() ? classify(m, N_q, N_kv, r0, rows, c0, cols) : TileKind::full;
            if (k == TileKind::empty) {
                ++s.empty;
                continue;
            }
            (k == TileKind::full ? s.full : s.partial) += 1;
            s.rows_nonempty += rows;
            s.cols_nonempty += cols;
            s.area_nonempty += rows * cols;
            if (k == TileKind::partial) s.area_partial += rows * cols;
            row_live = true;
            col_live[static_cast<std::size_t>(j)] = true;
        }
        if (row_live) s.q_rows_live += rows;
    }
    for (std::int64_t j = 0; j < T_c; ++j) {
        if (col_live[static_cast<std::size_t>(j)]) s.kv_cols_live += std::min(B_c, N_kv - j * B_c);
    }
    return s;
}

std::int64_t allowed_pairs(const Mask& m, std::int64_t N_q, std::int64_t N_kv) {
    std::int64_t n = 0;
    for (std::int64_t q = 0; q < N_q; ++q) {
        const Interval iv = m.has_rule() ? rule_interval(m, N_q, N_kv, q) : Interval{0, N_kv - 1};
        if (iv.empty()) continue;
        if (!m.blocks) {
            n += iv.hi - iv.lo + 1;
            continue;
        }
        // Only the interval's part in non-empty blocks of this query's block row.
        const BlockMask& b = *m.blocks;
        for (std::int64_t bj = iv.lo / b.block_kv; bj <= iv.hi / b.block_kv; ++bj) {
            if (b.at(q / b.block_q, bj) == TileKind::empty) continue;
            n += std::min(iv.hi, (bj + 1) * b.block_kv - 1) - std::max(iv.lo, bj * b.block_kv) + 1;
        }
    }
    return n;
}

const std::vector<std::string>& patterns() {
    static const std::vector<std::string> names = {"local", "strided", "dilated", "random"};
    return names;
}

BlockMask make_pattern(const std::string& name, double density, std::int64_t block, std::int64_t N_q,
                       std::int64_t N_kv, std::uint64_t seed) {
    if (std::find(patterns().begin(), patterns().end(), name) == patterns().end()) {
        throw std::invalid_argument("unknown block-sparse pattern '" + name + "'");
    }
    BlockMask b;
    b.block_q = b.block_kv = block;
    b.rows = (N_q + block - 1) / block;
    b.cols = (N_kv + block - 1) / block;
    b.kinds.assign(static_cast<std::size_t>(b.rows * b.cols), TileKind::empty);
    const std::int64_t w = std::max<std::int64_t>(1, std::llround(density * static_cast<double>(b.cols)));
    const std::int64_t stride = std::max<std::int64_t>(1, std::llround(1.0 / density));
    std::mt19937_64 gen(seed);
    auto set = [&](std::int64_t i, std::int64_t j) {
        if (j >= 0 && j < b.cols) b.kinds[static_cast<std::size_t>(i * b.cols + j)] = TileKind::full;
    };
    for (std::int64_t i = 0; i < b.rows; ++i) {
        // The diagonal block: the one holding the key aligned with the block's last query (bottom-right).
        const std::int64_t last_q = std::min(N_q, (i + 1) * block) - 1 + (N_kv - N_q);
        const std::int64_t dj = std::clamp<std::int64_t>(last_q / block, 0, b.cols - 1);
        if (name == "local") {
            for (std::int64_t t = 0; t < w; ++t) set(i, dj - t);
        } else if (name == "dilated") {
            for (std::int64_t t = 0; t < w; ++t) set(i, dj - 2 * t);
        } else if (name == "strided") {
            for (std::int64_t j = dj % stride; j < b.cols; j += stride) set(i, j);
        } else {  // random: the diagonal and w - 1 others, distinct
            std::vector<std::int64_t> others;
            for (std::int64_t j = 0; j < b.cols; ++j) {
                if (j != dj) others.push_back(j);
            }
            std::shuffle(others.begin(), others.end(), gen);
            set(i, dj);
            for (std::int64_t t = 0; t + 1 < w && t < static_cast<std::int64_t>(others.size()); ++t) {
                set(i, others[static_cast<std::size_t>(t)]);
            }
        }
    }
    return b;
}

std::vector<std::int64_t> equal_documents(std::int64_t N, std::int64_t count) {
    count = std::clamp<std::int64_t>(count, 1, std::max<std::int64_t>(1, N));
    const std::int64_t len = (N + count - 1) / count;
    std::vector<std::int64_t> starts;
    for (std::int64_t s = 0; s < N; s += len) starts.push_back(s);
    return starts;
}

std::string tile_grid_text(const Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t B_r, std::int64_t B_c,
                           std::int64_t max_rows, std::int64_t max_cols) {
    const std::int64_t T_r = (N_q + B_r - 1) / B_r, T_c = (N_kv + B_c - 1) / B_c;
    const std::int64_t gr = (T_r + max_rows - 1) / max_rows, gc = (T_c + max_cols - 1) / max_cols;
    std::string out;
    for (std::int64_t i0 = 0; i0 < T_r; i0 += gr) {
        for (std::int64_t j0 = 0; j0 < T_c; j0 += gc) {
            bool any = false, all = true;
            for (std::int64_t i = i0; i < std::min(T_r, i0 + gr); ++i) {
                for (std::int64_t j = j0; j < std::min(T_c, j0 + gc); ++j) {
                    const TileKind k = classify(m, N_q, N_kv, i * B_r, std::min(B_r, N_q - i * B_r), j * B_c,
                                                std::min(B_c, N_kv - j * B_c));
                    any = any || k != TileKind::empty;
                    all = all && k == TileKind::full;
                }
            }
            out += all ? '#' : any ? '+' : '.';
        }
        out += '\n';
    }
    return out;
}

}  // namespace tilesim::kernels
