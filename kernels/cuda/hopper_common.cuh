#pragma once
// What every step of the Hopper forward progression shares (sm_90a): the TMA loads of Q_i, K_j, V_j
// into SW128 panels (hopper.cuh), the two GEMMs of a warpgroup as wgmma calls, the masked online
// softmax on the wgmma accumulators, and the epilogue. The steps differ in how these are scheduled,
// which is what each hopper_fwd_*.cuh file is about.
//
// Notation as in flash_fwd.cuh: N, d, B_r, B_c, Q_i, K_j, V_j, S_ij, P~_ij, m_i, l_i, tau.
// Every step uses B_r = 128 (two consumer warpgroups of 64 rows each: wgmma's M is 64) and B_c = 128.
//
// A warpgroup's accumulators have the mma.sync C layout per warp (hopper_wgmma.cuh): warp w of the
// group owns rows 16w..16w+15 of the group's 64, thread (g, t) holds rows g and g + 8 and, in n8 tile
// j, columns 8j + 2t and 8j + 2t + 1. So the online softmax is the one of flash_fwd.cuh (a row lives in
// the 4 threads of a quad), and, as there, two n8 tiles of P~_ij in fp32 are the A fragment of one k16
// step of P~_ij V_j: the second GEMM takes P~_ij from registers (wgmma's RS form), never from shared
// memory.
#include <cuda.h>

#include <cstdint>

#include "kernels/cuda/dtype.cuh"
#include "kernels/cuda/hopper.cuh"
#include "kernels/cuda/hopper_wgmma.cuh"
#include "kernels/cuda/ptx.cuh"

namespace tilesim::kernels::cuda::hopper {

constexpr int B_r = 128;  // two consumer warpgroups x 64 rows
constexpr int B_c = 128;

template <int kRows, int d>
__host__ __device__ constexpr int tile_bytes() {
    return kRows * d * 2;
}

// Rows [row0, row0 + kRows) of head bh, all d / 64 panels, into `tile`; completes on `bar`. Rows past N
// are outside the tensor map's bounds and arrive as zeros.
template <int kRows, int d>
__device__ __forceinline__ void tma_tile(unsigned char* tile, const CUtensorMap* tm, std::uint64_t* bar, int row0,
                                         int bh) {
#pragma unroll
    for (int p = 0; p < d / 64; ++p) tma_load_3d(tile + p * kRows * 128, tm, bar, p * 64, row0, bh);
}

// The wgmma wrappers by element type and N.
template <class T, int kN>
__device__ __forceinline__ void mma_ss(float (&acc)[kN / 2], std::uint64_t da, std::uint64_t db, int scale_d) {
    constexpr bool kBf16 = std::is_same_v<T, __nv_bfloat16>;
    if constexpr (kN == 128) {
        if constexpr (kBf16) wgmma_ss_m64n128k16_bf16(acc, da, db, scale_d);
        else wgmma_ss_m64n128k16_f16(acc, da, db, scale_d);
    } else {
        static_assert(kN == 64);
        if constexpr (kBf16) wgmma_ss_m64n64k16_bf16(acc, da, db, scale_d);
        else wgmma_ss_m64n64k16_f16(acc, da, db, scale_d);
    }
}
template <class T, int kN>
__device__ __forceinline__ void mma_rs_tb(float (&acc)[kN / 2], const std::uint32_t (&a)[4], std::uint64_t db,
                                          int scale_d) {
    constexpr bool kBf16 = std::is_same_v<T, __nv_bfloat16>;
    if constexpr (kN == 128) {
        if constexpr (kBf16) wgmma_rs_m64n128k16_bf16_tb(acc, a, db, scale_d);
        else wgmma_rs_m64n128k16_f16_tb(acc, a, db, scale_d);
    } else {
        static_assert(kN == 64);
        if constexpr (kBf16) wgmma_rs_m64n64k16_bf16_tb(acc, a, db, scale_d);
        else wgmma_rs_m64n64k16_f16_tb(acc, a, db, scale_d);
    }
}

// Algorithm 1, line 9, for one warpgroup: S = Q_i K_j^T over its 64 rows (rows 64 wg.. of the Q_i
// tile), d / 16 k16 steps. Both operands are K-major (d contiguous): k16 step kk lies in panel kk / 4,
// 32 (kk % 4) bytes into each 128-byte row. Issue only: the caller commits and waits.
template <class T, int d>
__device__ __forceinline__ void issue_qk(float (&S)[B_c / 2], const unsigned char* Q_s, int wg,
                                         const unsigned char* K_s) {
#pragma unroll
    for (int kk = 0; kk < d / 16; ++kk) {
        const int p = kk / 4, ks = kk % 4;
        const std::uint64_t da = make_desc(Q_s + p * B_r * 128 + wg * 64 * 128 + ks * 32, 16, 1024);
        const std::uint64_t db = make_desc(K_s + p * B_c * 128 + ks * 32, 16, 1024);
        mma_ss<T, B_c>(S, da, db, kk > 0 ? 1 : 0);
    }
}

// Line 12: O_i += P~_ij V_j, P~ from registers (B_c / 16 k16 steps of 16 keys), V_j MN-major (row-major
// [key][d]: d contiguous): k16 step kk starts 16 rows (2048 bytes) further; the next 8 keys are 1024
// bytes on (SBO), the next 64 columns of d one panel (B_c * 128 bytes, LBO) on.
template <class T, int d>
__device__ __forceinline__ void issue_pv(float (&O)[d / 2], const std::uint32_t (&P)[B_c / 16][4],
                                         const unsigned char* V_s) {
#pragma unroll
    for (int kk = 0; kk < B_c / 16; ++kk) {
        const std::uint64_t db = make_desc(V_s + kk * 2048, B_c * 128, 1024);
        mma_rs_tb<T, d>(O, P[kk], db, 1);
    }
}

// Masks (keys >= N; causal: key > query) and the online softmax of lines 10-11 in the FA2 form, on a
// warpgroup's S accumulators: S becomes P~_ij (unnormalised, base 2 with tau log2 e folded in), m and l
// are updated, and alpha = e^{tau (m_old - m_new)} is returned per row for the caller to rescale O_i
// (when that happens is what differs between the steps). `row0`: the global query row of this thread's
// first row (h = 0); `k0`: the first key of K_j.
// FP8 (step (f)) passes two more factors, both free here: `score_scale`, the dequantisation of S_ij
// (true S = score_scale x the accumulator: c > 0, so the row max commutes with it), and `log2_pscale`,
// log2 of a factor f the stored P~ is multiplied by (folded into the exponent's offset; l_i gets the
// rowsum divided by f, so that l_i stays the sum of the unscaled P~).
template <bool kCausal>
__device__ __forceinline__ void softmax_step(float (&S)[B_c / 2], float (&m)[2], float (&l)[2], float (&alpha)[2],
                                             int row0, int k0, int N, float tau_log2e, int t,
                                             float score_scale = 1.0F, float log2_pscale = 0.0F) {
    if (k0 + B_c > N || (kCausal && k0 + B_c - 1 > row0)) {
#pragma unroll
        for (int nt = 0; nt < B_c / 8; ++nt) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int key = k0 + nt * 8 + 2 * t + (e & 1);
                const int row = row0 + 8 * (e >> 1);
                if (key >= N || (kCausal && key > row)) S[4 * nt + e] = -INFINITY;
            }
        }
    }
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        float mx = -INFINITY;
#pragma unroll
        for (int nt = 0; nt < B_c / 8; ++nt) mx = fmaxf(mx, fmaxf(S[4 * nt + 2 * h], S[4 * nt + 2 * h + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffU, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffU, mx, 2));
        const float m_new = fmaxf(m[h], mx * score_scale);
        // A row with every key masked so far keeps m = -inf: offset 0 so that exp gives 0, not NaN.
        const float offset = m_new == -INFINITY ? 0.0F : m_new * tau_log2e;
        alpha[h] = ptx::exp2_approx(m[h] * tau_log2e - offset);
        const float mul = tau_log2e * score_scale, off = log2_pscale - offset;
        float rowsum = 0.0F;
#pragma unroll
        for (int nt = 0; nt < B_c / 8; ++nt) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const float p = ptx::exp2_approx(fmaf(S[4 * nt + 2 * h + e], mul, off));
                S[4 * nt + 2 * h + e] = p;
                rowsum += p;
            }
        }
        l[h] = alpha[h] * l[h] + (log2_pscale == 0.0F ? rowsum : rowsum * ptx::exp2_approx(-log2_pscale));
        m[h] = m_new;
    }
}

// O_i *= diag(alpha). `kSkipSettled`: skipped when no row of the warp changed its max (alpha = 1
// exactly for all 16 of them, as for most blocks once the running max has settled; multiplying by 1
// changes nothing, so the result is the same bit for bit): one vote instead of d / 2 multiplies a
// thread. Measured on an H200 (docs/cuda.md): it pays where the rescale is on the critical path and the
// softmax is long against the GEMMs, steps (b) and (c) at d = 64 (+25 %, +4 %); elsewhere it cost 2-8 %.
template <int d, bool kSkipSettled = false>
__device__ __forceinline__ void rescale(float (&O)[d / 2], const float (&alpha)[2]) {
    if constexpr (kSkipSettled) {
        if (__all_sync(0xffffffffU, alpha[0] == 1.0F && alpha[1] == 1.0F)) return;
    }
#pragma unroll
    for (int nt = 0; nt < d / 8; ++nt) {
        O[4 * nt + 0] *= alpha[0];
        O[4 * nt + 1] *= alpha[0];
        O[4 * nt + 2] *= alpha[1];
        O[4 * nt + 3] *= alpha[1];
    }
}

// P~_ij (fp32 accumulators) -> the A fragments of the B_c / 16 k16 steps of P~_ij V_j, in T.
template <class T>
__device__ __forceinline__ void to_a_frags(const float (&S)[B_c / 2], std::uint32_t (&P)[B_c / 16][4]) {
#pragma unroll
    for (int kk = 0; kk < B_c / 16; ++kk) {
        P[kk][0] = Elem<T>::pack2(S[8 * kk + 0], S[8 * kk + 1]);
        P[kk][1] = Elem<T>::pack2(S[8 * kk + 2], S[8 * kk + 3]);
        P[kk][2] = Elem<T>::pack2(S[8 * kk + 4], S[8 * kk + 5]);
        P[kk][3] = Elem<T>::pack2(S[8 * kk + 6], S[8 * kk + 7]);
    }
}

// After the last block: O_i /= l_i (FA2's deferred rescale), L_i = tau m_i + log l_i; rows >= N are not
// stored. Each thread writes its 2 x (d / 8) pairs of columns directly (O is a small part of the traffic:
// N d elements against the loop's 2 N d T_r reads).
template <class T, int d>
__device__ __forceinline__ void epilogue(const float (&O)[d / 2], const float (&m)[2], const float (&l_part)[2],
                                         T* O_h, float* L_h, int row0, int N, float tau, int t) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        float l = l_part[h];
        l += __shfl_xor_sync(0xffffffffU, l, 1);
        l += __shfl_xor_sync(0xffffffffU, l, 2);
        const float inv_l = l > 0.0F ? 1.0F / l : 0.0F;
        const int row = row0 + 8 * h;
        if (row < N) {
            if (L_h != nullptr && t == 0) L_h[row] = m[h] * tau + logf(l);
#pragma unroll
            for (int nt = 0; nt < d / 8; ++nt) {
                *reinterpret_cast<std::uint32_t*>(O_h + static_cast<std::int64_t>(row) * d + nt * 8 + 2 * t) =
                    Elem<T>::pack2(O[4 * nt + 2 * h] * inv_l, O[4 * nt + 2 * h + 1] * inv_l);
            }
        }
    }
}

// The dynamic shared memory, rounded up to the 1024-byte alignment the 128B swizzle needs (the launch
// asks for 1024 bytes more than the tiles take).
__device__ __forceinline__ unsigned char* aligned_smem(unsigned char* raw) {
    const std::uint32_t a = smem_u32(raw);
    return raw + ((1024 - (a & 1023)) & 1023);
}

}  // namespace tilesim::kernels::cuda::hopper
