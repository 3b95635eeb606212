// Instantiations of the FlashAttention backward (flash_bwd.cuh) and the launcher that runs its three
// kernels: preprocess (D, dQaccum = 0), main (dK, dV, dQaccum), convert (dQ).
#include <cmath>
#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/flash_bwd.cuh"
#include "kernels/cuda/launch.cuh"

namespace tilesim::kernels::cuda {

namespace {

using MainFn = void (*)(const void*, const void*, const void*, const void*, const float*, const float*, float*,
                        void*, void*, int, int, float, cudaStream_t);

template <class T, int d, int B_c, int B_r, int kWarps, bool kCausal>
void launch_main(const void* Q, const void* K, const void* V, const void* dO, const float* L, const float* D,
                 float* dQaccum, void* dK, void* dV, int bh, int N, float tau, cudaStream_t stream) {
    using Sh = flash_bwd::Shape<d, B_c, B_r, kWarps>;
    auto* kernel = flash_bwd::flash_bwd_kernel<T, d, B_c, B_r, kWarps, kCausal>;
    TILESIM_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Sh::kSmemBytes));
    const dim3 grid(static_cast<unsigned>((N + B_c - 1) / B_c), static_cast<unsigned>(bh));
    kernel<<<grid, Sh::kThreads, Sh::kSmemBytes, stream>>>(
        static_cast<const T*>(Q), static_cast<const T*>(K), static_cast<const T*>(V), static_cast<const T*>(dO),
        L, D, dQaccum, static_cast<T*>(dK), static_cast<T*>(dV), N, tau);
    TILESIM_CUDA_CHECK_LAUNCH();
}

struct BwdInstance {
    FlashBwdBlock block;
    MainFn plain[2];  // [fp16, bf16]
    MainFn causal[2];
};

template <int d, int B_c, int B_r, int kWarps>
constexpr BwdInstance make() {
    return {{d, B_c, B_r, kWarps},
            {&launch_main<__half, d, B_c, B_r, kWarps, false>,
             &launch_main<__nv_bfloat16, d, B_c, B_r, kWarps, false>},
            {&launch_main<__half, d, B_c, B_r, kWarps, true>,
             &launch_main<__nv_bfloat16, d, B_c, B_r, kWarps, true>}};
}

// The first entry for each d is its default. Each warp owns 16 keys of K_j, so B_c = 16 warps.
const BwdInstance kBwdInstances[] = {
    make<64, 128, 64, 8>(),   // 8 warps: B_c = 128 keys per block, half the dQ atomics of the next
    make<64, 64, 64, 4>(),    // half the keys per block: twice the dQ atomics, more blocks per SM
    make<128, 128, 32, 8>(),  // d = 128: B_r = 32 keeps S^T, dP^T, dK_j, dV_j within 255 registers
};

template <class T, int d>
void launch_pre_post(bool post, const void* O, const void* dO, float* D, float* dQaccum, void* dQ,
                     std::int64_t rows, float tau, cudaStream_t stream) {
    if (!post) {
        const std::int64_t threads = rows * (d / 8);
        flash_bwd::bwd_preprocess_kernel<T, d><<<static_cast<unsigned>((threads + 255) / 256), 256, 0, stream>>>(
            static_cast<const T*>(O), static_cast<const T*>(dO), D, dQaccum, rows);
    } else {
        const std::int64_t count8 = rows * d / 8;
        flash_bwd::bwd_convert_dq_kernel<T><<<static_cast<unsigned>((count8 + 255) / 256), 256, 0, stream>>>(
            dQaccum, static_cast<T*>(dQ), count8, tau);
    }
    TILESIM_CUDA_CHECK_LAUNCH();
}

}  // namespace

std::vector<FlashBwdBlock> flash_bwd_blocks() {
    std::vector<FlashBwdBlock> out;
    for (const auto& in : kBwdInstances) out.push_back(in.block);
    return out;
}

FlashBwdBlock find_flash_bwd_block(std::int64_t d) {
    for (const auto& in : kBwdInstances) {
        if (in.block.d == d) return in.block;
    }
    throw CudaError("no FlashAttention backward kernel is compiled for d=" + std::to_string(d) +
                    " (compiled: d=64, d=128)");
}

namespace detail {

void launch_flash_bwd(const FlashBwdBlock& block, BwdStage stage, bool causal, sim::Dtype dtype,
                      const BwdPointers& p, std::int64_t bh, std::int64_t N, cudaStream_t stream) {
    if (bh > 65535)
        throw CudaError("batch * heads = " + std::to_string(bh) + " exceeds the grid's 65535 limit");
    const float tau = 1.0F / std::sqrt(static_cast<float>(block.d));
    const bool bf16 = dtype == sim::Dtype::bf16;
    const std::int64_t rows = bh * N;
    if (stage == BwdStage::preprocess || stage == BwdStage::convert) {
        const bool post = stage == BwdStage::convert;
        if (block.d == 64) {
            (bf16 ? launch_pre_post<__nv_bfloat16, 64> : launch_pre_post<__half, 64>)(
                post, p.O, p.dO, p.D, p.dQaccum, p.dQ, rows, tau, stream);
        } else if (block.d == 128) {
            (bf16 ? launch_pre_post<__nv_bfloat16, 128> : launch_pre_post<__half, 128>)(
                post, p.O, p.dO, p.D, p.dQaccum, p.dQ, rows, tau, stream);
        } else {
            throw CudaError("backward: d=" + std::to_string(block.d) + " is not compiled");
        }
        return;
    }
    for (const auto& in : kBwdInstances) {
        if (in.block.d == block.d && in.block.B_c == block.B_c && in.block.B_r == block.B_r &&
            in.block.warps == block.warps) {
            const int t = dtype_index(dtype);
            (causal ? in.causal[t] : in.plain[t])(p.Q, p.K, p.V, p.dO, p.L, p.D, p.dQaccum, p.dK, p.dV,
                                                  static_cast<int>(bh), static_cast<int>(N), tau, stream);
            return;
        }
    }
    throw CudaError("no FlashAttention backward instantiation d=" + std::to_string(block.d) +
                    " B_c=" + std::to_string(block.B_c) + " B_r=" + std::to_string(block.B_r));
}

}  // namespace detail
}  // namespace tilesim::kernels::cuda
