#pragma once
// Attention masks: which (query, key) pairs may attend, and what that means for a kernel's tiles.
//
// A mask is an element rule (none, causal, a sliding window, documents) and, optionally, a block-sparse
// layer on top (a block mask: FlexAttention's BlockMask, generated from a pattern or read from a file),
// intersected. Kernels see it through two questions: is a tile (B_r x B_c block of S) empty (skipped),
// full (computed without a mask) or partial (computed, then masked element by element)? And, for the
// arithmetic, is element (q, k) allowed? MaskStats sums the tile classes the closed forms need.
//
// Causal masks are aligned bottom-right, as FlashAttention aligns them: with offset o = N_kv - N_q,
// query q sees keys k <= q + o (the last query sees every key; a single decoding query sees the whole
// cache). For N_q = N_kv this is the usual "key index <= query index".
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/types.h"

namespace tilesim::kernels {

enum class TileKind : std::uint8_t { empty = 0, partial = 1, full = 2 };


// A block-level mask over `block_q` x `block_kv` blocks of S (FlexAttention's BlockMask): per block,
// empty (skipped), partial (computed with the element rule) or full (computed without it).
struct BlockMask {
    std::int64_t block_q = 128, block_kv = 128;
    std::int64_t rows = 0, cols = 0;  // Q blocks, KV blocks
    std::vector<TileKind> kinds;      // rows x cols, row-major
    TileKind at(std::int64_t r, std::int64_t c) const { return kinds[static_cast<std::size_t>(r * cols + c)]; }
    std::int64_t count(TileKind k) const;
};

// The element rule is the intersection of up to three constraints, with q' = q + o:
//   causal     k <= q'
//   window W   k > q' - W (a sliding window of W keys ending at the query's own; implies causal)
//   documents  k and q' in the same document (documents start at doc_starts, ascending from 0)
// and a block-sparse layer, when given, removes the elements of its empty blocks (its partial and full
// blocks only say which blocks a FlexAttention kernel computes with or without the rule).
struct Mask {
    bool causal = false;
    std::int64_t window = 0;
    std::vector<std::int64_t> doc_starts;
    std::shared_ptr<const BlockMask> blocks;
    std::string source;  // how it was given, for reports: "causal", "sliding:64", "file:mask.json", ...
    bool has_rule() const { return causal || window > 0 || !doc_starts.empty(); }
    bool active() const { return has_rule() || blocks != nullptr; }
};

// The text of a mask for reports and JSON ("none" when inactive).
std::string mask_text(const Mask& m);

// Whether query row q may attend key k in an N_q x N_kv problem.
bool allowed(const Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t q, std::int64_t k);

// The class of the tile rows [r0, r0 + rows) x keys [c0, c0 + cols): empty when no element can be
// allowed, full when every element is, partial otherwise. A block-sparse layer is consulted at its own
// block granularity: a tile is empty when every mask block it overlaps is empty or the rule leaves it
// empty, full when the rule and every overlapped block are full.
TileKind classify(const Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t r0, std::int64_t rows,
                  std::int64_t c0, std::int64_t cols);

// Sums over the B_r x B_c tiles of S that the closed forms of masked algorithms are written in.
struct MaskStats {
    std::int64_t full = 0, partial = 0, empty = 0;  // tiles of each class
    std::int64_t rows_nonempty = 0;   // sum over non-empty tiles of the tile's rows (Q rows touched, counted per tile)
    std::int64_t cols_nonempty = 0;   // sum over non-empty tiles of the tile's columns (K rows touched, per tile)
    std::int64_t area_nonempty = 0;   // sum over non-empty tiles of rows x cols (elements of S computed)
    std::int64_t area_partial = 0;    // sum over partial tiles of rows x cols (elements the mask is applied to)
    std::int64_t kv_cols_live = 0;    // rows of K (and V) in K/V blocks with at least one non-empty tile
    std::int64_t q_rows_live = 0;     // rows of Q in Q blocks with at least one non-empty tile
    std::int64_t nonempty() const { return full + partial; }
};
MaskStats mask_stats(const Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t B_r, std::int64_t B_c);

// Number of allowed (q, k) pairs: the fraction of S attention really needs.
std::int64_t allowed_pairs(const Mask& m, std::int64_t N_q, std::int64_t N_kv);

// Block-sparse patterns at `block` x `block` granularity with target density s (fraction of blocks
// computed), the FlexAttention-style masks the lessons sweep:
//   local    a band of max(1, round(s T_kv)) blocks ending at the diagonal block
//   strided  blocks with j = i (mod stride), stride = max(1, round(1 / s))
//   dilated  a band twice as wide as local's with every other block skipped
//   random   max(1, round(s T_kv)) blocks per Q-block row, chosen with `seed`, the diagonal among them
// Every generated block is full (no element rule inside it). Throws std::invalid_argument on a bad
// name; `patterns()` lists the names.
BlockMask make_pattern(const std::string& name, double density, std::int64_t block, std::int64_t N_q,
                       std::int64_t N_kv, std::uint64_t seed);
const std::vector<std::string>& patterns();

// Documents of equal length covering the sequence: `count` documents of ceil(N / count) tokens.
std::vector<std::int64_t> equal_documents(std::int64_t N, std::int64_t count);

// A picture of the tile classes for a report: one character per tile (full '#', partial '+',
// empty '.'), rows of the grid joined by '\n'; grids with more than max_rows rows or max_cols columns
// are shown with each character standing for a group of tiles (full only if every tile in it is full,
// empty only if all are empty).
std::string tile_grid_text(const Mask& m, std::int64_t N_q, std::int64_t N_kv, std::int64_t B_r, std::int64_t B_c,
                           std::int64_t max_rows = 24, std::int64_t max_cols = 48);

}  // namespace tilesim::kernels
