// Standard attention's own kernels (Algorithm 0, line 2, a framework's eager passes, and Algorithm 3,
// line 3: the softmax's backward), plus the input generator, each templated on the element type (fp16,
// bf16). The GEMMs are cuBLAS calls (runner.cu). Every kernel here is memory-bound: 16-byte loads and
// stores when rows allow it (N a multiple of 8), scalar otherwise.
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/dtype.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/ptx.cuh"

namespace tilesim::kernels::cuda {

namespace {

constexpr float kLog2e = 1.4426950408889634F;
constexpr int kSoftmaxThreads = 256;  // 8 warps, one row of S each
constexpr int kPassThreads = 256;

// 8 values of T (fp16 or bf16) in one 16-byte word.
template <class T>
__device__ __forceinline__ void unpack8(const uint4& raw, float (&x)[8]) {
    const std::uint32_t w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int e = 0; e < 4; ++e) {
        const float2 f = Elem<T>::unpack2(w[e]);
        x[2 * e] = f.x;
        x[2 * e + 1] = f.y;
    }
}

template <class T>
__device__ __forceinline__ uint4 pack8(const float (&x)[8]) {
    uint4 raw;
    raw.x = Elem<T>::pack2(x[0], x[1]);
    raw.y = Elem<T>::pack2(x[2], x[3]);
    raw.z = Elem<T>::pack2(x[4], x[5]);
    raw.w = Elem<T>::pack2(x[6], x[7]);
    return raw;
}

// Folds a chunk whose maximum is `chunk_max` into a running (m, l) of the online softmax, base 2.
__device__ __forceinline__ void fold_max(float& m, float& l, float chunk_max) {
    const float m_new = fmaxf(m, chunk_max);
    if (m_new != -INFINITY) l *= ptx::exp2_approx(m - m_new);  // m = -inf: l is 0 and stays 0
    m = m_new;
}

// Algorithm 0, line 2: P = softmax(S), one warp per row of S (B*H*N rows of N keys), fp32 math,
// numerically stable (exp of S - rowmax). This version serves rows too long for registers (and N not
// a multiple of 8). Pass 1 reads the row once and keeps an online (max, sum)
// per lane; the warp combines them; pass 2 reads the row again (it was just read, so it comes from
// L1/L2, not DRAM) and writes P. Keys past `visible` (causal) get probability 0.
template <class T, bool kVec>
__global__ void __launch_bounds__(kSoftmaxThreads)
    softmax_rows_kernel(const T* __restrict__ S, T* __restrict__ P, std::int64_t rows, int N,
                        float scale_log2e, bool causal) {
    const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * (kSoftmaxThreads / 32) +
                             static_cast<std::int64_t>(threadIdx.x / 32);
    if (row >= rows) return;
    const int lane = static_cast<int>(threadIdx.x % 32);
    const int visible = causal ? static_cast<int>(row % N) + 1 : N;  // keys [0, visible)
    const T* s = S + row * N;
    T* p = P + row * N;

    float m = -INFINITY, l = 0.0F;  // base-2 running max and sum of this lane's keys
    if constexpr (kVec) {
#pragma unroll 4
        for (int c = lane * 8; c < N; c += 32 * 8) {
            float x[8];
            unpack8<T>(*reinterpret_cast<const uint4*>(s + c), x);
            float cm = -INFINITY;
#pragma unroll
            for (int e = 0; e < 8; ++e) {
                x[e] = c + e < visible ? x[e] * scale_log2e : -INFINITY;
                cm = fmaxf(cm, x[e]);
            }
            fold_max(m, l, cm);
            if (m != -INFINITY) {
#pragma unroll
                for (int e = 0; e < 8; ++e) l += ptx::exp2_approx(x[e] - m);
            }
        }
    } else {
        for (int c = lane; c < N; c += 32) {
            const float x = c < visible ? Elem<T>::to_float(s[c]) * scale_log2e : -INFINITY;
            fold_max(m, l, x);
            if (m != -INFINITY) l += ptx::exp2_approx(x - m);
        }
    }
    // Combine the 32 lanes' (m, l): l = sum over lanes of l_k 2^(m_k - m).
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
        const float m_o = __shfl_xor_sync(0xffffffffU, m, off);
        const float l_o = __shfl_xor_sync(0xffffffffU, l, off);
        const float m_new = fmaxf(m, m_o);
        if (m_new != -INFINITY) {
            l = l * ptx::exp2_approx(m - m_new) + l_o * ptx::exp2_approx(m_o - m_new);
        }
        m = m_new;
    }
    const float inv_l = 1.0F / l;  // visible >= 1 key, so l >= 1

    if constexpr (kVec) {
#pragma unroll 4
        for (int c = lane * 8; c < N; c += 32 * 8) {
            float x[8];
            unpack8<T>(*reinterpret_cast<const uint4*>(s + c), x);
#pragma unroll
            for (int e = 0; e < 8; ++e) {
                x[e] = c + e < visible ? ptx::exp2_approx(fmaf(x[e], scale_log2e, -m)) * inv_l : 0.0F;
            }
            *reinterpret_cast<uint4*>(p + c) = pack8<T>(x);
        }
    } else {
        for (int c = lane; c < N; c += 32) {
            const float x =
                c < visible ? ptx::exp2_approx(fmaf(Elem<T>::to_float(s[c]), scale_log2e, -m)) * inv_l : 0.0F;
            p[c] = Elem<T>::from_float(x);
        }
    }
}

// Max or sum over the kRowThreads threads that share a row: a warp shuffle, then (rows spread over
// the whole block) through shared memory. Every thread of the block calls it when kRowThreads > 32.
template <int kRowThreads, bool kMax>
__device__ __forceinline__ float row_reduce(float v, float* red) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
        const float o = __shfl_xor_sync(0xffffffffU, v, off);
        v = kMax ? fmaxf(v, o) : v + o;
    }
    if constexpr (kRowThreads > 32) {
        constexpr int kWarps = kRowThreads / 32;
        __syncthreads();  // `red` may still be read by the previous reduction
        if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = v;
        __syncthreads();
        v = red[0];
#pragma unroll
        for (int w = 1; w < kWarps; ++w) v = kMax ? fmaxf(v, red[w]) : v + red[w];
    }
    return v;
}

// The same softmax with the row held in registers, for N a multiple of 8 up to kRowThreads * 8 kVecs
// keys: a warp per row up to 1024 keys, a whole block per row up to 16384. S is read exactly once, all
// of a thread's 16-byte loads are in flight together, and the row is walked three times in registers
// (max, sum of exp, write P) instead of twice in memory. Shapes measured on an H100 (docs/cuda.md): a
// warp per row at 2048 keys (8 vectors per lane) ran 1.3x slower than a block per row (1 per thread);
// at 16384 keys, 512 threads x 4 vectors ran 1.26x slower than 256 x 8.
template <class T, int kVecs, int kRowThreads,
          int kBlock = (kRowThreads > kSoftmaxThreads ? kRowThreads : kSoftmaxThreads)>
__global__ void __launch_bounds__(kBlock)
    softmax_rows_regs_kernel(const T* __restrict__ S, T* __restrict__ P, std::int64_t rows, int N,
                             float scale_log2e, bool causal) {
    static_assert(kRowThreads == 32 || kRowThreads == kBlock, "a row is one warp or the whole block");
    __shared__ float red[kBlock / 32];
    const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * (kBlock / kRowThreads) +
                             static_cast<std::int64_t>(threadIdx.x / kRowThreads);
    if constexpr (kRowThreads == 32) {
        if (row >= rows) return;  // whole warps only: no block-wide barrier below
    }
    const int tr = static_cast<int>(threadIdx.x % kRowThreads);  // thread within the row
    const int visible = causal ? static_cast<int>(row % N) + 1 : N;
    const T* s = S + row * N;
    T* p = P + row * N;

    uint4 raw[kVecs];  // vector v holds keys (v * kRowThreads + tr) * 8 .. + 7
#pragma unroll
    for (int v = 0; v < kVecs; ++v) {
        const int c = (v * kRowThreads + tr) * 8;
        raw[v] = c < N ? *reinterpret_cast<const uint4*>(s + c) : make_uint4(0, 0, 0, 0);
    }
    float m = -INFINITY;
#pragma unroll
    for (int v = 0; v < kVecs; ++v) {
        float x[8];
        unpack8<T>(raw[v], x);
        const int c = (v * kRowThreads + tr) * 8;
#pragma unroll
        for (int e = 0; e < 8; ++e) {
            if (c + e < visible) m = fmaxf(m, x[e] * scale_log2e);
        }
    }
    m = row_reduce<kRowThreads, true>(m, red);
    float l = 0.0F;
#pragma unroll
    for (int v = 0; v < kVecs; ++v) {
        float x[8];
        unpack8<T>(raw[v], x);
        const int c = (v * kRowThreads + tr) * 8;
#pragma unroll
        for (int e = 0; e < 8; ++e) {
            if (c + e < visible) l += ptx::exp2_approx(fmaf(x[e], scale_log2e, -m));
        }
    }
    l = row_reduce<kRowThreads, false>(l, red);
    const float inv_l = 1.0F / l;  // visible >= 1 key, so l >= 1
#pragma unroll
    for (int v = 0; v < kVecs; ++v) {
        const int c = (v * kRowThreads + tr) * 8;
        if (c < N) {
            float x[8];
            unpack8<T>(raw[v], x);
#pragma unroll
            for (int e = 0; e < 8; ++e) {
                x[e] = c + e < visible ? ptx::exp2_approx(fmaf(x[e], scale_log2e, -m)) * inv_l : 0.0F;
            }
            *reinterpret_cast<uint4*>(p + c) = pack8<T>(x);
        }
    }
}

// The element-wise passes an eager framework runs over S: each reads and writes all of S once.
// Scale: S = tau S. Mask: causal (keys > query) or, without causal, a key-padding mask with every key
// valid (as for a full batch): -inf where masked. Dropout with p = 0: S kept, still a full pass.
__device__ __forceinline__ float eager_op(detail::EagerPass pass, float x, int q, int key, float tau,
                                          bool causal) {
    switch (pass) {
        case detail::EagerPass::scale:
            return x * tau;
        case detail::EagerPass::mask:
            return causal && key > q ? -INFINITY : x;
        case detail::EagerPass::dropout:
            return x;
    }
    return x;
}

template <class T, detail::EagerPass kPass, bool kVec>
__global__ void __launch_bounds__(kPassThreads)
    eager_pass_kernel(T* __restrict__ S, std::int64_t count, int N, float tau, bool causal) {
    const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * kPassThreads;
    const std::int64_t step = kVec ? 8 : 1;
    for (std::int64_t k = static_cast<std::int64_t>(blockIdx.x) * kPassThreads + threadIdx.x;
         k * step < count; k += stride) {
        const std::int64_t idx = k * step;  // element index in [B*H, N, N]
        const int key = static_cast<int>(idx % N);
        const int q = static_cast<int>((idx / N) % N);
        if constexpr (kVec) {
            float x[8];
            unpack8<T>(*reinterpret_cast<const uint4*>(S + idx), x);
#pragma unroll
            for (int e = 0; e < 8; ++e) x[e] = eager_op(kPass, x[e], q, key + e, tau, causal);
            *reinterpret_cast<uint4*>(S + idx) = pack8<T>(x);
        } else {
            S[idx] = Elem<T>::from_float(eager_op(kPass, Elem<T>::to_float(S[idx]), q, key, tau, causal));
        }
    }
}

__device__ __forceinline__ std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

// Normal(0, 1) by Box-Muller from two 24-bit uniforms of one hash; u1 in (0, 1] keeps log finite.
template <class T>
__global__ void fill_normal_kernel(T* x, std::int64_t count, std::uint64_t seed) {
    const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
    for (std::int64_t k = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < count;
         k += stride) {
        const std::uint64_t h = splitmix64(seed * 0xD1B54A32D192ED03ULL + static_cast<std::uint64_t>(k));
        const float u1 = (static_cast<float>(h >> 40) + 1.0F) * 0x1p-24F;
        const float u2 = static_cast<float>((h >> 16) & 0xFFFFFFULL) * 0x1p-24F;
        x[k] = Elem<T>::from_float(sqrtf(-2.0F * logf(u1)) * cospif(2.0F * u2));
    }
}

template <class T>
__global__ void fill_nan_kernel(T* x, std::int64_t count) {
    const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
    for (std::int64_t k = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < count;
         k += stride) {
        x[k] = Elem<T>::nan();  // quiet NaN
    }
}

// Algorithm 3, line 3 (the softmax's backward): dS = P o (dP - rowsum(P o dP)), row by row, fp32
// arithmetic; dS overwrites dP (both are materialised, as the algorithm has them: dP is written by the
// GEMM before, dS read by the two GEMMs after). A warp per row; rows of up to 32 * 8 * kVecs keys
// (N a multiple of 8) are held in registers, so P and dP are read once; otherwise (kVecs = 0) two
// passes, the second read from the L1/L2.
template <class T, int kVecs, bool kVec>
__global__ void __launch_bounds__(kSoftmaxThreads)
    dsoftmax_rows_kernel(const T* __restrict__ P, T* __restrict__ dP, std::int64_t rows, int N) {
    const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * (kSoftmaxThreads / 32) +
                             static_cast<std::int64_t>(threadIdx.x / 32);
    if (row >= rows) return;
    const int lane = static_cast<int>(threadIdx.x % 32);
    const T* p = P + row * N;
    T* dp = dP + row * N;
    float D = 0.0F;  // rowsum(P o dP)
    if constexpr (kVecs > 0) {
        uint4 rp[kVecs], rd[kVecs];
#pragma unroll
        for (int v = 0; v < kVecs; ++v) {
            const int c = (v * 32 + lane) * 8;
            rp[v] = c < N ? *reinterpret_cast<const uint4*>(p + c) : make_uint4(0, 0, 0, 0);
            rd[v] = c < N ? *reinterpret_cast<const uint4*>(dp + c) : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int v = 0; v < kVecs; ++v) {
            float a[8], b[8];
            unpack8<T>(rp[v], a);
            unpack8<T>(rd[v], b);
#pragma unroll
            for (int e = 0; e < 8; ++e) D = fmaf(a[e], b[e], D);
        }
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) D += __shfl_xor_sync(0xffffffffU, D, off);
#pragma unroll
        for (int v = 0; v < kVecs; ++v) {
            const int c = (v * 32 + lane) * 8;
            if (c < N) {
                float a[8], b[8];
                unpack8<T>(rp[v], a);
                unpack8<T>(rd[v], b);
#pragma unroll
                for (int e = 0; e < 8; ++e) b[e] = a[e] * (b[e] - D);
                *reinterpret_cast<uint4*>(dp + c) = pack8<T>(b);
            }
        }
    } else if constexpr (kVec) {
        for (int c = lane * 8; c < N; c += 32 * 8) {
            float a[8], b[8];
            unpack8<T>(*reinterpret_cast<const uint4*>(p + c), a);
            unpack8<T>(*reinterpret_cast<const uint4*>(dp + c), b);
#pragma unroll
            for (int e = 0; e < 8; ++e) D = fmaf(a[e], b[e], D);
        }
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) D += __shfl_xor_sync(0xffffffffU, D, off);
        for (int c = lane * 8; c < N; c += 32 * 8) {
            float a[8], b[8];
            unpack8<T>(*reinterpret_cast<const uint4*>(p + c), a);
            unpack8<T>(*reinterpret_cast<const uint4*>(dp + c), b);
#pragma unroll
            for (int e = 0; e < 8; ++e) b[e] = a[e] * (b[e] - D);
            *reinterpret_cast<uint4*>(dp + c) = pack8<T>(b);
        }
    } else {
        for (int c = lane; c < N; c += 32) D = fmaf(Elem<T>::to_float(p[c]), Elem<T>::to_float(dp[c]), D);
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) D += __shfl_xor_sync(0xffffffffU, D, off);
        for (int c = lane; c < N; c += 32) {
            const float a = Elem<T>::to_float(p[c]);
            dp[c] = Elem<T>::from_float(a * (Elem<T>::to_float(dp[c]) - D));
        }
    }
}

unsigned grid_for(std::int64_t items, int threads) {
    const std::int64_t blocks = (items + threads - 1) / threads;
    return static_cast<unsigned>(blocks < 65536 * 16 ? (blocks > 0 ? blocks : 1) : 65536 * 16);
}

template <class T, detail::EagerPass kPass>
void launch_pass(T* S, std::int64_t count, int N, float tau, bool causal, cudaStream_t stream) {
    if (N % 8 == 0) {
        eager_pass_kernel<T, kPass, true>
            <<<grid_for(count / 8, kPassThreads), kPassThreads, 0, stream>>>(S, count, N, tau, causal);
    } else {
        eager_pass_kernel<T, kPass, false>
            <<<grid_for(count, kPassThreads), kPassThreads, 0, stream>>>(S, count, N, tau, causal);
    }
    TILESIM_CUDA_CHECK_LAUNCH();
}

template <class T>
void eager_pass_t(detail::EagerPass pass, void* S_, std::int64_t bh, std::int64_t N, float tau, bool causal,
                  cudaStream_t stream) {
    T* S = static_cast<T*>(S_);
    const std::int64_t count = bh * N * N;
    const int n = static_cast<int>(N);
    switch (pass) {
        case detail::EagerPass::scale:
            launch_pass<T, detail::EagerPass::scale>(S, count, n, tau, causal, stream);
            break;
        case detail::EagerPass::mask:
            launch_pass<T, detail::EagerPass::mask>(S, count, n, tau, causal, stream);
            break;
        case detail::EagerPass::dropout:
            launch_pass<T, detail::EagerPass::dropout>(S, count, n, tau, causal, stream);
            break;
    }
}

template <class T>
void softmax_t(const void* S_, void* P_, std::int64_t bh, std::int64_t N, float scale, bool causal,
               cudaStream_t stream) {
    const T* S = static_cast<const T*>(S_);
    T* P = static_cast<T*>(P_);
    const std::int64_t rows = bh * N;
    const std::int64_t blocks = (rows + kSoftmaxThreads / 32 - 1) / (kSoftmaxThreads / 32);
    if (blocks >= (std::int64_t{1} << 31)) throw CudaError("softmax: too many rows");
    const float scale_log2e = scale * kLog2e;
    // Rows held in registers up to 16384 keys (a warp per row up to 1024, a block per row above):
    // one read of S. Longer rows: the two-pass kernel, whose second read may come from DRAM again.
    auto regs = [&](auto vecs, auto row_threads) {
        constexpr int kVecs = decltype(vecs)::value, kRowThreads = decltype(row_threads)::value;
        constexpr int kBlock = kRowThreads > kSoftmaxThreads ? kRowThreads : kSoftmaxThreads;
        constexpr int kRowsPerBlock = kBlock / kRowThreads;
        const auto grid = static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
        softmax_rows_regs_kernel<T, kVecs, kRowThreads>
            <<<grid, kBlock, 0, stream>>>(S, P, rows, static_cast<int>(N), scale_log2e, causal);
    };
    using I1 = std::integral_constant<int, 1>;
    using I2 = std::integral_constant<int, 2>;
    using I4 = std::integral_constant<int, 4>;
    using Warp = std::integral_constant<int, 32>;
    using Block = std::integral_constant<int, kSoftmaxThreads>;
    if (N % 8 == 0 && N <= 256) {
        regs(I1{}, Warp{});
    } else if (N % 8 == 0 && N <= 512) {
        regs(I2{}, Warp{});
    } else if (N % 8 == 0 && N <= 1024) {
        regs(I4{}, Warp{});
    } else if (N % 8 == 0 && N <= 2048) {
        regs(I1{}, Block{});
    } else if (N % 8 == 0 && N <= 4096) {
        regs(I2{}, Block{});
    } else if (N % 8 == 0 && N <= 8192) {
        regs(I4{}, Block{});
    } else if (N % 8 == 0 && N <= 16384) {
        regs(std::integral_constant<int, 8>{}, Block{});  // 4 x 512 threads measured 1.26x slower
    } else if (N % 8 == 0) {
        softmax_rows_kernel<T, true><<<static_cast<unsigned>(blocks), kSoftmaxThreads, 0, stream>>>(
            S, P, rows, static_cast<int>(N), scale_log2e, causal);
    } else {
        softmax_rows_kernel<T, false><<<static_cast<unsigned>(blocks), kSoftmaxThreads, 0, stream>>>(
            S, P, rows, static_cast<int>(N), scale_log2e, causal);
    }
    TILESIM_CUDA_CHECK_LAUNCH();
}

template <class T>
void dsoftmax_t(const void* P_, void* dP_, std::int64_t bh, std::int64_t N, cudaStream_t stream) {
    const T* P = static_cast<const T*>(P_);
    T* dP = static_cast<T*>(dP_);
    const std::int64_t rows = bh * N;
    const std::int64_t blocks = (rows + kSoftmaxThreads / 32 - 1) / (kSoftmaxThreads / 32);
    if (blocks >= (std::int64_t{1} << 31)) throw CudaError("dS: too many rows");
    const auto grid = static_cast<unsigned>(blocks);
    const int n = static_cast<int>(N);
    if (N % 8 == 0 && N <= 256) {
        dsoftmax_rows_kernel<T, 1, true><<<grid, kSoftmaxThreads, 0, stream>>>(P, dP, rows, n);
    } else if (N % 8 == 0 && N <= 512) {
        dsoftmax_rows_kernel<T, 2, true><<<grid, kSoftmaxThreads, 0, stream>>>(P, dP, rows, n);
    } else if (N % 8 == 0 && N <= 1024) {
        dsoftmax_rows_kernel<T, 4, true><<<grid, kSoftmaxThreads, 0, stream>>>(P, dP, rows, n);
    } else if (N % 8 == 0) {
        dsoftmax_rows_kernel<T, 0, true><<<grid, kSoftmaxThreads, 0, stream>>>(P, dP, rows, n);
    } else {
        dsoftmax_rows_kernel<T, 0, false><<<grid, kSoftmaxThreads, 0, stream>>>(P, dP, rows, n);
    }
    TILESIM_CUDA_CHECK_LAUNCH();
}

}  // namespace

namespace detail {

void launch_eager_pass(EagerPass pass, sim::Dtype dtype, void* S, std::int64_t bh, std::int64_t N, float tau,
                       bool causal, cudaStream_t stream) {
    (dtype == sim::Dtype::bf16 ? eager_pass_t<__nv_bfloat16> : eager_pass_t<__half>)(pass, S, bh, N, tau,
                                                                                      causal, stream);
}

void launch_softmax(sim::Dtype dtype, const void* S, void* P, std::int64_t bh, std::int64_t N, float scale,
                    bool causal, cudaStream_t stream) {
    (dtype == sim::Dtype::bf16 ? softmax_t<__nv_bfloat16> : softmax_t<__half>)(S, P, bh, N, scale, causal,
                                                                                stream);
}

void launch_dsoftmax(sim::Dtype dtype, const void* P, void* dP, std::int64_t bh, std::int64_t N,
                     cudaStream_t stream) {
    (dtype == sim::Dtype::bf16 ? dsoftmax_t<__nv_bfloat16> : dsoftmax_t<__half>)(P, dP, bh, N, stream);
}

void launch_fill_normal(sim::Dtype dtype, void* x, std::int64_t count, std::uint64_t seed, cudaStream_t stream) {
    if (dtype == sim::Dtype::bf16) {
        fill_normal_kernel<<<grid_for(count, 256), 256, 0, stream>>>(static_cast<__nv_bfloat16*>(x), count, seed);
    } else {
        fill_normal_kernel<<<grid_for(count, 256), 256, 0, stream>>>(static_cast<__half*>(x), count, seed);
    }
    TILESIM_CUDA_CHECK_LAUNCH();
}

void launch_fill_nan(sim::Dtype dtype, void* x, std::int64_t count, cudaStream_t stream) {
    if (dtype == sim::Dtype::bf16) {
        fill_nan_kernel<<<grid_for(count, 256), 256, 0, stream>>>(static_cast<__nv_bfloat16*>(x), count);
    } else {
        fill_nan_kernel<<<grid_for(count, 256), 256, 0, stream>>>(static_cast<__half*>(x), count);
    }
    TILESIM_CUDA_CHECK_LAUNCH();
}

}  // namespace detail
}  // namespace tilesim::kernels::cuda
