// The terminal table of a run: one row per algorithm and pass, traffic by tensor, totals of a training
// step, and published figures beside the model's.
#include <fmt/format.h>

#include <algorithm>

#include "kernels/bounds.h"
#include "kernels/registry.h"
#include "scenarios/report.h"

namespace tilesim::scenarios {

using sim::Level;

namespace {

constexpr int kNameWidth = 40;

// The problem line: "B = 64, H = 16, N = 1024, d = 64, fp16" (N_q and H_kv when they differ).
// The mask's tiles at the block sizes of the first algorithm that skips them: a picture for the class.
std::string mask_grid(const ScenarioResult& r) {
    const auto& p = r.scenario.problem;
    const AlgorithmRun* shown = nullptr;
    for (const auto& run : r.runs) {
        if (run.fit.ok && !run.def->baseline && (shown == nullptr || run.pass() == kernels::Pass::forward)) {
            shown = &run;
            break;
        }
    }
    if (shown == nullptr) return {};
    const auto st = kernels::mask_stats(p.mask, p.N_q, p.N_kv, shown->tiling.B_r, shown->tiling.B_c);
    std::string out = fmt::format(
        "\nmask {}: {:.1f}% of S allowed; {} {} tiles of {}: {} full (#), {} partial (+), {} skipped (.)\n",
        kernels::mask_text(p.mask),
        100.0 * static_cast<double>(kernels::allowed_pairs(p.mask, p.N_q, p.N_kv)) /
            (static_cast<double>(p.N_q) * static_cast<double>(p.N_kv)),
        st.full + st.partial + st.empty, fmt::format("{} x {}", shown->tiling.B_r, shown->tiling.B_c), shown->def->name,
        st.full, st.partial, st.empty);
    const std::string grid = kernels::tile_grid_text(p.mask, p.N_q, p.N_kv, shown->tiling.B_r, shown->tiling.B_c);
    std::size_t start = 0;
    while (start < grid.size()) {
        const auto end = grid.find('\n', start);
        out += "  " + grid.substr(start, end - start) + "\n";
        start = end + 1;
    }
    if (kernels::ceil_div(p.N_q, shown->tiling.B_r) > 24 || kernels::ceil_div(p.N_kv, shown->tiling.B_c) > 48) {
        out += "  (each character is a group of tiles: # all full, . all skipped, + otherwise)\n";
    }
    return out;
}

std::string problem_line(const Scenario& s) {
    const auto& p = s.problem;
    std::string heads = fmt::format("H = {}", p.heads);
    if (p.kv_heads != p.heads) heads += fmt::format(", H_kv = {}", p.kv_heads);
    const std::string len =
        p.N_q == p.N_kv ? fmt::format("N = {}", p.N_kv) : fmt::format("N_q = {}, N_kv = {}", p.N_q, p.N_kv);
    std::string out = fmt::format("problem  B = {}, {}, {}, d = {}, {}: {} head(s), pass {}", p.batch, heads, len,
                                  p.d, sim::dtype_name(p.dtype), p.bh(), kernels::passes_name(p.passes));
    if (s.extra_passes > 0) out += fmt::format(", {} eager passes over S", s.extra_passes);
    if (p.mask.active()) out += ", mask " + kernels::mask_text(p.mask);
    out += decode_problem_text(s);
    return out + "\n\n";
}

std::string bound_of(const AlgorithmRun& run) {
    std::string bound;
    for (const auto& ph : run.cost.phases) {
        if (bound.find(ph.bound) == std::string::npos) bound += (bound.empty() ? "" : "+") + ph.bound;
    }
    return bound;
}

std::string runs_table(const ScenarioResult& r, std::string& notes) {
    std::string out = fmt::format("{:<{}} {:>11} {:>10} {:>10} {:>10} {:>9} {:>10} {:>10} {:>11} {:>8} {:>10}\n",
                                  "algorithm", kNameWidth, "B_r x B_c", "HBM read", "HBM write", "HBM total",
                                  "vs std", "DRAM est", "predicted", "bound", "exact?", "max |err|");
    for (const auto& run : r.runs) {
        const auto name = run.def->name;
        if (!run.fit.ok) {
            out += fmt::format("{:<{}} does not fit: {}\n{:<{}} fix: {}\n", name, kNameWidth, run.fit.reason, "",
                               kNameWidth, run.fit.fix);
            continue;
        }
        const auto& hbm = run.total.at(Level::HBM);
        const AlgorithmRun* base = baseline_run(r.runs, run.pass());
        const std::string ratio =
            base != nullptr ? fmt::format("{:.2f}x", static_cast<double>(hbm.total_bytes()) /
                                                         static_cast<double>(base->total.at(Level::HBM).total_bytes()))
                            : std::string("-");
        out += fmt::format("{:<{}} {:>11} {:>10} {:>10} {:>10} {:>9} {:>10} {:>10} {:>11} {:>8} {:>10}\n", name,
                           kNameWidth, fmt::format("{} x {}", run.tiling.B_r, run.tiling.B_c),
                           human_bytes(static_cast<double>(hbm.read_bytes)),
                           human_bytes(static_cast<double>(hbm.write_bytes)),
                           human_bytes(static_cast<double>(hbm.total_bytes())), ratio,
                           human_bytes(static_cast<double>(run.dram.total_bytes())), human_seconds(run.cost.total_s),
                           bound_of(run), run.counts_match_closed_form() ? "yes" : "NO",
                           run.max_abs_error ? fmt::format("{:.1e}", *run.max_abs_error) : std::string("-"));
        const std::string who = fmt::format("{} {}", run.key(), kernels::pass_name(run.pass()));
        if (run.tiling.note.find("shrunk") != std::string::npos ||
            run.tiling.note.find("clamped") != std::string::npos) {
            notes += fmt::format("  {}: {}\n", who, run.tiling.note);
        }
        if (run.total.at(Level::L2).read_bytes > 0) {
            notes += fmt::format("  {}: {} of GEMM operand re-reads served by the L2 (not HBM)\n", who,
                                 human_bytes(static_cast<double>(run.total.at(Level::L2).read_bytes)));
        }
        if (run.gradient_errors) {
            notes += fmt::format("  {}: max |err| of dQ {:.1e}, dK {:.1e}, dV {:.1e}\n", who, run.gradient_errors->dQ,
                                 run.gradient_errors->dK, run.gradient_errors->dV);
        }
        if (!run.numerics_note.empty()) notes += fmt::format("  {}: no numerics: {}\n", who, run.numerics_note);
        notes += decode_notes(run, r.scenario);
    }
    return out;
}

std::string tensor_table(const ScenarioResult& r) {
    std::string out = "\nHBM traffic by tensor (all heads, read + write)\n";
    out += fmt::format("{:<{}}", "algorithm", kNameWidth);
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
        out += fmt::format("{:<{}}", run.def->name, kNameWidth);
        for (auto t : shown) {
            const auto& tt = run.total.by_tensor[0][static_cast<std::size_t>(t)];
            out += fmt::format(" {:>9}", tt.total_bytes() > 0 ? human_bytes(static_cast<double>(tt.total_bytes())) : "-");
        }
        out += "\n";
    }
    return out;
}

// The IO lower bounds of each pass beside what each algorithm moves.
std::string bounds_table(const ScenarioResult& r) {
    const auto& s = r.scenario;
    const std::int64_t bh = s.problem.bh();
    std::string out = "\nIO lower bounds (all heads; the asymptotic ones with constant 1: compare slopes, not heights)\n";
    out += fmt::format("{:<10} {:>12} {:>12} {:>12}   {}\n", "pass", "compulsory", "Prop. 3", "Saha & Ye",
                       "HBM traffic / compulsory");
    for (auto pass : passes_of(s)) {
        const kernels::IoBounds b = kernels::io_bounds(s.problem, pass, s.hardware);
        std::string ratios;
        for (const auto& run : r.runs) {
            if (run.pass() != pass || !run.fit.ok) continue;
            ratios += fmt::format("{}{} {:.1f}x", ratios.empty() ? "" : ", ", run.key(),
                                  static_cast<double>(run.total.at(Level::HBM).total_bytes()) /
                                      static_cast<double>(b.compulsory_bytes * bh));
        }
        out += fmt::format("{:<10} {:>12} {:>12} {:>12}   {}\n", kernels::pass_name(pass),
                           human_bytes(static_cast<double>(b.compulsory_bytes * bh)),
                           human_bytes(b.prop3_bytes * static_cast<double>(bh)),
                           human_bytes(b.saha_ye_bytes * static_cast<double>(bh)), ratios);
    }
    const kernels::IoBounds b = kernels::io_bounds(s.problem, kernels::Pass::forward, s.hardware);
    if (!b.tiling_optimal) {
        out += fmt::format(
            "  M = {:.0f} elements < d^2 = {}: here the tight bound is N^2 d / sqrt(M), below FlashAttention's "
            "N^2 d^2 / M: its tiling is not optimal (Saha & Ye 2024)\n",
            b.M, s.problem.d * s.problem.d);
    }
    return out;
}

// What the numerics stored in which format, and each run's RMSE against the fp64 reference.
std::string precision_note(const ScenarioResult& r) {
    const auto& s = r.scenario;
    const auto& p = s.problem;
    if (!s.rounding) {
        return "precision: rounding off (rounding = false): fp32 arithmetic throughout, whatever the dtype.\n";
    }
    const auto in = sim::storage_dtype(sim::Tensor::Q, p.dtype), out = sim::storage_dtype(sim::Tensor::O, p.dtype);
    std::string text = fmt::format("precision: rounding emulated ({} inputs); Q, K, V, dO stored {}", kernels::distribution_name(s.inputs),
                                   sim::dtype_name(in));
    if (sim::is_fp8(p.dtype)) {
        std::int64_t scales = 0;
        for (const auto& run : r.runs) scales = std::max(scales, run.quantisation.scales);
        text += s.quant.scale == kernels::Fp8Scale::fixed
                    ? fmt::format(" with a fixed scale {}", s.quant.fixed_scale)
                    : fmt::format(" with {} scales (up to {} per head, 4 B each: kernel arguments, not counted)",
                                  s.quant.scale == kernels::Fp8Scale::tensor ? "per-tensor" : "per-block", scales);
        if (s.quant.incoherent) text += ", Q and K incoherently processed (Hadamard rotation)";
        text += fmt::format("; P~ enters the second GEMM in {}", sim::dtype_name(p.dtype));
    }
    if (out != in) text += fmt::format("; what kernels write is {}", sim::dtype_name(out));
    text += "; statistics fp32.\n  RMSE against the fp64 reference:";
    std::int64_t saturated = 0, values = 0;
    for (const auto& run : r.runs) {
        if (run.rmse) text += fmt::format(" {} {} {:.2e},", run.key(), kernels::pass_name(run.pass()), *run.rmse);
        saturated = std::max(saturated, run.quantisation.saturated);
        values = std::max(values, run.quantisation.values);
    }
    if (text.back() == ',') text.pop_back();
    if (saturated > 0) {
        text += fmt::format(". {} of {} input values saturated (beyond the format's range at their scale)", saturated,
                            values);
    }
    return text + "\n";
}

// Forward + backward per algorithm: what one training step's attention costs.
std::string totals_table(const ScenarioResult& r) {
    std::string out = "\nforward + backward (all heads)\n";
    out += fmt::format("{:<{}} {:>10} {:>10} {:>12} {:>10}\n", "algorithm", kNameWidth, "HBM total", "DRAM est",
                       "FLOPs", "predicted");
    for (const auto& t : pass_totals(r)) {
        const auto* fwd = kernels::find_definition(t.key, kernels::Pass::forward);
        const std::string name = fwd != nullptr ? std::string(fwd->name) : t.key;
        if (!t.complete) {
            out += fmt::format("{:<{}} a pass does not fit (see above)\n", name, kNameWidth);
            continue;
        }
        out += fmt::format("{:<{}} {:>10} {:>10} {:>12} {:>10}\n", name, kNameWidth,
                           human_bytes(static_cast<double>(t.hbm_bytes)), human_bytes(static_cast<double>(t.dram_bytes)),
                           fmt::format("{:.4g} G", static_cast<double>(t.flops) / 1e9), human_seconds(t.predicted_s));
    }
    return out;
}

// Published figures (a paper's table) next to the model's totals, with the ratio.
std::string published_table(const ScenarioResult& r) {
    const auto& s = r.scenario;
    std::string out = fmt::format("\npublished figures ({}) against the model\n", s.published_source);
    out += fmt::format("{:<12} {:<12} {:>12} {:>12} {:>16}\n", "algorithm", "metric", "published", "model",
                       "model/published");
    const auto totals = pass_totals(r);
    for (const auto& f : s.published) {
        const auto it =
            std::find_if(totals.begin(), totals.end(), [&](const PassTotals& t) { return t.key == f.algorithm; });
        if (it == totals.end() || !it->complete) continue;
        for (const auto& [metric, value] : f.metrics) {
            const bool hbm = metric == "hbm_gb", ms = metric == "runtime_ms";
            const double model = hbm  ? static_cast<double>(it->hbm_bytes) / 1e9
                                 : ms ? it->predicted_s * 1e3
                                      : static_cast<double>(it->flops) / 1e9;
            const char* label = hbm ? "HBM GB" : ms ? "runtime ms" : "GFLOPs";
            out += fmt::format("{:<12} {:<12} {:>12.4g} {:>12.4g} {:>15.2f}x\n", f.algorithm, label, value, model,
                               model / value);
        }
    }
    if (!s.published_note.empty()) out += "why they differ: " + s.published_note + "\n";
    return out;
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
                       hw.sram_bytes / static_cast<std::int64_t>(sim::dtype_bytes(p.dtype)), sim::dtype_name(p.dtype),
                       hw.l2_bytes > 0 ? binary_bytes(hw.l2_bytes) : std::string("none"), hw.sm_count);
    out += problem_line(s);
    std::string notes;
    out += runs_table(r, notes);
    out += tensor_table(r);
    out += bounds_table(r);
    if (p.mask.active()) out += mask_grid(r);
    out += timeline_table(r);
    if (p.passes == kernels::Passes::forward_backward) out += totals_table(r);
    if (!s.published.empty()) out += published_table(r);
    out += "\n";
    out +=
        "exact?: simulated HBM and L2 element counts and FLOPs equal the closed forms "
        "(docs/io-derivations.md).\n";
    out +=
        "HBM: the paper's model, every HBM <-> SRAM tile move. DRAM est: what a DRAM counter would see when the "
        "L2 serves re-reads\n  (while the tiles re-used by the thread blocks in flight fit in it; "
        "docs/io-derivations.md).\n";
    if (s.numerics) {
        out += fmt::format(
            "max |err|: the outputs (O; dQ, dK, dV for a backward) against the fp64 reference on {} of {} heads; "
            "counts cover all {} heads (every head has the same schedule).\n",
            s.numerics_heads, p.bh(), p.bh());
    } else {
        out += "count-only run: no arithmetic, identical counts.\n";
    }
    if (s.numerics) out += precision_note(r);
    if (!notes.empty()) out += "notes:\n" + notes;
    return out;
}

}  // namespace tilesim::scenarios
