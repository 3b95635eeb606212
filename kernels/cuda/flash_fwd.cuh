#pragma once
// FlashAttention forward on tensor cores, in the FlashAttention-2 loop order.
//
// Notation of the paper (Dao et al. 2022, Algorithm 1), used for every name below: N sequence length,
// d head dimension, B_r rows of a Q block, B_c rows of a K/V block, T_r = ceil(N / B_r),
// T_c = ceil(N / B_c), Q_i, K_j, V_j, S_ij = Q_i K_j^T, P~_ij, m_i (running row max), l_i (running row
// sum), tau = 1 / sqrt(d). The model's run_flash2 (kernels/flash_attention2.cpp) is the same schedule.
//
// One thread block per (Q block i, batch * head): Q_i is loaded once and kept in registers, the
// O_i accumulator and m_i, l_i live in registers for the whole loop over j (FA2: Q outer, K/V inner),
// K_j and V_j stream through shared memory, double-buffered with cp.async so that block j + 1 loads
// while block j is multiplied. Each warp owns B_r / warps rows of Q_i, so the online softmax needs
// only quad shuffles, never shared memory. O_i is divided by l_i once, after the last block
// (FA2's deferred rescale), and L_i = tau m_i + log l_i is written for a backward pass.
//
// The element type T (fp16 or bf16, kernels/cuda/dtype.cuh) is a template parameter: the two differ only
// in the mma instruction's type suffix and in the fp32 -> T conversion of P~_ij and O_i.
//
// Ragged N: rows of Q_i, K_j, V_j past N are zero-filled by cp.async (no read), scores of keys >= N
// are set to -inf before the softmax, and rows of O_i past N are not stored. Causal: K/V blocks wholly
// above the diagonal are skipped, diagonal blocks masked element-wise.
#include <cstdint>

#include "kernels/cuda/dtype.cuh"
#include "kernels/cuda/ptx.cuh"

namespace tilesim::kernels::cuda::flash {

template <int d, int B_r, int B_c, int kWarps>
struct Shape {
    static constexpr int kThreads = 32 * kWarps;
    static constexpr int kRowsPerWarp = B_r / kWarps;
    static constexpr int kM = kRowsPerWarp / 16;  // m16 tiles of Q_i per warp
    static constexpr int kNS = B_c / 8;           // n8 tiles of S_ij per m16 tile
    static constexpr int kKQ = d / 16;            // k16 steps of Q_i K_j^T
    static constexpr int kNO = d / 8;             // n8 tiles of O_i
    static constexpr int kKV = B_c / 16;          // k16 steps of P~_ij V_j
    static constexpr int kChunks = d / 8;         // 16-byte chunks per row of a tile
    static constexpr int kTileQ = B_r * d;        // halves of Q_i (reused for O_i at the end)
    static constexpr int kTileKV = B_c * d;       // halves of one K_j or V_j stage
    static constexpr int kSmemBytes = (kTileQ + 4 * kTileKV) * 2;  // Q_i + 2 stages of K_j and V_j
    static_assert(kRowsPerWarp % 16 == 0, "each warp needs whole m16 tiles of Q_i");
    static_assert(B_c % 16 == 0, "B_c must be a multiple of 16 (k16 steps of P V)");
    static_assert(d % 64 == 0, "the shared-memory swizzle needs rows of at least 8 16-byte chunks");
};

// Shared-memory address (in halves) of 16-byte chunk `chunk` of tile row `row`. XOR-ing the chunk
// with row % 8 puts the 8 rows an ldmatrix phase reads at one logical column into 8 different bank
// groups (rows are 128 or 256 bytes, so without it all 8 would hit the same 4 banks).
template <int d>
__device__ __forceinline__ int swz(int row, int chunk) {
    return row * d + ((chunk ^ (row & 7)) << 3);
}

// Rows [row0, row0 + kRows) of one head's N x d matrix -> a swizzled shared tile, asynchronously.
template <int kRows, int d, int kThreads, class T>
__device__ __forceinline__ void load_tile_async(T* tile, const T* head, int row0, int N, int tid) {
    constexpr int kChunks = d / 8;
    constexpr int kTotal = kRows * kChunks;
    static_assert(kTotal % kThreads == 0, "tile chunks must divide evenly among the threads");
#pragma unroll
    for (int k = 0; k < kTotal / kThreads; ++k) {
        const int c = tid + k * kThreads;
        const int r = c / kChunks, ch = c % kChunks;
        const bool in_range = row0 + r < N;
        const T* src = head + static_cast<std::int64_t>(in_range ? row0 + r : 0) * d + ch * 8;
        ptx::cp_async_16(tile + swz<d>(r, ch), src, in_range ? 16 : 0);
    }
}

template <class T, int d, int B_r, int B_c, int kWarps, bool kCausal>
__global__ void __launch_bounds__(32 * kWarps)
    flash_fwd_kernel(const T* __restrict__ Q, const T* __restrict__ K, const T* __restrict__ V,
                     T* __restrict__ O, float* __restrict__ L, int N, float tau) {
    using Sh = Shape<d, B_r, B_c, kWarps>;
    constexpr float kLog2e = 1.4426950408889634F;
    const float tau_log2e = tau * kLog2e;  // exp(tau x) = 2^(tau log2(e) x): one FFMA + one MUFU.EX2

    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* Q_s = reinterpret_cast<T*>(smem_raw);
    T* K_s = Q_s + Sh::kTileQ;       // stages 0, 1
    T* V_s = K_s + 2 * Sh::kTileKV;  // stages 0, 1

    const int tid = static_cast<int>(threadIdx.x);
    const int warp = tid / 32, lane = tid % 32;
    const int g = lane >> 2, t = lane & 3;  // fragment row group and thread-in-group
    const int T_r = static_cast<int>(gridDim.x);
    // Causal: the last Q blocks have the most K/V blocks; launching them first balances the waves.
    const int i = kCausal ? T_r - 1 - static_cast<int>(blockIdx.x) : static_cast<int>(blockIdx.x);
    const std::int64_t head = static_cast<std::int64_t>(blockIdx.y) * N * d;
    const T* Q_h = Q + head;
    const T* K_h = K + head;
    const T* V_h = V + head;
    const int q0 = i * B_r;                    // first row of Q_i
    const int wrow = warp * Sh::kRowsPerWarp;  // first row of this warp inside Q_i
    const int T_c = (N + B_c - 1) / B_c;
    // Causal: K_j is needed while its first key j B_c <= the last query q0 + B_r - 1.
    const int j_end = kCausal ? min(T_c, (q0 + B_r + B_c - 1) / B_c) : T_c;

    // Algorithm 1, line 8 (once per block in the FA2 order): load Q_i; prefetch K_0, V_0 with it.
    load_tile_async<B_r, d, Sh::kThreads>(Q_s, Q_h, q0, N, tid);
    load_tile_async<B_c, d, Sh::kThreads>(K_s, K_h, 0, N, tid);
    load_tile_async<B_c, d, Sh::kThreads>(V_s, V_h, 0, N, tid);
    ptx::cp_async_commit();

    // Line 2, on chip: O_i = 0, l_i = 0, m_i = -inf. Index [mt][h]: row g + 8h of m16 tile mt.
    // l_i is this thread's partial row sum (its columns only); the quad's partials are added at the end.
    float O_i[Sh::kM][Sh::kNO][4] = {};
    float m_i[Sh::kM][2], l_i[Sh::kM][2];
#pragma unroll
    for (int mt = 0; mt < Sh::kM; ++mt) {
        m_i[mt][0] = m_i[mt][1] = -INFINITY;
        l_i[mt][0] = l_i[mt][1] = 0.0F;
    }
    // A fragments of this warp's rows of Q_i. With one m16 tile per warp they are loaded once and kept
    // in registers; with two, registers are short (O_i and S_ij take 128 per thread), so each k16 step
    // reloads its fragments from Q_s (4 KB per warp per K/V block, a quarter of the K_j, V_j reads).
    constexpr bool kQInRegs = Sh::kM == 1;
    std::uint32_t Q_frag[Sh::kM][kQInRegs ? Sh::kKQ : 1][4];
    auto load_Q_frag = [&](int mt, int kk, std::uint32_t(&frag)[4]) {
        const int row = wrow + mt * 16 + (lane & 15);
        ptx::ldmatrix_x4(frag, Q_s + swz<d>(row, 2 * kk + (lane >> 4)));
    };

    for (int j = 0; j < j_end; ++j) {
        const int stage = j & 1;
        // Line 6: load K_{j+1}, V_{j+1} into the other stage while this one is used.
        if (j + 1 < j_end) {
            load_tile_async<B_c, d, Sh::kThreads>(K_s + (stage ^ 1) * Sh::kTileKV, K_h, (j + 1) * B_c, N,
                                                  tid);
            load_tile_async<B_c, d, Sh::kThreads>(V_s + (stage ^ 1) * Sh::kTileKV, V_h, (j + 1) * B_c, N,
                                                  tid);
        }
        ptx::cp_async_commit();   // possibly empty: keeps "one group per iteration" for the wait below
        ptx::cp_async_wait<1>();  // K_j, V_j (and Q_i) have landed for this thread ...
        __syncthreads();          // ... and for every thread
        const T* K_j = K_s + stage * Sh::kTileKV;
        const T* V_j = V_s + stage * Sh::kTileKV;

        if constexpr (kQInRegs) {
            if (j == 0) {
#pragma unroll
                for (int kk = 0; kk < Sh::kKQ; ++kk) load_Q_frag(0, kk, Q_frag[0][kk]);
            }
        }

        // Line 9: S_ij = Q_i K_j^T (raw; tau is applied inside the exponent). Row-major K_j is the
        // "col" B operand as it is, so a plain ldmatrix gives the fragments of two n8 tiles at once.
        float S_ij[Sh::kM][Sh::kNS][4] = {};
#pragma unroll
        for (int kk = 0; kk < Sh::kKQ; ++kk) {
            constexpr int kF = kQInRegs ? 1 : 0;  // which index of Q_frag holds step kk
            if constexpr (!kQInRegs) {
#pragma unroll
                for (int mt = 0; mt < Sh::kM; ++mt) load_Q_frag(mt, kk, Q_frag[mt][0]);
            }
#pragma unroll
            for (int np = 0; np < Sh::kNS / 2; ++np) {
                std::uint32_t b[4];
                const int key = np * 16 + (lane & 7) + ((lane >> 4) << 3);
                ptx::ldmatrix_x4(b, K_j + swz<d>(key, 2 * kk + ((lane >> 3) & 1)));
#pragma unroll
                for (int mt = 0; mt < Sh::kM; ++mt) {
                    ptx::mma<T>(S_ij[mt][2 * np], Q_frag[mt][kk * kF], b[0], b[1]);
                    ptx::mma<T>(S_ij[mt][2 * np + 1], Q_frag[mt][kk * kF], b[2], b[3]);
                }
            }
        }

        // Masks, only on blocks that need them: keys >= N (ragged last block), keys > query (causal).
        const int k0 = j * B_c;
        if (k0 + B_c > N || (kCausal && k0 + B_c - 1 > q0)) {
#pragma unroll
            for (int mt = 0; mt < Sh::kM; ++mt) {
#pragma unroll
                for (int nt = 0; nt < Sh::kNS; ++nt) {
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const int key = k0 + nt * 8 + 2 * t + (e & 1);
                        const int row = q0 + wrow + mt * 16 + g + 8 * (e >> 1);
                        if (key >= N || (kCausal && key > row)) S_ij[mt][nt][e] = -INFINITY;
                    }
                }
            }
        }

        // Lines 10-11 in the FA2 form: m_new = max(m_i, rowmax(S_ij)); P~_ij = exp(tau (S_ij - m_new));
        // l_i = e^{tau (m_i - m_new)} l_i + rowsum(P~_ij); O_i = diag(e^{tau (m_i - m_new)}) O_i
        // (no division by l_i here: that waits until after the last block).
#pragma unroll
        for (int mt = 0; mt < Sh::kM; ++mt) {
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                float mx = -INFINITY;
#pragma unroll
                for (int nt = 0; nt < Sh::kNS; ++nt) {
                    mx = fmaxf(mx, fmaxf(S_ij[mt][nt][2 * h], S_ij[mt][nt][2 * h + 1]));
                }
                // The 4 threads of a quad hold the row's columns between them.
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffU, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffU, mx, 2));
                const float m_new = fmaxf(m_i[mt][h], mx);
                // A row whose keys are all masked so far keeps m = -inf: offset by 0 so exp gives 0, not NaN.
                const float offset = m_new == -INFINITY ? 0.0F : m_new * tau_log2e;
                const float alpha = ptx::exp2_approx(m_i[mt][h] * tau_log2e - offset);
                float rowsum = 0.0F;
#pragma unroll
                for (int nt = 0; nt < Sh::kNS; ++nt) {
#pragma unroll
                    for (int e = 0; e < 2; ++e) {
                        const float p = ptx::exp2_approx(fmaf(S_ij[mt][nt][2 * h + e], tau_log2e, -offset));
                        S_ij[mt][nt][2 * h + e] = p;  // S_ij now holds P~_ij
                        rowsum += p;
                    }
                }
                l_i[mt][h] = alpha * l_i[mt][h] + rowsum;
                m_i[mt][h] = m_new;
#pragma unroll
                for (int nt = 0; nt < Sh::kNO; ++nt) {
                    O_i[mt][nt][2 * h] *= alpha;
                    O_i[mt][nt][2 * h + 1] *= alpha;
                }
            }
        }

        // Line 12 (FA2 form): O_i += P~_ij V_j. The C fragments of two n8 tiles of S_ij are exactly
        // the A fragment of one k16 step, so P~_ij goes to fp16 in registers, never to shared memory.
        // Row-major V_j is the "row" layout, so ldmatrix.trans produces the "col" B fragments.
#pragma unroll
        for (int kk = 0; kk < Sh::kKV; ++kk) {
            std::uint32_t P_frag[Sh::kM][4];
#pragma unroll
            for (int mt = 0; mt < Sh::kM; ++mt) {
                P_frag[mt][0] = Elem<T>::pack2(S_ij[mt][2 * kk][0], S_ij[mt][2 * kk][1]);
                P_frag[mt][1] = Elem<T>::pack2(S_ij[mt][2 * kk][2], S_ij[mt][2 * kk][3]);
                P_frag[mt][2] = Elem<T>::pack2(S_ij[mt][2 * kk + 1][0], S_ij[mt][2 * kk + 1][1]);
                P_frag[mt][3] = Elem<T>::pack2(S_ij[mt][2 * kk + 1][2], S_ij[mt][2 * kk + 1][3]);
            }
#pragma unroll
            for (int dp = 0; dp < Sh::kNO / 2; ++dp) {
                std::uint32_t b[4];
                const int key = kk * 16 + (lane & 7) + (((lane >> 3) & 1) << 3);
                ptx::ldmatrix_x4_trans(b, V_j + swz<d>(key, 2 * dp + (lane >> 4)));
#pragma unroll
                for (int mt = 0; mt < Sh::kM; ++mt) {
                    ptx::mma<T>(O_i[mt][2 * dp], P_frag[mt], b[0], b[1]);
                    ptx::mma<T>(O_i[mt][2 * dp + 1], P_frag[mt], b[2], b[3]);
                }
            }
        }
        __syncthreads();  // every warp is done with this stage before the next prefetch overwrites it
    }

    // Deferred rescale (FA2): O_i = diag(l_i)^-1 O_i, L_i = tau m_i + log(l_i). O_i goes through shared
    // memory (Q_s is free: the loop's last __syncthreads came after every read of Q_i) so that the
    // global stores are 16-byte and coalesced.
    T* O_s = Q_s;
#pragma unroll
    for (int mt = 0; mt < Sh::kM; ++mt) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            float l = l_i[mt][h];
            l += __shfl_xor_sync(0xffffffffU, l, 1);
            l += __shfl_xor_sync(0xffffffffU, l, 2);
            const float inv_l = l > 0.0F ? 1.0F / l : 0.0F;
            const int r = wrow + mt * 16 + g + 8 * h;  // row inside Q_i
            if (L != nullptr && t == 0 && q0 + r < N) {
                L[static_cast<std::int64_t>(blockIdx.y) * N + q0 + r] = m_i[mt][h] * tau + logf(l);
            }
#pragma unroll
            for (int nt = 0; nt < Sh::kNO; ++nt) {
                *reinterpret_cast<std::uint32_t*>(O_s + swz<d>(r, nt) + 2 * t) =
                    Elem<T>::pack2(O_i[mt][nt][2 * h] * inv_l, O_i[mt][nt][2 * h + 1] * inv_l);
            }
        }
    }
    __syncthreads();
    T* O_h = O + head;
#pragma unroll
    for (int k = 0; k < B_r * Sh::kChunks / Sh::kThreads; ++k) {
        const int c = tid + k * Sh::kThreads;
        const int r = c / Sh::kChunks, ch = c % Sh::kChunks;
        if (q0 + r < N) {
            *reinterpret_cast<uint4*>(O_h + static_cast<std::int64_t>(q0 + r) * d + ch * 8) =
                *reinterpret_cast<const uint4*>(O_s + swz<d>(r, ch));
        }
    }
}

}  // namespace tilesim::kernels::cuda::flash
