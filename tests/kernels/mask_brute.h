#pragma once
// The tests' own reading of a mask, element by element, written from the definitions in kernels/mask.h's
// comment (not from its code): q' = q + N_kv - N_q; causal k <= q'; window W: k > q' - W; documents:
// q' and k in the same document; a block layer removes its empty blocks. And the tile sums the
// closed forms use, by scanning every element of every tile.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/mask.h"

namespace tilesim::test {

inline bool brute_allowed(const kernels::Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t q,
                          std::int64_t k) {
    const std::int64_t qp = q + N_kv - N_q;
    if ((m.causal || m.window > 0) && k > qp) return false;
    if (m.window > 0 && k <= qp - m.window) return false;
    if (!m.doc_starts.empty()) {
        if (qp < 0) return false;
        auto doc = [&](std::int64_t x) {
            std::int64_t d = 0;
            for (std::size_t t = 0; t < m.doc_starts.size(); ++t) {
                if (m.doc_starts[t] <= x) d = static_cast<std::int64_t>(t);
            }
            return d;
        };
        if (doc(qp) != doc(k)) return false;
    }
    if (m.blocks && m.blocks->at(q / m.blocks->block_q, k / m.blocks->block_kv) == kernels::TileKind::empty) return false;
    return true;
}

inline kernels::TileKind brute_class(const kernels::Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t r0,
                                     std::int64_t rows, std::int64_t c0, std::int64_t cols) {
    if (!m.active()) return kernels::TileKind::full;
    std::int64_t n = 0;
    for (std::int64_t q = r0; q < r0 + rows; ++q) {
        for (std::int64_t k = c0; k < c0 + cols; ++k) n += brute_allowed(m, N_q, N_kv, q, k) ? 1 : 0;
    }
    return n == 0 ? kernels::TileKind::empty : n == rows * cols ? kernels::TileKind::full : kernels::TileKind::partial;
}

// Sums over the B_r x B_c tiles: the rows and columns of each non-empty tile, its area, the area of
// the partial ones, and the rows of K (Q) in K/V (Q) blocks with any non-empty tile.
struct TileSums {
    std::int64_t rows = 0, cols = 0, area = 0, partial_area = 0, kv_live = 0, q_live = 0;
    std::int64_t full = 0, partial = 0, empty = 0;
};

inline TileSums tile_sums(const kernels::Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t B_r,
                          std::int64_t B_c) {
    TileSums s;
    std::vector<bool> live((N_kv + B_c - 1) / B_c, false);
    for (std::int64_t r0 = 0; r0 < N_q; r0 += B_r) {
        const std::int64_t rows = std::min(B_r, N_q - r0);
        bool row_live = false;
        for (std::int64_t c0 = 0; c0 < N_kv; c0 += B_c) {
            const std::int64_t cols = std::min(B_c, N_kv - c0);
            const auto k = brute_class(m, N_q, N_kv, r0, rows, c0, cols);
            if (k == kernels::TileKind::empty) {
                ++s.empty;
                continue;
            }
            (k == kernels::TileKind::full ? s.full : s.partial) += 1;
            s.rows += rows;
            s.cols += cols;
            s.area += rows * cols;
            if (k == kernels::TileKind::partial) s.partial_area += rows * cols;
            row_live = true;
            live[static_cast<std::size_t>(c0 / B_c)] = true;
        }
        if (row_live) s.q_live += rows;
    }
    for (std::size_t j = 0; j < live.size(); ++j) {
        if (live[j]) s.kv_live += std::min<std::int64_t>(B_c, N_kv - static_cast<std::int64_t>(j) * B_c);
    }
    return s;
}

}  // namespace tilesim::test
