#pragma once
// Hopper step (f): FP8 (e4m3) inputs, fp32 accumulation, per-block scaling (d = 128).
//
// What it adds over (e), hopper_fwd_4_intrawg.cuh: FlashAttention-3 section 3.3, "Low-precision with
// FP8". wgmma's e4m3 form (m64nNk32) does twice the FLOPs per cycle of fp16, with two constraints:
//  1. Both operands must be K-major (no transpose for 8-bit types). For S = Q K^T that holds (Q and K
//     are d-contiguous). For O += P~ V the contraction runs over keys, so V has to be key-contiguous:
//     the pre-pass writes V^T ([d][keys], "the V layout the second GEMM needs") instead of V.
//  2. The fp32 accumulator layout of S (thread (g, t) holds keys 8q + 2t, 8q + 2t + 1 of each n8 tile)
//     is not the e4m3 A-operand layout of a k32 step (keys 4t..4t+3 and 16 + 4t..16 + 4t + 3). FA3
//     permutes bytes in registers; here the permutation is moved into the V^T layout instead: since
//     O = sum over keys, permuting the keys of P and of V the same way changes nothing, so each thread
//     packs the 8 keys it holds into its 8 A slots as they come, and the pre-pass stores in V^T position
//     p the key pi(p) that this packing puts there (fp8_key_of_position below). No shuffles at all.
// Scaling (FA3's "block quantization"): one fp32 scale per 128-row block of Q, of K and of V, chosen so
// that the block's largest |x| maps to e4m3's largest finite value 448. The Q and K scales multiply the
// accumulator of S_ij, and are folded into the softmax's exponent (softmax_step's score_scale: free).
// The V block scale cannot be applied after a GEMM that sums over several V blocks, so it is folded into
// P~ instead: P~_ij is stored as P~ x 256 x s_Vj / max_j s_Vj (<= 256 < 448, and the x 256 keeps small
// probabilities out of e4m3's subnormal range), again through the exponent's offset; the epilogue
// multiplies O_i by max_j s_Vj / 256. The pre-pass is a separate kernel (fp8_quantize_kernel), timed as
// its own stage; frameworks hand the attention kernel fp8 tensors and scales from the previous layer.
//
// Not done: d = 64 (its 64-byte fp8 rows need the 64B swizzle mode and other descriptors), and FA3's
// incoherent processing (a Hadamard rotation of Q and K against outliers).
#include <cuda_fp8.h>

#include "kernels/cuda/hopper_fwd_2_warpspec.cuh"

namespace tilesim::kernels::cuda::hopper {

constexpr float kE4m3Max = 448.0F;
constexpr float kPScale = 256.0F;  // P~ is stored times 256 (times s_Vj / max s_V <= 1)
constexpr int kMaxKvBlocks = 1024;  // per head (N <= 131072): the block scales sit in shared memory

// The key (inside its 32-key group) whose value sits at position p of a k32 step's A operand when a
// thread packs its accumulator values in order: positions 4t..4t+3 hold keys 2t, 2t+1, 8+2t, 9+2t;
// positions 16+4t..16+4t+3 hold 16+2t, 17+2t, 24+2t, 25+2t.
__host__ __device__ constexpr int fp8_key_of_position(int p) {
    const int half = p / 16, r = p % 16, t = r / 4, e = r % 4;
    return half * 16 + (e < 2 ? 2 * t + e : 8 + 2 * t + (e - 2));
}

__device__ __forceinline__ std::uint8_t to_e4m3(float x) {
    return static_cast<std::uint8_t>(__nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3));
}
__device__ __forceinline__ std::uint32_t pack4_e4m3(float a, float b, float c, float d) {
    const std::uint32_t lo = __nv_cvt_float2_to_fp8x2(make_float2(a, b), __NV_SATFINITE, __NV_E4M3);
    const std::uint32_t hi = __nv_cvt_float2_to_fp8x2(make_float2(c, d), __NV_SATFINITE, __NV_E4M3);
    return lo | (hi << 16);
}

// The pre-pass. grid (ceil(N / 128), B*H, 3): blockIdx.z = 0 Q, 1 K, 2 V. Q, K -> [B*H, N, d] e4m3;
// V -> V^T [B*H, d, N_pad] e4m3 with keys permuted inside every 32 (fp8_key_of_position), zero past N.
// s_X[bh][block] = the block's scale; s_Vmax[bh] = max over blocks (must be 0 before the launch).
template <class T, int d>
__global__ void __launch_bounds__(256)
    fp8_quantize_kernel(const T* __restrict__ Q, const T* __restrict__ K, const T* __restrict__ V,
                        std::uint8_t* __restrict__ Q8, std::uint8_t* __restrict__ K8, std::uint8_t* __restrict__ Vt8,
                        float* __restrict__ sQ, float* __restrict__ sK, float* __restrict__ sV,
                        float* __restrict__ sVmax, int N, int N_pad) {
    __shared__ float red[8];
    const int which = static_cast<int>(blockIdx.z), blk = static_cast<int>(blockIdx.x);
    const std::int64_t bh = blockIdx.y;
    const int T_blk = static_cast<int>(gridDim.x);
    const T* src = (which == 0 ? Q : which == 1 ? K : V) + bh * N * d;
    const int r0 = blk * 128, rows = min(128, N - r0);
    const int tid = static_cast<int>(threadIdx.x);
    float amax = 0.0F;
    for (int e = tid; e < rows * d; e += 256) amax = fmaxf(amax, fabsf(Elem<T>::to_float(src[r0 * d + e])));
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffU, amax, off));
    if (tid % 32 == 0) red[tid / 32] = amax;
    __syncthreads();
    amax = red[0];
#pragma unroll
    for (int w = 1; w < 8; ++w) amax = fmaxf(amax, red[w]);
    const float scale = amax > 0.0F ? amax / kE4m3Max : 1.0F, inv = 1.0F / scale;
    if (tid == 0) {
        (which == 0 ? sQ : which == 1 ? sK : sV)[bh * T_blk + blk] = scale;
        // Positive floats order as their bit patterns do.
        if (which == 2) atomicMax(reinterpret_cast<int*>(sVmax + bh), __float_as_int(scale));
    }
    if (which < 2) {
        std::uint8_t* dst = (which == 0 ? Q8 : K8) + bh * N * d;
        for (int e = tid; e < rows * d; e += 256) dst[r0 * d + e] = to_e4m3(Elem<T>::to_float(src[r0 * d + e]) * inv);
    } else {
        // 128 key positions x d columns; consecutive threads write consecutive positions of a row of V^T.
        for (int idx = tid; idx < 128 * d; idx += 256) {
            const int c = idx / 128, p = idx % 128;
            const int key = r0 + (p / 32) * 32 + fp8_key_of_position(p % 32);
            const float v = key < N ? Elem<T>::to_float(src[static_cast<std::int64_t>(key) * d + c]) * inv : 0.0F;
            Vt8[(bh * d + c) * N_pad + r0 + p] = to_e4m3(v);
        }
    }
}

// The e4m3 GEMMs of one warpgroup (d = 128: an fp8 row of Q, K, or of V^T's B_c keys, is one 128-byte
// SW128 panel row; a k32 step is 32 bytes of it).
__device__ __forceinline__ void issue_qk_fp8(float (&S)[B_c / 2], const unsigned char* Q_s, int wg,
                                             const unsigned char* K_s) {
#pragma unroll
    for (int ks = 0; ks < 4; ++ks) {
        const std::uint64_t da = make_desc(Q_s + wg * 64 * 128 + ks * 32, 16, 1024);
        const std::uint64_t db = make_desc(K_s + ks * 32, 16, 1024);
        wgmma_ss_m64n128k32_e4m3(S, da, db, ks > 0 ? 1 : 0);
    }
}
__device__ __forceinline__ void issue_pv_fp8(float (&O)[64], const std::uint32_t (&P)[B_c / 32][4],
                                             const unsigned char* Vt_s) {
#pragma unroll
    for (int c = 0; c < B_c / 32; ++c) {
        const std::uint64_t db = make_desc(Vt_s + c * 32, 16, 1024);
        wgmma_rs_m64n128k32_e4m3(O, P[c], db, 1);
    }
}
// P~ (fp32 accumulators, already scaled) -> e4m3 A fragments, each thread's values in the order it holds
// them (the matching key order is in V^T).
__device__ __forceinline__ void to_a_frags_fp8(const float (&S)[B_c / 2], std::uint32_t (&P)[B_c / 32][4]) {
#pragma unroll
    for (int c = 0; c < B_c / 32; ++c) {
        const float* s0 = S + 16 * c;  // n8 tiles 4c .. 4c + 3
        P[c][0] = pack4_e4m3(s0[0], s0[1], s0[4], s0[5]);     // row g:     tiles 4c, 4c+1
        P[c][1] = pack4_e4m3(s0[2], s0[3], s0[6], s0[7]);     // row g + 8
        P[c][2] = pack4_e4m3(s0[8], s0[9], s0[12], s0[13]);   // row g:     tiles 4c+2, 4c+3
        P[c][3] = pack4_e4m3(s0[10], s0[11], s0[14], s0[15]); // row g + 8
    }
}

struct Step5 {
    static constexpr int d = 128;
    static constexpr int kThreads = 384;
    static constexpr int kStages = 4;
    static constexpr int kTile = 128 * 128;  // bytes of Q_i, K_j or V_j^T
    static constexpr int kBarriers = 1 + 3 * kStages;
    static constexpr int kSmemBytes = kTile + 2 * kStages * kTile + 8 * kBarriers + 2 * kMaxKvBlocks * 4 + 1024;
    static constexpr int kProducerRegs = 40, kConsumerRegs = 232;
};

struct Fp8Scales {
    const float *sQ, *sK, *sV, *sVmax;
};

template <class T, bool kCausal>
__global__ void __launch_bounds__(384, 1)
    hopper_fwd_fp8_kernel(const __grid_constant__ CUtensorMap tm_Q, const __grid_constant__ CUtensorMap tm_K,
                          const __grid_constant__ CUtensorMap tm_Vt, const Fp8Scales sc, T* __restrict__ O,
                          float* __restrict__ L, int N, float tau) {
    using Sh = Step5;
    constexpr int d = 128, kStages = Sh::kStages;
    extern __shared__ unsigned char smem_raw[];
    unsigned char* smem = aligned_smem(smem_raw);
    unsigned char* Q_s = smem;
    unsigned char* K_s = Q_s + Sh::kTile;
    unsigned char* V_s = K_s + kStages * Sh::kTile;  // V_j^T tiles
    const Ring ring{reinterpret_cast<std::uint64_t*>(V_s + kStages * Sh::kTile), kStages};
    float* sK_s = reinterpret_cast<float*>(ring.bars + Sh::kBarriers);
    float* sV_s = sK_s + kMaxKvBlocks;

    const int tid = static_cast<int>(threadIdx.x);
    const int warp = tid / 32, lane = tid % 32;
    const int role = warp / 4;
    const int T_r = static_cast<int>(gridDim.x);
    const int i = kCausal ? T_r - 1 - static_cast<int>(blockIdx.x) : static_cast<int>(blockIdx.x);
    const int bh = static_cast<int>(blockIdx.y);
    const int q0 = i * B_r;
    const int T_c = (N + B_c - 1) / B_c;
    const int j_end = kCausal ? min(T_c, (q0 + B_r + B_c - 1) / B_c) : T_c;

    if (tid == 0) {
        tma_prefetch_desc(&tm_Q);
        tma_prefetch_desc(&tm_K);
        tma_prefetch_desc(&tm_Vt);
        mbar_init(ring.q(), 1);
        for (int s = 0; s < kStages; ++s) {
            mbar_init(ring.full_k(s), 1);
            mbar_init(ring.full_v(s), 1);
            mbar_init(ring.empty(s), 256);
        }
        mbar_fence_init();
    }
    // The K and V block scales of this head, into shared memory (T_c <= kMaxKvBlocks, checked on launch).
    for (int k = tid; k < T_c; k += Sh::kThreads) {
        sK_s[k] = sc.sK[static_cast<std::int64_t>(bh) * T_c + k];
        sV_s[k] = sc.sV[static_cast<std::int64_t>(bh) * T_c + k];
    }
    __syncthreads();

    if (role == 0) {
        setmaxnreg_dec<Sh::kProducerRegs>();
        if (tid == 0) {
            // As produce() in (c), with fp8 tiles: one 128-byte panel each; V_j^T's box starts at key j B_c.
            mbar_arrive_expect_tx(ring.q(), Sh::kTile);
            tma_load_3d(Q_s, &tm_Q, ring.q(), 0, q0, bh);
            for (int j = 0; j < j_end; ++j) {
                const int s = j % kStages;
                if (j >= kStages) mbar_wait(ring.empty(s), ((j / kStages) - 1) & 1);
#ifdef TILESIM_ABLATE_KV_LOADS
                if (j >= kStages) {  // timing-only build, as in produce() of (c)
                    mbar_arrive(ring.full_k(s));
                    mbar_arrive(ring.full_v(s));
                    continue;
                }
#endif
                mbar_arrive_expect_tx(ring.full_k(s), Sh::kTile);
                tma_load_3d(K_s + s * Sh::kTile, &tm_K, ring.full_k(s), 0, j * B_c, bh);
                mbar_arrive_expect_tx(ring.full_v(s), Sh::kTile);
                tma_load_3d(V_s + s * Sh::kTile, &tm_Vt, ring.full_v(s), j * B_c, 0, bh);
            }
        }
        return;
    }
    setmaxnreg_inc<Sh::kConsumerRegs>();
    const int wg = role - 1;
    const int g = lane >> 2, t = lane & 3;
    const int row0 = q0 + wg * 64 + (warp % 4) * 16 + g;
    const float tau_log2e = tau * 1.4426950408889634F;
    const int my_turn = 1 + wg, other_turn = 2 - wg;
    const float sQ = sc.sQ[static_cast<std::int64_t>(bh) * T_r + i];
    const float sVmax = sc.sVmax[bh];
    // log2 of the factor P~ of block j is stored with: 256 s_Vj / max s_V.
    auto log2_pscale = [&](int j) { return __log2f(kPScale * sV_s[j] / sVmax); };

    float O_acc[d / 2];
#pragma unroll
    for (int k = 0; k < d / 2; ++k) O_acc[k] = 0.0F;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0F, 0.0F};
    float S[B_c / 2];
    std::uint32_t P[B_c / 32][4];
    float alpha[2];
    mbar_wait(ring.q(), 0);
    if (wg == 1) named_barrier_arrive(1, 256);
    auto pass_turn = [&](int j) {
        if (!(wg == 1 && j == j_end - 1)) named_barrier_arrive(other_turn, 256);
    };

    // The schedule of (e): block 0 peeled, then S_ij and PV_(j-1) per phase, in turns.
    mbar_wait(ring.full_k(0), 0);
    named_barrier_sync(my_turn, 256);
    wgmma_fence();
    issue_qk_fp8(S, Q_s, wg, K_s);
    wgmma_commit();
    pass_turn(0);
    mbar_wait(ring.full_v(0), 0);  // V_0, for the next turn's PV (as V_j in the loop)
    wgmma_wait<0>();
    fence_operands(S);
    softmax_step<kCausal>(S, m, l, alpha, row0, 0, N, tau_log2e, t, sQ * sK_s[0], log2_pscale(0));
    to_a_frags_fp8(S, P);

    for (int j = 1; j < j_end; ++j) {
        const int s = j % kStages, sp = (j - 1) % kStages;
        mbar_wait(ring.full_k(s), (j / kStages) & 1);  // V_j-1 was waited for in the previous step
        named_barrier_sync(my_turn, 256);
        wgmma_fence();
        issue_qk_fp8(S, Q_s, wg, K_s + s * Sh::kTile);
        wgmma_commit();
        rescale<d>(O_acc, alpha);
        fence_operands(O_acc);
        wgmma_fence();
        issue_pv_fp8(O_acc, P, V_s + sp * Sh::kTile);
        wgmma_commit();
        pass_turn(j);
        // V_j is waited for here, under the GEMMs just issued, for the next turn's PV: a wait at the top
        // of the next step would sit on the chain of turns (bench/gpu/overlap.cu, "+ring" against
        // "+ring-v"; docs/timeline.md, "The ring's handshakes"). It landed with K_j, waited above.
        mbar_wait(ring.full_v(s), (j / kStages) & 1);
        wgmma_wait<1>();
        fence_operands(S);
        softmax_step<kCausal>(S, m, l, alpha, row0, j * B_c, N, tau_log2e, t, sQ * sK_s[j], log2_pscale(j));
        wgmma_wait<0>();
        fence_operands(O_acc);
        mbar_arrive(ring.empty(sp));
        to_a_frags_fp8(S, P);
    }
    const int sl = (j_end - 1) % kStages;  // V_(j_end - 1) was waited for in the last step
    rescale<d>(O_acc, alpha);
    fence_operands(O_acc);
    wgmma_fence();
    issue_pv_fp8(O_acc, P, V_s + sl * Sh::kTile);
    wgmma_commit();
    wgmma_wait<0>();
    fence_operands(O_acc);
    mbar_arrive(ring.empty(sl));
    // Undo the P~ factor's constant part: O_i x max s_V / 256 (the per-block part was in P~).
    const float out_scale = sVmax / kPScale;
#pragma unroll
    for (int k = 0; k < d / 2; ++k) O_acc[k] *= out_scale;
    epilogue<T, d>(O_acc, m, l, O + static_cast<std::int64_t>(bh) * N * d, L + static_cast<std::int64_t>(bh) * N,
                   row0, N, tau, t);
}

}  // namespace tilesim::kernels::cuda::hopper
