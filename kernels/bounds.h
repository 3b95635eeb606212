#pragma once
// IO lower bounds of exact attention, for one (batch, head), next to what an algorithm moves:
//   compulsory   every input read once and every output written once (exact: no algorithm can move less)
//   Prop. 3      Dao et al. 2022, Proposition 3: no exact attention algorithm uses o(N^2 d^2 / M) HBM
//                accesses for all M in [d, Nd]
//   Saha & Ye    the tight bound Theta(min(N^2 d / sqrt(M), N^2 d^2 / M)) (Saha & Ye, ICML 2024): for
//                M >= d^2 the second term is the smaller, so FlashAttention's tiling is optimal; for
//                M < d^2 the first is, and FlashAttention's Theta(N^2 d^2 / M) is not
// An Omega or Theta has no constant: the two asymptotic bounds are reported with constant 1 (in elements
// of the input dtype, N^2 read as N_q N_kv), which is a normalisation for drawing, not a number any
// algorithm must stay above; the note in reports says so.
#include <cstdint>

#include "kernels/problem.h"
#include "sim/hardware.h"

namespace tilesim::kernels {

struct IoBounds {
    std::int64_t compulsory_elements = 0;
    std::int64_t compulsory_bytes = 0;
    double prop3_elements = 0;    // N_q N_kv d^2 / M, constant 1
    double saha_ye_elements = 0;  // min(N_q N_kv d / sqrt(M), N_q N_kv d^2 / M), constant 1
    double prop3_bytes = 0, saha_ye_bytes = 0;
    double M = 0;                 // SRAM in elements of the input dtype
    bool tiling_optimal = true;   // M >= d^2: FlashAttention's tiling meets the tight bound
};

// The bounds of one pass. Forward: Q, K, V in, O out. Backward: Q, K, V, O, dO in, dQ, dK, dV out (the
// per-row statistics, N values, are left out of the compulsory count).
IoBounds io_bounds(const Problem& p, Pass pass, const sim::HardwareSpec& hw);

// The normalisation, for reports.
inline constexpr const char* kBoundsNote =
    "compulsory: each input read once, each output written once (exact). prop3 (Dao et al. 2022, "
    "Proposition 3, Omega(N^2 d^2 / M)) and saha_ye (Saha & Ye 2024, Theta(min(N^2 d / sqrt(M), "
    "N^2 d^2 / M))) are asymptotic: shown with constant 1, in elements of the input dtype times its size, "
    "N^2 = N_q N_kv, M = SRAM in elements; compare slopes and the M >= d^2 crossover, not heights";

}  // namespace tilesim::kernels
