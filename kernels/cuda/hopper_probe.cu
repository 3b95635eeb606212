// Unit checks of the Hopper building blocks (sm_90a), on one thread block and one tile, with data whose
// products are exact in fp32 (small integers), so that any difference is a layout or descriptor error,
// not rounding:
//   1. TMA: a 128 x 128 fp16 tile lands in shared memory in the SW128 panel layout hopper.cuh describes
//      (checked element by element from a raw dump of shared memory);
//   2. wgmma SS: S = A B^T for two warpgroups (issue_qk of hopper_common.cuh, K-major descriptors);
//   3. wgmma RS with MN-major B: O = P V with P = S from registers (issue_pv, to_a_frags);
//   4. e4m3 wgmma SS: S = A B^T (issue_qk_fp8);
//   5. e4m3 wgmma RS: O = P V with P packed by to_a_frags_fp8 and V^T stored with fp8_key_of_position's
//      key order (the layout assumption step (f) rests on).
#include <cstring>
#include <vector>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/hopper_common.cuh"
#include "kernels/cuda/hopper_fwd_5_fp8.cuh"
#include "kernels/cuda/hopper_host.cuh"

namespace tilesim::kernels::cuda {

namespace {

constexpr int kR = 128, kD = 128;  // A: 128 x 128 (two warpgroups x 64 rows), B and V: 128 x 128

__global__ void __launch_bounds__(256, 1)
    probe_kernel(const __grid_constant__ CUtensorMap tm_A, const __grid_constant__ CUtensorMap tm_B,
                 const __grid_constant__ CUtensorMap tm_V, unsigned char* dump, float* S_out, float* O_out) {
    using namespace hopper;
    extern __shared__ unsigned char smem_raw[];
    unsigned char* smem = aligned_smem(smem_raw);
    constexpr int kTile = kR * kD * 2;
    unsigned char* A_s = smem;
    unsigned char* B_s = A_s + kTile;
    unsigned char* V_s = B_s + kTile;
    auto* bar = reinterpret_cast<std::uint64_t*>(V_s + kTile);
    const int tid = static_cast<int>(threadIdx.x);
    const int warp = tid / 32, lane = tid % 32, wg = warp / 4, g = lane >> 2, t = lane & 3;
    if (tid == 0) {
        mbar_init(bar, 1);
        mbar_fence_init();
    }
    __syncthreads();
    if (tid == 0) {
        mbar_arrive_expect_tx(bar, 3 * kTile);
        tma_tile<kR, kD>(A_s, &tm_A, bar, 0, 0);
        tma_tile<kR, kD>(B_s, &tm_B, bar, 0, 0);
        tma_tile<kR, kD>(V_s, &tm_V, bar, 0, 0);
    }
    mbar_wait(bar, 0);
    for (int k = tid; k < kTile / 16; k += 256) {
        reinterpret_cast<uint4*>(dump)[k] = reinterpret_cast<const uint4*>(A_s)[k];
    }
    float S[B_c / 2];
    wgmma_fence();
    issue_qk<__half, kD>(S, A_s, wg, B_s);
    wgmma_commit();
    wgmma_wait<0>();
    fence_operands(S);
    const int row0 = wg * 64 + (warp % 4) * 16 + g;
#pragma unroll
    for (int nt = 0; nt < B_c / 8; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            S_out[(row0 + 8 * (e >> 1)) * B_c + nt * 8 + 2 * t + (e & 1)] = S[4 * nt + e];
        }
    }
    std::uint32_t P[B_c / 16][4];
    to_a_frags<__half>(S, P);
    float O[kD / 2];
#pragma unroll
    for (int k = 0; k < kD / 2; ++k) O[k] = 0.0F;
    fence_operands(O);
    wgmma_fence();
    issue_pv<__half, kD>(O, P, V_s);
    wgmma_commit();
    wgmma_wait<0>();
    fence_operands(O);
#pragma unroll
    for (int nt = 0; nt < kD / 8; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            O_out[(row0 + 8 * (e >> 1)) * kD + nt * 8 + 2 * t + (e & 1)] = O[4 * nt + e];
        }
    }
}

float p_val(int r, int k) {
    return static_cast<float>((r + 3 * k) % 3 - 1);
}

__global__ void __launch_bounds__(256, 1)
    probe_fp8_kernel(const __grid_constant__ CUtensorMap tm_A, const __grid_constant__ CUtensorMap tm_B,
                     const __grid_constant__ CUtensorMap tm_Vt, float* S_out, float* O_out) {
    using namespace hopper;
    extern __shared__ unsigned char smem_raw[];
    unsigned char* smem = aligned_smem(smem_raw);
    constexpr int kTile = 128 * 128;
    unsigned char* A_s = smem;
    unsigned char* B_s = A_s + kTile;
    unsigned char* V_s = B_s + kTile;
    auto* bar = reinterpret_cast<std::uint64_t*>(V_s + kTile);
    const int tid = static_cast<int>(threadIdx.x);
    const int warp = tid / 32, lane = tid % 32, wg = warp / 4, g = lane >> 2, t = lane & 3;
    if (tid == 0) {
        mbar_init(bar, 1);
        mbar_fence_init();
    }
    __syncthreads();
    if (tid == 0) {
        mbar_arrive_expect_tx(bar, 3 * kTile);
        tma_load_3d(A_s, &tm_A, bar, 0, 0, 0);
        tma_load_3d(B_s, &tm_B, bar, 0, 0, 0);
        tma_load_3d(V_s, &tm_Vt, bar, 0, 0, 0);
    }
    mbar_wait(bar, 0);
    float S[B_c / 2];
    wgmma_fence();
    issue_qk_fp8(S, A_s, wg, B_s);
    wgmma_commit();
    wgmma_wait<0>();
    fence_operands(S);
    const int row0 = wg * 64 + (warp % 4) * 16 + g;
#pragma unroll
    for (int nt = 0; nt < B_c / 8; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int r = row0 + 8 * (e >> 1), k = nt * 8 + 2 * t + (e & 1);
            S_out[r * B_c + k] = S[4 * nt + e];
            S[4 * nt + e] = static_cast<float>((r + 3 * k) % 3 - 1);  // P for step 5
        }
    }
    std::uint32_t P[B_c / 32][4];
    to_a_frags_fp8(S, P);
    float O[64];
#pragma unroll
    for (int k = 0; k < 64; ++k) O[k] = 0.0F;
    fence_operands(O);
    wgmma_fence();
    issue_pv_fp8(O, P, V_s);
    wgmma_commit();
    wgmma_wait<0>();
    fence_operands(O);
#pragma unroll
    for (int nt = 0; nt < 16; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) O_out[(row0 + 8 * (e >> 1)) * 128 + nt * 8 + 2 * t + (e & 1)] = O[4 * nt + e];
    }
}

float a_val(int r, int c) {
    return static_cast<float>((r * 7 + c * 3) % 5 - 2);
}
float b_val(int n, int c) {
    return static_cast<float>((n * 5 + c * 11) % 7 - 3);
}
float v_val(int n, int c) {
    return static_cast<float>((n * 3 + c * 13) % 5 - 2);
}

}  // namespace

std::vector<ProbeResult> hopper_probe() {
    const DeviceInfo dev = query_device(0);
    if (dev.cc_major != 9) throw CudaError("hopper_probe needs a compute capability 9.0 GPU");
    std::vector<__half> A(kR * kD), B(kR * kD), V(kR * kD);
    for (int r = 0; r < kR; ++r) {
        for (int c = 0; c < kD; ++c) {
            A[r * kD + c] = __float2half(a_val(r, c));
            B[r * kD + c] = __float2half(b_val(r, c));
            V[r * kD + c] = __float2half(v_val(r, c));
        }
    }
    void *dA = nullptr, *dB = nullptr, *dV = nullptr, *dDump = nullptr, *dS = nullptr, *dO = nullptr;
    const std::size_t tile = static_cast<std::size_t>(kR) * kD * 2;
    TILESIM_CUDA_CHECK(cudaMalloc(&dA, tile));
    TILESIM_CUDA_CHECK(cudaMalloc(&dB, tile));
    TILESIM_CUDA_CHECK(cudaMalloc(&dV, tile));
    TILESIM_CUDA_CHECK(cudaMalloc(&dDump, tile));
    TILESIM_CUDA_CHECK(cudaMalloc(&dS, static_cast<std::size_t>(kR) * hopper::B_c * 4));
    TILESIM_CUDA_CHECK(cudaMalloc(&dO, static_cast<std::size_t>(kR) * kD * 4));
    TILESIM_CUDA_CHECK(cudaMemcpy(dA, A.data(), tile, cudaMemcpyHostToDevice));
    TILESIM_CUDA_CHECK(cudaMemcpy(dB, B.data(), tile, cudaMemcpyHostToDevice));
    TILESIM_CUDA_CHECK(cudaMemcpy(dV, V.data(), tile, cudaMemcpyHostToDevice));
    const CUtensorMap ta = detail::make_tensor_map(dA, sim::Dtype::fp16, 1, kR, kD, kR);
    const CUtensorMap tb = detail::make_tensor_map(dB, sim::Dtype::fp16, 1, kR, kD, kR);
    const CUtensorMap tv = detail::make_tensor_map(dV, sim::Dtype::fp16, 1, kR, kD, kR);
    const int smem = static_cast<int>(3 * tile) + 64 + 1024;
    TILESIM_CUDA_CHECK(cudaFuncSetAttribute(probe_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    probe_kernel<<<1, 256, smem>>>(ta, tb, tv, static_cast<unsigned char*>(dDump), static_cast<float*>(dS),
                                   static_cast<float*>(dO));
    TILESIM_CUDA_CHECK_LAUNCH();
    TILESIM_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<std::uint16_t> dump(tile / 2);
    std::vector<float> S(static_cast<std::size_t>(kR) * hopper::B_c), O(static_cast<std::size_t>(kR) * kD);
    TILESIM_CUDA_CHECK(cudaMemcpy(dump.data(), dDump, tile, cudaMemcpyDeviceToHost));
    TILESIM_CUDA_CHECK(cudaMemcpy(S.data(), dS, S.size() * 4, cudaMemcpyDeviceToHost));
    TILESIM_CUDA_CHECK(cudaMemcpy(O.data(), dO, O.size() * 4, cudaMemcpyDeviceToHost));
    for (void* p : {dA, dB, dV, dDump, dS, dO}) cudaFree(p);

    std::vector<ProbeResult> out;
    // 1. The swizzled layout: element (r, c) at panel c / 64, row r, chunk ((c % 64) / 8) ^ (r % 8).
    double e1 = 0;
    for (int r = 0; r < kR; ++r) {
        for (int c = 0; c < kD; ++c) {
            const std::size_t byte = static_cast<std::size_t>(c / 64) * kR * 128 + static_cast<std::size_t>(r) * 128 +
                                     static_cast<std::size_t>(((c % 64) / 8) ^ (r % 8)) * 16 +
                                     static_cast<std::size_t>(c % 8) * 2;
            __half_raw raw{};
            raw.x = dump[byte / 2];
            e1 = std::max(e1, static_cast<double>(std::fabs(__half2float(__half(raw)) - a_val(r, c))));
        }
    }
    out.push_back({"TMA 128x128 fp16 tile in the SW128 panel layout", e1, e1 == 0});
    // 2. S = A B^T.
    std::vector<double> Sref(S.size());
    double e2 = 0;
    for (int r = 0; r < kR; ++r) {
        for (int n = 0; n < hopper::B_c; ++n) {
            double acc = 0;
            for (int c = 0; c < kD; ++c) acc += a_val(r, c) * b_val(n, c);
            Sref[static_cast<std::size_t>(r) * hopper::B_c + n] = acc;
            e2 = std::max(e2, std::fabs(acc - S[static_cast<std::size_t>(r) * hopper::B_c + n]));
        }
    }
    out.push_back({"wgmma SS m64n128k16 x 8 (K-major A and B): S = A B^T", e2, e2 == 0});
    // 3. O = P V with P = S (exact in fp16: |S| <= 768).
    double e3 = 0;
    for (int r = 0; r < kR; ++r) {
        for (int c = 0; c < kD; ++c) {
            double acc = 0;
            for (int n = 0; n < hopper::B_c; ++n) acc += Sref[static_cast<std::size_t>(r) * hopper::B_c + n] * v_val(n, c);
            e3 = std::max(e3, std::fabs(acc - O[static_cast<std::size_t>(r) * kD + c]));
        }
    }
    out.push_back({"wgmma RS m64n128k16 x 8 (P from registers, V MN-major): O = P V", e3, e3 == 0});

    // 4, 5: the e4m3 path. A, B as above (small integers are exact in e4m3); V^T[c][p] = V[key(p)][c].
    std::vector<std::uint8_t> A8(kR * kD), B8(kR * kD), Vt8(kR * kD);
    auto e4m3 = [](float x) { return static_cast<std::uint8_t>(__nv_fp8_e4m3(x).__x); };
    for (int r = 0; r < kR; ++r) {
        for (int c = 0; c < kD; ++c) {
            A8[r * kD + c] = e4m3(a_val(r, c));
            B8[r * kD + c] = e4m3(b_val(r, c));
        }
    }
    for (int c = 0; c < kD; ++c) {
        for (int p = 0; p < 128; ++p) Vt8[c * 128 + p] = e4m3(v_val((p / 32) * 32 + hopper::fp8_key_of_position(p % 32), c));
    }
    void *fA = nullptr, *fB = nullptr, *fV = nullptr, *fS = nullptr, *fO = nullptr;
    const std::size_t tile8 = static_cast<std::size_t>(kR) * kD;
    TILESIM_CUDA_CHECK(cudaMalloc(&fA, tile8));
    TILESIM_CUDA_CHECK(cudaMalloc(&fB, tile8));
    TILESIM_CUDA_CHECK(cudaMalloc(&fV, tile8));
    TILESIM_CUDA_CHECK(cudaMalloc(&fS, tile8 * 4));
    TILESIM_CUDA_CHECK(cudaMalloc(&fO, tile8 * 4));
    TILESIM_CUDA_CHECK(cudaMemcpy(fA, A8.data(), tile8, cudaMemcpyHostToDevice));
    TILESIM_CUDA_CHECK(cudaMemcpy(fB, B8.data(), tile8, cudaMemcpyHostToDevice));
    TILESIM_CUDA_CHECK(cudaMemcpy(fV, Vt8.data(), tile8, cudaMemcpyHostToDevice));
    const CUtensorMap ta8 = detail::make_tensor_map_u8(fA, 1, kR, kD, kR);
    const CUtensorMap tb8 = detail::make_tensor_map_u8(fB, 1, kR, kD, kR);
    const CUtensorMap tv8 = detail::make_tensor_map_u8(fV, 1, kD, 128, kD);
    const int smem8 = static_cast<int>(3 * tile8) + 64 + 1024;
    TILESIM_CUDA_CHECK(cudaFuncSetAttribute(probe_fp8_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem8));
    probe_fp8_kernel<<<1, 256, smem8>>>(ta8, tb8, tv8, static_cast<float*>(fS), static_cast<float*>(fO));
    TILESIM_CUDA_CHECK_LAUNCH();
    TILESIM_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<float> S8(tile8), O8(tile8);
    TILESIM_CUDA_CHECK(cudaMemcpy(S8.data(), fS, tile8 * 4, cudaMemcpyDeviceToHost));
    TILESIM_CUDA_CHECK(cudaMemcpy(O8.data(), fO, tile8 * 4, cudaMemcpyDeviceToHost));
    for (void* p : {fA, fB, fV, fS, fO}) cudaFree(p);
    double e4 = 0, e5 = 0;
    for (int r = 0; r < kR; ++r) {
        for (int n = 0; n < 128; ++n) e4 = std::max(e4, std::fabs(Sref[static_cast<std::size_t>(r) * 128 + n] - S8[static_cast<std::size_t>(r) * 128 + n]));
        for (int c = 0; c < kD; ++c) {
            double acc = 0;
            for (int k = 0; k < 128; ++k) acc += p_val(r, k) * v_val(k, c);
            e5 = std::max(e5, std::fabs(acc - O8[static_cast<std::size_t>(r) * kD + c]));
        }
    }
    out.push_back({"e4m3 wgmma SS m64n128k32 x 4: S = A B^T", e4, e4 == 0});
    out.push_back({"e4m3 wgmma RS m64n128k32 x 4 (P packed in order, V^T key-permuted): O = P V", e5, e5 == 0});
    return out;
}

}  // namespace tilesim::kernels::cuda
