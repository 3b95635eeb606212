// The plots: HBM traffic against N (log-log, every algorithm, each definition's Theta() bound
// overlaid) and HBM traffic against SRAM size M or the K/V block size B_c. The data are count-only
// sweeps of the model (scenarios::run_sweep); the marked point is the current scenario's own run.
//
// A Theta() bound has no constant, so each theory curve is scaled to pass through its algorithm's
// data at the current value (the legend says so): what the eye then compares is the slope. Against
// B_c the dashed curve is the watched algorithm's exact closed form (plot_data.h), drawn at more
// block sizes than the sweep has points.
#include <algorithm>
#include <cmath>

#include "viz/format.h"
#include "viz/panels.h"
#include "viz/plot.h"
#include "viz/plot_data.h"
#include "viz/theme.h"
#include "viz/widgets.h"

namespace tilesim::viz {

namespace {

// The current run's point on each listed key's curve (all the sweep's keys when `only` is empty).
PlotMarker marker_for(const Session& s, const std::vector<std::string>& keys, double x,
                      const std::string& label, const std::vector<std::string>& only = {}) {
    PlotMarker m;
    m.x = x;
    m.label = label;
    if (s.model() == nullptr || !s.model()->result) return m;
    for (const auto& k : keys) {
        if (!only.empty() && std::find(only.begin(), only.end(), k) == only.end()) continue;
        m.points.emplace_back(algorithm_color(k), hbm_total(s.model()->result->runs, k));
    }
    return m;
}

// A small button's width (SmallButton has no vertical padding, the horizontal one as usual).
float button_w(const char* label) {
    return ImGui::CalcTextSize(label).x + 2 * ImGui::GetStyle().FramePadding.x;
}

bool sweep_ready(const SweepOutput* out, float height) {
    if (out == nullptr) {
        ImGui::TextDisabled("computing the sweep...");
        ImGui::Dummy(ImVec2(0, height));
        return false;
    }
    if (!out->error.empty() || !out->result) {
        error_text("sweep failed: " + out->error);
        ImGui::Dummy(ImVec2(0, height));
        return false;
    }
    return true;
}

std::string bytes_label(double v) {
    return fmt_bytes(v);
}

const std::vector<scenarios::AlgorithmRun>& current_runs(const Session& s) {
    static const std::vector<scenarios::AlgorithmRun> none;
    return s.model() != nullptr && s.model()->result ? s.model()->result->runs : none;
}

// "scaled to meet standard and flash at the current N": the keys each curve was scaled to.
std::string scaled_note(const std::vector<std::string>& keys, const std::string& where) {
    if (keys.empty()) return {};
    std::string who;
    for (std::size_t k = 0; k < keys.size(); ++k)
        who += (k == 0 ? "" : k + 1 == keys.size() ? " and " : ", ") + keys[k];
    return "dashed: the " + std::string(keys.size() > 1 ? "bounds" : "bound") + ", scaled to meet " + who +
           " at " + where + "; compare slopes";
}

void n_plot(Session& s, UiState& ui, float width, float height) {
    const auto& sc = s.scenario();
    const double N = static_cast<double>(sc.problem.N_kv), d = static_cast<double>(sc.problem.d);
    const double M_el =
        static_cast<double>(sc.hardware.sram_bytes) / static_cast<double>(sim::dtype_bytes(sc.problem.dtype));
    ImGui::TextUnformatted("HBM traffic against sequence length N");
    same_line_if_fits(button_w("Save N sweep as CSV"));
    if (ImGui::SmallButton("Save N sweep as CSV")) ui.want_sweep_csv = true;
    if (s.sweeps_busy()) {
        ImGui::SameLine();
        ImGui::TextDisabled("(updating...)");
    }
    if (!sweep_ready(s.n_sweep(), height)) return;
    const auto& sw = *s.n_sweep()->result;
    auto series = data_series(sw);
    const std::vector<double> xs = series.empty() ? std::vector<double>{} : series.front().x;
    std::vector<std::string> scaled;
    const auto theory = theta_series(
        sw.base.algorithms, sc, xs,
        [&](double n) {
            return ThetaPoint{n, d, M_el};
        },
        N, current_runs(s), &scaled);
    series.insert(series.end(), theory.begin(), theory.end());
    const auto bounds = bounds_series(sw.base, "seq_len", xs);
    series.insert(series.end(), bounds.begin(), bounds.end());
    PlotSpec spec;
    spec.x_label = "sequence length N";
    spec.y_label = "HBM traffic, bytes (all B" + std::string(sym_times()) + "H heads)";
    spec.y_format = bytes_label;
    spec.note = scaled_note(scaled, "the current N = " + format_pow2(N));
    spec.marker = marker_for(s, sw.base.algorithms, N, "N = " + format_pow2(N) + " (now)");
    draw_loglog_plot("n_plot", ImVec2(width, height), spec, series);
}

void sram_plot(Session& s, const scenarios::SweepResult& sw, std::vector<PlotSeries>& series,
               PlotSpec& spec) {
    const auto& sc = s.scenario();
    const double M = static_cast<double>(sc.hardware.sram_bytes);
    const double N = static_cast<double>(sc.problem.N_kv), d = static_cast<double>(sc.problem.d);
    const double el = static_cast<double>(sim::dtype_bytes(sc.problem.dtype));
    spec.x_label = "SRAM per thread block M (bytes); blocks by each algorithm's rule";
    spec.x_format = [](double v) { return fmt_binary_bytes(static_cast<std::int64_t>(v)); };
    if (sc.tiling.B_r != 0 || sc.tiling.B_c != 0) {
        spec.note = "explicit B_r/B_c: the current run is not on the rule, so no marker fit";
        return;
    }
    spec.marker =
        marker_for(s, sw.base.algorithms, M, "M = " + fmt_binary_bytes(sc.hardware.sram_bytes) + " (now)");
    const std::vector<double> xs = series.empty() ? std::vector<double>{} : series.front().x;
    std::vector<std::string> scaled;
    const auto theory = theta_series(
        sw.base.algorithms, sc, xs,
        [&](double m) {
            return ThetaPoint{N, d, m / el};
        },
        M, current_runs(s), &scaled);
    series.insert(series.end(), theory.begin(), theory.end());
    const auto bounds = bounds_series(sw.base, "sram_bytes", xs);
    series.insert(series.end(), bounds.begin(), bounds.end());
    spec.note = scaled_note(scaled, "the current M");
}

void block_plot(Session& s, const scenarios::SweepResult& sw, std::vector<PlotSeries>& series,
                PlotSpec& spec) {
    spec.x_label = "K/V block size B_c (B_r as set)";
    spec.x_format = [](double v) { return format_pow2(v); };
    const auto* run =
        s.lanes().empty() || s.lanes().front().runs.empty() ? nullptr : s.lanes().front().runs.front();
    if (run == nullptr || !run->fit.ok || series.empty() || series.front().x.empty()) return;
    const std::string& key = s.lanes().front().key;
    const double Bc = static_cast<double>(run->tiling.B_c);
    // Rings only where an algorithm's current B_c is this one (each has its own rule otherwise).
    std::vector<std::string> on_it;
    for (const auto& k : sw.base.algorithms) {
        const auto* r = s.run_of(k, run->pass());
        if (r != nullptr && r->fit.ok && r->tiling.B_c == run->tiling.B_c) on_it.push_back(k);
    }
    spec.marker = marker_for(s, sw.base.algorithms, Bc, "B_c = " + format_pow2(Bc) + " (now)", on_it);
    const auto& xs = series.front().x;
    series.push_back(closed_form_series(key, sw.base, dense_block_sizes(xs.front(), xs.back())));
    spec.note =
        "dashed: " + key + "'s closed form at every B_c (dots: the simulation); gaps: the blocks do not fit";
}

}  // namespace

void draw_plots_panel(Session& s, UiState& ui) {
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float top_h = (avail.y - 2 * ImGui::GetFrameHeightWithSpacing()) * 0.5F;
    n_plot(s, ui, avail.x, top_h);

    // ---- HBM traffic vs SRAM size or block size ----
    const bool sram = s.side_kind() == SideSweep::sram;
    // Each control beside the last while it fits (a projector's scale wraps them).
    const float radio = ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x;
    ImGui::TextUnformatted("HBM traffic against");
    same_line_if_fits(radio + ImGui::CalcTextSize("SRAM size M").x);
    if (ImGui::RadioButton("SRAM size M", sram)) s.set_side_kind(SideSweep::sram);
    same_line_if_fits(radio + ImGui::CalcTextSize("K/V block size B_c").x);
    if (ImGui::RadioButton("K/V block size B_c", !sram)) s.set_side_kind(SideSweep::block);
    same_line_if_fits(button_w("Save this sweep as CSV"));
    if (ImGui::SmallButton("Save this sweep as CSV")) ui.want_side_csv = true;
    const float bottom_h = ImGui::GetContentRegionAvail().y;
    const SweepOutput* side = s.side_sweep();
    if (side != nullptr && side->request.key != (sram ? "sram_bytes" : "block_cols"))
        side = nullptr;  // stale kind
    if (!sweep_ready(side, bottom_h)) return;
    const auto& sw = *side->result;
    auto series = data_series(sw);
    PlotSpec spec;
    spec.y_label =
        "HBM traffic, bytes (all heads, N = " + format_pow2(static_cast<double>(s.scenario().problem.N_kv)) +
        ")";
    spec.y_format = bytes_label;
    if (sram) {
        sram_plot(s, sw, series, spec);
    } else {
        block_plot(s, sw, series, spec);
    }
    draw_loglog_plot("side_plot", ImVec2(avail.x, bottom_h), spec, series);
}

}  // namespace tilesim::viz
