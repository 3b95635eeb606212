#include "kernels/bounds.h"

#include <algorithm>
#include <cmath>

namespace tilesim::kernels {

IoBounds io_bounds(const Problem& p, Pass pass, const sim::HardwareSpec& hw) {
    IoBounds b;
    const auto e = static_cast<std::int64_t>(sim::dtype_bytes(p.dtype));
    const std::int64_t q_side = p.N_q * p.d, kv_side = p.N_kv * p.d;
    // Forward: Q, K, V read, O written. Backward: Q, K, V, O, dO read, dQ, dK, dV written.
    b.compulsory_elements = pass == Pass::forward ? 2 * q_side + 2 * kv_side : 3 * q_side + 2 * kv_side + q_side + 2 * kv_side;
    // In bytes per tensor: an fp8 problem reads its inputs in 1 byte and writes bf16.
    const auto in = static_cast<std::int64_t>(sim::element_bytes(sim::Tensor::Q, p.dtype));
    const auto out = static_cast<std::int64_t>(sim::element_bytes(sim::Tensor::O, p.dtype));
    b.compulsory_bytes = pass == Pass::forward ? (q_side + 2 * kv_side) * in + q_side * out
                                               : (2 * q_side + 2 * kv_side) * in + q_side * out +
                                                     (q_side + 2 * kv_side) * out;
    b.M = static_cast<double>(hw.sram_bytes) / static_cast<double>(e);
    const double NN = static_cast<double>(p.N_q) * static_cast<double>(p.N_kv), d = static_cast<double>(p.d);
    if (b.M > 0) {
        b.prop3_elements = NN * d * d / b.M;
        b.saha_ye_elements = std::min(NN * d / std::sqrt(b.M), NN * d * d / b.M);
    }
    b.prop3_bytes = b.prop3_elements * static_cast<double>(e);
    b.saha_ye_bytes = b.saha_ye_elements * static_cast<double>(e);
    b.tiling_optimal = b.M >= d * d;
    return b;
}

}  // namespace tilesim::kernels
