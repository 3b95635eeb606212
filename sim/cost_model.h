#pragma once
// Roofline cost model. Each kernel pass (Phase) takes as long as its slowest resource: HBM traffic,
// L2 traffic, SRAM traffic, or arithmetic (tensor-core matmul plus fp32 non-matmul work, which share
// the SMs and so add). Passes run one after another, so their times add. Counts are per (batch, head)
// and scaled by B*H; the SMs are filled in waves, so a pass with few thread blocks runs at a fraction
// of the device's rates.
#include <string>
#include <vector>

#include "sim/hardware.h"
#include "sim/hierarchy.h"

namespace tilesim::sim {

struct PhaseCost {
    std::string name;
    double hbm_s = 0, l2_s = 0, sram_s = 0, compute_s = 0;
    double occupancy = 1;  // fraction of SM-waves doing work
    double time_s = 0;
    std::string bound;  // "HBM", "L2", "SRAM" or "compute"
};

struct CostBreakdown {
    std::vector<PhaseCost> phases;
    double total_s = 0;
};

// `heads` = B*H: the per-head phases are scaled by it.
CostBreakdown predict(const HardwareSpec& hw, const std::vector<Phase>& phases, std::int64_t heads);

// Time one event would take alone on a whole device (for the animation's clock).
double event_seconds(const HardwareSpec& hw, const Event& e);

}  // namespace tilesim::sim
