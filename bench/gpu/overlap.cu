// How well a warp group's softmax overlaps another's GEMMs on one SM, without any memory traffic: the
// consumer loops of the Hopper steps (c), (d), (e) (docs/cuda.md) with their loads taken out, built
// from the kernels' own pieces (hopper_common.cuh: issue_qk, issue_pv, softmax_step, rescale,
// to_a_frags), so the instruction mix is theirs. Q_i, K_j, V_j are fixed tiles of small random values in
// shared memory. One block of 384 threads per SM (the kernels' shape: an idle producer warp group that
// gives its registers away, two consumer warp groups of 64 rows), 132 blocks. Per iteration a consumer
// does one block j: S = Q_i K_j^T (d / 16 wgmma m64n128k16), the online softmax of its 64 x 128 S, the
// rescale of O_i, P~ to A fragments, O_i += P~ V_j (8 wgmma, P~ from registers).
//
// Modes (clocks per iteration from clock64, best of 5 after a warm-up; wall time from CUDA events):
//   gemm-1      one group issues both GEMMs back to back (wait_group 1), no softmax: the tensor rate
//   gemm-2      both groups do that
//   softmax-1   one group runs the softmax alone (S made opaque each iteration), no GEMM
//   softmax-2   both groups
//   gemm+soft   group A gemm-1 while group B softmax-1: does either slow the other?
//   qk-1, pv-1  one group issues only S = Q K^T (both operands from shared memory, wgmma SS) or only
//               O += P~ V (A from registers, wgmma RS)
//   qk+soft, pv+soft   group A qk-1 or pv-1 while group B softmax-1
//   sync        both groups as step (c): S GEMM, wait, softmax, PV GEMM, wait; no barrier between groups
//   pingpong    as step (d): named-barrier turns of [S_j, PV_j-1], wait both, softmax
//   pp+pipe     as step (e): turns of [S_j, rescale, PV_j-1], wait S, softmax under PV, wait PV
//   sync+ring, pingpong+ring, pp+pipe+ring   the last three with the kernels' mbarrier ring and no
//               copies: the producer thread waits for slot j mod s to be released and arrives on its
//               full barriers (K_j, V_j) at once; the consumers wait on them and release the slot as
//               steps (c)-(e) do (s = 4 at d 64, 3 at d 128, as the kernels). The difference to the
//               mode without "+ring" is what the ring's handshakes cost per step.
//   pingpong+ring-v, pp+pipe+ring-v   the same, with the wait for V_j moved from the top of step j + 1
//               to step j, under the group's running GEMMs (between its turn and its wgmma wait): one
//               wait at the top instead of two.
//
//   nvcc -O3 -std=c++17 -gencode arch=compute_90a,code=sm_90a -I. -o overlap bench/gpu/overlap.cu &&
//   ./overlap
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "kernels/cuda/hopper_common.cuh"

#include "bench/gpu/check.h"

namespace h = tilesim::kernels::cuda::hopper;
using T = __half;

enum Mode : int {
    gemm1,
    gemm2,
    soft1,
    soft2,
    gemm_soft,
    qk1,
    pv1,
    qk_soft,
    pv_soft,
    sync_mode,
    pingpong,
    pp_pipe,
    sync_ring,
    pingpong_ring,
    pp_pipe_ring,
    pingpong_ring_v,
    pp_pipe_ring_v,
    kModes
};
const char* const kNames[kModes] = {"gemm-1",  "gemm-2",   "softmax-1", "softmax-2",     "gemm+soft",
                                    "qk-1",    "pv-1",     "qk+soft",   "pv+soft",       "sync",
                                    "pingpong", "pp+pipe", "sync+ring", "pingpong+ring", "pp+pipe+ring",
                                    "pingpong+ring-v", "pp+pipe+ring-v"};
// The loop a mode runs (a "+ring" mode runs its base's) and whether the ring's handshakes are made.
__host__ __device__ constexpr int base_mode(int mode) {
    return mode == sync_ring                                    ? sync_mode
           : mode == pingpong_ring || mode == pingpong_ring_v ? pingpong
           : mode == pp_pipe_ring || mode == pp_pipe_ring_v   ? pp_pipe
                                                              : mode;
}
template <int d>
constexpr int kStages = d == 64 ? 4 : 3;  // the ring of steps (c)-(e)
// The ring's barriers, after the tiles: per slot s full_K[s], full_V[s], empty[s] (as Ring in
// hopper_fwd_2_warpspec.cuh, without Q's).
template <int d>
constexpr int kRingBytes = 8 * 3 * kStages<d>;

template <int kN>
__device__ __forceinline__ void opaque(std::uint32_t (&r)[kN][4]) {
#pragma unroll
    for (int k = 0; k < kN; ++k)
#pragma unroll
        for (int e = 0; e < 4; ++e) asm volatile("" : "+r"(r[k][e])::"memory");
}

template <int d, int kMode>
__global__ void __launch_bounds__(384, 1) overlap_kernel(float* out, long long* cycles, int iters) {
    constexpr int kTileQ = h::B_r * d * 2, kTileKV = h::B_c * d * 2;
    constexpr int kBase = base_mode(kMode), S_ = kStages<d>;
    constexpr bool kRing = kBase != kMode;
    constexpr bool kEarlyV = kMode == pingpong_ring_v || kMode == pp_pipe_ring_v;
    extern __shared__ unsigned char smem_raw[];
    unsigned char* smem = h::aligned_smem(smem_raw);
    unsigned char* Q_s = smem;
    unsigned char* K_s = Q_s + kTileQ;
    unsigned char* V_s = K_s + kTileKV;
    auto* bars = reinterpret_cast<std::uint64_t*>(V_s + kTileKV);
    auto full_k = [&](int j) { return bars + j % S_; };
    auto full_v = [&](int j) { return bars + S_ + j % S_; };
    auto empty = [&](int j) { return bars + 2 * S_ + j % S_; };
    if (kRing && threadIdx.x == 0) {
        for (int s = 0; s < S_; ++s) {
            h::mbar_init(full_k(s), 1);
            h::mbar_init(full_v(s), 1);
            h::mbar_init(empty(s), 256);
        }
        h::mbar_fence_init();
    }
    // Small random values (|x| < 1/16): realistic switching activity, no overflow in exp.
    auto* all = reinterpret_cast<T*>(smem);
    for (int k = static_cast<int>(threadIdx.x); k < (kTileQ + 2 * kTileKV) / 2; k += 384) {
        const std::uint32_t hsh = (static_cast<std::uint32_t>(k) * 2654435761U) ^ (blockIdx.x * 40503U);
        all[k] = __float2half(static_cast<float>(hsh % 2001U) / 16000.0F - 0.0625F);
    }
    h::fence_proxy_async();
    __syncthreads();
    const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
    const int role = warp / 4;
    if (role == 0) {
        h::setmaxnreg_dec<40>();
        if (kRing && threadIdx.x == 0) {
            // produce() of step (c) without the copies: slot j mod s once its last use is released.
            for (int j = 0; j < iters; ++j) {
                if (j >= S_) h::mbar_wait(empty(j), ((j / S_) - 1) & 1);
                h::mbar_arrive(full_k(j));
                h::mbar_arrive(full_v(j));
            }
        }
        return;
    }
    h::setmaxnreg_inc<232>();
    const int wg = role - 1;
    const int t = lane & 3;
    const bool solo = kMode == gemm1 || kMode == qk1 || kMode == pv1;
    const bool mixed = kMode == gemm_soft || kMode == qk_soft || kMode == pv_soft;
    const bool gemms = kMode == gemm2 || kMode >= sync_mode || (wg == 0 && (solo || mixed));
    const bool softs =
        kMode == soft2 || kMode >= sync_mode || (wg == 0 && kMode == soft1) || (wg == 1 && mixed);
    constexpr bool kQk = kMode != pv1 && kMode != pv_soft, kPv = kMode != qk1 && kMode != qk_soft;
    float keep = 0.F;  // reads S once per iteration, so that ptxas cannot drop the S GEMM as dead
    float O[d / 2], S[h::B_c / 2];
#pragma unroll
    for (int k = 0; k < d / 2; ++k) O[k] = 0.F;
#pragma unroll
    for (int k = 0; k < h::B_c / 2; ++k) S[k] = 0.01F * static_cast<float>(k & 7);
    std::uint32_t P[h::B_c / 16][4];
    h::to_a_frags<T>(S, P);
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.F, 0.F}, alpha[2] = {1.F, 1.F};
    const float tau_log2e = 0.0883883F * 1.4426950F;
    const int N = 1 << 30;  // no key is masked
    const int my_turn = 1 + wg, other_turn = 2 - wg;
    asm volatile("bar.sync 3, 256;\n" ::: "memory");  // both consumer groups start together
    // The loops' pieces, as the kernels order them: S = Q K^T issued; O += P~ V issued (O fenced first:
    // the tensor cores own it until the wait); the softmax of S (with the rescale and P~'s fragments).
    auto issue_s = [&] {
        h::wgmma_fence();
        h::issue_qk<T, d>(S, Q_s, wg, K_s);
        h::wgmma_commit();
    };
    auto issue_o = [&] {
        h::fence_operands(O);
        h::wgmma_fence();
        h::issue_pv<T, d>(O, P, V_s);
        h::wgmma_commit();
    };
    auto wait_o = [&] {
        h::wgmma_wait<0>();
        h::fence_operands(O);
    };
    auto softmax = [&] { h::softmax_step<false>(S, m, l, alpha, 0, 0, N, tau_log2e, t); };
    // The consumers' side of the ring (nothing without it): block j's K_j, V_j arrived; block j released.
    auto wait_k = [&](int j) {
        if constexpr (kRing) h::mbar_wait(full_k(j), (j / S_) & 1);
    };
    auto wait_v = [&](int j) {
        if constexpr (kRing) h::mbar_wait(full_v(j), (j / S_) & 1);
    };
    auto release = [&](int j) {
        if constexpr (kRing) h::mbar_arrive(empty(j));
    };
    // Where V_j is waited for: at the top of step j + 1 (as FA3 and the "+ring" modes), or ("-v") in
    // step j under the running GEMMs.
    auto wait_v_top = [&](int j) {
        if constexpr (!kEarlyV) wait_v(j);
    };
    auto wait_v_early = [&](int j) {
        if constexpr (kEarlyV) wait_v(j);
    };
    const long long t0 = clock64();
    if constexpr (kBase == sync_mode) {
        for (int it = 0; it < iters; ++it) {
            wait_k(it);
            issue_s();
            h::wgmma_wait<0>();
            h::fence_operands(S);
            softmax();
            h::rescale<d>(O, alpha);
            h::to_a_frags<T>(S, P);
            wait_v(it);
            issue_o();
            wait_o();
            release(it);
        }
    } else if constexpr (kBase == pingpong) {
        if (wg == 1) h::named_barrier_arrive(1, 256);
        for (int it = 0; it < iters; ++it) {
            wait_k(it);  // as step (d): K_j, and V_j-1 for the PV of the previous block
            if (it > 0) wait_v_top(it - 1);
            h::named_barrier_sync(my_turn, 256);
            h::fence_operands(O);
            issue_s();
            h::issue_pv<T, d>(O, P, V_s);
            h::wgmma_commit();
            if (!(wg == 1 && it == iters - 1)) h::named_barrier_arrive(other_turn, 256);
            wait_v_early(it);
            wait_o();
            if (it > 0) release(it - 1);
            h::fence_operands(S);
            softmax();
            h::rescale<d>(O, alpha);
            h::to_a_frags<T>(S, P);
        }
    } else if constexpr (kBase == pp_pipe) {
        // Block 0 peeled as in hopper_fwd_4_intrawg.cuh (a conditional wait in the loop makes ptxas
        // serialise the wgmmas).
        if (wg == 1) h::named_barrier_arrive(1, 256);
        wait_k(0);
        h::named_barrier_sync(my_turn, 256);
        issue_s();
        h::named_barrier_arrive(other_turn, 256);
        wait_v_early(0);
        h::wgmma_wait<0>();
        h::fence_operands(S);
        softmax();
        h::to_a_frags<T>(S, P);
        for (int it = 1; it < iters; ++it) {
            wait_k(it);  // as step (e): K_j, and V_j-1 for the PV issued in this turn
            wait_v_top(it - 1);
            h::named_barrier_sync(my_turn, 256);
            issue_s();
            h::rescale<d>(O, alpha);
            issue_o();
            if (!(wg == 1 && it == iters - 1)) h::named_barrier_arrive(other_turn, 256);
            wait_v_early(it);
            h::wgmma_wait<1>();
            h::fence_operands(S);
            softmax();
            wait_o();
            release(it - 1);
            h::to_a_frags<T>(S, P);
        }
        wait_v_top(iters - 1);
        h::rescale<d>(O, alpha);
        issue_o();
        wait_o();
        release(iters - 1);
    } else if (gemms) {
        for (int it = 0; it < iters; ++it) {
            h::fence_operands(O);
            h::wgmma_fence();
            if constexpr (kQk) {
                h::issue_qk<T, d>(S, Q_s, wg, K_s);
                h::wgmma_commit();
            }
            if constexpr (kPv) {
                h::issue_pv<T, d>(O, P, V_s);
                h::wgmma_commit();
            }
            if constexpr (kQk && kPv) {
                h::wgmma_wait<1>();
            } else {
                h::wgmma_wait<0>();
            }
            h::fence_operands(S);
            if constexpr (kQk) keep += S[0];  // a fixed register: a dynamic index would put S in local memory
        }
        h::wgmma_wait<0>();
        h::fence_operands(O);
    } else if (softs) {
        for (int it = 0; it < iters; ++it) {
            h::fence_operands(S);
            h::fence_operands(O);
            h::softmax_step<false>(S, m, l, alpha, 0, 0, N, tau_log2e, t);
            h::rescale<d>(O, alpha);
            h::to_a_frags<T>(S, P);
            opaque(P);
        }
    }
    const long long t1 = clock64();
    float sum = m[0] + l[1] + keep;
#pragma unroll
    for (int k = 0; k < d / 2; ++k) sum += O[k];
    // (S and P are not summed: keeping them live past the last GEMM would cost the registers that
    // the kernels free there. The softmax-only loops keep P through opaque(); O keeps the rest.)
    out[blockIdx.x * 256 + threadIdx.x - 128] = sum;
    if ((threadIdx.x % 128) == 0) cycles[2 * blockIdx.x + wg] = (gemms || softs) ? t1 - t0 : 0;
}

struct Result {
    double clocks = 0;  // per iteration, the slower active group, mean over blocks
    double ms = 0;      // wall time of the launch
    double group[2]{};  // per iteration, each group (0: not active), mean over blocks
};

template <int d, int kMode>
Result run(int blocks, int iters, float* out, long long* cycles) {
    constexpr int kSmem = (h::B_r * d + 2 * h::B_c * d) * 2 + kRingBytes<d> + 1024;
    auto* k = overlap_kernel<d, kMode>;
    CHECK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem));
    cudaEvent_t e0, e1;
    CHECK(cudaEventCreate(&e0));
    CHECK(cudaEventCreate(&e1));
    Result best{1e30, 1e30, {0, 0}};
    for (int rep = 0; rep < 6; ++rep) {  // the first is the warm-up
        CHECK(cudaEventRecord(e0));
        k<<<blocks, 384, kSmem>>>(out, cycles, iters);
        CHECK(cudaEventRecord(e1));
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        float ms = 0;
        CHECK(cudaEventElapsedTime(&ms, e0, e1));
        long long host[2048];
        CHECK(cudaMemcpy(host, cycles, sizeof(long long) * 2 * blocks, cudaMemcpyDeviceToHost));
        double mean = 0, g0 = 0, g1 = 0;
        for (int b = 0; b < blocks; ++b) {
            const long long c = host[2 * b] > host[2 * b + 1] ? host[2 * b] : host[2 * b + 1];
            mean += static_cast<double>(c) / blocks;
            g0 += static_cast<double>(host[2 * b]) / blocks;
            g1 += static_cast<double>(host[2 * b + 1]) / blocks;
        }
        if (rep > 0 && mean < best.clocks * iters) best = {mean / iters, ms, {g0 / iters, g1 / iters}};
    }
    CHECK(cudaEventDestroy(e0));
    CHECK(cudaEventDestroy(e1));
    return best;
}

template <int d, int kMode>
void report(int blocks, int iters, float* out, long long* cycles) {
    const Result r = run<d, kMode>(blocks, iters, out, cycles);
    // FLOP per iteration per group: two 64 x 128 x d GEMMs.
    const double flops_group = 4.0 * 64 * 128 * d;
    const bool one = kMode == gemm1 || kMode == gemm_soft || kMode == qk1 || kMode == pv1 ||
                     kMode == qk_soft || kMode == pv_soft;
    const int gemm_groups = one ? 1 : kMode == gemm2 || kMode >= sync_mode ? 2 : 0;
    const double share = kMode == qk1 || kMode == pv1 || kMode == qk_soft || kMode == pv_soft ? 0.5 : 1.0;
    const double ghz = r.clocks * iters / (r.ms * 1e6);
    std::printf(
        "d %3d  %-10s clocks_per_iter %7.1f  (groups %7.1f %7.1f)  flop_per_clock_sm %6.0f  tflops %6.1f  "
        "clock_ghz %.3f\n",
        d, kNames[kMode], r.clocks, r.group[0], r.group[1], share * gemm_groups * flops_group / r.clocks,
        share * gemm_groups * flops_group * blocks * iters / (r.ms * 1e-3) / 1e12, ghz);
}

template <int d, int... kM>
void all_modes(int blocks, int iters, float* out, long long* cycles, std::integer_sequence<int, kM...>) {
    (report<d, kM>(blocks, iters, out, cycles), ...);
}

int main() {
    cudaDeviceProp prop{};
    CHECK(cudaGetDeviceProperties(&prop, 0));
    const int blocks = prop.multiProcessorCount;
    float* out = nullptr;
    long long* cycles = nullptr;
    CHECK(cudaMalloc(&out, sizeof(float) * blocks * 256));
    CHECK(cudaMalloc(&cycles, sizeof(long long) * 2 * blocks));
    std::printf(
        "device %s, %d SMs, one block of 384 threads per SM (2 consumer warp groups of 64 rows), "
        "B_c 128, fp16; no memory traffic\n",
        prop.name, blocks);
    all_modes<64>(blocks, 4000, out, cycles, std::make_integer_sequence<int, kModes>{});
    all_modes<128>(blocks, 2000, out, cycles, std::make_integer_sequence<int, kModes>{});
    return 0;
}
