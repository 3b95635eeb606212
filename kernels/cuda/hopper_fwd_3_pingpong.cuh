#pragma once
// Hopper step (d): ping-pong scheduling of the two consumer warpgroups.
//
// What it adds over (c), hopper_fwd_2_warpspec.cuh: FlashAttention-3 section 3.1, second half,
// "Pingpong scheduling". The exponentials of the softmax run on the multi-function unit, 256 times
// slower than the tensor cores' FLOPs (at d = 128 about half of the GEMM time): while one warpgroup
// computes its softmax, the tensor cores should be busy with the other's GEMMs. Two named barriers make
// the warpgroups take turns: warpgroup w waits for its turn, issues its GEMMs for this iteration, and
// hands the turn to the other; then it waits for its own GEMMs and runs its softmax, while the other's
// GEMMs run. For the turns to alternate whole GEMM phases, the loop is rotated: the phase of iteration j
// is S_ij = Q_i K_j^T together with the previous block's O_i += P~_i(j-1) V_(j-1) (whose P~ is in
// registers), and the last block's PV comes after the loop. The producer is (c)'s.
//
// Inside a warpgroup, softmax and GEMMs still alternate (step (e) overlaps them).
#include "kernels/cuda/hopper_fwd_2_warpspec.cuh"

namespace tilesim::kernels::cuda::hopper {

template <class T, int d, bool kCausal>
__global__ void __launch_bounds__(384, 1)
    hopper_fwd_pingpong_kernel(const __grid_constant__ CUtensorMap tm_Q, const __grid_constant__ CUtensorMap tm_K,
           const __grid_constant__ CUtensorMap tm_V, T* __restrict__ O, float* __restrict__ L, int N, float tau) {
    using Sh = Step2<d>;
    constexpr int kStages = Sh::kStages;
    extern __shared__ unsigned char smem_raw[];
    unsigned char* smem = aligned_smem(smem_raw);
    unsigned char* Q_s = smem;
    unsigned char* K_s = Q_s + Sh::kTileQ;
    unsigned char* V_s = K_s + kStages * Sh::kTileKV;
    const Ring ring{reinterpret_cast<std::uint64_t*>(V_s + kStages * Sh::kTileKV), kStages};

    const int tid = static_cast<int>(threadIdx.x);
    const int warp = tid / 32, lane = tid % 32;
    const int role = warp / 4;  // 0: producer, 1 and 2: consumers
    const int T_r = static_cast<int>(gridDim.x);
    const int i = kCausal ? T_r - 1 - static_cast<int>(blockIdx.x) : static_cast<int>(blockIdx.x);
    const int bh = static_cast<int>(blockIdx.y);
    const int q0 = i * B_r;
    const int T_c = (N + B_c - 1) / B_c;
    const int j_end = kCausal ? min(T_c, (q0 + B_r + B_c - 1) / B_c) : T_c;

    if (tid == 0) {
        tma_prefetch_desc(&tm_Q);
        tma_prefetch_desc(&tm_K);
        tma_prefetch_desc(&tm_V);
        mbar_init(ring.q(), 1);
        for (int s = 0; s < kStages; ++s) {
            mbar_init(ring.full_k(s), 1);
            mbar_init(ring.full_v(s), 1);
            mbar_init(ring.empty(s), 256);
        }
        mbar_fence_init();
    }
    __syncthreads();

    if (role == 0) {
        setmaxnreg_dec<Sh::kProducerRegs>();
        if (tid == 0) produce<d, kStages>(ring, Q_s, K_s, V_s, &tm_Q, &tm_K, &tm_V, q0, bh, j_end);
        return;
    }
    setmaxnreg_inc<Sh::kConsumerRegs>();
    const int wg = role - 1;
    const int g = lane >> 2, t = lane & 3;
    const int row0 = q0 + wg * 64 + (warp % 4) * 16 + g;
    const float tau_log2e = tau * 1.4426950408889634F;
    // Named barriers 1 and 2 (0 is __syncthreads): barrier 1 + w is "warpgroup w may use the tensor
    // cores"; 256 threads meet there: the 128 of w waiting (bar.sync), the 128 of the other arriving.
    const int my_turn = 1 + wg, other_turn = 2 - wg;

    float O_acc[d / 2];
#pragma unroll
    for (int k = 0; k < d / 2; ++k) O_acc[k] = 0.0F;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0F, 0.0F};
    float S[B_c / 2];
    std::uint32_t P[B_c / 16][4];
    mbar_wait(ring.q(), 0);
    if (wg == 1) named_barrier_arrive(1, 256);  // warpgroup 0 goes first

    for (int j = 0; j < j_end; ++j) {
        const int s = j % kStages, sp = (j + kStages - 1) % kStages;  // slots of blocks j and j - 1
        mbar_wait(ring.full_k(s), (j / kStages) & 1);  // V_j-1 was waited for in the previous step
        // One GEMM phase per iteration, in turn with the other warpgroup: S_ij = Q_i K_j^T and (for the
        // previous block, whose P~ is in registers) O_i += P~_i(j-1) V_(j-1).
        named_barrier_sync(my_turn, 256);
        fence_operands(O_acc);
        wgmma_fence();
        issue_qk<T, d>(S, Q_s, wg, K_s + s * Sh::kTileKV);
        wgmma_commit();
        if (j > 0) {
            issue_pv<T, d>(O_acc, P, V_s + sp * Sh::kTileKV);
            wgmma_commit();
        }
        // The other warpgroup's turn (warpgroup 1 skips this after its last phase: nobody waits for it).
        if (!(wg == 1 && j == j_end - 1)) named_barrier_arrive(other_turn, 256);
        // V_j is waited for here, under the GEMMs just issued, for the next turn's PV: a wait at the top
        // of the next step would sit on the chain of turns (bench/gpu/overlap.cu, "+ring" against
        // "+ring-v"; docs/timeline.md, "The ring's handshakes"). It landed with K_j, waited above.
        mbar_wait(ring.full_v(s), (j / kStages) & 1);
        // Synchronous inside the warpgroup: wait for both GEMMs, then the softmax (overlapping the
        // other warpgroup's GEMMs).
        wgmma_wait<0>();
        fence_operands(S);
        fence_operands(O_acc);
        if (j > 0) mbar_arrive(ring.empty(sp));
        float alpha[2];
        softmax_step<kCausal>(S, m, l, alpha, row0, j * B_c, N, tau_log2e, t);
        rescale<d>(O_acc, alpha);
        to_a_frags<T>(S, P);
    }
    // The last block's O_i += P~ V, outside the turns.
    const int sl = (j_end - 1) % kStages;
    if (j_end > 0) {
        fence_operands(O_acc);
        wgmma_fence();
        issue_pv<T, d>(O_acc, P, V_s + sl * Sh::kTileKV);
        wgmma_commit();
        wgmma_wait<0>();
        fence_operands(O_acc);
        mbar_arrive(ring.empty(sl));
    }
    epilogue<T, d>(O_acc, m, l, O + static_cast<std::int64_t>(bh) * N * d, L + static_cast<std::int64_t>(bh) * N,
                   row0, N, tau, t);
}

}  // namespace tilesim::kernels::cuda::hopper
