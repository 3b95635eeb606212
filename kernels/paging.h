#pragma once
// A paged KV cache (PagedAttention, Kwon et al. 2023, as vLLM and FlashInfer run it): the keys and
// values of one sequence live in fixed-size pages of P tokens anywhere in a pool, and a page table (one
// int32 per page) maps the sequence's logical page k to its physical page. A server allocates pages as
// sequences grow, so no sequence reserves its maximum length up front; the price is a gather (a K/V
// block that spans pages is several moves) and the page-table reads, and the last page of every
// sequence is only partly filled.
//
// The page layout is a property of the problem (Problem::page_size, page_order), not of an algorithm:
// every definition that reads a paged cache (AlgorithmDef::paged_kv) finds K and V laid out by
// lay_out_pages() below.
#include <cstdint>
#include <vector>

#include "kernels/algorithm.h"

namespace tilesim::kernels {

// The seed of the shuffled page order: fixed, so a lesson's picture of the fragmentation is the same
// on every run (the counts do not depend on it).
inline constexpr std::uint64_t kPageSeed = 20230912;  // the PagedAttention paper's arXiv date

struct PageGeometry {
    std::int64_t page_size = 0;      // P: tokens per page; 0 = a contiguous cache (no paging)
    std::int64_t pages = 0;          // ceil(N_kv / P): pages allocated to the sequence
    std::int64_t last_page_len = 0;  // tokens in the last page, 1 .. P
    std::int64_t wasted_slots = 0;   // pages P - N_kv: slots allocated but unused, all in the last page
    bool paged() const { return page_size > 0; }
    // Rows of the pool that holds the sequence's pages: pages x P (N_kv when contiguous).
    std::int64_t pool_rows(std::int64_t N_kv) const { return paged() ? pages * page_size : N_kv; }
};
PageGeometry page_geometry(const Problem& p);

// Pages that the token range [t0, t1) touches (t1 > t0): pages floor(t0 / P) .. floor((t1 - 1) / P).
inline std::int64_t pages_touched(std::int64_t t0, std::int64_t t1, std::int64_t P) {
    return (t1 - 1) / P - t0 / P + 1;
}

// Most page-table entries a K/V block of `rows` tokens can touch: a range of `rows` tokens starting
// anywhere in a page covers at most ceil(rows / P) + 1 pages, and never more than the sequence has.
std::int64_t max_pages_per_block(const PageGeometry& g, std::int64_t rows);

// The page table of one sequence: entry k is the physical page of logical page k. Contiguous order is
// the identity; shuffled order a permutation drawn with kPageSeed.
std::vector<std::int64_t> page_table(const Problem& p);

// Lays one head's logical inputs out as a paged kernel finds them in HBM: K and V (N_kv x d) are
// scattered page by page into a pool of pages x P rows through the page table, and PT (pages x 1)
// holds the table. The unused slots of the last page are NaN, so a kernel that read one would poison
// its output. Uncounted: earlier decode steps wrote the cache; this kernel only reads it.
void lay_out_pages(const Problem& p, HbmState& hbm);

}  // namespace tilesim::kernels
