#include "kernels/cuda/model_prediction.h"

#include <stdexcept>

#include "kernels/registry.h"
#include "sim/cost_model.h"

namespace tilesim::kernels::cuda {

ModelPrediction predict(std::string_view key, const Problem& p, const TilingRequest& tiling,
                        const sim::HardwareSpec& hw, std::int64_t extra_passes) {
    RunOptions o;
    o.numerics = false;  // count-only: identical counts, no arithmetic
    o.extra_passes = extra_passes;
    const AlgorithmDef* def = find_definition(key, Pass::forward);
    if (def == nullptr) throw std::runtime_error("model: no algorithm '" + std::string(key) + "'");
    const RunResult r = run(*def, p, tiling, hw, nullptr, o);
    if (!r.fit.ok) throw std::runtime_error("model: " + r.fit.reason + "; " + r.fit.fix);
    const auto bh = static_cast<double>(p.bh());
    ModelPrediction m;
    m.algorithm = std::string(key);
    m.tiling = r.tiling;
    m.hbm_bytes = static_cast<double>(r.counters.at(sim::Level::HBM).total_bytes()) * bh;
    m.l2_bytes = static_cast<double>(r.counters.at(sim::Level::L2).total_bytes()) * bh;
    const sim::CostBreakdown cost = sim::predict(hw, r.phases, p.bh());
    const sim::DramEstimate dram = sim::estimate_dram(hw, r.phases, p.bh());
    m.dram_bytes = static_cast<double>(dram.total_bytes());
    m.time_s = cost.total_s;
    for (std::size_t k = 0; k < r.phases.size(); ++k) {
        const sim::Counters& c = r.phases[k].counters;
        PhasePrediction ph;
        ph.name = r.phases[k].name;
        ph.hbm_read_bytes = static_cast<double>(c.at(sim::Level::HBM).read_bytes) * bh;
        ph.hbm_write_bytes = static_cast<double>(c.at(sim::Level::HBM).write_bytes) * bh;
        ph.l2_bytes = static_cast<double>(c.at(sim::Level::L2).total_bytes()) * bh;
        ph.time_s = cost.phases[k].time_s;
        ph.dram_bytes = static_cast<double>(dram.phases[k].read_bytes + dram.phases[k].write_bytes);
        ph.reuse_fits_l2 = dram.phases[k].reuse_fits_l2;
        ph.bound = cost.phases[k].bound;
        m.phases.push_back(ph);
    }
    return m;
}

}  // namespace tilesim::kernels::cuda
