#pragma once
// Closed-form counts, written from the papers' analyses, independently of the simulator's loops.
// Tests assert that simulated counts equal these exactly (ragged sizes included).
//
// Convention: elements per (batch, head). FlashAttention (Algorithm 1) counts its line-2
// initialisation of O, l, m in HBM as writes: Nd + 2N on top of the paper's T_c (Nd + 2N).
// Derivations: docs/io-derivations.md.
#include <array>
#include <cstdint>

#include "kernels/problem.h"
#include "sim/hardware.h"
#include "sim/types.h"

namespace tilesim::kernels {

struct ClosedForm {
    std::int64_t hbm_read_elements = 0;
    std::int64_t hbm_write_elements = 0;
    std::int64_t l2_read_elements = 0;  // standard attention's GEMM re-reads served by the L2
    std::array<std::int64_t, sim::kTensorCount> hbm_read_by_tensor{};
    std::array<std::int64_t, sim::kTensorCount> hbm_write_by_tensor{};
    std::int64_t matmul_flops = 0;
    std::int64_t other_flops = 0;
    std::int64_t sram_peak_bytes = 0;  // largest working set, bytes

    std::int64_t hbm_read(sim::Tensor t) const { return hbm_read_by_tensor[static_cast<std::size_t>(t)]; }
    std::int64_t hbm_write(sim::Tensor t) const { return hbm_write_by_tensor[static_cast<std::size_t>(t)]; }
};

// `extra_passes`: standard attention's eager-mode passes (ignored by the flash algorithms).
ClosedForm closed_form(AlgorithmId alg, const Problem& p, std::int64_t B_r, std::int64_t B_c,
                       const sim::HardwareSpec& hw, std::int64_t extra_passes = 0);

// The papers' headline formulas, for display next to the exact counts (elements per head):
// standard: 4Nd + 4N^2 (Algorithm 0, operands read once); flash: 2Nd + T_c(3Nd + 4N) (no init);
// flash2: 2Nd + N + 2 T_r Nd.
std::int64_t paper_total_elements(AlgorithmId alg, const Problem& p, std::int64_t B_r, std::int64_t B_c);

}  // namespace tilesim::kernels
