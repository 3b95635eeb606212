#pragma once
// FlashAttention backward on tensor cores (mma.sync, sm_80+), in the FlashAttention-2 order.
//
// What it adds over flash_fwd.cuh: the gradients dQ, dK, dV of the forward's O = softmax(tau Q K^T) V,
// given dO and the forward's logsumexp L (the paper's Algorithm 4, with FA2's changes). Notation as in
// the paper and flash_fwd.cuh: N, d, B_r (rows of a Q block), B_c (rows of a K/V block), T_r, T_c, Q_i,
// K_j, V_j, S_ij, P_ij, dO_i, dS_ij, D_i = rowsum(dO_i o O_i), tau = 1 / sqrt(d).
//
// Three kernels, in launch order:
//   1. preprocess: D = rowsum(dO o O) per query row (fp32), and dQaccum = 0 (fp32, [B*H, N, d]).
//      (FA2: D_i replaces rowsum(P_ij o dP_ij), which would need a whole row of P; both are equal.)
//   2. main: one thread block per (K/V block j, batch * head); K/V outer, Q inner (the FA1 order for the
//      backward, as FA2 keeps it): K_j, V_j stay in shared memory and dK_j, dV_j in registers for the
//      whole loop over i, while Q_i, dO_i, L_i, D_i stream through two cp.async stages. Per block (i, j):
//        S_ij = Q_i K_j^T;  P_ij = exp(tau S_ij - L_i)             (the forward's P, recomputed)
//        dV_j += P_ij^T dO_i;  dP_ij = dO_i V_j^T;  dS_ij = P_ij o (dP_ij - D_i)
//        dK_j += dS_ij^T Q_i;  dQ_i += dS_ij K_j                  (fp32 atomics into dQaccum, staged in
//                                                                   shared memory: 16-byte vector atomics)
//      after the last i: dK_j *= tau, and dK_j, dV_j are written once.
//   3. convert: dQ = tau dQaccum, rounded to T.
//
// The main kernel works on transposed tiles: each warp owns 16 keys of K_j (B_c = 16 * warps) and
// computes S_ij^T = K_j Q_i^T and dP_ij^T = V_j dO_i^T for them (m16 = its keys, n = the B_r queries).
// Their fp32 C fragments are then exactly the A fragments of dV_j += P^T dO_i and dK_j += dS^T Q_i, so
// P and dS never leave registers for those two products (as P~ in the forward). dQ_i = dS K_j needs
// dS the other way round: each warp writes its rows of dS^T to shared memory, and after a barrier the
// warps split the B_r x d tile of dQ_i and read dS back with ldmatrix.trans.
//
// Ragged N: rows past N are zero-filled by cp.async and P is set to 0 where the key or the query is
// past N, so they contribute nothing; their dK, dV, dQ rows are not stored. Causal: for K/V block j the
// loop starts at the first Q block with a query >= j B_c (the blocks above the diagonal are skipped),
// and P = 0 where key > query on the diagonal blocks.
#include <cstdint>

#include "kernels/cuda/dtype.cuh"
#include "kernels/cuda/flash_fwd.cuh"
#include "kernels/cuda/ptx.cuh"

namespace tilesim::kernels::cuda::flash_bwd {

template <int d, int B_c, int B_r, int kWarps>
struct Shape {
    static constexpr int kThreads = 32 * kWarps;
    static constexpr int kNq = B_r / 8;    // n8 tiles of S^T, dP^T (queries) per warp
    static constexpr int kKd = d / 16;     // k16 steps over d (S^T = K Q^T, dP^T = V dO^T)
    static constexpr int kNd = d / 8;      // n8 tiles of dK_j, dV_j per warp
    static constexpr int kKq = B_r / 16;   // k16 steps over queries (dV += P^T dO, dK += dS^T Q)
    static constexpr int kKc = B_c / 16;   // k16 steps over keys (dQ += dS K)
    static constexpr int kWarpsM = B_r / 16;             // warps along the rows of dQ_i ...
    static constexpr int kWarpsN = kWarps / kWarpsM;     // ... and along its d columns
    static constexpr int kColsDq = d / kWarpsN;          // dQ_i columns per warp
    static constexpr int kNdq = kColsDq / 8;             // n8 tiles of dQ_i per warp
    static constexpr int kChunksS = B_r / 8;             // 16-byte chunks in a row of dS^T
    // Shared memory, in elements of T: K_j, V_j; two stages of Q_i and dO_i; dS^T; then (fp32) two
    // stages of L_i and D_i.
    static constexpr int kTileKV = B_c * d;
    static constexpr int kTileQ = B_r * d;
    static constexpr int kTileS = B_c * B_r;
    static constexpr int kElems = 2 * kTileKV + 4 * kTileQ + kTileS;
    // dQ_i += dS_ij K_j leaves the warps' fragments in a B_r x d fp32 tile first (rows padded by 4 floats
    // against bank conflicts), so that the atomics into dQaccum are whole 16-byte vectors of consecutive
    // columns (bench/gpu/atomics.cu: 3.3 TB/s coalesced against 2.0 in the fragment pattern).
    static constexpr int kDqStride = d + 4;
    static constexpr int kDqBytes = B_r * kDqStride * 4;
    static constexpr int kSmemBytes = kElems * 2 + 4 * B_r * 4 + kDqBytes;
    // K_j's and V_j's A fragments could stay in registers across the loop (2 x 16 at d = 64); with the
    // rest of the state near 255 registers that spilled, so they are reloaded per Q block (the switch is
    // kept for experiments).
    static constexpr bool kKVInRegs = false;
    // At d = 128, dK_j and dV_j alone take 128 registers; fully unrolled, the loops over d and over the
    // keys of dQ also keep every one of their (loop-invariant, swizzled) shared-memory addresses in a
    // register, which spills. Unrolling them by 2 only keeps the addresses computed in the loop.
    static constexpr int kUnrollD = d == 128 ? 2 : kKd;
    static constexpr int kUnrollC = d == 128 ? 2 : kKc;
    static_assert(B_c == 16 * kWarps, "each warp owns 16 keys of K_j");
    static_assert(B_r % 16 == 0 && kWarps % kWarpsM == 0, "dQ_i's m16 tiles must divide among the warps");
    static_assert(kColsDq % 16 == 0, "each warp's dQ_i columns must be whole pairs of n8 tiles");
    static_assert(kChunksS == 4 || kChunksS == 8, "dS^T rows of 4 or 8 16-byte chunks (B_r = 32 or 64)");
    static_assert(2 * B_r <= kThreads, "one thread per L_i and per D_i value");
    static_assert(d % 64 == 0, "the swizzle of the d-wide tiles needs at least 8 16-byte chunks a row");
};

// Address (in elements) of 16-byte chunk `chunk` of row `row` of the dS^T tile, whose rows have
// kChunks = 4 or 8 chunks. As flash::swz for d-wide tiles: XOR the chunk with the row so that the 8
// rows an ldmatrix phase reads (or a warp's 32-bit stores, 8 rows x 4 threads) hit 8 different 16-byte
// bank groups. With 4 chunks (64-byte rows), two consecutive rows share a 128-byte bank line, so the
// chunk is XOR-ed with (row / 2) mod 4 and (row mod 2) picks the line half.
template <int kChunks>
__device__ __forceinline__ int swz_s(int row, int chunk) {
    if constexpr (kChunks == 8) {
        return row * 64 + ((chunk ^ (row & 7)) << 3);
    } else {
        return row * 32 + ((chunk ^ ((row >> 1) & 3)) << 3);
    }
}

// 1. D_i = rowsum(dO_i o O_i) for every query row, and dQaccum = 0. One thread per 8 elements of a row
// (16-byte loads), d / 8 threads per row, reduced with shuffles.
template <class T, int d>
__global__ void __launch_bounds__(256)
    bwd_preprocess_kernel(const T* __restrict__ O, const T* __restrict__ dO, float* __restrict__ D,
                          float* __restrict__ dQaccum, std::int64_t rows) {
    constexpr int kPerRow = d / 8;
    const std::int64_t gid = static_cast<std::int64_t>(blockIdx.x) * 256 + threadIdx.x;
    const std::int64_t row = gid / kPerRow;
    const int part = static_cast<int>(gid % kPerRow);
    float sum = 0.0F;
    if (row < rows) {
        const std::int64_t off = row * d + part * 8;
        const uint4 o = *reinterpret_cast<const uint4*>(O + off);
        const uint4 g = *reinterpret_cast<const uint4*>(dO + off);
        const std::uint32_t ow[4] = {o.x, o.y, o.z, o.w};
        const std::uint32_t gw[4] = {g.x, g.y, g.z, g.w};
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const float2 a = Elem<T>::unpack2(ow[e]);
            const float2 b = Elem<T>::unpack2(gw[e]);
            sum = fmaf(a.x, b.x, fmaf(a.y, b.y, sum));
        }
        float4* z = reinterpret_cast<float4*>(dQaccum + off);
        z[0] = make_float4(0.F, 0.F, 0.F, 0.F);
        z[1] = make_float4(0.F, 0.F, 0.F, 0.F);
    }
    // The kPerRow threads of a row are consecutive lanes of one warp (kPerRow divides 32).
#pragma unroll
    for (int off = kPerRow / 2; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffU, sum, off);
    if (row < rows && part == 0) D[row] = sum;
}

// 3. dQ = tau dQaccum, 8 elements per thread.
template <class T>
__global__ void __launch_bounds__(256)
    bwd_convert_dq_kernel(const float* __restrict__ dQaccum, T* __restrict__ dQ, std::int64_t count8,
                          float tau) {
    const std::int64_t k = static_cast<std::int64_t>(blockIdx.x) * 256 + threadIdx.x;
    if (k >= count8) return;
    const float4 a = reinterpret_cast<const float4*>(dQaccum)[2 * k];
    const float4 b = reinterpret_cast<const float4*>(dQaccum)[2 * k + 1];
    uint4 out;
    out.x = Elem<T>::pack2(a.x * tau, a.y * tau);
    out.y = Elem<T>::pack2(a.z * tau, a.w * tau);
    out.z = Elem<T>::pack2(b.x * tau, b.y * tau);
    out.w = Elem<T>::pack2(b.z * tau, b.w * tau);
    reinterpret_cast<uint4*>(dQ)[k] = out;
}

// Calls f(row, vector) for this thread's share of a kRows x kVecs grid of 16-byte vectors, consecutive
// threads on consecutive vectors of a row (coalesced global accesses).
template <int kRows, int kVecs, int kThreads, class F>
__device__ __forceinline__ void for_each_vector(int tid, F&& f) {
    static_assert((kRows * kVecs) % kThreads == 0, "the vectors divide among the threads");
#pragma unroll
    for (int k = 0; k < kRows * kVecs / kThreads; ++k) {
        const int c = tid + k * kThreads;
        f(c / kVecs, c % kVecs);
    }
}

// B_r fp32 values of one head's row statistic (L or D) -> shared memory, asynchronously; past N: 0.
template <int B_r>
__device__ __forceinline__ void load_stat_async(float* dst, const float* head, int q0, int N, int idx) {
    const bool in_range = q0 + idx < N;
    ptx::cp_async_4(dst + idx, head + (in_range ? q0 + idx : 0), in_range ? 4 : 0);
}

// 2. The main kernel (see the file comment).
template <class T, int d, int B_c, int B_r, int kWarps, bool kCausal>
__global__ void __launch_bounds__(32 * kWarps)
    flash_bwd_kernel(const T* __restrict__ Q, const T* __restrict__ K, const T* __restrict__ V,
                     const T* __restrict__ dO, const float* __restrict__ L, const float* __restrict__ D,
                     float* __restrict__ dQaccum, T* __restrict__ dK, T* __restrict__ dV, int N, float tau) {
    using Sh = Shape<d, B_c, B_r, kWarps>;
    constexpr float kLog2e = 1.4426950408889634F;
    const float tau_log2e = tau * kLog2e;  // P = exp(tau S - L) = 2^(tau log2e S - log2e L)

    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* K_s = reinterpret_cast<T*>(smem_raw);
    T* V_s = K_s + Sh::kTileKV;
    T* Q_s = V_s + Sh::kTileKV;       // stages 0, 1
    T* dO_s = Q_s + 2 * Sh::kTileQ;   // stages 0, 1
    T* dS_s = dO_s + 2 * Sh::kTileQ;  // dS_ij^T, B_c x B_r
    float* L_s = reinterpret_cast<float*>(dS_s + Sh::kTileS);  // stages 0, 1
    float* D_s = L_s + 2 * B_r;                                // stages 0, 1
    float* dQ_s = D_s + 2 * B_r;                               // B_r x kDqStride fp32

    const int tid = static_cast<int>(threadIdx.x);
    const int warp = tid / 32, lane = tid % 32;
    const int g = lane >> 2, t = lane & 3;
    const int j = static_cast<int>(blockIdx.x);
    const std::int64_t bh = blockIdx.y;
    const std::int64_t head = bh * N * d;
    const T* Q_h = Q + head;
    const T* K_h = K + head;
    const T* V_h = V + head;
    const T* dO_h = dO + head;
    const float* L_h = L + bh * N;
    const float* D_h = D + bh * N;
    float* dQ_h = dQaccum + head;
    const int k0 = j * B_c;          // first key of K_j
    const int kw = warp * 16;        // this warp's first key inside K_j
    const int T_r = (N + B_r - 1) / B_r;
    // Causal: Q block i is needed once its last query i B_r + B_r - 1 >= k0, the first key of K_j.
    const int i_begin = kCausal ? k0 / B_r : 0;

    auto load_q_block = [&](int i, int stage) {
        flash::load_tile_async<B_r, d, Sh::kThreads>(Q_s + stage * Sh::kTileQ, Q_h, i * B_r, N, tid);
        flash::load_tile_async<B_r, d, Sh::kThreads>(dO_s + stage * Sh::kTileQ, dO_h, i * B_r, N, tid);
        if (tid < B_r) {
            load_stat_async<B_r>(L_s + stage * B_r, L_h, i * B_r, N, tid);
        } else if (tid < 2 * B_r) {
            load_stat_async<B_r>(D_s + stage * B_r, D_h, i * B_r, N, tid - B_r);
        }
    };

    // Algorithm 4, line 6: load K_j, V_j (once), with the first Q block's Q_i, dO_i, L_i, D_i.
    flash::load_tile_async<B_c, d, Sh::kThreads>(K_s, K_h, k0, N, tid);
    flash::load_tile_async<B_c, d, Sh::kThreads>(V_s, V_h, k0, N, tid);
    load_q_block(i_begin, 0);
    ptx::cp_async_commit();

    // Line 7, on chip: dK_j = dV_j = 0 for this warp's 16 keys.
    float dK_j[Sh::kNd][4] = {};
    float dV_j[Sh::kNd][4] = {};
    std::uint32_t K_frag[Sh::kKVInRegs ? Sh::kKd : 1][4];
    std::uint32_t V_frag[Sh::kKVInRegs ? Sh::kKd : 1][4];
    // The A fragment (16 keys x k16 of d) of this warp's rows of a d-wide tile.
    auto load_a_frag = [&](const T* tile, int kk, std::uint32_t(&frag)[4]) {
        ptx::ldmatrix_x4(frag, tile + flash::swz<d>(kw + (lane & 15), 2 * kk + (lane >> 4)));
    };

    for (int i = i_begin; i < T_r; ++i) {
        const int stage = (i - i_begin) & 1;
        // Line 8 (pipelined): Q_{i+1}, dO_{i+1}, L_{i+1}, D_{i+1} load into the other stage meanwhile.
        if (i + 1 < T_r) load_q_block(i + 1, stage ^ 1);
        ptx::cp_async_commit();
        ptx::cp_async_wait<1>();
        __syncthreads();
        const T* Q_i = Q_s + stage * Sh::kTileQ;
        const T* dO_i = dO_s + stage * Sh::kTileQ;
        const float* L_i = L_s + stage * B_r;
        const float* D_i = D_s + stage * B_r;
        const int q0 = i * B_r;
        if constexpr (Sh::kKVInRegs) {
            if (i == i_begin) {
#pragma unroll
                for (int kk = 0; kk < Sh::kKd; ++kk) {
                    load_a_frag(K_s, kk, K_frag[kk]);
                    load_a_frag(V_s, kk, V_frag[kk]);
                }
            }
        }

        // Line 9: S_ij^T = K_j Q_i^T and (line 11) dP_ij^T = V_j dO_i^T, this warp's 16 keys x B_r.
        // Row-major Q_i and dO_i are the "col" B operands as they are (plain ldmatrix).
        float S[Sh::kNq][4] = {};
        float dP[Sh::kNq][4] = {};
        // One product after the other (rather than interleaved) keeps fewer fragments live at d = 128.
        auto transposed_product = [&](float(&acc)[Sh::kNq][4], const T* A_tile,
                                      const std::uint32_t(&A_regs)[Sh::kKVInRegs ? Sh::kKd : 1][4], const T* B_tile) {
#pragma unroll Sh::kUnrollD
            for (int kk = 0; kk < Sh::kKd; ++kk) {
                std::uint32_t a[4];
                if constexpr (Sh::kKVInRegs) {
#pragma unroll
                    for (int r = 0; r < 4; ++r) a[r] = A_regs[kk][r];
                } else {
                    load_a_frag(A_tile, kk, a);
                }
#pragma unroll
                for (int np = 0; np < Sh::kNq / 2; ++np) {
                    const int q = np * 16 + (lane & 7) + ((lane >> 4) << 3);
                    std::uint32_t b[4];
                    ptx::ldmatrix_x4(b, B_tile + flash::swz<d>(q, 2 * kk + ((lane >> 3) & 1)));
                    ptx::mma<T>(acc[2 * np], a, b[0], b[1]);
                    ptx::mma<T>(acc[2 * np + 1], a, b[2], b[3]);
                }
            }
        };
        transposed_product(S, K_s, K_frag, Q_i);
        transposed_product(dP, V_s, V_frag, dO_i);

        // Line 10: P_ij = exp(tau S_ij - L_i) (the forward's probabilities, from its saved L_i), and
        // line 12: dS_ij = P_ij o (dP_ij - D_i). Element e of n8 tile nt: key kw + g + 8 (e / 2),
        // query nt * 8 + 2t + (e % 2). Masked (P = 0): keys or queries past N, and causal key > query.
        const bool need_mask = k0 + B_c > N || q0 + B_r > N || (kCausal && k0 + B_c - 1 > q0);
#pragma unroll
        for (int nt = 0; nt < Sh::kNq; ++nt) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int qc = nt * 8 + 2 * t + (e & 1);
                float p = ptx::exp2_approx(fmaf(S[nt][e], tau_log2e, -L_i[qc] * kLog2e));
                if (need_mask) {
                    const int key = k0 + kw + g + 8 * (e >> 1), query = q0 + qc;
                    if (key >= N || query >= N || (kCausal && key > query)) p = 0.0F;
                }
                S[nt][e] = p;                       // S now holds P_ij^T
                dP[nt][e] = p * (dP[nt][e] - D_i[qc]);  // dP now holds dS_ij^T
            }
        }

        // Lines 11 and 13: dV_j += P_ij^T dO_i and dK_j += dS_ij^T Q_i. The C fragments of two n8 tiles
        // (16 queries) are the A fragment of one k16 step; row-major dO_i and Q_i are the "row" B
        // layout, so ldmatrix.trans gives the "col" fragments.
#pragma unroll
        for (int kk = 0; kk < Sh::kKq; ++kk) {
            std::uint32_t a_p[4], a_s[4];
            a_p[0] = Elem<T>::pack2(S[2 * kk][0], S[2 * kk][1]);
            a_p[1] = Elem<T>::pack2(S[2 * kk][2], S[2 * kk][3]);
            a_p[2] = Elem<T>::pack2(S[2 * kk + 1][0], S[2 * kk + 1][1]);
            a_p[3] = Elem<T>::pack2(S[2 * kk + 1][2], S[2 * kk + 1][3]);
            a_s[0] = Elem<T>::pack2(dP[2 * kk][0], dP[2 * kk][1]);
            a_s[1] = Elem<T>::pack2(dP[2 * kk][2], dP[2 * kk][3]);
            a_s[2] = Elem<T>::pack2(dP[2 * kk + 1][0], dP[2 * kk + 1][1]);
            a_s[3] = Elem<T>::pack2(dP[2 * kk + 1][2], dP[2 * kk + 1][3]);
            // dS_ij^T also goes to shared memory for dQ_i (as T, the precision of the mma operand).
            // Rows kw + g (+8) of the tile, queries 16 kk + 8 n + 2t: chunk 2 kk + n.
#pragma unroll
            for (int n = 0; n < 2; ++n) {
#pragma unroll
                for (int h = 0; h < 2; ++h) {
                    *reinterpret_cast<std::uint32_t*>(dS_s + swz_s<Sh::kChunksS>(kw + g + 8 * h, 2 * kk + n) +
                                                      2 * t) = a_s[2 * n + h];
                }
            }
            const int q = kk * 16 + (lane & 7) + (((lane >> 3) & 1) << 3);
#pragma unroll
            for (int dp = 0; dp < Sh::kNd / 2; ++dp) {
                std::uint32_t b[4];
                ptx::ldmatrix_x4_trans(b, dO_i + flash::swz<d>(q, 2 * dp + (lane >> 4)));
                ptx::mma<T>(dV_j[2 * dp], a_p, b[0], b[1]);
                ptx::mma<T>(dV_j[2 * dp + 1], a_p, b[2], b[3]);
            }
#pragma unroll
            for (int dp = 0; dp < Sh::kNd / 2; ++dp) {
                std::uint32_t b[4];
                ptx::ldmatrix_x4_trans(b, Q_i + flash::swz<d>(q, 2 * dp + (lane >> 4)));
                ptx::mma<T>(dK_j[2 * dp], a_s, b[0], b[1]);
                ptx::mma<T>(dK_j[2 * dp + 1], a_s, b[2], b[3]);
            }
        }
        __syncthreads();  // dS_ij^T complete in shared memory

        // Line 14: dQ_i += dS_ij K_j (the factor tau is applied by the convert kernel). Warp (wm, wn)
        // takes rows 16 wm.. of dQ_i and kColsDq columns from wn kColsDq. A = dS (B_r x B_c) comes from
        // the stored dS^T through ldmatrix.trans; B = row-major K_j ("row" layout) likewise.
        {
            const int wm = warp % Sh::kWarpsM, wn = warp / Sh::kWarpsM;
            float dq[Sh::kNdq][4] = {};
#pragma unroll Sh::kUnrollC
            for (int kc = 0; kc < Sh::kKc; ++kc) {
                std::uint32_t a[4];
                const int mat = lane >> 3, r = lane & 7;  // ldmatrix: lanes 8m..8m+7 address matrix m
                ptx::ldmatrix_x4_trans(
                    a, dS_s + swz_s<Sh::kChunksS>(kc * 16 + ((mat >> 1) << 3) + r, 2 * wm + (mat & 1)));
#pragma unroll
                for (int dp = 0; dp < Sh::kNdq / 2; ++dp) {
                    const int key = kc * 16 + (lane & 7) + (((lane >> 3) & 1) << 3);
                    const int ch = (wn * Sh::kColsDq) / 8 + 2 * dp + (lane >> 4);
                    std::uint32_t b[4];
                    ptx::ldmatrix_x4_trans(b, K_s + flash::swz<d>(key, ch));
                    ptx::mma<T>(dq[2 * dp], a, b[0], b[1]);
                    ptx::mma<T>(dq[2 * dp + 1], a, b[2], b[3]);
                }
            }
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                const int r = wm * 16 + g + 8 * h;
#pragma unroll
                for (int nt = 0; nt < Sh::kNdq; ++nt) {
                    const int col = wn * Sh::kColsDq + nt * 8 + 2 * t;
                    *reinterpret_cast<float2*>(dQ_s + r * Sh::kDqStride + col) =
                        make_float2(dq[nt][2 * h], dq[nt][2 * h + 1]);
                }
            }
        }
        __syncthreads();  // dQ_i's tile complete; every warp is done with this stage and with dS^T
        // The atomics, 16 consecutive bytes a thread (red.global.add.v4.f32), a warp's 32 along one row.
        for_each_vector<B_r, d / 4, Sh::kThreads>(tid, [&](int r, int v) {
            if (q0 + r < N) {
                const float4 x = *reinterpret_cast<const float4*>(dQ_s + r * Sh::kDqStride + 4 * v);
#ifdef TILESIM_ABLATE_DQ_ATOMICS
                // Timing-only build (scripts/cuda/sync_run.sh): dQ_i is computed and read back as always,
                // but only a NaN would be added, so a run measures the kernel without its atomics. Wrong dQ.
                if (x.x == x.x) return;
#endif
                ptx::atomic_add4(dQ_h + static_cast<std::int64_t>(q0 + r) * d + 4 * v, x);
            }
        });
        // The next iteration overwrites Q_i, dO_i's stage, dS^T and dQ_i's tile only after its own first
        // barrier, which every thread reaches after its atomics above.
    }

    // Line 16: write dK_j (times tau: S = tau Q K^T) and dV_j, through shared memory (K_s and V_s are
    // free after the loop's last barrier) for 16-byte coalesced stores.
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int r = kw + g + 8 * h;
#pragma unroll
        for (int nt = 0; nt < Sh::kNd; ++nt) {
            *reinterpret_cast<std::uint32_t*>(K_s + flash::swz<d>(r, nt) + 2 * t) =
                Elem<T>::pack2(dK_j[nt][2 * h] * tau, dK_j[nt][2 * h + 1] * tau);
            *reinterpret_cast<std::uint32_t*>(V_s + flash::swz<d>(r, nt) + 2 * t) =
                Elem<T>::pack2(dV_j[nt][2 * h], dV_j[nt][2 * h + 1]);
        }
    }
    __syncthreads();
    T* dK_h = dK + head;
    T* dV_h = dV + head;
    for_each_vector<B_c, d / 8, Sh::kThreads>(tid, [&](int r, int ch) {
        if (k0 + r < N) {
            const std::int64_t off = static_cast<std::int64_t>(k0 + r) * d + ch * 8;
            *reinterpret_cast<uint4*>(dK_h + off) = *reinterpret_cast<const uint4*>(K_s + flash::swz<d>(r, ch));
            *reinterpret_cast<uint4*>(dV_h + off) = *reinterpret_cast<const uint4*>(V_s + flash::swz<d>(r, ch));
        }
    });
}

}  // namespace tilesim::kernels::cuda::flash_bwd
