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
    }
    return "?";
}

std::vector<HopperKernel> hopper_kernels() {
    return {HopperKernel::tma_wgmma, HopperKernel::warpspec, HopperKernel::pingpong, HopperKernel::intrawg};
}

namespace detail {

CUtensorMap make_tensor_map(const void* base, sim::Dtype dtype, std::int64_t heads, std::int64_t rows,
                            std::int64_t d, int box_rows) {
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
    CUtensorMap map{};
    const cuuint64_t dims[3] = {static_cast<cuuint64_t>(d), static_cast<cuuint64_t>(rows),
                                static_cast<cuuint64_t>(heads)};
    const cuuint64_t strides[2] = {static_cast<cuuint64_t>(d * 2), static_cast<cuuint64_t>(rows * d * 2)};
    const cuuint32_t box[3] = {64, static_cast<cuuint32_t>(box_rows), 1};
    const cuuint32_t elem_strides[3] = {1, 1, 1};
    const CUresult r = encode(&map,
                              dtype == sim::Dtype::bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                                        : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
                              3, const_cast<void*>(base), dims, strides, box, elem_strides,
                              CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                              CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) {
        throw CudaError("cuTensorMapEncodeTiled failed with CUresult " + std::to_string(static_cast<int>(r)) +
                        " (rows " + std::to_string(rows) + ", d " + std::to_string(d) + ")");
    }
    return map;
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

namespace detail {

void launch_hopper(HopperKernel k, bool causal, sim::Dtype dtype, const void* Q, const void* K, const void* V,
                   void* O, float* L, std::int64_t bh, std::int64_t N, std::int64_t d, cudaStream_t stream) {
    if (d != 64 && d != 128) throw CudaError("the Hopper kernels are compiled for d = 64 and 128");
    if (bh > 65535) throw CudaError("batch * heads exceeds the grid's 65535 limit");
    (void)dtype_index(dtype);
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
            fn = pick<3>(d128, bf16, causal);
            break;
    }
    const float tau = 1.0F / std::sqrt(static_cast<float>(d));
    fn(cache.q, cache.k, cache.v, O, L, static_cast<int>(bh), static_cast<int>(N), tau, stream);
}

}  // namespace detail
}  // namespace tilesim::kernels::cuda
