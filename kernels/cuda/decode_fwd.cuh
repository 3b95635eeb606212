#pragma once
// Split-KV decoding (Flash-Decoding) on tensor cores (mma.sync, sm_80+): a few queries against a long
// KV cache, the cache cut into `splits` ranges that separate thread blocks process side by side, each
// writing a partial output and its log-sum-exp in fp32, then a combine kernel merging them.
//
// What it adds over flash_fwd.cuh: the parallelism comes from the KV sequence instead of the query
// blocks (decode has one query block per head: flash_fwd would run B*H thread blocks, too few to fill
// the GPU, each streaming the whole cache); the K/V cache can be read through a page table (vLLM's
// PagedAttention, FlashInfer's page table); and the online softmax's state (m, l, O) of several
// independent pieces is merged exactly, twice: across the warps of a block, and across splits
// (FlashInfer's "attention states merge": (O_a, lse_a) + (O_b, lse_b) is associative and commutative).
//
// Notation as in flash_fwd.cuh (N = the cache length L_k, d, B_c, K_j, V_j, S_ij, m_i, l_i, tau).
// One thread block per (split, kv head, batch). Its query rows are the L_q queries of each of the
// G = H / H_kv query heads that share this KV head (grouped-query attention packs them into one m16
// tile: G * L_q <= 16). Each of the 4 warps owns 16 keys of every K_j block of B_c = 64 keys and keeps
// its own online-softmax state over them (S_ij is 16 x 16 per warp, no shuffles across warps), so the
// loop has no reduction at all; the 4 states are merged once at the end through shared memory.
// K_j, V_j stream through a 3-stage cp.async ring (two blocks in flight while one is used): the kernel
// is bound by HBM bandwidth, so what matters is bytes in flight, 64 KB per thread block at d = 128.
//
// Cache layouts: contiguous [B, H_kv, N, d]; paged [pages, page_size, H_kv, d] with a page table
// [B, max_pages] of page indices (any page size, any order; the last page of a sequence may be partly
// filled). Causal (L_q > 1): query l sits at position N - L_q + l and sees keys <= that position.
#include <cstdint>

#include "kernels/cuda/dtype.cuh"
#include "kernels/cuda/flash_fwd.cuh"
#include "kernels/cuda/ptx.cuh"

namespace tilesim::kernels::cuda::decode {

struct Params {
    const void* Q;         // [B, H, L_q, d]
    const void* K;         // contiguous [B, H_kv, N, d] or paged [pages, page_size, H_kv, d]
    const void* V;         // same layout as K
    const int* page_table; // paged: [B, max_pages]; contiguous: nullptr
    void* O;               // [B, H, L_q, d], written when splits == 1
    float* O_part;         // [B * H * L_q, splits, d], normalised partial outputs (splits > 1)
    float* lse_part;       // [B * H * L_q, splits], natural-log LSE of each partial (splits > 1)
    float* lse;            // [B * H * L_q], the final LSE (splits == 1; the combine writes it otherwise)
    int N, H, H_kv, L_q;
    int page_size, max_pages;
    int splits, blocks_per_split;
    float tau;
};

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int B_c = 16 * kWarps;  // keys of one K_j block: 16 per warp
constexpr int kStages = 3;

template <int d>
struct Shape {
    static constexpr int kKd = d / 16;   // k16 steps of S = q K^T
    static constexpr int kNO = d / 8;    // n8 tiles of O
    static constexpr int kTileKV = B_c * d;
    static constexpr int kTileQ = 16 * d;
    static constexpr int kSmemBytes = (kTileQ + 2 * kStages * kTileKV) * 2;
    // Merge buffer after the loop (reuses the K/V ring): per warp, O (16 x d fp32), m and l (16 each).
    static constexpr int kMergeBytes = kWarps * (16 * d + 32) * 4;
    static_assert(kMergeBytes <= 2 * kStages * kTileKV * 2, "the merge buffer must fit in the K/V ring");
};

// Address of key `key`'s row (of kv head h_kv, batch b) in the cache.
template <class T, int d, bool kPaged>
__device__ __forceinline__ const T* cache_row(const T* base, const Params& p, int b, int h_kv, int key) {
    if constexpr (kPaged) {
        const int page = __ldg(p.page_table + static_cast<std::int64_t>(b) * p.max_pages + key / p.page_size);
        const std::int64_t slot = static_cast<std::int64_t>(page) * p.page_size + key % p.page_size;
        return base + (slot * p.H_kv + h_kv) * d;
    } else {
        return base + ((static_cast<std::int64_t>(b) * p.H_kv + h_kv) * p.N + key) * d;
    }
}

// K_j or V_j (keys [k0, k0 + B_c)) -> a swizzled shared tile; keys >= N are zero-filled, no read.
template <class T, int d, bool kPaged>
__device__ __forceinline__ void load_kv_async(T* tile, const T* base, const Params& p, int b, int h_kv, int k0,
                                              int tid) {
    constexpr int kChunks = d / 8;
#pragma unroll
    for (int k = 0; k < B_c * kChunks / kThreads; ++k) {
        const int c = tid + k * kThreads;
        const int r = c / kChunks, ch = c % kChunks;
        const bool in_range = k0 + r < p.N;
        const T* src = cache_row<T, d, kPaged>(base, p, b, h_kv, in_range ? k0 + r : 0) + ch * 8;
        ptx::cp_async_16(tile + flash::swz<d>(r, ch), src, in_range ? 16 : 0);
    }
}

template <class T, int d, bool kPaged, bool kCausal>
__global__ void __launch_bounds__(kThreads) decode_split_kernel(const Params p) {
    using Sh = Shape<d>;
    constexpr float kLog2e = 1.4426950408889634F;
    const float tau_log2e = p.tau * kLog2e;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* Q_s = reinterpret_cast<T*>(smem_raw);
    T* K_s = Q_s + Sh::kTileQ;                 // kStages stages
    T* V_s = K_s + kStages * Sh::kTileKV;      // kStages stages

    const int tid = static_cast<int>(threadIdx.x);
    const int warp = tid / 32, lane = tid % 32;
    const int g = lane >> 2, t = lane & 3;
    const int split = static_cast<int>(blockIdx.x), h_kv = static_cast<int>(blockIdx.y);
    const int b = static_cast<int>(blockIdx.z);
    const int G = p.H / p.H_kv;
    const int M = G * p.L_q;  // query rows of this block (<= 16)
    const std::int64_t row0 = (static_cast<std::int64_t>(b) * p.H + static_cast<std::int64_t>(h_kv) * G) * p.L_q;
    const T* Qg = static_cast<const T*>(p.Q) + row0 * d;
    const T* Kg = static_cast<const T*>(p.K);
    const T* Vg = static_cast<const T*>(p.V);
    const int T_c = (p.N + B_c - 1) / B_c;
    const int j_begin = split * p.blocks_per_split;
    const int j_end = min(T_c, j_begin + p.blocks_per_split);

    // The query rows (M of the 16 rows of the m16 tile; the rest zero) and the first two K/V blocks.
    flash::load_tile_async<16, d, kThreads>(Q_s, Qg, 0, M, tid);
#pragma unroll
    for (int s = 0; s < kStages - 1; ++s) {
        if (j_begin + s < j_end) {
            load_kv_async<T, d, kPaged>(K_s + s * Sh::kTileKV, Kg, p, b, h_kv, (j_begin + s) * B_c, tid);
            load_kv_async<T, d, kPaged>(V_s + s * Sh::kTileKV, Vg, p, b, h_kv, (j_begin + s) * B_c, tid);
        }
        ptx::cp_async_commit();
    }

    float O_acc[Sh::kNO][4] = {};
    float m_r[2] = {-INFINITY, -INFINITY}, l_r[2] = {0.0F, 0.0F};  // rows g and g + 8 (this warp's keys)
    std::uint32_t Q_frag[Sh::kKd][4];
    const int kw = warp * 16;  // this warp's first key inside K_j

    for (int j = j_begin; j < j_end; ++j) {
        const int stage = (j - j_begin) % kStages;
        // Keep kStages - 1 blocks in flight: block j + 2 goes into the stage freed by block j - 1.
        if (j + kStages - 1 < j_end) {
            const int ns = (j - j_begin + kStages - 1) % kStages;
            load_kv_async<T, d, kPaged>(K_s + ns * Sh::kTileKV, Kg, p, b, h_kv, (j + kStages - 1) * B_c, tid);
            load_kv_async<T, d, kPaged>(V_s + ns * Sh::kTileKV, Vg, p, b, h_kv, (j + kStages - 1) * B_c, tid);
        }
        ptx::cp_async_commit();
        ptx::cp_async_wait<kStages - 1>();
        __syncthreads();
        if (j == j_begin) {
#pragma unroll
            for (int kk = 0; kk < Sh::kKd; ++kk) {
                ptx::ldmatrix_x4(Q_frag[kk], Q_s + flash::swz<d>(lane & 15, 2 * kk + (lane >> 4)));
            }
        }
        const T* K_j = K_s + stage * Sh::kTileKV;
        const T* V_j = V_s + stage * Sh::kTileKV;

        // S = q K_j^T for this warp's 16 keys: two n8 tiles.
        float S[2][4] = {};
#pragma unroll
        for (int kk = 0; kk < Sh::kKd; ++kk) {
            std::uint32_t bk[4];
            const int key = kw + (lane & 7) + ((lane >> 4) << 3);
            ptx::ldmatrix_x4(bk, K_j + flash::swz<d>(key, 2 * kk + ((lane >> 3) & 1)));
            ptx::mma<T>(S[0], Q_frag[kk], bk[0], bk[1]);
            ptx::mma<T>(S[1], Q_frag[kk], bk[2], bk[3]);
        }
        // Masks: keys >= N (the last block), and causal keys after the query's position.
        const int k0 = j * B_c + kw;
        if (k0 + 16 > p.N || (kCausal && k0 + 16 > p.N - p.L_q + 1)) {
#pragma unroll
            for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const int key = k0 + nt * 8 + 2 * t + (e & 1);
                    const int r = g + 8 * (e >> 1);
                    const int pos = p.N - p.L_q + r % p.L_q;  // the query's position in the sequence
                    if (key >= p.N || (kCausal && key > pos)) S[nt][e] = -INFINITY;
                }
            }
        }
        // Online softmax over this warp's keys (flash_fwd.cuh lines 10-11, FA2 form).
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            float mx = fmaxf(fmaxf(S[0][2 * h], S[0][2 * h + 1]), fmaxf(S[1][2 * h], S[1][2 * h + 1]));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffU, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffU, mx, 2));
            const float m_new = fmaxf(m_r[h], mx);
            const float offset = m_new == -INFINITY ? 0.0F : m_new * tau_log2e;
            const float alpha = ptx::exp2_approx(m_r[h] * tau_log2e - offset);
            float rowsum = 0.0F;
#pragma unroll
            for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    const float pv = ptx::exp2_approx(fmaf(S[nt][2 * h + e], tau_log2e, -offset));
                    S[nt][2 * h + e] = pv;
                    rowsum += pv;
                }
            }
            l_r[h] = alpha * l_r[h] + rowsum;
            m_r[h] = m_new;
#pragma unroll
            for (int nt = 0; nt < Sh::kNO; ++nt) {
                O_acc[nt][2 * h] *= alpha;
                O_acc[nt][2 * h + 1] *= alpha;
            }
        }
        // O += P V_j over this warp's 16 keys: one k16 step.
        std::uint32_t a[4];
        a[0] = Elem<T>::pack2(S[0][0], S[0][1]);
        a[1] = Elem<T>::pack2(S[0][2], S[0][3]);
        a[2] = Elem<T>::pack2(S[1][0], S[1][1]);
        a[3] = Elem<T>::pack2(S[1][2], S[1][3]);
#pragma unroll
        for (int dp = 0; dp < Sh::kNO / 2; ++dp) {
            std::uint32_t bv[4];
            const int key = kw + (lane & 7) + (((lane >> 3) & 1) << 3);
            ptx::ldmatrix_x4_trans(bv, V_j + flash::swz<d>(key, 2 * dp + (lane >> 4)));
            ptx::mma<T>(O_acc[2 * dp], a, bv[0], bv[1]);
            ptx::mma<T>(O_acc[2 * dp + 1], a, bv[2], bv[3]);
        }
        __syncthreads();  // the stage is free for the block loaded two iterations later
    }
    ptx::cp_async_wait<0>();  // no copy may still target the ring that the merge reuses
    __syncthreads();

    // Merge the 4 warps' states (m_w, l_w, O_w) of each row: m = max m_w, l = sum l_w 2^(m_w - m) ...,
    // through shared memory (the K/V ring is free now).
    float* Om = reinterpret_cast<float*>(K_s);     // [warp][16][d]
    float* mm = Om + kWarps * 16 * d;              // [warp][16]
    float* lm = mm + kWarps * 16;                  // [warp][16]
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        float l = l_r[h];
        l += __shfl_xor_sync(0xffffffffU, l, 1);
        l += __shfl_xor_sync(0xffffffffU, l, 2);
        const int r = g + 8 * h;
        if (t == 0) {
            mm[warp * 16 + r] = m_r[h];
            lm[warp * 16 + r] = l;
        }
#pragma unroll
        for (int nt = 0; nt < Sh::kNO; ++nt) {
            *reinterpret_cast<float2*>(Om + (warp * 16 + r) * d + nt * 8 + 2 * t) =
                make_float2(O_acc[nt][2 * h], O_acc[nt][2 * h + 1]);
        }
    }
    __syncthreads();
    // Thread layout for the merge: row r = tid / 8, 8 threads per row, d / 8 columns each.
    constexpr int kCols = d / 8;
    const int r = tid / 8, c0 = (tid % 8) * kCols;
    if (r < M) {
        float m = -INFINITY;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) m = fmaxf(m, mm[w * 16 + r]);
        float scale[kWarps], l = 0.0F;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) {
            scale[w] = m == -INFINITY ? 0.0F : ptx::exp2_approx((mm[w * 16 + r] - m) * tau_log2e);
            l += scale[w] * lm[w * 16 + r];
        }
        const float inv_l = l > 0.0F ? 1.0F / l : 0.0F;
        const float lse = l > 0.0F ? m * p.tau + logf(l) : -INFINITY;
        const std::int64_t row = row0 + r;
        if (p.splits == 1) {
            T* Og = static_cast<T*>(p.O) + row * d + c0;
#pragma unroll
            for (int c = 0; c < kCols; c += 2) {
                float o[2];
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    float acc = 0.0F;
#pragma unroll
                    for (int w = 0; w < kWarps; ++w) acc += scale[w] * Om[(w * 16 + r) * d + c0 + c + e];
                    o[e] = acc * inv_l;
                }
                *reinterpret_cast<std::uint32_t*>(Og + c) = Elem<T>::pack2(o[0], o[1]);
            }
            if (c0 == 0 && p.lse != nullptr) p.lse[row] = lse;
        } else {
            float* Op = p.O_part + (row * p.splits + split) * d + c0;
#pragma unroll
            for (int c = 0; c < kCols; c += 4) {
                float o[4];
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    float acc = 0.0F;
#pragma unroll
                    for (int w = 0; w < kWarps; ++w) acc += scale[w] * Om[(w * 16 + r) * d + c0 + c + e];
                    o[e] = acc * inv_l;
                }
                *reinterpret_cast<float4*>(Op + c) = make_float4(o[0], o[1], o[2], o[3]);
            }
            if (c0 == 0) p.lse_part[row * p.splits + split] = lse;
        }
    }
}

// The combine: O = sum_s w_s O_s / sum_s w_s with w_s = exp(lse_s - max lse), lse = max + log sum w_s.
// One warp per query row; each lane holds d / 32 columns. A split whose keys were all masked has
// lse = -inf and weight 0.
template <class T, int d>
__global__ void __launch_bounds__(256)
    decode_combine_kernel(const float* __restrict__ O_part, const float* __restrict__ lse_part, T* __restrict__ O,
                          float* __restrict__ lse, std::int64_t rows, int splits) {
    constexpr int kPer = d / 32;
    const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * 8 + threadIdx.x / 32;
    if (row >= rows) return;
    const int lane = static_cast<int>(threadIdx.x % 32);
    const float* ls = lse_part + row * splits;
    float mx = -INFINITY;
    for (int s = lane; s < splits; s += 32) mx = fmaxf(mx, ls[s]);
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffU, mx, off));
    float acc[kPer] = {};
    float wsum = 0.0F;
    for (int s = 0; s < splits; ++s) {
        const float w = mx == -INFINITY ? 0.0F : __expf(ls[s] - mx);
        wsum += w;
        const float* src = O_part + (row * splits + s) * d + lane * kPer;
#pragma unroll
        for (int e = 0; e < kPer; ++e) acc[e] = fmaf(w, src[e], acc[e]);
    }
    const float inv = wsum > 0.0F ? 1.0F / wsum : 0.0F;
    T* dst = O + row * d + lane * kPer;
#pragma unroll
    for (int e = 0; e < kPer; e += 2) {
        *reinterpret_cast<std::uint32_t*>(dst + e) = Elem<T>::pack2(acc[e] * inv, acc[e + 1] * inv);
    }
    if (lane == 0 && lse != nullptr) lse[row] = wsum > 0.0F ? mx + logf(wsum) : -INFINITY;
}

}  // namespace tilesim::kernels::cuda::decode
