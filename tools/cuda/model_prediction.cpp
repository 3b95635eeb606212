#include "tools/cuda/model_prediction.h"

#include "scenarios/runner.h"

namespace tilesim::kernels::cuda {

ModelPrediction predict(std::string_view key, const scenarios::Scenario& s, const TilingRequest& tiling,
                        kernels::Pass pass) {
    scenarios::Scenario one = s;
    one.algorithms = {std::string(key)};
    one.tiling = tiling;
    one.numerics = false;  // count-only: identical counts, no arithmetic
    one.problem.passes = pass == kernels::Pass::forward ? Passes::forward : Passes::backward;
    one.published.clear();
    const scenarios::ScenarioResult result = scenarios::run_scenario(one);
    const scenarios::AlgorithmRun& r = result.runs.at(0);
    if (!r.fit.ok) throw scenarios::ScenarioError("model: " + r.fit.reason + "; fix: " + r.fit.fix);
    // Per-unit counts times the units run (B*H heads, or B*H_kv packed KV groups).
    const auto bh = static_cast<double>(r.units);
    ModelPrediction m;
    m.algorithm = std::string(key);
    m.pass = pass;
    m.tiling = r.tiling;
    m.hbm_bytes = static_cast<double>(r.total.at(sim::Level::HBM).total_bytes());
    m.l2_bytes = static_cast<double>(r.total.at(sim::Level::L2).total_bytes());
    m.dram_bytes = static_cast<double>(r.dram.total_bytes());
    m.time_s = r.cost.total_s;
    for (std::size_t k = 0; k < r.phases.size(); ++k) {
        const sim::Counters& c = r.phases[k].counters;
        PhasePrediction ph;
        ph.name = r.phases[k].name;
        ph.hbm_read_bytes = static_cast<double>(c.at(sim::Level::HBM).read_bytes) * bh;
        ph.hbm_write_bytes = static_cast<double>(c.at(sim::Level::HBM).write_bytes) * bh;
        ph.l2_bytes = static_cast<double>(c.at(sim::Level::L2).total_bytes()) * bh;
        ph.time_s = r.cost.phases.at(k).time_s;
        ph.dram_bytes = static_cast<double>(r.dram.phases.at(k).read_bytes + r.dram.phases.at(k).write_bytes);
        ph.reuse_fits_l2 = r.dram.phases.at(k).reuse_fits_l2;
        ph.bound = r.cost.phases.at(k).bound;
        m.phases.push_back(ph);
    }
    return m;
}

}  // namespace tilesim::kernels::cuda
