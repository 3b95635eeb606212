#pragma once
// Helpers shared by the algorithm definitions (not part of the public API).
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "kernels/algorithm.h"
#include "sim/hierarchy.h"

namespace tilesim::kernels::detail {

// Reserves every buffer of one pass's working set. The tiling was checked beforehand, so a failure
// here is a bug in working_sets() or in the kernel, never bad input.
inline std::vector<sim::BufferId> hold(sim::Hierarchy& h, const std::vector<BufferSpec>& set) {
    std::vector<sim::BufferId> ids;
    for (const auto& b : set) {
        sim::FitStatus st;
        auto id = h.allocate(b.tensor, b.rows, b.cols, b.what, &st, b.alias);
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

// The trace step of the event just recorded (for the softmax probe), -1 without a trace.
inline std::int64_t last_step(const sim::Hierarchy& h) {
    return h.trace() != nullptr ? static_cast<std::int64_t>(h.trace()->events().size()) - 1 : -1;
}

// A tensor declaration: `rows` x `cols` cut in `block_rows` x `block_cols` tiles.
inline sim::TensorDecl decl(sim::Tensor t, std::int64_t rows, std::int64_t cols, std::int64_t block_rows,
                            std::int64_t block_cols, bool input, bool in_hbm = true) {
    sim::TensorDecl d;
    d.tensor = t;
    d.rows = rows;
    d.cols = cols;
    d.block_rows = std::max<std::int64_t>(1, block_rows);
    d.block_cols = std::max<std::int64_t>(1, block_cols);
    d.input = input;
    d.in_hbm = in_hbm;
    return d;
}

inline std::int64_t el_bytes(sim::Tensor t, sim::Dtype dt) {
    return static_cast<std::int64_t>(sim::element_bytes(t, dt));
}

// Element bytes of a problem's GEMM inputs (Q, K, V, dO) and of what it computes and writes (S, P, O,
// the gradients): equal, except that an fp8 problem reads fp8 and writes bf16.
struct ElementBytes {
    std::int64_t in, out;
};
inline ElementBytes element_bytes(const Problem& p) {
    return {el_bytes(sim::Tensor::Q, p.dtype), el_bytes(sim::Tensor::O, p.dtype)};
}

}  // namespace tilesim::kernels::detail

namespace tilesim::kernels::detail {

// The paper's block rule (Algorithm 1, line 1): B_c = ceil(M / 4d), B_r = min(ceil(M / 4d), d).
inline TilingRule::Blocks paper_rule(const Problem& p, std::int64_t M) {
    const std::int64_t rule = ceil_div(M, 4 * p.d);
    return {std::min(rule, p.d), rule};
}
inline constexpr const char* kPaperRuleText = "B_c = ceil(M/4d), B_r = min(ceil(M/4d), d)";

// Schedule lists for AlgorithmDef::schedules (sim/schedule.h); the first is the real kernel's.
// A synchronous kernel only (its GEMMs issue `mma`: FA1/FA2 mma.sync; cuBLAS wgmma on Hopper).
inline ScheduleSupport sync_only(sim::MmaKind mma = sim::MmaKind::mma_sync) {
    return {{sim::Schedule::sync}, sim::Schedule::sync, mma};
}
// Synchronous, or with a producer warp group filling a ring of SRAM stages.
inline ScheduleSupport sync_or_producer_consumer() {
    return {
        {sim::Schedule::sync, sim::Schedule::producer_consumer}, sim::Schedule::sync, sim::MmaKind::mma_sync};
}
// Every schedule: the FA2 loop order is FA3's, so FA3's schedules apply to it.
inline ScheduleSupport every_schedule() {
    return {{sim::Schedule::sync, sim::Schedule::producer_consumer, sim::Schedule::pingpong,
             sim::Schedule::pipelined, sim::Schedule::pingpong_pipelined},
            sim::Schedule::sync,
            sim::MmaKind::mma_sync};
}

// Theta(N^2 d^2 / M) (Theorem 2 for the forward, Theorem 5 for the backward).
inline double theta_flash(double N, double d, double M) {
    return N * N * d * d / M;
}
// Theta(N d + N^2) (Theorem 2, standard attention).
inline double theta_standard(double N, double d, double /*M*/) {
    return N * d + N * N;
}

}  // namespace tilesim::kernels::detail

namespace tilesim::kernels::detail {

// The class of tile rows [r0, r0 + rows) x keys [c0, c0 + cols) under the problem's mask.
inline TileKind tile_kind(const Problem& p, std::int64_t r0, std::int64_t rows, std::int64_t c0, std::int64_t cols) {
    return p.mask.active() ? classify(p.mask, p.N_q, p.N_kv, r0, rows, c0, cols) : TileKind::full;
}

// Sets the masked elements of the tile S_ij (rows from r0, keys from c0) to -inf.
inline void mask_tile(const Problem& p, std::int64_t r0, std::int64_t c0, Mat& S_ij) {
    const float neg_inf = -std::numeric_limits<float>::infinity();
    for (Eigen::Index r = 0; r < S_ij.rows(); ++r) {
        for (Eigen::Index c = 0; c < S_ij.cols(); ++c) {
            if (!allowed(p.mask, p.N_q, p.N_kv, r0 + r, c0 + c)) S_ij(r, c) = neg_inf;
        }
    }
}

// A running max that is still -inf (the row has seen no allowed key) is used as 0 in exp(x - m), so
// that exp(-inf - m) = 0 rather than exp(-inf + inf) = NaN: a fully masked row stays at l = 0, O = 0.
inline Vec finite_or_zero(const Vec& m) {
    return m.unaryExpr([](float v) { return std::isinf(v) && v < 0 ? 0.0F : v; });
}

}  // namespace tilesim::kernels::detail
