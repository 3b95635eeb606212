// Measures the ping-pong hand-off's gap (HardwareSpec::wgmma_wait_s, docs/timeline.md): how long the
// tensor cores idle when a warp group waits for one wgmma group (wgmma.wait_group 0) before it
// issues the next, against issuing the two back to back. One warp group per SM, 132 blocks; each
// "GEMM" is 8 wgmma.m64n128k16 (a 64 x 128 x 128 product, the per-group S GEMM of docs/cuda.md's
// Hopper kernels at d 128), operands garbage in shared memory (timing only). Per iteration two GEMMs
// into two accumulators:
//   waited:       GEMM 0, commit, wait 0, GEMM 1, commit, wait 0   (ping-pong without pipelining)
//   back to back: GEMM 0, commit, GEMM 1, commit, wait 1           (one group always queued)
// gap per wait = (waited - back to back) / (2 x iterations), in SM clocks from clock64.
//
//   nvcc -O3 -gencode arch=compute_90a,code=sm_90a -I. -o wgmma_wait bench/gpu/wgmma_wait.cu && ./wgmma_wait
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "kernels/cuda/hopper.cuh"
#include "kernels/cuda/hopper_wgmma.cuh"

#include "bench/gpu/check.h"

namespace h = tilesim::kernels::cuda::hopper;

template <bool kWaited>
__global__ void __launch_bounds__(128) gemm_pairs(float* out, long long* cycles, int iters) {
    __shared__ alignas(1024) std::uint16_t a[64 * 128];
    __shared__ alignas(1024) std::uint16_t b[128 * 128];
    for (int i = threadIdx.x; i < 64 * 128; i += 128) a[i] = 0;
    for (int i = threadIdx.x; i < 128 * 128; i += 128) b[i] = 0;
    h::fence_proxy_async();
    __syncthreads();
    const std::uint64_t da = h::make_desc(a, 16, 1024), db = h::make_desc(b, 16, 1024);
    float acc0[64], acc1[64];
    for (int k = 0; k < 64; ++k) acc0[k] = acc1[k] = 0.f;
    __syncthreads();
    const long long t0 = clock64();
    for (int it = 0; it < iters; ++it) {
        h::wgmma_fence();
        h::fence_operands(acc0);
#pragma unroll
        for (int s = 0; s < 8; ++s) h::wgmma_ss_m64n128k16_f16(acc0, da + 2 * (s & 3), db + 2 * (s & 3), 1);
        h::wgmma_commit();
        if constexpr (kWaited) {
            h::wgmma_wait<0>();
            h::fence_operands(acc0);
        }
        h::wgmma_fence();
        h::fence_operands(acc1);
#pragma unroll
        for (int s = 0; s < 8; ++s) h::wgmma_ss_m64n128k16_f16(acc1, da + 2 * (s & 3), db + 2 * (s & 3), 1);
        h::wgmma_commit();
        if constexpr (kWaited) {
            h::wgmma_wait<0>();
        } else {
            h::wgmma_wait<1>();
        }
        h::fence_operands(acc0);
        h::fence_operands(acc1);
    }
    h::wgmma_wait<0>();
    h::fence_operands(acc0);
    h::fence_operands(acc1);
    const long long t1 = clock64();
    float sum = 0;
    for (int k = 0; k < 64; ++k) sum += acc0[k] + acc1[k];
    out[blockIdx.x * 128 + threadIdx.x] = sum;
    if (threadIdx.x == 0) cycles[blockIdx.x] = t1 - t0;
}

template <bool kWaited>
double run(int blocks, int iters, float* out, long long* cycles) {
    double best = 1e30;
    for (int rep = 0; rep < 6; ++rep) {  // the first is the warm-up
        gemm_pairs<kWaited><<<blocks, 128>>>(out, cycles, iters);
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        long long host[1024];
        CHECK(cudaMemcpy(host, cycles, sizeof(long long) * blocks, cudaMemcpyDeviceToHost));
        double mean = 0;
        for (int i = 0; i < blocks; ++i) mean += static_cast<double>(host[i]) / blocks;
        if (rep > 0 && mean < best) best = mean;
    }
    return best;
}

int main() {
    cudaDeviceProp prop{};
    CHECK(cudaGetDeviceProperties(&prop, 0));
    const int blocks = prop.multiProcessorCount, iters = 2000;
    float* out = nullptr;
    long long* cycles = nullptr;
    CHECK(cudaMalloc(&out, sizeof(float) * blocks * 128));
    CHECK(cudaMalloc(&cycles, sizeof(long long) * blocks));
    const double waited = run<true>(blocks, iters, out, cycles);
    const double b2b = run<false>(blocks, iters, out, cycles);
    const double wgmmas = 16.0 * iters;
    std::printf("device %s, %d SMs, one warp group per SM, %d iterations of 2 x 8 wgmma.m64n128k16\n",
                prop.name, blocks, iters);
    std::printf("back_to_back_clocks_per_wgmma %.1f (%.0f FLOP per clock per SM)\n", b2b / wgmmas,
                2.0 * 64 * 128 * 16 / (b2b / wgmmas));
    std::printf("waited_clocks_per_wgmma %.1f\n", waited / wgmmas);
    std::printf("gap_per_wait_clocks %.1f\n", (waited - b2b) / (2.0 * iters));
    return 0;
}
