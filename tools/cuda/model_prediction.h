#pragma once
// What the model predicts for the run the GPU makes: per kernel pass (phase), the HBM and L2 bytes and
// the predicted time, for the whole problem (B*H heads). It runs the scenario through the same runner as
// `tilesim run` (scenarios::run_scenario: the hardware preset first, then the overrides; the one place
// that scales one head's counts by B*H), count-only. Host-only; no CUDA.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/problem.h"
#include "scenarios/scenario.h"

namespace tilesim::kernels::cuda {

struct PhasePrediction {
    std::string name;  // the model's phase name, e.g. "standard: P = softmax(S)"
    double hbm_read_bytes = 0, hbm_write_bytes = 0;
    double l2_bytes = 0;    // L2 <-> SRAM traffic the model counts (GEMM operand re-reads)
    double dram_bytes = 0;  // sim::estimate_dram: what DRAM sees when the L2 serves re-reads
    bool reuse_fits_l2 = false;
    double time_s = 0;
    std::string bound;  // "HBM", "L2", "SRAM" or "compute"
};

struct ModelPrediction {
    std::string algorithm;  // the model's algorithm key ("standard", "flash2")
    kernels::Pass pass = kernels::Pass::forward;
    Tiling tiling;
    double hbm_bytes = 0;   // HBM reads + writes, all heads
    double l2_bytes = 0;    // L2 -> SRAM loads (standard's GEMM re-reads); hbm + l2 = all off-chip traffic
    double dram_bytes = 0;  // the DRAM estimate, all heads
    double time_s = 0;      // the predicted time, all heads
    std::vector<PhasePrediction> phases;
};

// The model's prediction for algorithm `key`, pass `pass`, on scenario `s` with the block sizes
// `tiling` (the GPU kernel's: 0 = the algorithm's rule). Throws scenarios::ScenarioError with the
// model's reason and fix when the tiles do not fit.
ModelPrediction predict(std::string_view key, const scenarios::Scenario& s, const TilingRequest& tiling,
                        kernels::Pass pass = kernels::Pass::forward);

}  // namespace tilesim::kernels::cuda
