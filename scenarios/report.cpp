// JSON and CSV reports of a run (the contract scripts rely on: keys are added, never renamed).
#include "scenarios/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "kernels/bounds.h"
#include "kernels/registry.h"

namespace tilesim::scenarios {

using nlohmann::json;
using sim::Level;

std::string human_bytes(double bytes) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (std::abs(bytes) >= 1000.0 && u < 5) {
        bytes /= 1000.0;
        ++u;
    }
    return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.3g} {}", bytes, units[u]);
}

std::string binary_bytes(std::int64_t bytes) {
    if (bytes >= (std::int64_t{1} << 20) && bytes % 1024 == 0)
        return fmt::format("{:.4g} MiB", static_cast<double>(bytes) / (1 << 20));
    if (bytes >= 1024 && bytes % 256 == 0) return fmt::format("{:.4g} KiB", static_cast<double>(bytes) / 1024);
    return fmt::format("{} B", bytes);
}

std::string human_seconds(double s) {
    if (s >= 1) return fmt::format("{:.3g} s", s);
    if (s >= 1e-3) return fmt::format("{:.3g} ms", s * 1e3);
    return fmt::format("{:.3g} us", s * 1e6);
}

json scenario_json(const Scenario& s) {
    const auto& p = s.problem;
    json j{{"name", s.name},
           {"description", s.description},
           {"batch", p.batch},
           {"heads", p.heads},
           {"kv_heads", p.kv_heads},
           {"seq_len", p.N_kv},
           {"seq_len_q", p.N_q},
           {"head_dim", p.d},
           {"dtype", std::string(sim::dtype_name(p.dtype))},
           {"mask", kernels::mask_text(p.mask)},
           {"pass", std::string(kernels::passes_name(p.passes))},
           {"hardware", s.hardware_name},
           {"sram_bytes", s.hardware.sram_bytes},
           {"l2_bytes", s.hardware.l2_bytes},
           {"hbm_gbps", s.hardware.hbm_bytes_per_s / 1e9},
           {"block_rows", s.tiling.B_r},  // 0 = the algorithm's rule; runs[].tiling holds the resolved sizes
           {"block_cols", s.tiling.B_c},
           {"algorithms", s.algorithms},
           {"numerics", s.numerics},
           {"numerics_heads", s.numerics ? s.numerics_heads : 0},
           {"extra_passes", s.extra_passes},
           {"seed", s.seed}};
    const json scale = s.quant.scale == kernels::Fp8Scale::fixed
                           ? json(s.quant.fixed_scale)
                           : json(s.quant.scale == kernels::Fp8Scale::tensor ? "tensor" : "block");
    j["precision"] = {{"input_format", std::string(sim::dtype_name(sim::storage_dtype(sim::Tensor::Q, p.dtype)))},
                      {"output_format", std::string(sim::dtype_name(sim::storage_dtype(sim::Tensor::O, p.dtype)))},
                      {"statistics_format", "fp32"},
                      {"rounding", s.rounding},
                      {"inputs", std::string(kernels::distribution_name(s.inputs))},
                      {"fp8_scale", scale},
                      {"fp8_incoherent", s.quant.incoherent}};
    add_decode_keys(j, s);
    add_timeline_keys(j, s);
    return j;
}

json run_json(const AlgorithmRun& r, const Scenario& s) {
    // Per-unit counts scale by the units the run simulated: B*H heads, or B*H_kv packed KV groups.
    const std::int64_t bh = r.units;
    json j{{"algorithm", std::string(r.key())},
           {"name", std::string(r.def->name)},
           {"pass", std::string(kernels::pass_name(r.pass()))},
           {"fits", r.fit.ok}};
    if (!r.fit.ok) {
        j["error"] = r.fit.reason;
        j["fix"] = r.fit.fix;
        for (const char* k : {"hbm", "sram", "flops", "predicted_ms", "max_abs_error", "closed_form",
                              "traffic", "tflops", "timeline"})
            j[k] = nullptr;
        return j;
    }
    j["tiling"] = {{"B_r", r.tiling.B_r},
                   {"B_c", r.tiling.B_c},
                   {"T_r", r.tiling.T_r},
                   {"T_c", r.tiling.T_c},
                   {"note", r.tiling.note}};
    const auto& hbm = r.total.at(Level::HBM);
    json by_tensor = json::object();
    for (std::size_t t = 0; t < sim::kTensorCount; ++t) {
        const auto& tt = r.total.by_tensor[static_cast<std::size_t>(Level::HBM)][t];
        if (tt.read_elements == 0 && tt.write_elements == 0) continue;
        by_tensor[std::string(sim::tensor_name(static_cast<sim::Tensor>(t)))] = {
            {"read_elements", tt.read_elements},
            {"write_elements", tt.write_elements},
            {"read_bytes", tt.read_bytes},
            {"write_bytes", tt.write_bytes}};
    }
    j["hbm"] = {{"read_bytes", hbm.read_bytes},
                {"write_bytes", hbm.write_bytes},
                {"read_elements", hbm.read_elements},
                {"write_elements", hbm.write_elements},
                {"by_tensor", by_tensor}};
    const auto& l2 = r.total.at(Level::L2);
    j["l2"] = {{"read_bytes", l2.read_bytes}, {"read_elements", l2.read_elements}};
    j["sram"] = {{"capacity_bytes", s.hardware.sram_bytes},
                 {"peak_bytes", r.per_head.sram_peak_bytes},
                 {"read_bytes", r.total.at(Level::SRAM).read_bytes},
                 {"write_bytes", r.total.at(Level::SRAM).write_bytes}};
    j["dram_estimate"] = {
        {"read_bytes", r.dram.read_bytes},
        {"write_bytes", r.dram.write_bytes},
        {"l2_absorbs_rereads", std::all_of(r.dram.phases.begin(), r.dram.phases.end(),
                                           [](const sim::PhaseDram& p) { return p.reuse_fits_l2; })}};
    j["flops"] = r.total.flops();
    j["matmul_flops"] = r.total.matmul_flops;
    j["other_flops"] = r.total.other_flops;
    j["predicted_ms"] = r.cost.total_s * 1e3;
    json phases = json::array();
    for (std::size_t k = 0; k < r.cost.phases.size(); ++k) {
        const auto& ph = r.cost.phases[k];
        const auto& dr = r.dram.phases.at(k);
        phases.push_back({{"name", ph.name},
                          {"predicted_ms", ph.time_s * 1e3},
                          {"bound", ph.bound},
                          {"hbm_ms", ph.hbm_s * 1e3},
                          {"compute_ms", ph.compute_s * 1e3},
                          {"occupancy", ph.occupancy},
                          {"thread_blocks", ph.thread_blocks},
                          {"hbm_occupancy", ph.hbm_occupancy},
                          {"heads_in_flight", dr.heads_in_flight},
                          {"kv_group_fetches", dr.group_fetches},
                          {"hbm_bytes", r.phases.at(k).counters.at(Level::HBM).total_bytes() * bh},
                          {"dram_estimate_bytes", dr.read_bytes + dr.write_bytes},
                          {"reuse_footprint_bytes", dr.reuse_footprint_bytes},
                          {"reuse_fits_l2", dr.reuse_fits_l2}});
    }
    j["phases"] = phases;
    j["max_abs_error"] = r.max_abs_error ? json(*r.max_abs_error) : json(nullptr);
    j["rel_error"] = r.rel_error ? json(*r.rel_error) : json(nullptr);
    j["rmse"] = r.rmse ? json(*r.rmse) : json(nullptr);
    if (r.quantisation.values > 0) {
        j["quantisation"] = {{"scales", r.quantisation.scales},
                             {"saturated", r.quantisation.saturated},
                             {"values", r.quantisation.values}};
    }
    if (r.pass() == kernels::Pass::backward) {
        j["gradient_errors"] = r.gradient_errors ? json{{"dQ", r.gradient_errors->dQ},
                                                        {"dK", r.gradient_errors->dK},
                                                        {"dV", r.gradient_errors->dV}}
                                                 : json(nullptr);
    }
    if (!r.numerics_note.empty()) j["numerics_note"] = r.numerics_note;
    j["heads_checked"] = r.heads_checked;
    j["closed_form"] = {{"read_elements", r.closed_form.hbm_read_elements() * bh},
                        {"write_elements", r.closed_form.hbm_write_elements() * bh}};
    j["counts_match_closed_form"] = r.counts_match_closed_form();
    j["paper_formula_elements"] = r.paper_total_elements * bh;
    const auto& p = s.problem;
    const kernels::IoBounds b = kernels::io_bounds(p, r.pass(), s.hardware);
    j["bounds"] = {{"compulsory_bytes", b.compulsory_bytes * bh},
                   {"prop3_bytes", b.prop3_bytes * static_cast<double>(bh)},
                   {"saha_ye_bytes", b.saha_ye_bytes * static_cast<double>(bh)},
                   {"hbm_over_compulsory", static_cast<double>(hbm.total_bytes()) / static_cast<double>(b.compulsory_bytes * bh)},
                   {"tiling_optimal", b.tiling_optimal},
                   {"note", kernels::kBoundsNote}};
    if (p.mask.active()) {
        // The mask's tiles at this run's block sizes (what a FlashAttention order skips, masks or
        // computes whole; standard attention computes every tile and masks the elements).
        const kernels::MaskStats st = kernels::mask_stats(p.mask, p.N_q, p.N_kv, r.tiling.B_r, r.tiling.B_c);
        j["blocks"] = {{"full", st.full}, {"partial", st.partial}, {"empty", st.empty}};
    }
    j["units"] = r.units;
    if (auto dec = decode_json(r, s); !dec.is_null()) j["decode"] = dec;
    add_timeline_run(j, r);
    return j;
}

std::vector<PassTotals> pass_totals(const ScenarioResult& r) {
    std::vector<PassTotals> out;
    for (const auto& key : r.scenario.algorithms) {
        PassTotals t;
        t.key = key;
        t.complete = true;
        for (auto pass : passes_of(r.scenario)) {
            const AlgorithmRun* run = r.find(key, pass);
            if (run == nullptr || !run->fit.ok) {
                t.complete = false;
                continue;
            }
            t.hbm_bytes += run->total.at(Level::HBM).total_bytes();
            t.dram_bytes += run->dram.total_bytes();
            t.flops += run->total.flops();
            t.predicted_s += run->cost.total_s;
        }
        out.push_back(t);
    }
    return out;
}

namespace {

// The published figures beside the model's totals, with the ratio model / published.
json published_json(const ScenarioResult& r) {
    json out = json::array();
    const auto totals = pass_totals(r);
    for (const auto& f : r.scenario.published) {
        const auto it = std::find_if(totals.begin(), totals.end(), [&](const PassTotals& t) { return t.key == f.algorithm; });
        if (it == totals.end() || !it->complete) continue;
        json metrics = json::object();
        for (const auto& [metric, value] : f.metrics) {
            const double model = metric == "hbm_gb"       ? static_cast<double>(it->hbm_bytes) / 1e9
                                 : metric == "runtime_ms" ? it->predicted_s * 1e3
                                                          : static_cast<double>(it->flops) / 1e9;
            metrics[metric] = {{"published", value}, {"model", model}, {"model_over_published", model / value}};
        }
        out.push_back({{"algorithm", f.algorithm}, {"metrics", metrics}});
    }
    return out;
}

}  // namespace

json to_json(const ScenarioResult& r) {
    json runs = json::array();
    for (const auto& run : r.runs) runs.push_back(run_json(run, r.scenario));
    json j{{"tool", "tilesim"}, {"scenario", scenario_json(r.scenario)}, {"runs", runs}};
    const auto& p = r.scenario.problem;
    if (p.mask.active()) {
        const std::int64_t pairs = kernels::allowed_pairs(p.mask, p.N_q, p.N_kv);
        j["mask"] = {{"text", kernels::mask_text(p.mask)},
                     {"allowed_pairs", pairs},
                     {"density", static_cast<double>(pairs) / (static_cast<double>(p.N_q) * static_cast<double>(p.N_kv))}};
    }
    if (r.scenario.problem.passes == kernels::Passes::forward_backward) {
        json totals = json::array();
        for (const auto& t : pass_totals(r)) {
            totals.push_back({{"algorithm", t.key},
                              {"passes", "forward+backward"},
                              {"fits", t.complete},
                              {"hbm_bytes", t.complete ? json(t.hbm_bytes) : json(nullptr)},
                              {"dram_estimate_bytes", t.complete ? json(t.dram_bytes) : json(nullptr)},
                              {"flops", t.complete ? json(t.flops) : json(nullptr)},
                              {"predicted_ms", t.complete ? json(t.predicted_s * 1e3) : json(nullptr)}});
        }
        j["totals"] = totals;
    }
    if (!r.scenario.published.empty()) {
        j["published"] = {{"source", r.scenario.published_source},
                          {"note", r.scenario.published_note},
                          {"figures", published_json(r)}};
    }
    return j;
}

std::string to_csv(const ScenarioResult& r) {
    // New columns go at the end, so scripts that read by position keep working.
    std::string out =
        "algorithm,fits,B_r,B_c,hbm_read_bytes,hbm_write_bytes,hbm_read_elements,hbm_write_elements,l2_read_"
        "bytes,sram_peak_bytes,flops,predicted_ms,max_abs_error,closed_form_read_elements,closed_form_write_"
        "elements,pass,dram_estimate_bytes,schedule,tflops,traffic_sm_load_bytes,traffic_sm_store_bytes,"
        "traffic_l2_read_bytes,traffic_l2_write_bytes,traffic_dram_read_bytes,traffic_dram_write_bytes\n";
    for (const auto& run : r.runs) {
        const std::int64_t bh = run.units;
        const auto key = run.key();
        const auto pass = kernels::pass_name(run.pass());
        if (!run.fit.ok) {
            out += fmt::format("{},false,,,,,,,,,,,,,,{},,,,,,,,,,\n", key, pass);
            continue;
        }
        const auto& h = run.total.at(Level::HBM);
        out += fmt::format("{},true,{},{},{},{},{},{},{},{},{},{:.6g},{},{},{},{},{}\n", key, run.tiling.B_r,
                           run.tiling.B_c, h.read_bytes, h.write_bytes, h.read_elements, h.write_elements,
                           run.total.at(Level::L2).read_bytes, run.per_head.sram_peak_bytes, run.total.flops(),
                           run.cost.total_s * 1e3,
                           run.max_abs_error ? fmt::format("{:.3e}", *run.max_abs_error) : "",
                           run.closed_form.hbm_read_elements() * bh, run.closed_form.hbm_write_elements() * bh,
                           pass, run.dram.total_bytes());
        const auto& t = run.traffic;
        out.back() = ',';  // the timeline's columns follow on the same row
        out += fmt::format("{},{:.6g},{},{},{},{},{},{}\n", sim::schedule_name(run.schedule), run.tflops(),
                           t.sm_load_bytes, t.sm_store_bytes, t.l2_read_bytes, t.l2_write_bytes,
                           t.dram_read_bytes, t.dram_write_bytes);
    }
    return out;
}

std::string trace_csv(const sim::Trace& t) {
    std::string out =
        "step,op,tensor,row0,col0,rows,cols,from,to,bytes,flops,sram_used_bytes,i,j,label,phase,buffer,flags,"
        "agent,start_s,end_s\n";
    for (const auto& e : t.events()) {
        std::string label = e.label;
        if (e.op == sim::Op::Phase && e.phase >= 0 && static_cast<std::size_t>(e.phase) < t.phases().size()) {
            label = t.phases()[static_cast<std::size_t>(e.phase)].name;
        } else if (e.op == sim::Op::Allocate && e.buffer >= 0 &&
                   static_cast<std::size_t>(e.buffer) < t.buffers().size()) {
            label = t.buffers()[static_cast<std::size_t>(e.buffer)].what;
        }
        out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},\"{}\",{},{},{}\n", e.step, sim::op_name(e.op),
                           e.op == sim::Op::Phase ? "" : sim::tensor_name(e.tensor), e.tile.row0, e.tile.col0,
                           e.tile.rows, e.tile.cols, sim::level_name(e.from), sim::level_name(e.to), e.bytes,
                           e.flops, e.sram_used_bytes, e.i, e.j, label, e.phase, e.buffer,
                           static_cast<int>(e.flags));
        // Where the timeline placed it (empty when it did not: passes, allocations, paper mode).
        out.back() = ',';
        out += e.agent < 0
                   ? std::string(",,\n")
                   : fmt::format("{},{:.9g},{:.9g}\n", sim::agent_name(static_cast<sim::Agent>(e.agent)),
                                 e.start_s, e.end_s);
    }
    return out;
}

}  // namespace tilesim::scenarios
