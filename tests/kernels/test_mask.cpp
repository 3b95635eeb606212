// kernels/mask.h: the tile classification and its sums against a brute-force scan of every element,
// for every kind of mask, ragged tiles, B_r != B_c, N_q != N_kv (bottom-right alignment).
#include <catch2/catch.hpp>

#include "kernels/mask.h"

using namespace tilesim;
using kernels::Mask;
using kernels::TileKind;

namespace {

// Element by element, from the definitions written out here: q' = q + N_kv - N_q; causal k <= q';
// window k > q' - W; documents: the same document; block layer: not in an empty block.
bool brute_allowed(const Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t q, std::int64_t k) {
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
    if (m.blocks && m.blocks->at(q / m.blocks->block_q, k / m.blocks->block_kv) == TileKind::empty) return false;
    return true;
}

TileKind brute_class(const Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t r0, std::int64_t rows,
                     std::int64_t c0, std::int64_t cols) {
    std::int64_t n = 0;
    for (std::int64_t q = r0; q < r0 + rows; ++q) {
        for (std::int64_t k = c0; k < c0 + cols; ++k) n += brute_allowed(m, N_q, N_kv, q, k) ? 1 : 0;
    }
    return n == 0 ? TileKind::empty : n == rows * cols ? TileKind::full : TileKind::partial;
}

std::vector<Mask> masks(std::int64_t N_q, std::int64_t N_kv) {
    std::vector<Mask> out;
    Mask causal;
    causal.causal = true;
    out.push_back(causal);
    for (std::int64_t w : {1, 3, 16}) {
        Mask s;
        s.causal = true;
        s.window = w;
        out.push_back(s);
    }
    Mask docs;
    docs.doc_starts = {0, 5, 6, 20};
    out.push_back(docs);
    Mask docs_causal = docs;
    docs_causal.causal = true;
    out.push_back(docs_causal);
    for (const auto& name : kernels::patterns()) {
        for (std::int64_t block : {4, 7}) {
            Mask b;
            b.blocks = std::make_shared<kernels::BlockMask>(kernels::make_pattern(name, 0.3, block, N_q, N_kv, 5));
            out.push_back(b);
            Mask bc = b;
            bc.causal = true;  // intersected with a causal rule
            out.push_back(bc);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("mask: tile classes equal a scan of every element", "[kernels][mask]") {
    int checked = 0;
    for (auto [N_q, N_kv] : {std::pair<std::int64_t, std::int64_t>{29, 29}, {7, 40}, {40, 9}, {1, 33}, {33, 1}}) {
        for (const Mask& m : masks(N_q, N_kv)) {
            for (auto [B_r, B_c] : {std::pair<std::int64_t, std::int64_t>{1, 1}, {3, 5}, {8, 4}, {16, 16}, {64, 64}}) {
                for (std::int64_t r0 = 0; r0 < N_q; r0 += B_r) {
                    for (std::int64_t c0 = 0; c0 < N_kv; c0 += B_c) {
                        const std::int64_t rows = std::min(B_r, N_q - r0), cols = std::min(B_c, N_kv - c0);
                        INFO("N_q " << N_q << " N_kv " << N_kv << " causal " << m.causal << " window " << m.window
                                    << " docs " << m.doc_starts.size() << " blocks " << (m.blocks != nullptr)
                                    << " tile " << r0 << "+" << rows << " x " << c0 << "+" << cols);
                        CHECK(kernels::classify(m, N_q, N_kv, r0, rows, c0, cols) ==
                              brute_class(m, N_q, N_kv, r0, rows, c0, cols));
                        ++checked;
                    }
                }
            }
            for (std::int64_t q = 0; q < N_q; ++q) {
                for (std::int64_t k = 0; k < N_kv; ++k) {
                    CHECK(kernels::allowed(m, N_q, N_kv, q, k) == brute_allowed(m, N_q, N_kv, q, k));
                }
            }
        }
    }
    CHECK(checked > 10000);
}

TEST_CASE("mask: the sums the closed forms use equal brute-force sums", "[kernels][mask]") {
    for (auto [N_q, N_kv] : {std::pair<std::int64_t, std::int64_t>{29, 29}, {7, 40}, {40, 9}}) {
        for (const Mask& m : masks(N_q, N_kv)) {
            for (auto [B_r, B_c] : {std::pair<std::int64_t, std::int64_t>{3, 5}, {8, 4}, {64, 64}}) {
                kernels::MaskStats want;
                std::int64_t pairs = 0;
                std::vector<bool> col_live(static_cast<std::size_t>((N_kv + B_c - 1) / B_c));
                for (std::int64_t r0 = 0; r0 < N_q; r0 += B_r) {
                    bool live = false;
                    for (std::int64_t c0 = 0; c0 < N_kv; c0 += B_c) {
                        const std::int64_t rows = std::min(B_r, N_q - r0), cols = std::min(B_c, N_kv - c0);
                        const TileKind k = brute_class(m, N_q, N_kv, r0, rows, c0, cols);
                        if (k == TileKind::empty) {
                            ++want.empty;
                            continue;
                        }
                        (k == TileKind::full ? want.full : want.partial) += 1;
                        want.rows_nonempty += rows;
                        want.cols_nonempty += cols;
                        want.area_nonempty += rows * cols;
                        if (k == TileKind::partial) want.area_partial += rows * cols;
                        live = true;
                        col_live[static_cast<std::size_t>(c0 / B_c)] = true;
                    }
                    if (live) want.q_rows_live += std::min(B_r, N_q - r0);
                }
                for (std::size_t j = 0; j < col_live.size(); ++j) {
                    if (col_live[j]) want.kv_cols_live += std::min<std::int64_t>(B_c, N_kv - static_cast<std::int64_t>(j) * B_c);
                }
                for (std::int64_t q = 0; q < N_q; ++q) {
                    for (std::int64_t k = 0; k < N_kv; ++k) pairs += brute_allowed(m, N_q, N_kv, q, k) ? 1 : 0;
                }
                const auto s = kernels::mask_stats(m, N_q, N_kv, B_r, B_c);
                CHECK(s.full == want.full);
                CHECK(s.partial == want.partial);
                CHECK(s.empty == want.empty);
                CHECK(s.rows_nonempty == want.rows_nonempty);
                CHECK(s.cols_nonempty == want.cols_nonempty);
                CHECK(s.area_nonempty == want.area_nonempty);
                CHECK(s.area_partial == want.area_partial);
                CHECK(s.kv_cols_live == want.kv_cols_live);
                CHECK(s.q_rows_live == want.q_rows_live);
                CHECK(kernels::allowed_pairs(m, N_q, N_kv) == pairs);
            }
        }
    }
}

TEST_CASE("mask: causal on a square problem skips the tiles above the diagonal", "[kernels][mask]") {
    // N = 16, 4 x 4 tiles: 4 diagonal tiles are partial, the 6 below full, the 6 above empty.
    Mask m;
    m.causal = true;
    const auto s = kernels::mask_stats(m, 16, 16, 4, 4);
    CHECK(s.partial == 4);
    CHECK(s.full == 6);
    CHECK(s.empty == 6);
    CHECK(kernels::allowed_pairs(m, 16, 16) == 16 * 17 / 2);
    CHECK(kernels::tile_grid_text(m, 16, 16, 4, 4) == "+...\n#+..\n##+.\n###+\n");
    // A single decoding query sees the whole cache (bottom-right alignment).
    CHECK(kernels::classify(m, 1, 100, 0, 1, 0, 100) == TileKind::full);
    // More queries than keys: the first N_q - N_kv rows see nothing (fully masked rows).
    CHECK(kernels::classify(m, 10, 4, 0, 6, 0, 4) == TileKind::empty);
    CHECK_FALSE(m.blocks);
    CHECK(kernels::mask_text(m) == "custom");
    CHECK(kernels::mask_text(Mask{}) == "none");
}

TEST_CASE("mask: generated patterns hit their density and keep the diagonal", "[kernels][mask]") {
    for (const auto& name : kernels::patterns()) {
        for (double s : {0.125, 0.25, 0.5}) {
            const auto b = kernels::make_pattern(name, s, 16, 1024, 1024, 3);
            REQUIRE(b.rows == 64);
            REQUIRE(b.cols == 64);
            const double density = static_cast<double>(b.count(TileKind::full)) / static_cast<double>(b.rows * b.cols);
            INFO(name << " target " << s << " got " << density);
            CHECK(b.count(TileKind::partial) == 0);
            if (name != "strided") {
                for (std::int64_t i = 0; i < b.rows; ++i) CHECK(b.at(i, i) == TileKind::full);
            }
            // random and strided are exact; local loses blocks at the left edge (the first rows have
            // fewer blocks to their left), dilated, whose band is twice as wide, up to three quarters.
            CHECK(density <= s + 1e-9);
            const double floor = name == "random" || name == "strided" ? 1.0 : name == "local" ? 0.6 : 0.25;
            CHECK(density >= s * floor - 1e-9);
        }
    }
    CHECK_THROWS_AS(kernels::make_pattern("diagonal", 0.5, 4, 16, 16, 1), std::invalid_argument);
    CHECK(kernels::equal_documents(10, 3) == std::vector<std::int64_t>{0, 4, 8});
}
