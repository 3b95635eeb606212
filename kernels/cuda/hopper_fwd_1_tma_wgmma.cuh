#pragma once
// Hopper step (b): TMA and wgmma, still synchronous.
//
// What it adds over (a), the mma.sync kernel flash_fwd.cuh: the copy engine and the warpgroup tensor
// cores, the two Hopper units FlashAttention-3 is built on (FA3 paper, section 2.2 "Hardware
// characteristics" and the start of section 3). One thread issues a TMA copy per 64-column panel of
// Q_i, K_j, V_j (cp.async.bulk.tensor, completing on an mbarrier with a byte count) instead of every
// thread issuing 16-byte cp.async copies; S_ij = Q_i K_j^T is one wgmma m64n128k16 chain per warpgroup
// with both operands read from shared memory through descriptors (no ldmatrix); O_i += P~_ij V_j is a
// wgmma with A = P~_ij from registers and B = V_j read MN-major (transposed by the hardware).
//
// What it does not do yet: overlap. All 8 warps (2 consumer warpgroups, 64 rows of Q_i each) issue, then
// wait for, each GEMM; the next K/V block is prefetched (two stages), but the thread that issues the
// copies is one of the consumers, and a block barrier ends each iteration. Steps (c)-(e) remove that.
#include "kernels/cuda/hopper_common.cuh"

namespace tilesim::kernels::cuda::hopper {

template <int d>
struct Step1 {
    static constexpr int kThreads = 256;  // 2 warpgroups
    static constexpr int kTileQ = tile_bytes<B_r, d>();
    static constexpr int kTileKV = tile_bytes<B_c, d>();
    static constexpr int kSmemBytes = kTileQ + 4 * kTileKV + 64 + 1024;  // + barriers + alignment slack
};

template <class T, int d, bool kCausal>
__global__ void __launch_bounds__(256, 1)
    hopper_fwd_tma_wgmma_kernel(const __grid_constant__ CUtensorMap tm_Q, const __grid_constant__ CUtensorMap tm_K,
                                const __grid_constant__ CUtensorMap tm_V, T* __restrict__ O, float* __restrict__ L,
                                int N, float tau) {
    using Sh = Step1<d>;
    extern __shared__ unsigned char smem_raw[];
    unsigned char* smem = aligned_smem(smem_raw);
    unsigned char* Q_s = smem;
    unsigned char* K_s = Q_s + Sh::kTileQ;      // stages 0, 1
    unsigned char* V_s = K_s + 2 * Sh::kTileKV;  // stages 0, 1
    auto* bar = reinterpret_cast<std::uint64_t*>(V_s + 2 * Sh::kTileKV);  // [0] Q, [1], [2] K/V stages

    const int tid = static_cast<int>(threadIdx.x);
    const int warp = tid / 32, lane = tid % 32;
    const int wg = warp / 4;  // consumer warpgroup: rows 64 wg .. of Q_i
    const int g = lane >> 2, t = lane & 3;
    const int T_r = static_cast<int>(gridDim.x);
    const int i = kCausal ? T_r - 1 - static_cast<int>(blockIdx.x) : static_cast<int>(blockIdx.x);
    const int bh = static_cast<int>(blockIdx.y);
    const int q0 = i * B_r;
    const int T_c = (N + B_c - 1) / B_c;
    const int j_end = kCausal ? min(T_c, (q0 + B_r + B_c - 1) / B_c) : T_c;
    const int row0 = q0 + wg * 64 + (warp % 4) * 16 + g;  // this thread's first row
    const float tau_log2e = tau * 1.4426950408889634F;

    if (tid == 0) {
        tma_prefetch_desc(&tm_Q);
        tma_prefetch_desc(&tm_K);
        tma_prefetch_desc(&tm_V);
        for (int k = 0; k < 3; ++k) mbar_init(bar + k, 1);
        mbar_fence_init();
    }
    __syncthreads();
    // Line 8: Q_i once; K_0, V_0 into stage 0.
    if (tid == 0) {
        mbar_arrive_expect_tx(bar + 0, Sh::kTileQ);
        tma_tile<B_r, d>(Q_s, &tm_Q, bar + 0, q0, bh);
        mbar_arrive_expect_tx(bar + 1, 2 * Sh::kTileKV);
        tma_tile<B_c, d>(K_s, &tm_K, bar + 1, 0, bh);
        tma_tile<B_c, d>(V_s, &tm_V, bar + 1, 0, bh);
    }

    float O_acc[d / 2];
#pragma unroll
    for (int k = 0; k < d / 2; ++k) O_acc[k] = 0.0F;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0F, 0.0F};
    mbar_wait(bar + 0, 0);

    for (int j = 0; j < j_end; ++j) {
        const int stage = j & 1;
        // Line 6: K_{j+1}, V_{j+1} into the other stage (every warp left it at the last barrier).
        if (tid == 0 && j + 1 < j_end) {
            mbar_arrive_expect_tx(bar + 1 + (stage ^ 1), 2 * Sh::kTileKV);
            tma_tile<B_c, d>(K_s + (stage ^ 1) * Sh::kTileKV, &tm_K, bar + 1 + (stage ^ 1), (j + 1) * B_c, bh);
            tma_tile<B_c, d>(V_s + (stage ^ 1) * Sh::kTileKV, &tm_V, bar + 1 + (stage ^ 1), (j + 1) * B_c, bh);
        }
        // Stage s is filled for the (j / 2)-th time: wait for that phase's parity.
        mbar_wait(bar + 1 + stage, (j >> 1) & 1);

        // Line 9: S_ij = Q_i K_j^T, issued and waited for at once (synchronous).
        float S[B_c / 2];
        wgmma_fence();
        issue_qk<T, d>(S, Q_s, wg, K_s + stage * Sh::kTileKV);
        wgmma_commit();
        wgmma_wait<0>();
        fence_operands(S);

        // Lines 10-11: masks, online softmax, rescale O_i.
        float alpha[2];
        softmax_step<kCausal>(S, m, l, alpha, row0, j * B_c, N, tau_log2e, t);
        rescale<d, d == 64>(O_acc, alpha);  // the skip pays at d = 64 only (hopper_common.cuh)
        std::uint32_t P[B_c / 16][4];
        to_a_frags<T>(S, P);

        // Line 12: O_i += P~_ij V_j, synchronous too.
        fence_operands(O_acc);
        wgmma_fence();
        issue_pv<T, d>(O_acc, P, V_s + stage * Sh::kTileKV);
        wgmma_commit();
        wgmma_wait<0>();
        fence_operands(O_acc);
        __syncthreads();  // both warpgroups are done with this stage before it is refilled
    }
    epilogue<T, d>(O_acc, m, l, O + static_cast<std::int64_t>(bh) * N * d, L + static_cast<std::int64_t>(bh) * N,
                   row0, N, tau, t);
}

}  // namespace tilesim::kernels::cuda::hopper
