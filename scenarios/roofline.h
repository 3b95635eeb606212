#pragma once
// A run on the roofline: its arithmetic intensity against the preset's ridge point. One definition
// for every consumer (`tilesim plot roofline`, the GUI's roofline view), so the figure and the window
// cannot disagree on a formula.
#include <optional>
#include <string>

#include "scenarios/runner.h"
#include "sim/hardware.h"

namespace tilesim::scenarios {

// The preset's roof: peak tensor-core FLOP/s over the HBM bandwidth.
struct Roof {
    double peak_flops_per_s = 0;
    double hbm_bytes_per_s = 0;
    double ridge() const { return peak_flops_per_s / hbm_bytes_per_s; }  // FLOP per byte at the bend
    // What the roof allows at `intensity` FLOP/B: min(peak, intensity x bandwidth).
    double attainable(double intensity) const;
};
// Throws ScenarioError naming the keys to set when the preset has no tensor rate or HBM bandwidth.
Roof roof_of(const sim::HardwareSpec& hw, const std::string& hardware_name);

// One run's point, all B*H heads.
struct RooflinePoint {
    double flops = 0;
    double hbm_bytes = 0;       // the paper's count: every tile move between HBM and SRAM
    double intensity = 0;       // flops / hbm_bytes
    double dram_bytes = 0;      // the DRAM estimate (what a DRAM counter would see with the L2); 0: none
    double dram_intensity = 0;  // flops / dram_bytes; 0 when there is no estimate
    double achieved_flops_per_s = 0;  // flops / the predicted time
};
// Empty when the run did not fit in SRAM or has no FLOPs, HBM bytes or predicted time.
std::optional<RooflinePoint> roofline_point(const AlgorithmRun& run);

}  // namespace tilesim::scenarios
