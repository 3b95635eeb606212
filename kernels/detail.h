#pragma once
// Helpers shared by the kernel implementations (not part of the public API).
#include <stdexcept>
#include <vector>

#include "kernels/tiling.h"
#include "sim/hierarchy.h"

namespace tilesim::kernels::detail {

// Reserves every buffer of one pass's working set. The tiling was checked beforehand, so a failure
// here is a bug in working_sets() or in the kernel, never bad input.
inline std::vector<sim::BufferId> hold(sim::Hierarchy& h, const std::vector<BufferSpec>& set) {
    std::vector<sim::BufferId> ids;
    for (const auto& b : set) {
        sim::FitStatus st;
        auto id = h.allocate(b.tensor, b.rows, b.cols, b.what, &st);
        if (!id) throw std::logic_error("working set checked but allocation failed: " + st.reason);
        ids.push_back(*id);
    }
    return ids;
}

inline void drop(sim::Hierarchy& h, const std::vector<sim::BufferId>& ids) {
    for (auto id : ids) h.release(id);
}

// Rows of block `b` of size `B` over `N` rows: B, except for a ragged last block.
inline std::int64_t block_len(std::int64_t b, std::int64_t B, std::int64_t N) {
    return std::min(B, N - b * B);
}

}  // namespace tilesim::kernels::detail
