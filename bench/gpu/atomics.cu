// The rate of fp32 atomic adds into global memory, as the FlashAttention backward issues them for dQ
// (flash_bwd.cuh, line 14), for the model's price of an atomic (docs/timeline.md). Every SM runs blocks
// of 8 warps; each warp adds 16 rows x 64 columns of fp32 per round in one of three patterns:
//   fragment   the mma C-fragment pattern, a float2 per thread (lane (g, t): rows g and g + 8, columns
//              8 nt + 2t: each instruction touches 8 rows x 32 bytes; ptx::atomic_add2)
//   coalesced  a float2 per thread, each instruction 256 contiguous bytes
//   vector4    a float4 per thread (red.global.add.v4.f32, ptx::atomic_add4), each instruction 512
//              contiguous bytes: what the kernel issues since its dQ_i goes through shared memory
// The buffer is either small enough to stay in the L2 (as one head's dQ accumulator, which T_c blocks of
// that head add into) or large (1 GiB). Payload = the bytes added; best of 5 after a warm-up, CUDA events.
//
//   nvcc -O3 -std=c++17 -gencode arch=compute_90a,code=sm_90a -I. -o atomics bench/gpu/atomics.cu &&
//   ./atomics
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "kernels/cuda/ptx.cuh"

#include "bench/gpu/check.h"

namespace ptx = tilesim::kernels::cuda::ptx;

// Each warp owns tiles of 16 rows x 64 columns; `tiles` tiles in the buffer, walked `rounds` times,
// warp w of the grid starting at tile w (so concurrent warps hit different tiles).
enum Pattern : int { fragment, coalesced, vector4 };

template <int kPattern>
__global__ void __launch_bounds__(256) add_kernel(float* buf, std::int64_t tiles, int rounds) {
    const int lane = static_cast<int>(threadIdx.x) % 32;
    const std::int64_t warp = (static_cast<std::int64_t>(blockIdx.x) * 256 + threadIdx.x) / 32;
    const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * 8;
    const int g = lane >> 2, t = lane & 3;
    for (int r = 0; r < rounds; ++r) {
        for (std::int64_t tile = warp; tile < tiles; tile += warps) {
            float* base = buf + tile * 16 * 64;
            if constexpr (kPattern == vector4) {
#pragma unroll
                for (int k = 0; k < 8; ++k) {  // 8 instructions x 32 lanes x 16 bytes = 4 KB = the tile
                    ptx::atomic_add4(base + k * 128 + 4 * lane, make_float4(1.0F, 1.0F, 1.0F, 1.0F));
                }
            } else {
#pragma unroll
                for (int k = 0; k < 16; ++k) {  // 16 instructions x 32 lanes x 8 bytes = 4 KB = the tile
                    if constexpr (kPattern == fragment) {
                        const int nt = k % 8, h = k / 8;
                        ptx::atomic_add2(base + (g + 8 * h) * 64 + nt * 8 + 2 * t, 1.0F, 1.0F);
                    } else {
                        ptx::atomic_add2(base + k * 64 + 2 * lane, 1.0F, 1.0F);
                    }
                }
            }
        }
    }
}

template <int kPattern>
double rate(float* buf, std::int64_t bytes, int blocks, int rounds) {
    const std::int64_t tiles = bytes / (16 * 64 * 4);
    cudaEvent_t e0, e1;
    CHECK(cudaEventCreate(&e0));
    CHECK(cudaEventCreate(&e1));
    float best = 1e30F;
    for (int rep = 0; rep < 6; ++rep) {
        CHECK(cudaEventRecord(e0));
        add_kernel<kPattern><<<blocks, 256>>>(buf, tiles, rounds);
        CHECK(cudaEventRecord(e1));
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        float ms = 0;
        CHECK(cudaEventElapsedTime(&ms, e0, e1));
        if (rep > 0 && ms < best) best = ms;
    }
    CHECK(cudaEventDestroy(e0));
    CHECK(cudaEventDestroy(e1));
    return static_cast<double>(tiles) * 16 * 64 * 4 * rounds / (best * 1e-3);  // payload bytes per second
}

int main() {
    cudaDeviceProp prop{};
    CHECK(cudaGetDeviceProperties(&prop, 0));
    const int sms = prop.multiProcessorCount;
    const std::int64_t big = std::int64_t{1} << 30, small = std::int64_t{8} << 20;
    float* buf = nullptr;
    CHECK(cudaMalloc(&buf, big));
    CHECK(cudaMemset(buf, 0, big));
    std::printf("device %s, %d SMs; fp32 atomicAdd, payload bytes per second\n", prop.name, sms);
    struct Case {
        const char* name;
        std::int64_t bytes;
        int blocks, rounds;
    };
    const Case cases[] = {{"all SMs, 8 MiB (L2-resident)", small, 2 * sms, 64},
                          {"all SMs, 1 GiB", big, 2 * sms, 1},
                          // The backward's occupancy: one block of 8 warps per SM.
                          {"one block per SM, 8 MiB", small, sms, 32},
                          {"one SM, 8 MiB", small, 1, 4}};
    for (const Case& c : cases) {
        std::printf("%-32s fragment %8.1f GB/s   coalesced %8.1f GB/s   vector4 %8.1f GB/s\n", c.name,
                    rate<fragment>(buf, c.bytes, c.blocks, c.rounds) / 1e9,
                    rate<coalesced>(buf, c.bytes, c.blocks, c.rounds) / 1e9,
                    rate<vector4>(buf, c.bytes, c.blocks, c.rounds) / 1e9);
    }
    CHECK(cudaFree(buf));
    return 0;
}
