#pragma once
// Launchers shared between the backend's translation units (device types allowed: nvcc only).
// Tensors are passed as void* with the problem's dtype (fp16 or bf16); each launcher dispatches to the
// kernel instantiated for that element type.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "kernels/cuda/cuda_backend.h"

namespace tilesim::kernels::cuda::detail {

// 0 for fp16, 1 for bf16 (the index into the instantiation tables); anything else throws.
inline int dtype_index(sim::Dtype dtype) {
    if (dtype == sim::Dtype::fp16) return 0;
    if (dtype == sim::Dtype::bf16) return 1;
    throw CudaError("the CUDA kernels take fp16 or bf16 inputs");
}

// FlashAttention forward: O (and L, when not null) from Q, K, V; all [B*H, N, d] (L: [B*H, N]).
void launch_flash(const FlashBlock& block, bool causal, sim::Dtype dtype, const void* Q, const void* K,
                  const void* V, void* O, float* L, std::int64_t bh, std::int64_t N, cudaStream_t stream);

// FlashAttention backward, one of its three kernels at a time (so that each can be timed).
enum class BwdStage : std::uint8_t { preprocess, main, convert };
struct BwdPointers {
    const void *Q, *K, *V, *O, *dO;
    const float* L;   // the forward's logsumexp, [B*H, N]
    float* D;         // rowsum(dO o O), [B*H, N]
    float* dQaccum;   // fp32 [B*H, N, d]
    void *dQ, *dK, *dV;
};
void launch_flash_bwd(const FlashBwdBlock& block, BwdStage stage, bool causal, sim::Dtype dtype,
                      const BwdPointers& p, std::int64_t bh, std::int64_t N, cudaStream_t stream);

// Hopper forward progression (sm_90a): one launcher for every step; throws CudaError when the step is
// not compiled for (d, dtype) or the device is not sm_90.
void launch_hopper(HopperKernel k, bool causal, sim::Dtype dtype, const void* Q, const void* K, const void* V,
                   void* O, float* L, std::int64_t bh, std::int64_t N, std::int64_t d, cudaStream_t stream);
// Step (f)'s pre-pass: e4m3 copies of Q, K and V^T with per-block scales, into scratch the Hopper
// launcher owns; launch_hopper(fp8) then reads them (it throws if they are not for these tensors).
void launch_hopper_fp8_quantize(sim::Dtype dtype, const void* Q, const void* K, const void* V, std::int64_t bh,
                                std::int64_t N, std::int64_t d, cudaStream_t stream);

// Standard attention's own kernels (the GEMMs are cuBLAS calls in runner.cu).
enum class EagerPass : std::uint8_t { scale, mask, dropout };
// One element-wise pass over S ([B*H, N, N]): scale by tau, apply the mask, or dropout with p = 0.
void launch_eager_pass(EagerPass pass, sim::Dtype dtype, void* S, std::int64_t bh, std::int64_t N, float tau,
                       bool causal, cudaStream_t stream);
// P = softmax(scale * S) row by row; `causal` masks keys > query (when no mask pass did it already).
void launch_softmax(sim::Dtype dtype, const void* S, void* P, std::int64_t bh, std::int64_t N, float scale,
                    bool causal, cudaStream_t stream);
// Algorithm 3's softmax backward: dS = P o (dP - rowsum(P o dP)), written over dP.
void launch_dsoftmax(sim::Dtype dtype, const void* P, void* dP, std::int64_t bh, std::int64_t N,
                     cudaStream_t stream);

// Median, min and max of a list of run times (ms).
Timing summarize(std::vector<double> runs_ms);

// Normal(0, 1) rounded to the dtype, from a counter-based hash of (seed, index): reproducible.
void launch_fill_normal(sim::Dtype dtype, void* x, std::int64_t count, std::uint64_t seed, cudaStream_t stream);
// Fills with NaN (poisoning outputs before a check).
void launch_fill_nan(sim::Dtype dtype, void* x, std::int64_t count, cudaStream_t stream);

}  // namespace tilesim::kernels::cuda::detail
