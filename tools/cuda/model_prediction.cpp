#include "tools/cuda/model_prediction.h"

#include "scenarios/runner.h"
#include "scenarios/scenario.h"

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

namespace {

std::string sset(const char* key, std::int64_t v) {
    return std::string(key) + "=" + std::to_string(v);
}

}  // namespace

KernelModel hopper_step_model(char step, std::int64_t d, bool causal, std::int64_t B_r, std::int64_t B_c) {
    KernelModel km;
    km.algorithm = "flash2";
    const std::int64_t stages = (d == 64 || step == 'f') ? 4 : 3;
    auto blocks = [&](std::int64_t r, std::int64_t c) {
        km.settings.push_back(sset("block_rows", r));
        km.settings.push_back(sset("block_cols", c));
    };
    switch (step) {
        case 'a':
            km.settings = {"schedule=sync", "mma=mma.sync"};
            blocks(B_r, B_c);
            km.schedule = "sync, mma.sync, " + std::to_string(B_r) + "x" + std::to_string(B_c);
            break;
        case 'b':
            km.settings = {"schedule=sync", "mma=wgmma"};
            blocks(128, 128);
            km.schedule = "sync, wgmma, 128x128";
            break;
        case 'c':
        case 'd':
        case 'e':
        case 'f': {
            const char* sched = step == 'c' ? "producer-consumer" : step == 'd' ? "pingpong" : "pingpong+pipelined";
            km.settings = {std::string("schedule=") + sched, sset("pipeline_stages", stages)};
            blocks(128, 128);
            km.schedule = std::string(sched) + ", " + std::to_string(stages) + " stages";
            if (step == 'f') {
                km.settings.push_back("dtype=fp8e4m3");
                km.schedule += ", fp8e4m3";
            }
            break;
        }
        default: throw scenarios::ScenarioError(std::string("model: no Hopper step '") + step + "'");
    }
    if (causal) km.settings.push_back("mask=causal");
    return km;
}

KernelModel backward_model(bool flash, bool causal, std::int64_t B_r, std::int64_t B_c) {
    KernelModel km;
    km.pass = kernels::Pass::backward;
    if (flash) {
        km.algorithm = "flash2";
        km.settings = {"schedule=sync", sset("block_rows", B_r), sset("block_cols", B_c)};
        km.schedule = "sync, " + std::to_string(B_r) + "x" + std::to_string(B_c);
    } else {
        km.algorithm = "standard";
        km.schedule = "auto (GEMMs + streaming passes)";
    }
    if (causal) km.settings.push_back("mask=causal");
    return km;
}

KernelModel standard_forward_model(bool causal) {
    KernelModel km;
    km.algorithm = "standard";
    km.schedule = "auto (GEMMs + streaming passes)";
    if (causal) km.settings.push_back("mask=causal");
    return km;
}

ModelPrediction predict(const KernelModel& km, const scenarios::Scenario& s) {
    scenarios::Scenario one = s;
    scenarios::apply_settings(one, km.settings);
    return predict(km.algorithm, one, one.tiling, km.pass);
}

ModelPrediction predict_decode(const DecodeShape& p, int splits, std::string* schedule_label) {
    scenarios::Scenario s = scenarios::default_scenario();
    std::vector<std::string> sets = {"hardware=H200",
                                     sset("batch", p.batch),
                                     sset("heads", p.heads),
                                     sset("kv_heads", p.kv_heads),
                                     sset("seq_len", p.N),
                                     sset("seq_len_q", p.q_len),
                                     sset("head_dim", p.d),
                                     std::string("dtype=") + (p.bf16 ? "bf16" : "fp16")};
    if (p.page_size > 0) {
        sets.push_back(sset("page_size", p.page_size));
        sets.push_back(std::string("page_order=") + (p.shuffled_pages ? "shuffled" : "contiguous"));
    }
    if (p.causal) sets.push_back("mask=causal");
    std::string key = "decode";
    if (splits != 1) {
        key = "flash-decoding";
        sets.push_back("algorithms=flash-decoding");  // before kv_splits: the key needs a splitting algorithm
        sets.push_back(sset("kv_splits", splits));
    } else {
        sets.push_back("algorithms=decode");
    }
    scenarios::apply_settings(s, sets);
    if (schedule_label) *schedule_label = splits == 1 ? "decode (packed GQA, no split)" : "flash-decoding, kv_splits " + std::to_string(splits);
    return predict(key, s, s.tiling, kernels::Pass::forward);
}

}  // namespace tilesim::kernels::cuda
