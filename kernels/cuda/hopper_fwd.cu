// The Hopper forward progression (sm_90a only: this file is compiled with
// -gencode=arch=compute_90a,code=sm_90a and nothing else): instantiations of steps (b)-(e), the TMA
// tensor maps, and the launcher.
#include <cudaTypedefs.h>

#include <cmath>
#include <mutex>
#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/hopper_fwd_1_tma_wgmma.cuh"
#include "kernels/cuda/hopper_fwd_3_pingpong.cuh"
#include "kernels/cuda/hopper_fwd_4_intrawg.cuh"
#include "kernels/cuda/hopper_fwd_5_fp8.cuh"
#include "kernels/cuda/hopper_host.cuh"
#include "kernels/cuda/launch.cuh"

namespace tilesim::kernels::cuda {

const char* hopper_kernel_name(HopperKernel k) {
    switch (k) {
        case HopperKernel::tma_wgmma:
            return "(b) tma+wgmma";
        case HopperKernel::warpspec:
            return "(c) warp-specialised";
        case HopperKernel::pingpong:
            return "(d) ping-pong";
        case HopperKernel::intrawg:
            return "(e) intra-wg pipelined";
        case HopperKernel::fp8:
            return "(f) fp8 e4m3";
    }
    return "?";
}

std::vector<HopperKernel> hopper_kernels() {
    return {HopperKernel::tma_wgmma, HopperKernel::warpspec, HopperKernel::pingpong, HopperKernel::intrawg,
            HopperKernel::fp8};
}

bool hopper_supports(HopperKernel k, std::int64_t d) {
    return k == HopperKernel::fp8 ? d == 128 : (d == 64 || d == 128);
}

namespace detail {

namespace {
PFN_cuTensorMapEncodeTiled_v12000 encoder() {
    static PFN_cuTensorMapEncodeTiled_v12000 encode = nullptr;
    static std::once_flag once;
    std::call_once(once, [] {
        void* fn = nullptr;
        cudaDriverEntryPointQueryResult q{};
        const cudaError_t e = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000,
                                                               cudaEnableDefault, &q);
        if (e == cudaSuccess && q == cudaDriverEntryPointSuccess) {
            encode = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
        }
    });
    if (encode == nullptr) throw CudaError("cuTensorMapEncodeTiled is not available from the driver");
    return encode;
}

// [heads, rows, cols] of `elem` bytes each, box (128 bytes of columns) x box_rows x 1, 128B swizzle.
CUtensorMap encode_3d(const void* base, CUtensorMapDataType type, int elem, std::int64_t heads, std::int64_t rows,
                      std::int64_t cols, int box_rows) {
    CUtensorMap map{};
    const cuuint64_t dims[3] = {static_cast<cuuint64_t>(cols), static_cast<cuuint64_t>(rows),
                                static_cast<cuuint64_t>(heads)};
    const cuuint64_t strides[2] = {static_cast<cuuint64_t>(cols * elem), static_cast<cuuint64_t>(rows * cols * elem)};
    const cuuint32_t box[3] = {static_cast<cuuint32_t>(128 / elem), static_cast<cuuint32_t>(box_rows), 1};
    const cuuint32_t elem_strides[3] = {1, 1, 1};
    const CUresult r = encoder()(&map, type, 3, const_cast<void*>(base), dims, strides, box, elem_strides,
                                 CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                 CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) {
        throw CudaError("cuTensorMapEncodeTiled failed with CUresult " + std::to_string(static_cast<int>(r)) +
                        " (rows " + std::to_string(rows) + ", cols " + std::to_string(cols) + ")");
    }
    return map;
}
}  // namespace

CUtensorMap make_tensor_map(const void* base, sim::Dtype dtype, std::int64_t heads, std::int64_t rows,
                            std::int64_t d, int box_rows) {
    return encode_3d(base,
                     dtype == sim::Dtype::bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
                     2, heads, rows, d, box_rows);
}

CUtensorMap make_tensor_map_u8(const void* base, std::int64_t heads, std::int64_t rows, std::int64_t cols,
                               int box_rows) {
    return encode_3d(base, CU_TENSOR_MAP_DATA_TYPE_UINT8, 1, heads, rows, cols, box_rows);
}

}  // namespace detail

namespace {

using Fn = void (*)(const CUtensorMap&, const CUtensorMap&, const CUtensorMap&, void*, float*, int, int, float,
                    cudaStream_t);

template <class T, int d, bool kCausal, int kStep>
void launch_step(const CUtensorMap& q, const CUtensorMap& k, const CUtensorMap& v, void* O, float* L, int bh,
                 int N, float tau, cudaStream_t stream) {
    using namespace hopper;
    const dim3 grid(static_cast<unsigned>((N + B_r - 1) / B_r), static_cast<unsigned>(bh));
    auto go = [&](auto* kernel, int threads, int smem) {
        TILESIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
        kernel<<<grid, threads, smem, stream>>>(q, k, v, static_cast<T*>(O), L, N, tau);
        TILESIM_CUDA_CHECK_LAUNCH();
    };
    if constexpr (kStep == 0) {
        go(hopper_fwd_tma_wgmma_kernel<T, d, kCausal>, Step1<d>::kThreads, Step1<d>::kSmemBytes);
    } else if constexpr (kStep == 1) {
        go(hopper_fwd_warpspec_kernel<T, d, kCausal>, Step2<d>::kThreads, Step2<d>::kSmemBytes);
    } else if constexpr (kStep == 2) {
        go(hopper_fwd_pingpong_kernel<T, d, kCausal>, Step2<d>::kThreads, Step2<d>::kSmemBytes);
    } else {
        go(hopper_fwd_intrawg_kernel<T, d, kCausal>, Step2<d>::kThreads, Step2<d>::kSmemBytes);
    }
}

// [step][d == 128][bf16][causal]
template <int kStep>
constexpr Fn pick(bool d128, bool bf16, bool causal) {
    if (d128) {
        if (bf16) return causal ? &launch_step<__nv_bfloat16, 128, true, kStep> : &launch_step<__nv_bfloat16, 128, false, kStep>;
        return causal ? &launch_step<__half, 128, true, kStep> : &launch_step<__half, 128, false, kStep>;
    }
    if (bf16) return causal ? &launch_step<__nv_bfloat16, 64, true, kStep> : &launch_step<__nv_bfloat16, 64, false, kStep>;
    return causal ? &launch_step<__half, 64, true, kStep> : &launch_step<__half, 64, false, kStep>;
}

}  // namespace

namespace {

// The fp8 copies of Q, K, V^T and their block scales, kept for the last problem launched.
struct Fp8Scratch {
    const void *Q = nullptr, *K = nullptr, *V = nullptr;
    std::int64_t bh = 0, N = 0;
    std::uint8_t *Q8 = nullptr, *K8 = nullptr, *Vt8 = nullptr;
    float *sQ = nullptr, *sK = nullptr, *sV = nullptr, *sVmax = nullptr;
    std::int64_t N_pad = 0;
    CUtensorMap tq{}, tk{}, tv{};
    void release() {
        for (void* p : {static_cast<void*>(Q8), static_cast<void*>(K8), static_cast<void*>(Vt8),
                        static_cast<void*>(sQ), static_cast<void*>(sK), static_cast<void*>(sV),
                        static_cast<void*>(sVmax)}) {
            if (p != nullptr) cudaFree(p);
        }
        Q8 = K8 = Vt8 = nullptr;
        sQ = sK = sV = sVmax = nullptr;
    }
};
Fp8Scratch& fp8_scratch() {
    static Fp8Scratch s;
    return s;
}

Fp8Scratch& fp8_prepare(const void* Q, const void* K, const void* V, std::int64_t bh, std::int64_t N) {
    Fp8Scratch& f = fp8_scratch();
    if (f.Q == Q && f.K == K && f.V == V && f.bh == bh && f.N == N && f.Q8 != nullptr) return f;
    f.release();
    const std::int64_t d = 128, blocks = (N + 127) / 128;
    if (blocks > hopper::kMaxKvBlocks) throw CudaError("the fp8 kernel supports N <= 131072");
    f.N_pad = blocks * 128;
    auto alloc = [](std::size_t bytes) {
        void* p = nullptr;
        TILESIM_CUDA_CHECK(cudaMalloc(&p, bytes));
        return p;
    };
    f.Q8 = static_cast<std::uint8_t*>(alloc(static_cast<std::size_t>(bh * N * d)));
    f.K8 = static_cast<std::uint8_t*>(alloc(static_cast<std::size_t>(bh * N * d)));
    f.Vt8 = static_cast<std::uint8_t*>(alloc(static_cast<std::size_t>(bh * d * f.N_pad)));
    f.sQ = static_cast<float*>(alloc(static_cast<std::size_t>(bh * blocks) * 4));
    f.sK = static_cast<float*>(alloc(static_cast<std::size_t>(bh * blocks) * 4));
    f.sV = static_cast<float*>(alloc(static_cast<std::size_t>(bh * blocks) * 4));
    f.sVmax = static_cast<float*>(alloc(static_cast<std::size_t>(bh) * 4));
    f.tq = detail::make_tensor_map_u8(f.Q8, bh, N, d, hopper::B_r);
    f.tk = detail::make_tensor_map_u8(f.K8, bh, N, d, hopper::B_c);
    f.tv = detail::make_tensor_map_u8(f.Vt8, bh, d, f.N_pad, 128);  // V^T: rows = d, columns = keys
    f.Q = Q;
    f.K = K;
    f.V = V;
    f.bh = bh;
    f.N = N;
    return f;
}

}  // namespace

namespace detail {

void launch_hopper_fp8_quantize(sim::Dtype dtype, const void* Q, const void* K, const void* V, std::int64_t bh,
                                std::int64_t N, std::int64_t d, cudaStream_t stream) {
    if (d != 128) throw CudaError("the fp8 kernel (f) is compiled for d = 128 only");
    if (bh > 65535) throw CudaError("batch * heads exceeds the grid's 65535 limit");
    Fp8Scratch& f = fp8_prepare(Q, K, V, bh, N);
    TILESIM_CUDA_CHECK(cudaMemsetAsync(f.sVmax, 0, static_cast<std::size_t>(bh) * 4, stream));
    const dim3 grid(static_cast<unsigned>((N + 127) / 128), static_cast<unsigned>(bh), 3);
    if (dtype == sim::Dtype::bf16) {
        hopper::fp8_quantize_kernel<__nv_bfloat16, 128><<<grid, 256, 0, stream>>>(
            static_cast<const __nv_bfloat16*>(Q), static_cast<const __nv_bfloat16*>(K),
            static_cast<const __nv_bfloat16*>(V), f.Q8, f.K8, f.Vt8, f.sQ, f.sK, f.sV, f.sVmax, static_cast<int>(N),
            static_cast<int>(f.N_pad));
    } else {
        hopper::fp8_quantize_kernel<__half, 128><<<grid, 256, 0, stream>>>(
            static_cast<const __half*>(Q), static_cast<const __half*>(K), static_cast<const __half*>(V), f.Q8, f.K8,
            f.Vt8, f.sQ, f.sK, f.sV, f.sVmax, static_cast<int>(N), static_cast<int>(f.N_pad));
    }
    TILESIM_CUDA_CHECK_LAUNCH();
}

namespace {
template <class T, bool kCausal>
void launch_fp8_kernel(const Fp8Scratch& f, void* O, float* L, int bh, int N, float tau, cudaStream_t stream) {
    auto* kernel = hopper::hopper_fwd_fp8_kernel<T, kCausal>;
    constexpr int kSmem = hopper::Step5::kSmemBytes;
    TILESIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem));
    const dim3 grid(static_cast<unsigned>((N + hopper::B_r - 1) / hopper::B_r), static_cast<unsigned>(bh));
    const hopper::Fp8Scales sc{f.sQ, f.sK, f.sV, f.sVmax};
    kernel<<<grid, hopper::Step5::kThreads, kSmem, stream>>>(f.tq, f.tk, f.tv, sc, static_cast<T*>(O), L, N, tau);
    TILESIM_CUDA_CHECK_LAUNCH();
}
}  // namespace

void launch_hopper(HopperKernel k, bool causal, sim::Dtype dtype, const void* Q, const void* K, const void* V,
                   void* O, float* L, std::int64_t bh, std::int64_t N, std::int64_t d, cudaStream_t stream) {
    if (d != 64 && d != 128) throw CudaError("the Hopper kernels are compiled for d = 64 and 128");
    if (bh > 65535) throw CudaError("batch * heads exceeds the grid's 65535 limit");
    (void)dtype_index(dtype);
    const float tau = 1.0F / std::sqrt(static_cast<float>(d));
    if (k == HopperKernel::fp8) {
        // Uses the fp8 copies launch_hopper_fp8_quantize made of these Q, K, V.
        const Fp8Scratch& f = fp8_scratch();
        if (f.Q != Q || f.K != K || f.V != V || f.bh != bh || f.N != N || f.Q8 == nullptr) {
            throw CudaError("launch_hopper(fp8): run launch_hopper_fp8_quantize on these tensors first");
        }
        const bool bf = dtype == sim::Dtype::bf16;
        auto fn = bf ? (causal ? launch_fp8_kernel<__nv_bfloat16, true> : launch_fp8_kernel<__nv_bfloat16, false>)
                     : (causal ? launch_fp8_kernel<__half, true> : launch_fp8_kernel<__half, false>);
        fn(f, O, L, static_cast<int>(bh), static_cast<int>(N), tau, stream);
        return;
    }
    // Tensor maps are rebuilt when the buffers change (the encoding is a host call of a few us, which
    // would otherwise sit inside the timed region between two kernels).
    struct Cache {
        const void *Q = nullptr, *K = nullptr, *V = nullptr;
        std::int64_t bh = 0, N = 0, d = 0;
        sim::Dtype dtype = sim::Dtype::fp16;
        CUtensorMap q{}, k{}, v{};
    };
    static Cache cache;
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    if (cache.Q != Q || cache.K != K || cache.V != V || cache.bh != bh || cache.N != N || cache.d != d ||
        cache.dtype != dtype) {
        cache.q = make_tensor_map(Q, dtype, bh, N, d, hopper::B_r);
        cache.k = make_tensor_map(K, dtype, bh, N, d, hopper::B_c);
        cache.v = make_tensor_map(V, dtype, bh, N, d, hopper::B_c);
        cache.Q = Q;
        cache.K = K;
        cache.V = V;
        cache.bh = bh;
        cache.N = N;
        cache.d = d;
        cache.dtype = dtype;
    }
    const bool d128 = d == 128, bf16 = dtype == sim::Dtype::bf16;
    Fn fn = nullptr;
    switch (k) {
        case HopperKernel::tma_wgmma:
            fn = pick<0>(d128, bf16, causal);
            break;
        case HopperKernel::warpspec:
            fn = pick<1>(d128, bf16, causal);
            break;
        case HopperKernel::pingpong:
            fn = pick<2>(d128, bf16, causal);
            break;
        case HopperKernel::intrawg:
        case HopperKernel::fp8:
            fn = pick<3>(d128, bf16, causal);
            break;
    }
    fn(cache.q, cache.k, cache.v, O, L, static_cast<int>(bh), static_cast<int>(N), tau, stream);
}

}  // namespace detail
}  // namespace tilesim::kernels::cuda
