#pragma once
// Hopper step (c): warp specialisation with an s-stage shared-memory ring.
//
// What it adds over (b), hopper_fwd_1_tma_wgmma.cuh: FlashAttention-3 section 3.1, "Producer-Consumer
// asynchrony through warp-specialization and pingpong scheduling", first half (FA3 Algorithm 1). A third
// warpgroup is the producer: it gives up registers (setmaxnreg.dec to 40) and one of its threads only
// issues TMA copies: Q_i once, then K_j and V_j into slot j mod s of a ring, each slot with a "full"
// barrier (K and V separately, so that S = Q K_j^T can start before V_j has landed) and an "empty"
// barrier. The two consumer warpgroups take the registers (setmaxnreg.inc to 232), wait on "full",
// compute as in (b), and arrive on "empty" when their last wgmma reading the slot has completed; the
// producer waits on "empty" before it refills a slot. No block-wide barrier is left in the loop: the
// copies for blocks j + 1 .. j + s - 1 are in flight while block j is computed, and a slow warpgroup
// no longer stalls the other.
//
// Still not overlapped: inside a warpgroup, softmax and GEMMs run one after the other (steps (d), (e)).
#include "kernels/cuda/hopper_common.cuh"

namespace tilesim::kernels::cuda::hopper {

template <int d>
struct Step2 {
    static constexpr int kThreads = 384;  // producer warpgroup + 2 consumer warpgroups
    static constexpr int kStages = d == 64 ? 4 : 3;  // 144 KB / 224 KB of tiles
    static constexpr int kTileQ = tile_bytes<B_r, d>();
    static constexpr int kTileKV = tile_bytes<B_c, d>();
    static constexpr int kBarriers = 1 + 3 * kStages;  // Q; full K, full V, empty per slot
    static constexpr int kSmemBytes = kTileQ + 2 * kStages * kTileKV + 8 * kBarriers + 1024;
    static constexpr int kProducerRegs = 40, kConsumerRegs = 232;  // 128 x 40 + 256 x 232 <= 65536
};

// The ring's barriers: [0] Q, then per slot s: full_K[s], full_V[s], empty[s].
struct Ring {
    std::uint64_t* bars;
    int stages;
    __device__ std::uint64_t* q() const { return bars; }
    __device__ std::uint64_t* full_k(int s) const { return bars + 1 + s; }
    __device__ std::uint64_t* full_v(int s) const { return bars + 1 + stages + s; }
    __device__ std::uint64_t* empty(int s) const { return bars + 1 + 2 * stages + s; }
};

// The producer's loop (one thread): Q_i, then K_j, V_j into slot j mod s once the slot is free.
template <int d, int kStages>
__device__ __forceinline__ void produce(const Ring& ring, unsigned char* Q_s, unsigned char* K_s,
                                        unsigned char* V_s, const CUtensorMap* tm_Q, const CUtensorMap* tm_K,
                                        const CUtensorMap* tm_V, int q0, int bh, int j_end) {
    constexpr int kTileKV = tile_bytes<B_c, d>();
    mbar_arrive_expect_tx(ring.q(), tile_bytes<B_r, d>());
    tma_tile<B_r, d>(Q_s, tm_Q, ring.q(), q0, bh);
    for (int j = 0; j < j_end; ++j) {
        const int s = j % kStages;
        // The first s loads never wait; the n-th reuse of a slot waits for its n-th release.
        if (j >= kStages) mbar_wait(ring.empty(s), ((j / kStages) - 1) & 1);
#ifdef TILESIM_ABLATE_KV_LOADS
        // Timing-only build (scripts/cuda/pipes.sh): after the first s blocks no copy is made and the
        // slot's old tile is reused, so a run measures the kernel without its K/V traffic. Wrong results.
        if (j >= kStages) {
            mbar_arrive(ring.full_k(s));
            mbar_arrive(ring.full_v(s));
            continue;
        }
#endif
        mbar_arrive_expect_tx(ring.full_k(s), kTileKV);
        tma_tile<B_c, d>(K_s + s * kTileKV, tm_K, ring.full_k(s), j * B_c, bh);
        mbar_arrive_expect_tx(ring.full_v(s), kTileKV);
        tma_tile<B_c, d>(V_s + s * kTileKV, tm_V, ring.full_v(s), j * B_c, bh);
    }
}

template <class T, int d, bool kCausal>
__global__ void __launch_bounds__(384, 1)
    hopper_fwd_warpspec_kernel(const __grid_constant__ CUtensorMap tm_Q, const __grid_constant__ CUtensorMap tm_K,
                               const __grid_constant__ CUtensorMap tm_V, T* __restrict__ O, float* __restrict__ L,
                               int N, float tau) {
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
            mbar_init(ring.empty(s), 256);  // every consumer thread releases the slot
        }
        mbar_fence_init();
    }
    __syncthreads();  // the last block-wide barrier: from here on the roles only meet at mbarriers

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

    float O_acc[d / 2];
#pragma unroll
    for (int k = 0; k < d / 2; ++k) O_acc[k] = 0.0F;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0F, 0.0F};
    mbar_wait(ring.q(), 0);

    for (int j = 0; j < j_end; ++j) {
        const int s = j % kStages;
        const std::uint32_t phase = (j / kStages) & 1;
        mbar_wait(ring.full_k(s), phase);
        float S[B_c / 2];
        wgmma_fence();
        issue_qk<T, d>(S, Q_s, wg, K_s + s * Sh::kTileKV);
        wgmma_commit();
        wgmma_wait<0>();
        fence_operands(S);

        float alpha[2];
        softmax_step<kCausal>(S, m, l, alpha, row0, j * B_c, N, tau_log2e, t);
        rescale<d, d == 64>(O_acc, alpha);  // the skip pays at d = 64 only (hopper_common.cuh)
        std::uint32_t P[B_c / 16][4];
        to_a_frags<T>(S, P);

        mbar_wait(ring.full_v(s), phase);
        fence_operands(O_acc);
        wgmma_fence();
        issue_pv<T, d>(O_acc, P, V_s + s * Sh::kTileKV);
        wgmma_commit();
        wgmma_wait<0>();
        fence_operands(O_acc);
        mbar_arrive(ring.empty(s));  // this thread's wgmmas reading slot s are complete
    }
    epilogue<T, d>(O_acc, m, l, O + static_cast<std::int64_t>(bh) * N * d, L + static_cast<std::int64_t>(bh) * N,
                   row0, N, tau, t);
}

}  // namespace tilesim::kernels::cuda::hopper
