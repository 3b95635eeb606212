#include "kernels/closed_form.h"

#include <algorithm>

namespace tilesim::kernels {

using sim::Tensor;

namespace {
void set(std::array<std::int64_t, sim::kTensorCount>& a, Tensor t, std::int64_t v) {
    a[static_cast<std::size_t>(t)] = v;
}
std::int64_t el(Tensor t, sim::Dtype dt) {
    return static_cast<std::int64_t>(sim::element_bytes(t, dt));
}
}  // namespace

ClosedForm closed_form(AlgorithmId alg, const Problem& p, std::int64_t B_r, std::int64_t B_c,
                       const sim::HardwareSpec& hw, std::int64_t extra_passes) {
    ClosedForm f;
    const std::int64_t N = p.N, d = p.d;
    const std::int64_t Nd = N * d, NN = N * N;
    const std::int64_t T_r = ceil_div(N, B_r), T_c = ceil_div(N, B_c);
    // Blocks never hold more rows than exist.
    const std::int64_t br = std::min(B_r, N), bc = std::min(B_c, N);
    const std::int64_t e = el(Tensor::Q, p.dtype), e32 = 4;
    f.matmul_flops = 4 * NN * d;  // QK^T and PV: 2 N^2 d each, whatever the tiling
    switch (alg) {
        case AlgorithmId::standard: {
            // Algorithm 0: reads Q, K, V once (Nd each), S once, P once; writes S, P (N^2 each), O (Nd).
            // GEMM re-reads of K and V by the T_r - 1 later Q blocks: L2 when one head's K fits, else HBM.
            const bool in_l2 = hw.l2_bytes >= Nd * e;
            const std::int64_t rereads = (T_r - 1) * Nd;
            // Softmax: one read of S when a whole row fits in SRAM, two streamed reads otherwise.
            const bool row_fits = N * e <= hw.sram_bytes;
            set(f.hbm_read_by_tensor, Tensor::Q, Nd);
            set(f.hbm_read_by_tensor, Tensor::K, Nd + (in_l2 ? 0 : rereads));
            set(f.hbm_read_by_tensor, Tensor::V, Nd + (in_l2 ? 0 : rereads));
            set(f.hbm_read_by_tensor, Tensor::S, NN * (extra_passes + (row_fits ? 1 : 2)));
            set(f.hbm_read_by_tensor, Tensor::P, NN);
            set(f.hbm_write_by_tensor, Tensor::S, NN * (1 + extra_passes));
            set(f.hbm_write_by_tensor, Tensor::P, NN);
            set(f.hbm_write_by_tensor, Tensor::O, Nd);
            f.l2_read_elements = in_l2 ? 2 * rereads : 0;
            // tau: one multiply per element of S (in pass 1, or the first eager pass); each further
            // eager pass 1 flop per element; softmax 5 per element in one pass, 4 + 3 when streamed.
            f.other_flops = std::max<std::int64_t>(1, extra_passes) * NN + (row_fits ? 5 : 7) * NN;
            // Working sets: GEMM tiles (Q_i, K_j, S_ij), softmax rows (or a chunk), (P_ij, V_j, O_i).
            const std::int64_t gemm = (br * d + bc * d + br * bc) * e;
            const std::int64_t sm_rows = std::min(N, hw.sram_bytes / (N * e));
            const std::int64_t softmax = row_fits ? sm_rows * N * e : (hw.sram_bytes / e) * e;
            f.sram_peak_bytes = std::max(gemm, softmax);
            break;
        }
        case AlgorithmId::flash: {
            // Algorithm 1: K, V read once (line 6); Q_i, O_i, l_i, m_i read T_c times (line 8);
            // O_i, l_i, m_i written T_c times (lines 12-13) plus once at initialisation (line 2).
            set(f.hbm_read_by_tensor, Tensor::K, Nd);
            set(f.hbm_read_by_tensor, Tensor::V, Nd);
            set(f.hbm_read_by_tensor, Tensor::Q, T_c * Nd);
            set(f.hbm_read_by_tensor, Tensor::O, T_c * Nd);
            set(f.hbm_read_by_tensor, Tensor::l, T_c * N);
            set(f.hbm_read_by_tensor, Tensor::m, T_c * N);
            set(f.hbm_write_by_tensor, Tensor::O, (T_c + 1) * Nd);
            set(f.hbm_write_by_tensor, Tensor::l, (T_c + 1) * N);
            set(f.hbm_write_by_tensor, Tensor::m, (T_c + 1) * N);
            // Per element of S: tau, max, subtract, exp, sum (5). Per row per K/V block: m_new, l_new (5).
            // Per element of O_i per K/V block: scale, add, divide (3).
            f.other_flops = 5 * NN + T_c * (5 * N + 3 * Nd);
            f.sram_peak_bytes = (2 * bc * d + 2 * br * d + br * bc) * e + 2 * br * e32;
            break;
        }
        case AlgorithmId::flash2: {
            // FA2: Q_i read once, K_j and V_j once per Q block; O_i and L_i written once.
            set(f.hbm_read_by_tensor, Tensor::Q, Nd);
            set(f.hbm_read_by_tensor, Tensor::K, T_r * Nd);
            set(f.hbm_read_by_tensor, Tensor::V, T_r * Nd);
            set(f.hbm_write_by_tensor, Tensor::O, Nd);
            set(f.hbm_write_by_tensor, Tensor::L, N);
            // As FA1 for S; per row per block 5; per element of O_i per block 2 (scale, add);
            // at the end, divide by l_i (1 per element) and L_i = m_i + log l_i (2 per row).
            f.other_flops = 5 * NN + T_c * (5 * N + 2 * Nd) + Nd + 2 * N;
            f.sram_peak_bytes = (2 * bc * d + 2 * br * d + br * bc) * e + 2 * br * e32;
            break;
        }
    }
    for (std::size_t t = 0; t < sim::kTensorCount; ++t) {
        f.hbm_read_elements += f.hbm_read_by_tensor[t];
        f.hbm_write_elements += f.hbm_write_by_tensor[t];
    }
    return f;
}

std::int64_t paper_total_elements(AlgorithmId alg, const Problem& p, std::int64_t B_r, std::int64_t B_c) {
    const std::int64_t N = p.N, d = p.d;
    switch (alg) {
        case AlgorithmId::standard:
            return 4 * N * d + 4 * N * N;
        case AlgorithmId::flash:
            return 2 * N * d + ceil_div(N, B_c) * (3 * N * d + 4 * N);
        case AlgorithmId::flash2:
            return 2 * N * d + N + 2 * ceil_div(N, B_r) * N * d;
    }
    return 0;
}

}  // namespace tilesim::kernels
