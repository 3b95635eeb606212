#pragma once
// Block sizes: each algorithm's rule, explicit choices, and the exact SRAM fit check.
//
// An algorithm's rule (AlgorithmDef::rule; the paper's Algorithm 1, line 1 for FlashAttention:
// B_c = ceil(M / 4d), B_r = min(ceil(M / 4d), d), with M = SRAM capacity in elements of the input
// dtype) can overshoot M (up to 1.25 M, more once m_i and l_i are counted), so the working set of
// each pass (AlgorithmDef::working_sets) is checked exactly. A rule-chosen block that does not fit is
// shrunk until it does (and the note says so); an explicit block that does not fit is an error
// status with the fix.
#include <vector>

#include "kernels/algorithm.h"

namespace tilesim::kernels {

// Bytes of the largest pass's working set.
std::int64_t working_set_bytes(const AlgorithmDef& def, const Problem& p, std::int64_t B_r, std::int64_t B_c,
                               const sim::HardwareSpec& hw);

// Resolves block sizes for `def`. On failure `status` says why and what to change.
Tiling resolve_tiling(const AlgorithmDef& def, const Problem& p, const TilingRequest& req,
                      const sim::HardwareSpec& hw, sim::FitStatus* status);

// A row-wise pass over N_q x N_kv matrices (standard attention's softmax and its backward): whole
// rows when `rows_held` rows of N_kv elements (one per matrix the pass holds at once) fit in SRAM;
// otherwise the rows are streamed in chunks, one pass for the row statistics and one to write.
struct RowPass {
    bool one_pass = true;
    std::int64_t rows = 1;   // rows per step (one_pass)
    std::int64_t chunk = 0;  // columns per step (two-pass)
};
RowPass row_pass_shape(const Problem& p, const sim::HardwareSpec& hw, std::int64_t rows_held);

}  // namespace tilesim::kernels
