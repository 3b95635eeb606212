// The roofline's numbers (roofline.h).
#include "scenarios/roofline.h"

#include <algorithm>

namespace tilesim::scenarios {

double Roof::attainable(double intensity) const {
    return std::min(peak_flops_per_s, intensity * hbm_bytes_per_s);
}

Roof roof_of(const sim::HardwareSpec& hw, const std::string& hardware_name) {
    const Roof r{hw.matmul_flops_per_s, hw.hbm_bytes_per_s};
    if (!(r.peak_flops_per_s > 0) || !(r.hbm_bytes_per_s > 0)) {
        throw ScenarioError("roofline: hardware " + hardware_name +
                            " has no tensor-core rate or HBM bandwidth; set matmul_tflops and hbm_gbps");
    }
    return r;
}

std::optional<RooflinePoint> roofline_point(const AlgorithmRun& run) {
    RooflinePoint p;
    p.flops = static_cast<double>(run.total.flops());
    p.hbm_bytes = static_cast<double>(run.total.at(sim::Level::HBM).total_bytes());
    if (!run.fit.ok || !(p.flops > 0) || !(p.hbm_bytes > 0) || !(run.cost.total_s > 0)) return std::nullopt;
    p.intensity = p.flops / p.hbm_bytes;
    p.dram_bytes = static_cast<double>(run.dram.total_bytes());
    p.dram_intensity = p.dram_bytes > 0 ? p.flops / p.dram_bytes : 0;
    p.achieved_flops_per_s = p.flops / run.cost.total_s;
    return p;
}

}  // namespace tilesim::scenarios
