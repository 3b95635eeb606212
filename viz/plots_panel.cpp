// The plots: HBM traffic against N (log-log, every algorithm, the paper's two Theta() bounds
// overlaid) and HBM traffic against SRAM size M or the K/V block size B_c. The data are count-only
// sweeps of the model (scenarios::run_sweep); the marked point is the current scenario's own run.
//
// A Theta() bound has no constant, so each theory curve is scaled to pass through its algorithm's
// data at the current value (the legend says so): what the eye then compares is the slope.
#include <algorithm>
#include <cmath>

#include "kernels/registry.h"
#include "viz/format.h"
#include "viz/panels.h"
#include "viz/plot.h"
#include "viz/theme.h"
#include "viz/widgets.h"

namespace tilesim::viz {

using kernels::AlgorithmId;
using sim::Level;

namespace {

double hbm_total(const scenarios::AlgorithmRun& r) {
    return r.fit.ok ? static_cast<double>(r.total.at(Level::HBM).total_bytes()) : -1.0;
}

// One data series per algorithm, from a sweep.
std::vector<PlotSeries> data_series(const scenarios::SweepResult& sw) {
    std::vector<PlotSeries> out;
    for (std::size_t a = 0; a < sw.base.algorithms.size(); ++a) {
        PlotSeries s;
        const AlgorithmId id = sw.base.algorithms[a];
        s.label = std::string(kernels::info(id).key);
        s.color = algorithm_color(id);
        for (const auto& p : sw.points) {
            s.x.push_back(p.value);
            s.y.push_back(a < p.runs.size() ? hbm_total(p.runs[a]) : -1.0);
        }
        out.push_back(std::move(s));
    }
    return out;
}

// c * f(x) through (x0, y0), evaluated at `xs`.
PlotSeries theory(const std::string& label, ImU32 color, const std::vector<double>& xs, double x0, double y0,
                  const std::function<double(double)>& f) {
    PlotSeries s;
    s.label = label;
    s.color = color;
    s.dashed = true;
    s.markers = false;
    const double c = f(x0) > 0 && y0 > 0 ? y0 / f(x0) : 0.0;
    for (double x : xs) {
        s.x.push_back(x);
        s.y.push_back(c > 0 ? c * f(x) : -1.0);
    }
    return s;
}

// The current run's point on each listed algorithm's curve (all algorithms when `only` is empty).
PlotMarker marker_for(const Session& s, double x, const std::string& label,
                      std::vector<AlgorithmId> only = {}) {
    PlotMarker m;
    m.x = x;
    m.label = label;
    for (const auto& a : kernels::algorithms()) {
        if (!only.empty() && std::find(only.begin(), only.end(), a.id) == only.end()) continue;
        if (const auto* r = s.run_of(a.id)) m.points.emplace_back(algorithm_color(a.id), hbm_total(*r));
    }
    return m;
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

}  // namespace

void draw_plots_panel(Session& s, UiState& ui) {
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const auto* std_run = s.run_of(AlgorithmId::standard);
    const auto* fa_run = s.run_of(AlgorithmId::flash);
    const auto& sc = s.scenario();
    const double N = static_cast<double>(sc.problem.N), d = static_cast<double>(sc.problem.d);
    const double M_el =
        static_cast<double>(sc.hardware.sram_bytes) / static_cast<double>(sim::dtype_bytes(sc.problem.dtype));
    const float top_h = (avail.y - 2 * ImGui::GetFrameHeightWithSpacing()) * 0.5F;

    // ---- HBM traffic vs N ----
    ImGui::TextUnformatted("HBM traffic against sequence length N");
    ImGui::SameLine();
    if (ImGui::SmallButton("Save N sweep as CSV")) ui.want_sweep_csv = true;
    if (s.sweeps_busy()) {
        ImGui::SameLine();
        ImGui::TextDisabled("(updating...)");
    }
    if (sweep_ready(s.n_sweep(), top_h)) {
        const auto& sw = *s.n_sweep()->result;
        auto series = data_series(sw);
        const std::vector<double> xs = series.empty() ? std::vector<double>{} : series.front().x;
        const std::string th = sym_theta();
        const std::string sq = sym_sq();
        if (std_run != nullptr && fa_run != nullptr) {
            series.push_back(theory(th + "(Nd + N" + sq + ")", algorithm_color(AlgorithmId::standard, 200),
                                    xs, N, hbm_total(*std_run), [&](double n) { return n * d + n * n; }));
            series.push_back(theory(th + "(N" + sq + "d" + sq + "/M)",
                                    algorithm_color(AlgorithmId::flash, 200), xs, N, hbm_total(*fa_run),
                                    [&](double n) { return n * n * d * d / M_el; }));
        }
        PlotSpec spec;
        spec.x_label = "sequence length N";
        spec.y_label = "HBM traffic, bytes (all B" + std::string(sym_times()) + "H heads)";
        spec.y_format = bytes_label;
        spec.note = "dashed: the paper's bounds, scaled to meet standard and flash at the current N = " +
                    format_pow2(N) + "; compare slopes";
        spec.marker = marker_for(s, N, "N = " + format_pow2(N) + " (now)");
        draw_loglog_plot("n_plot", ImVec2(avail.x, top_h), spec, series);
    }

    // ---- HBM traffic vs SRAM size or block size ----
    const bool sram = s.side_kind() == SideSweep::sram;
    ImGui::TextUnformatted("HBM traffic against");
    ImGui::SameLine();
    if (ImGui::RadioButton("SRAM size M", sram)) s.set_side_kind(SideSweep::sram);
    ImGui::SameLine();
    if (ImGui::RadioButton("K/V block size B_c", !sram)) s.set_side_kind(SideSweep::block);
    ImGui::SameLine();
    if (ImGui::SmallButton("Save this sweep as CSV")) ui.want_side_csv = true;
    const float bottom_h = ImGui::GetContentRegionAvail().y;
    const SweepOutput* side = s.side_sweep();
    if (side != nullptr && side->request.key != (sram ? "sram_bytes" : "block_cols"))
        side = nullptr;  // stale kind
    if (sweep_ready(side, bottom_h)) {
        const auto& sw = *side->result;
        auto series = data_series(sw);
        const std::vector<double> xs = series.empty() ? std::vector<double>{} : series.front().x;
        const std::string th = sym_theta();
        PlotSpec spec;
        spec.y_label = "HBM traffic, bytes (all heads, N = " + format_pow2(N) + ")";
        spec.y_format = bytes_label;
        if (sram) {
            const double M = static_cast<double>(sc.hardware.sram_bytes);
            spec.x_label = "SRAM per thread block M (bytes); blocks by the paper's rule";
            spec.x_format = [](double v) { return fmt_binary_bytes(static_cast<std::int64_t>(v)); };
            spec.marker = marker_for(s, M, "M = " + fmt_binary_bytes(sc.hardware.sram_bytes) + " (now)");
            if (fa_run != nullptr && std_run != nullptr && sc.tiling.B_r == 0 && sc.tiling.B_c == 0) {
                series.push_back(theory(th + "(N" + std::string(sym_sq()) + "d" + sym_sq() + "/M)",
                                        algorithm_color(AlgorithmId::flash, 200), xs, M, hbm_total(*fa_run),
                                        [](double m) { return 1.0 / m; }));
                spec.note = "dashed: flash's bound (1/M), scaled to meet flash at the current M";
            } else {
                spec.note = "explicit B_r/B_c: the current run is not on the paper's rule, so no marker fit";
                spec.marker.reset();
            }
        } else {
            const double Bc = fa_run != nullptr ? static_cast<double>(fa_run->tiling.B_c) : 0.0;
            spec.x_label = "K/V block size B_c (B_r as set)";
            spec.x_format = [](double v) { return format_pow2(v); };
            if (fa_run != nullptr && fa_run->fit.ok && Bc > 0) {
                // Only flash's ring: the other algorithms run with their own B_c.
                spec.marker = marker_for(s, Bc, "B_c = " + format_pow2(Bc) + " (now)", {AlgorithmId::flash});
                series.push_back(theory(th + "(N" + std::string(sym_sq()) + "d/B_c)",
                                        algorithm_color(AlgorithmId::flash, 200), xs, Bc, hbm_total(*fa_run),
                                        [](double b) { return 1.0 / b; }));
                spec.note =
                    "dashed: T_c = N/B_c passes over Q and O, scaled to meet flash at the current B_c; "
                    "gaps: the blocks do not fit in SRAM";
            }
        }
        draw_loglog_plot("side_plot", ImVec2(avail.x, bottom_h), spec, series);
    }
}

}  // namespace tilesim::viz
