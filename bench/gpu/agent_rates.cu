// Measures the per-agent rates the timeline's presets use (docs/timeline.md), on the GPU it runs on:
// the SM clock under load, mma.sync fp16 throughput, exp (MUFU.EX2) throughput, the latency of a load
// that hits the L2 and of one that goes to DRAM, one SM's read bandwidth from the L2, all SMs' read
// bandwidth from the L2 and from DRAM. A standalone program (no tilesim code), built and run by hand:
//
//   nvcc -O3 -arch=sm_90 -o agent_rates bench/gpu/agent_rates.cu && ./agent_rates
//
// Each figure is the best of 5 timed runs after a warm-up, timed with CUDA events.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

#include "bench/gpu/check.h"

// 8 independent m16n8k16 fp16 MMAs per iteration per warp, fp32 accumulate: 8 x 4096 FLOPs.
__global__ void mma_kernel(float* out, int iters) {
    unsigned a0 = threadIdx.x, a1 = a0 * 3u, a2 = a0 * 5u, a3 = a0 * 7u, b0 = a0 * 11u, b1 = a0 * 13u;
    float c[8][4] = {};
    for (int i = 0; i < iters; ++i) {
#pragma unroll
        for (int k = 0; k < 8; ++k) {
            asm volatile(
                "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                "{%0,%1,%2,%3};\n"
                : "+f"(c[k][0]), "+f"(c[k][1]), "+f"(c[k][2]), "+f"(c[k][3])
                : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
        }
    }
    float s = 0;
    for (int k = 0; k < 8; ++k) s += c[k][0] + c[k][1] + c[k][2] + c[k][3];
    if (s == 12345.f) out[threadIdx.x] = s;
}

// 8 independent chains of ex2.approx per thread per iteration.
__global__ void exp_kernel(float* out, int iters) {
    float x[8];
    for (int k = 0; k < 8; ++k) x[k] = -1.0f - 0.001f * (threadIdx.x + k);
    for (int i = 0; i < iters; ++i) {
#pragma unroll
        for (int k = 0; k < 8; ++k) asm volatile("ex2.approx.ftz.f32 %0, %0;" : "+f"(x[k]));
    }
    float s = 0;
    for (int k = 0; k < 8; ++k) s += x[k];
    if (s == 12345.f) out[threadIdx.x] = s;
}

// One thread follows a chain of indices: each load waits for the one before.
__global__ void chase_kernel(const unsigned* next, int steps, unsigned* out) {
    unsigned p = 0;
    for (int i = 0; i < steps; ++i) p = next[p];
    out[0] = p;
}

// Every thread reads float4s of [0, n) in a grid-stride loop, `reps` times.
__global__ void read_kernel(const float4* in, std::size_t n, int reps, float* out) {
    float acc = 0;
    for (int r = 0; r < reps; ++r) {
        for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += std::size_t(gridDim.x) * blockDim.x) {
            const float4 v = in[i];
            acc += v.x + v.y + v.z + v.w;
        }
    }
    if (acc == 12345.f) out[0] = acc;
}

// SM cycles against nanoseconds over a busy loop: the clock under load.
__global__ void clock_kernel(unsigned long long* cycles, unsigned long long* ns, int iters) {
    unsigned long long t0, t1;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
    const long long c0 = clock64();
    float x = threadIdx.x;
    for (int i = 0; i < iters; ++i) x = x * 1.0000001f + 0.5f;
    const long long c1 = clock64();
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t1));
    if (threadIdx.x == 0 && blockIdx.x == 0) {
        cycles[0] = static_cast<unsigned long long>(c1 - c0);
        ns[0] = t1 - t0;
    }
    if (x == 12345.f) cycles[1] = 1;
}

template <class F>
float best_ms(F launch) {
    cudaEvent_t a, b;
    CHECK(cudaEventCreate(&a));
    CHECK(cudaEventCreate(&b));
    launch();  // warm-up
    CHECK(cudaDeviceSynchronize());
    float best = 1e30f;
    for (int k = 0; k < 5; ++k) {
        CHECK(cudaEventRecord(a));
        launch();
        CHECK(cudaEventRecord(b));
        CHECK(cudaEventSynchronize(b));
        float ms = 0;
        CHECK(cudaEventElapsedTime(&ms, a, b));
        best = std::min(best, ms);
    }
    CHECK(cudaGetLastError());
    return best;
}

// A random cycle over `lines` cache lines (128 B apart), as indices into an array of unsigned.
std::vector<unsigned> chain(std::size_t lines) {
    const std::size_t stride = 128 / sizeof(unsigned);
    std::vector<std::size_t> order(lines);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin() + 1, order.end(), std::mt19937_64(1));
    std::vector<unsigned> next(lines * stride, 0);
    for (std::size_t k = 0; k < lines; ++k) {
        next[order[k] * stride] = static_cast<unsigned>(order[(k + 1) % lines] * stride);
    }
    return next;
}

int main() {
    cudaDeviceProp prop{};
    CHECK(cudaGetDeviceProperties(&prop, 0));
    const int sms = prop.multiProcessorCount;
    std::printf("device %s, %d SMs, L2 %d MiB\n", prop.name, sms, prop.l2CacheSize >> 20);
    float* out = nullptr;
    CHECK(cudaMalloc(&out, 1 << 20));

    unsigned long long *cyc = nullptr, *ns = nullptr;
    CHECK(cudaMalloc(&cyc, 16));
    CHECK(cudaMalloc(&ns, 8));
    // The clock while every SM runs FP32 work, and then while they run mma.sync (the clock can drop).
    clock_kernel<<<sms * 4, 256>>>(cyc, ns, 1 << 22);
    CHECK(cudaDeviceSynchronize());
    unsigned long long hc = 0, hn = 0;
    CHECK(cudaMemcpy(&hc, cyc, 8, cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(&hn, ns, 8, cudaMemcpyDeviceToHost));
    const double ghz = static_cast<double>(hc) / static_cast<double>(hn);
    std::printf("sm_clock_ghz %.3f\n", ghz);

    int iters = 1 << 11;
    for (int warps : {4, 8}) {
        const int blocks = sms * 2;
        const float ms = best_ms([&] { mma_kernel<<<blocks, warps * 32>>>(out, iters); });
        const double flops = double(blocks) * warps * iters * 8 * 4096.0;
        std::printf("mma_sync_fp16_tflops %.1f (2 blocks/SM x %d warps)\n", flops / (ms * 1e-3) / 1e12, warps);
    }
    iters = 1 << 14;
    {
        const int blocks = sms * 4, threads = 256;
        const float ms = best_ms([&] { exp_kernel<<<blocks, threads>>>(out, iters); });
        const double ops = double(blocks) * threads * iters * 8;
        std::printf("ex2_tops %.3f (%.2f per clock per SM at %.3f GHz)\n", ops / (ms * 1e-3) / 1e12,
                    ops / (ms * 1e-3) / (ghz * 1e9) / sms, ghz);
    }
    for (std::size_t bytes : {std::size_t(4) << 20, std::size_t(1) << 30}) {
        const std::vector<unsigned> h = chain(bytes / 128);
        unsigned* d = nullptr;
        CHECK(cudaMalloc(&d, h.size() * sizeof(unsigned)));
        CHECK(cudaMemcpy(d, h.data(), h.size() * sizeof(unsigned), cudaMemcpyHostToDevice));
        const int steps = 1 << 16;
        const float ms = best_ms([&] { chase_kernel<<<1, 1>>>(d, steps, reinterpret_cast<unsigned*>(out)); });
        const double lat_ns = ms * 1e6 / steps;
        std::printf("load_latency_ns %.0f (%.0f clocks) over %zu MiB\n", lat_ns, lat_ns * ghz, bytes >> 20);
        CHECK(cudaFree(d));
    }
    {
        // One SM reading 2 MiB that stays in the L2; then every SM reading 24 MiB from the L2.
        const std::size_t n1 = (std::size_t(2) << 20) / 16, n2 = (std::size_t(24) << 20) / 16;
        float4* buf = nullptr;
        CHECK(cudaMalloc(&buf, n2 * 16));
        CHECK(cudaMemset(buf, 0, n2 * 16));
        const int reps = 20;
        float ms = best_ms([&] { read_kernel<<<1, 1024>>>(buf, n1, reps, out); });
        std::printf("one_sm_l2_read_gbps %.1f (%.1f B per clock)\n", double(n1) * 16 * reps / (ms * 1e-3) / 1e9,
                    double(n1) * 16 * reps / (ms * 1e-3) / (ghz * 1e9));
        ms = best_ms([&] { read_kernel<<<sms * 4, 1024>>>(buf, n2, reps, out); });
        std::printf("all_sm_l2_read_tbps %.2f\n", double(n2) * 16 * reps / (ms * 1e-3) / 1e12);
        CHECK(cudaFree(buf));
    }
    {
        const std::size_t n = (std::size_t(4) << 30) / 16;
        float4* buf = nullptr;
        CHECK(cudaMalloc(&buf, n * 16));
        CHECK(cudaMemset(buf, 0, n * 16));
        float ms = best_ms([&] { read_kernel<<<sms * 8, 1024>>>(buf, n, 1, out); });
        std::printf("dram_read_tbps %.3f\n", double(n) * 16 / (ms * 1e-3) / 1e12);
        float4* dst = nullptr;
        CHECK(cudaMalloc(&dst, n * 16 / 2));
        ms = best_ms([&] { CHECK(cudaMemcpyAsync(dst, buf, n * 16 / 2, cudaMemcpyDeviceToDevice)); });
        std::printf("dram_copy_tbps %.3f (read + write)\n", double(n) * 16 / (ms * 1e-3) / 1e12);
        CHECK(cudaFree(dst));
        CHECK(cudaFree(buf));
    }
    return 0;
}
