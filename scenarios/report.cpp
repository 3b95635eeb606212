#include "scenarios/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

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

namespace {
// Capacities in binary units (192 KiB, 40 MiB), as datasheets give them.
std::string binary_bytes(std::int64_t bytes) {
    if (bytes >= (std::int64_t{1} << 20) && bytes % 1024 == 0)
        return fmt::format("{:.4g} MiB", static_cast<double>(bytes) / (1 << 20));
    if (bytes >= 1024 && bytes % 256 == 0)
        return fmt::format("{:.4g} KiB", static_cast<double>(bytes) / 1024);
    return fmt::format("{} B", bytes);
}
}  // namespace

json scenario_json(const Scenario& s) {
    const auto& p = s.problem;
    return json{{"name", s.name},
                {"description", s.description},
                {"batch", p.batch},
                {"heads", p.heads},
                {"seq_len", p.N},
                {"head_dim", p.d},
                {"dtype", std::string(sim::dtype_name(p.dtype))},
                {"hardware", s.hardware_name},
                {"sram_bytes", s.hardware.sram_bytes},
                {"l2_bytes", s.hardware.l2_bytes},
                {"hbm_gbps", s.hardware.hbm_bytes_per_s / 1e9},
                {"block_rows", s.tiling.B_r},  // 0 = the paper's rule; runs[].tiling holds the resolved sizes
                {"block_cols", s.tiling.B_c},
                {"numerics", s.numerics},
                {"numerics_heads", s.numerics ? s.numerics_heads : 0},
                {"extra_passes", s.extra_passes},
                {"seed", s.seed}};
}

json run_json(const AlgorithmRun& r, const Scenario& s) {
    const std::int64_t bh = s.problem.bh();
    json j{{"algorithm", std::string(kernels::info(r.algorithm).key)},
           {"name", std::string(kernels::info(r.algorithm).display_name)},
           {"pass", "forward"},
           {"fits", r.fit.ok}};
    if (!r.fit.ok) {
        j["error"] = r.fit.reason;
        j["fix"] = r.fit.fix;
        for (const char* k : {"hbm", "sram", "flops", "predicted_ms", "max_abs_error", "closed_form"})
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
                          {"hbm_bytes", r.phases.at(k).counters.at(Level::HBM).total_bytes() * bh},
                          {"dram_estimate_bytes", dr.read_bytes + dr.write_bytes},
                          {"reuse_footprint_bytes", dr.reuse_footprint_bytes},
                          {"reuse_fits_l2", dr.reuse_fits_l2}});
    }
    j["phases"] = phases;
    j["max_abs_error"] = r.max_abs_error ? json(*r.max_abs_error) : json(nullptr);
    j["rel_error"] = r.rel_error ? json(*r.rel_error) : json(nullptr);
    j["heads_checked"] = r.heads_checked;
    j["closed_form"] = {{"read_elements", r.closed_form.hbm_read_elements * bh},
                        {"write_elements", r.closed_form.hbm_write_elements * bh}};
    j["counts_match_closed_form"] = r.counts_match_closed_form();
    j["paper_formula_elements"] = r.paper_total_elements * bh;
    return j;
}

json to_json(const ScenarioResult& r) {
    json runs = json::array();
    for (const auto& run : r.runs) runs.push_back(run_json(run, r.scenario));
    return json{{"tool", "tilesim"}, {"scenario", scenario_json(r.scenario)}, {"runs", runs}};
}

namespace {

const AlgorithmRun* find_run(const std::vector<AlgorithmRun>& runs, kernels::AlgorithmId id) {
    for (const auto& r : runs) {
        if (r.algorithm == id && r.fit.ok) return &r;
    }
    return nullptr;
}

std::string fmt_time(double s) {
    if (s >= 1) return fmt::format("{:.3g} s", s);
    if (s >= 1e-3) return fmt::format("{:.3g} ms", s * 1e3);
    return fmt::format("{:.3g} us", s * 1e6);
}

}  // namespace

std::string to_table(const ScenarioResult& r) {
    const auto& s = r.scenario;
    const auto& p = s.problem;
    const auto& hw = s.hardware;
    std::string out;
    out += fmt::format("tilesim  {}: {}\n", s.name, s.description);
    out += fmt::format("hardware {}: HBM {}/s, SRAM {} per block (M = {} {} elements), L2 {}, {} SM(s)\n",
                       s.hardware_name, human_bytes(hw.hbm_bytes_per_s), binary_bytes(hw.sram_bytes),
                       hw.sram_bytes / static_cast<std::int64_t>(sim::dtype_bytes(p.dtype)),
                       sim::dtype_name(p.dtype),
                       hw.l2_bytes > 0 ? binary_bytes(hw.l2_bytes) : std::string("none"), hw.sm_count);
    out += fmt::format("problem  B = {}, H = {}, N = {}, d = {}, {}: {} head(s){}\n\n", p.batch, p.heads, p.N,
                       p.d, sim::dtype_name(p.dtype), p.bh(),
                       s.extra_passes > 0 ? fmt::format(", {} eager passes over S", s.extra_passes) : "");
    out += fmt::format("{:<34} {:>11} {:>10} {:>10} {:>10} {:>9} {:>10} {:>10} {:>11} {:>8} {:>10}\n",
                       "algorithm", "B_r x B_c", "HBM read", "HBM write", "HBM total", "vs std", "DRAM est",
                       "predicted", "bound", "exact?", "max |err|");
    const AlgorithmRun* std_run = find_run(r.runs, kernels::AlgorithmId::standard);
    std::string notes;
    for (const auto& run : r.runs) {
        const auto& info = kernels::info(run.algorithm);
        if (!run.fit.ok) {
            out += fmt::format("{:<34} does not fit: {}\n{:<34} fix: {}\n", info.display_name, run.fit.reason,
                               "", run.fit.fix);
            continue;
        }
        const auto& hbm = run.total.at(Level::HBM);
        std::string bound;
        for (const auto& ph : run.cost.phases) {
            if (bound.find(ph.bound) == std::string::npos) bound += (bound.empty() ? "" : "+") + ph.bound;
        }
        const std::string ratio =
            std_run != nullptr
                ? fmt::format("{:.2f}x", static_cast<double>(hbm.total_bytes()) /
                                             static_cast<double>(std_run->total.at(Level::HBM).total_bytes()))
                : std::string("-");
        out += fmt::format("{:<34} {:>11} {:>10} {:>10} {:>10} {:>9} {:>10} {:>10} {:>11} {:>8} {:>10}\n",
                           info.display_name, fmt::format("{} x {}", run.tiling.B_r, run.tiling.B_c),
                           human_bytes(static_cast<double>(hbm.read_bytes)),
                           human_bytes(static_cast<double>(hbm.write_bytes)),
                           human_bytes(static_cast<double>(hbm.total_bytes())), ratio,
                           human_bytes(static_cast<double>(run.dram.total_bytes())),
                           fmt_time(run.cost.total_s), bound, run.counts_match_closed_form() ? "yes" : "NO",
                           run.max_abs_error ? fmt::format("{:.1e}", *run.max_abs_error) : std::string("-"));
        if (run.tiling.note.find("shrunk") != std::string::npos ||
            run.tiling.note.find("clamped") != std::string::npos) {
            notes += fmt::format("  {}: {}\n", info.key, run.tiling.note);
        }
        if (run.total.at(Level::L2).read_bytes > 0) {
            notes += fmt::format("  {}: {} of GEMM operand re-reads served by the L2 (not HBM)\n", info.key,
                                 human_bytes(static_cast<double>(run.total.at(Level::L2).read_bytes)));
        }
    }
    out += "\nHBM traffic by tensor (all heads, read + write)\n";
    out += fmt::format("{:<34}", "algorithm");
    std::vector<sim::Tensor> shown;
    for (std::size_t t = 0; t < sim::kTensorCount; ++t) {
        for (const auto& run : r.runs) {
            if (run.fit.ok && run.total.by_tensor[0][t].total_bytes() > 0) {
                shown.push_back(static_cast<sim::Tensor>(t));
                break;
            }
        }
    }
    for (auto t : shown) out += fmt::format(" {:>9}", sim::tensor_name(t));
    out += "\n";
    for (const auto& run : r.runs) {
        if (!run.fit.ok) continue;
        out += fmt::format("{:<34}", kernels::info(run.algorithm).display_name);
        for (auto t : shown) {
            const auto& tt = run.total.by_tensor[0][static_cast<std::size_t>(t)];
            out += fmt::format(
                " {:>9}", tt.total_bytes() > 0 ? human_bytes(static_cast<double>(tt.total_bytes())) : "-");
        }
        out += "\n";
    }
    out += "\n";
    out += fmt::format(
        "exact?: simulated HBM and L2 element counts and FLOPs equal the closed forms "
        "(docs/io-derivations.md).\n");
    out +=
        "HBM: the paper's model, every HBM <-> SRAM tile move. DRAM est: what a DRAM counter would see when "
        "the "
        "L2 serves re-reads\n  (while the tiles re-used by the thread blocks in flight fit in it; "
        "docs/io-derivations.md).\n";
    if (s.numerics) {
        out += fmt::format(
            "max |err|: O against the fp64 reference on {} of {} heads; counts cover all {} heads "
            "(every head has the same schedule).\n",
            s.numerics_heads, p.bh(), p.bh());
    } else {
        out += "count-only run: no arithmetic, identical counts.\n";
    }
    if (!notes.empty()) out += "notes:\n" + notes;
    return out;
}

std::string to_csv(const ScenarioResult& r) {
    std::string out =
        "algorithm,fits,B_r,B_c,hbm_read_bytes,hbm_write_bytes,hbm_read_elements,hbm_write_elements,l2_read_"
        "bytes,"
        "sram_peak_bytes,flops,predicted_ms,max_abs_error,closed_form_read_elements,closed_form_write_"
        "elements\n";
    const std::int64_t bh = r.scenario.problem.bh();
    for (const auto& run : r.runs) {
        const auto& key = kernels::info(run.algorithm).key;
        if (!run.fit.ok) {
            out += fmt::format("{},false,,,,,,,,,,,,,\n", key);
            continue;
        }
        const auto& h = run.total.at(Level::HBM);
        out += fmt::format("{},true,{},{},{},{},{},{},{},{},{},{:.6g},{},{},{}\n", key, run.tiling.B_r,
                           run.tiling.B_c, h.read_bytes, h.write_bytes, h.read_elements, h.write_elements,
                           run.total.at(Level::L2).read_bytes, run.per_head.sram_peak_bytes,
                           run.total.flops(), run.cost.total_s * 1e3,
                           run.max_abs_error ? fmt::format("{:.3e}", *run.max_abs_error) : "",
                           run.closed_form.hbm_read_elements * bh, run.closed_form.hbm_write_elements * bh);
    }
    return out;
}

json to_json(const SweepResult& r) {
    json points = json::array();
    for (const auto& pt : r.points) {
        Scenario s = r.base;
        apply_setting(s, r.key, pt.value_text);
        json runs = json::array();
        for (const auto& run : pt.runs) runs.push_back(run_json(run, s));
        points.push_back({{"value", pt.value}, {"runs", runs}});
    }
    json fits = json::array();
    for (const auto& f : r.fits) {
        fits.push_back({{"algorithm", std::string(kernels::info(f.algorithm).key)},
                        {"loglog_slope", f.slope},
                        {"points", f.points}});
    }
    return json{{"tool", "tilesim"},
                {"scenario", scenario_json(r.base)},
                {"over", r.key},
                {"points", points},
                {"fits", fits}};
}

std::string to_table(const SweepResult& r) {
    std::string out = fmt::format("tilesim sweep over {} ({}; {} head(s), HBM traffic for all heads)\n\n",
                                  r.key, r.base.name, r.base.problem.bh());
    out += fmt::format("{:>10}", r.key);
    for (auto a : r.base.algorithms) out += fmt::format(" {:>14}", kernels::info(a).key);
    const bool have_ratio = find_run(r.points.empty() ? std::vector<AlgorithmRun>{} : r.points[0].runs,
                                     kernels::AlgorithmId::standard) != nullptr &&
                            std::find(r.base.algorithms.begin(), r.base.algorithms.end(),
                                      kernels::AlgorithmId::flash) != r.base.algorithms.end();
    if (have_ratio) out += fmt::format(" {:>15}", "standard/flash");
    out += "\n";
    for (const auto& pt : r.points) {
        out += fmt::format("{:>10}", pt.value_text);
        for (const auto& run : pt.runs) {
            out += fmt::format(" {:>14}",
                               run.fit.ok
                                   ? human_bytes(static_cast<double>(run.total.at(Level::HBM).total_bytes()))
                                   : std::string("does not fit"));
        }
        if (have_ratio) {
            const auto* st = find_run(pt.runs, kernels::AlgorithmId::standard);
            const auto* fl = find_run(pt.runs, kernels::AlgorithmId::flash);
            out += st != nullptr && fl != nullptr
                       ? fmt::format(" {:>14.2f}x",
                                     static_cast<double>(st->total.at(Level::HBM).total_bytes()) /
                                         static_cast<double>(fl->total.at(Level::HBM).total_bytes()))
                       : fmt::format(" {:>15}", "-");
        }
        out += "\n";
    }
    out += fmt::format("\nlog-log slope of HBM traffic against {}:\n", r.key);
    for (const auto& f : r.fits) {
        out += fmt::format("  {:<8} {:>6.3f}  ({} points; theory {})\n", kernels::info(f.algorithm).key,
                           f.slope, f.points, kernels::info(f.algorithm).theory);
    }
    return out;
}

std::string to_csv(const SweepResult& r) {
    std::string out = fmt::format(
        "algorithm,{},fits,B_r,B_c,hbm_read_bytes,hbm_write_bytes,hbm_total_bytes,hbm_read_elements,"
        "hbm_write_elements,flops,predicted_ms\n",
        r.key);
    for (const auto& pt : r.points) {
        for (const auto& run : pt.runs) {
            const auto& key = kernels::info(run.algorithm).key;
            if (!run.fit.ok) {
                out += fmt::format("{},{},false,,,,,,,,,\n", key, pt.value_text);
                continue;
            }
            const auto& h = run.total.at(Level::HBM);
            out += fmt::format("{},{},true,{},{},{},{},{},{},{},{},{:.6g}\n", key, pt.value_text,
                               run.tiling.B_r, run.tiling.B_c, h.read_bytes, h.write_bytes, h.total_bytes(),
                               h.read_elements, h.write_elements, run.total.flops(), run.cost.total_s * 1e3);
        }
    }
    return out;
}

std::string trace_csv(const sim::Trace& t, const std::vector<sim::Phase>& phases) {
    std::string out = "step,op,tensor,row0,col0,rows,cols,from,to,bytes,flops,sram_used_bytes,i,j,label\n";
    for (const auto& e : t.events()) {
        std::string label =
            e.op == sim::Op::Phase && e.i >= 0 && static_cast<std::size_t>(e.i) < phases.size()
                ? phases[static_cast<std::size_t>(e.i)].name
                : std::string(e.label);
        out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},\"{}\"\n", e.step, sim::op_name(e.op),
                           e.op == sim::Op::Phase ? "" : sim::tensor_name(e.tensor), e.tile.row0, e.tile.col0,
                           e.tile.rows, e.tile.cols, sim::level_name(e.from), sim::level_name(e.to), e.bytes,
                           e.flops, e.sram_used_bytes, e.i, e.j, label);
    }
    return out;
}

}  // namespace tilesim::scenarios
