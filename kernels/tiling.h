#pragma once
// Block sizes: the paper's rule, explicit choices, and the SRAM fit check of every algorithm.
//
// Paper's rule (Algorithm 1, line 1), M = SRAM capacity in elements of the input dtype:
//   FA1 and standard: B_c = ceil(M / 4d), B_r = min(ceil(M / 4d), d)
//   FA2 (Q block resident): B_r = ceil(M / 4d), B_c = min(ceil(M / 4d), d)
// The rule can overshoot M (up to 1.25 M, more once m_i and l_i are counted), so the working set of
// each algorithm is checked exactly. A rule-chosen block that does not fit is shrunk until it does
// (and the note says so); an explicit block that does not fit is an error status with the fix.
#include <vector>

#include "kernels/problem.h"
#include "sim/hardware.h"
#include "sim/hierarchy.h"

namespace tilesim::kernels {

// One SRAM buffer a kernel holds at once: `rows` x `cols` elements of `tensor`.
struct BufferSpec {
    sim::Tensor tensor;
    std::int64_t rows;
    std::int64_t cols;
    const char* what;  // "K_j (B_c x d)"
};

// The buffers resident together in each pass of `alg` (one vector per pass).
std::vector<std::vector<BufferSpec>> working_sets(AlgorithmId alg, const Problem& p, std::int64_t B_r,
                                                  std::int64_t B_c, const sim::HardwareSpec& hw);

// Bytes of the largest pass's working set.
std::int64_t working_set_bytes(AlgorithmId alg, const Problem& p, std::int64_t B_r, std::int64_t B_c,
                               const sim::HardwareSpec& hw);

// Standard attention's softmax pass holds whole rows of S when one fits; else it streams chunks twice.
struct SoftmaxShape {
    bool one_pass = true;
    std::int64_t rows = 1;   // rows per step (one_pass)
    std::int64_t chunk = 0;  // columns per step (two-pass)
};
SoftmaxShape softmax_shape(const Problem& p, const sim::HardwareSpec& hw);

// Resolves block sizes for `alg`. On failure `status` says why and what to change.
Tiling resolve_tiling(AlgorithmId alg, const Problem& p, const TilingRequest& req,
                      const sim::HardwareSpec& hw, sim::FitStatus* status);

}  // namespace tilesim::kernels
