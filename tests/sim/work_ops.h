#pragma once
// WorkOps for the timeline's hand cases (tests/sim/test_timeline.cpp, test_warpgroup.cpp).
#include <cstdint>

#include "sim/program.h"
#include "sim/work.h"

namespace tilesim::sim::test {

inline WorkOp load(std::int64_t bytes, Tensor t = Tensor::K) {
    WorkOp op;
    op.kind = WorkKind::load;
    op.tensor = t;
    op.bytes = bytes;
    return op;
}

inline WorkOp gemm(std::int64_t flops) {
    WorkOp op;
    op.kind = WorkKind::compute;
    op.tensor = Tensor::S;
    op.mma_flops = flops;
    return op;
}

// Non-matmul arithmetic: `exps` exponentials, `other` FP32 operations.
inline WorkOp softmax(std::int64_t exps, std::int64_t other) {
    WorkOp op;
    op.kind = WorkKind::compute;
    op.tensor = Tensor::P;
    op.exp_flops = exps;
    op.fma_flops = other;
    return op;
}

// Per-SM rates in round numbers (units per second): shared memory out of the way.
inline SmRates rates(double copy_bytes, double tensor_flops, double sfu_ops, double fma_ops,
                     double latency_s) {
    SmRates r;
    r.copy_bytes = copy_bytes;
    r.tensor_flops = tensor_flops;
    r.sfu_ops = sfu_ops;
    r.fma_ops = fma_ops;
    r.smem_bytes = 1e15;
    r.latency_s = latency_s;
    return r;
}

}  // namespace tilesim::sim::test
