#pragma once
// Shared problem and tiling types. Used by the CPU model and by kernels/cuda; no Eigen, no CUDA here.
#include <cstdint>
#include <string>

#include "sim/types.h"

namespace tilesim::kernels {

enum class AlgorithmId : std::uint8_t {
    standard,  // Algorithm 0: S and P materialised in HBM
    flash,     // Algorithm 1 (FA1 loop order): K/V blocks outer, Q blocks inner
    flash2,    // FlashAttention-2 loop order: Q blocks outer, K/V blocks inner
};

// One attention problem. Counts are per (batch, head); B*H heads are identical in shape.
struct Problem {
    std::int64_t batch = 1;
    std::int64_t heads = 1;
    std::int64_t N = 0;  // sequence length
    std::int64_t d = 0;  // head dimension
    sim::Dtype dtype = sim::Dtype::fp16;
    std::int64_t bh() const { return batch * heads; }
};

// Requested block sizes; 0 means "the paper's rule" (see tiling.h).
struct TilingRequest {
    std::int64_t B_r = 0;
    std::int64_t B_c = 0;
};

// Block sizes in force for a run.
struct Tiling {
    std::int64_t B_r = 0;
    std::int64_t B_c = 0;
    std::int64_t T_r = 0;  // ceil(N / B_r)
    std::int64_t T_c = 0;  // ceil(N / B_c)
    std::string note;      // how they were chosen (rule, clamped to N, shrunk to fit)
};

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
    return (a + b - 1) / b;
}

}  // namespace tilesim::kernels
