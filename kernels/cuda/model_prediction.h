#pragma once
// What the model (sim/ + kernels/) predicts for the run the GPU makes: per kernel pass (phase), the
// HBM and L2 bytes and the roofline time, for the whole problem (B*H heads). Host-only; no CUDA.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/problem.h"
#include "sim/hardware.h"

namespace tilesim::kernels::cuda {

struct PhasePrediction {
    std::string name;  // the model's phase name, e.g. "standard: P = softmax(S)"
    double hbm_read_bytes = 0, hbm_write_bytes = 0;
    double l2_bytes = 0;    // L2 <-> SRAM traffic the model counts (GEMM operand re-reads)
    double dram_bytes = 0;  // sim::estimate_dram: what DRAM sees when the L2 serves re-reads
    bool reuse_fits_l2 = false;
    double time_s = 0;
    std::string bound;  // roofline: "HBM", "L2", "SRAM" or "compute"
};

struct ModelPrediction {
    std::string algorithm;  // the model's algorithm key ("standard", "flash2"), forward pass
    Tiling tiling;
    double hbm_bytes = 0;   // r.counters.at(HBM).total_bytes() * B*H
    double l2_bytes = 0;    // L2 -> SRAM loads (standard's GEMM re-reads); hbm + l2 = all off-chip traffic
    double dram_bytes = 0;  // sim::estimate_dram(hw, phases, B*H).total_bytes()
    double time_s = 0;      // sim::predict(hw, phases, B*H).total_s
    std::vector<PhasePrediction> phases;
};

// Runs the model count-only (no numerics) for `alg` with an explicit tiling request. Throws
// std::runtime_error with the model's reason and fix when the tiles do not fit.
ModelPrediction predict(std::string_view key, const Problem& p, const TilingRequest& tiling,
                        const sim::HardwareSpec& hw, std::int64_t extra_passes);

}  // namespace tilesim::kernels::cuda
