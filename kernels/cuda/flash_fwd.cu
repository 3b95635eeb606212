// Instantiations of the FlashAttention kernel and the launcher that picks one at run time.
// Block sizes are template parameters (the register arrays of a warp are sized by them), so every
// (d, B_r, B_c, warps) the validation may ask for is compiled here; the model is then run with the
// same explicit B_r, B_c (algorithm flash2), so that the comparison is like for like.
#include <cmath>
#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/flash_fwd.cuh"
#include "kernels/cuda/launch.cuh"

namespace tilesim::kernels::cuda {

namespace {

using LaunchFn = void (*)(const void*, const void*, const void*, void*, float*, int, int, float, cudaStream_t);

template <class T, int d, int B_r, int B_c, int kWarps, bool kCausal>
void launch_instance(const void* Q_, const void* K_, const void* V_, void* O_, float* L, int bh, int N,
                     float tau, cudaStream_t stream) {
    using Sh = flash::Shape<d, B_r, B_c, kWarps>;
    const auto* Q = static_cast<const T*>(Q_);
    const auto* K = static_cast<const T*>(K_);
    const auto* V = static_cast<const T*>(V_);
    auto* O = static_cast<T*>(O_);
    auto* kernel = flash::flash_fwd_kernel<T, d, B_r, B_c, kWarps, kCausal>;
    // Above 48 KB a kernel must opt in to more dynamic shared memory; cheap, so set it every time.
    TILESIM_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Sh::kSmemBytes));
    const dim3 grid(static_cast<unsigned>((N + B_r - 1) / B_r), static_cast<unsigned>(bh));
    kernel<<<grid, Sh::kThreads, Sh::kSmemBytes, stream>>>(Q, K, V, O, L, N, tau);
    TILESIM_CUDA_CHECK_LAUNCH();
}

struct Instance {
    FlashBlock block;
    LaunchFn plain[2];   // [fp16, bf16]
    LaunchFn causal[2];
};

template <int d, int B_r, int B_c, int kWarps>
constexpr Instance make() {
    return {{d, B_r, B_c, kWarps},
            {&launch_instance<__half, d, B_r, B_c, kWarps, false>,
             &launch_instance<__nv_bfloat16, d, B_r, B_c, kWarps, false>},
            {&launch_instance<__half, d, B_r, B_c, kWarps, true>,
             &launch_instance<__nv_bfloat16, d, B_r, B_c, kWarps, true>}};
}

// The first entry for each d is its default (chosen by the measurements in docs/cuda.md).
const Instance kInstances[] = {
    make<64, 128, 64, 4>(),   // 32 rows of Q_i per warp: each K_j/V_j fragment feeds 2 m16 tiles
    make<64, 64, 64, 4>(),    // 16 rows per warp, small tiles: more blocks per SM
    make<64, 128, 128, 8>(),  // 16 rows per warp, large K/V blocks
    make<64, 128, 64, 8>(),
    make<128, 128, 64, 8>(),  // d = 128: 16 rows per warp keeps O_i within the register budget
    make<128, 64, 64, 4>(),
};

}  // namespace

std::vector<FlashBlock> flash_blocks() {
    std::vector<FlashBlock> out;
    for (const auto& in : kInstances) out.push_back(in.block);
    return out;
}

FlashBlock find_flash_block(std::int64_t d, std::int64_t B_r, std::int64_t B_c) {
    std::string available;
    for (const auto& in : kInstances) {
        if (in.block.d == d && ((B_r == 0 && B_c == 0) || (in.block.B_r == B_r && in.block.B_c == B_c))) {
            return in.block;
        }
        if (!available.empty()) available += ", ";
        available += "d=" + std::to_string(in.block.d) + " B_r=" + std::to_string(in.block.B_r) +
                     " B_c=" + std::to_string(in.block.B_c) + " (" + std::to_string(in.block.warps) +
                     " warps)";
    }
    throw CudaError(
        "no FlashAttention kernel is compiled for d=" + std::to_string(d) +
        (B_r != 0 || B_c != 0 ? " B_r=" + std::to_string(B_r) + " B_c=" + std::to_string(B_c) : "") +
        "; compiled instantiations: " + available + " (set head_dim, block_rows, block_cols to one of them)");
}

namespace detail {

void launch_flash(const FlashBlock& block, bool causal, sim::Dtype dtype, const void* Q, const void* K,
                  const void* V, void* O, float* L, std::int64_t bh, std::int64_t N, cudaStream_t stream) {
    if (bh > 65535)
        throw CudaError("batch * heads = " + std::to_string(bh) + " exceeds the grid's 65535 limit");
    if (N * 256 >= (std::int64_t{1} << 31)) throw CudaError("N = " + std::to_string(N) + " is too large");
    for (const auto& in : kInstances) {
        if (in.block.d == block.d && in.block.B_r == block.B_r && in.block.B_c == block.B_c &&
            in.block.warps == block.warps) {
            const float tau = 1.0F / std::sqrt(static_cast<float>(block.d));
            const int t = dtype_index(dtype);
            (causal ? in.causal[t] : in.plain[t])(Q, K, V, O, L, static_cast<int>(bh), static_cast<int>(N), tau,
                                                  stream);
            return;
        }
    }
    throw CudaError("no FlashAttention instantiation d=" + std::to_string(block.d) +
                    " B_r=" + std::to_string(block.B_r) + " B_c=" + std::to_string(block.B_c));
}

}  // namespace detail
}  // namespace tilesim::kernels::cuda
