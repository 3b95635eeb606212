#pragma once
// Launchers shared between the backend's translation units (device types allowed: nvcc only).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/cuda_backend.h"

namespace tilesim::kernels::cuda::detail {

// FlashAttention forward: O (and L, when not null) from Q, K, V; all [B*H, N, d] (L: [B*H, N]).
void launch_flash(const FlashBlock& block, bool causal, const __half* Q, const __half* K, const __half* V,
                  __half* O, float* L, std::int64_t bh, std::int64_t N, cudaStream_t stream);

// Standard attention's own kernels (the GEMMs are cuBLAS calls in runner.cu).
enum class EagerPass : std::uint8_t { scale, mask, dropout };
// One element-wise pass over S ([B*H, N, N]): scale by tau, apply the mask, or dropout with p = 0.
void launch_eager_pass(EagerPass pass, __half* S, std::int64_t bh, std::int64_t N, float tau, bool causal,
                       cudaStream_t stream);
// P = softmax(scale * S) row by row; `causal` masks keys > query (when no mask pass did it already).
void launch_softmax(const __half* S, __half* P, std::int64_t bh, std::int64_t N, float scale, bool causal,
                    cudaStream_t stream);

// Q, K, V: normal(0, 1) rounded to fp16, from a counter-based hash of (seed, index): reproducible.
void launch_fill_normal(__half* x, std::int64_t count, std::uint64_t seed, cudaStream_t stream);
// Fills with fp16 NaN (poisoning outputs before a check).
void launch_fill_nan(__half* x, std::int64_t count, cudaStream_t stream);

}  // namespace tilesim::kernels::cuda::detail
