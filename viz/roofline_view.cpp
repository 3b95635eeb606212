// The roofline view (tab "Roofline", --panel roofline): each run's arithmetic intensity (FLOPs per
// HBM byte, and a ring at FLOPs per DRAM byte of the DRAM estimate) against the preset's roof, the
// y coordinate its achieved FLOP/s at the predicted time. Log-log axes, the ridge point marked. The
// numbers are scenarios::roofline_point's and Roof's, as in `tilesim plot roofline`.
#include "viz/roofline_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "viz/format.h"
#include "viz/panels.h"
#include "viz/plot.h"
#include "viz/theme.h"
#include "viz/widgets.h"

namespace tilesim::viz {

RooflineView build_roofline_view(const scenarios::ScenarioResult& r) {
    RooflineView v;
    v.hardware = r.scenario.hardware_name;
    try {
        v.roof = scenarios::roof_of(r.scenario.hardware, r.scenario.hardware_name);
    } catch (const std::exception& e) {
        v.error = e.what();
        return v;
    }
    double lo = v.roof.ridge(), hi = lo;
    for (const auto& run : r.runs) {
        v.misfits += run.fit.ok ? 0 : 1;
        const auto pt = scenarios::roofline_point(run);
        if (!pt) continue;
        RooflineMark m;
        m.key = std::string(run.key());
        m.title = m.key + " " + std::string(kernels::pass_name(run.pass()));
        m.backward = run.pass() == kernels::Pass::backward;
        m.point = *pt;
        m.attainable = v.roof.attainable(pt->intensity);
        for (double x : {pt->intensity, pt->dram_intensity}) {
            if (x > 0) {
                lo = std::min(lo, x);
                hi = std::max(hi, x);
            }
        }
        v.marks.push_back(m);
    }
    v.x_lo = lo / 4;
    v.x_hi = hi * 4;
    return v;
}

namespace {

struct LogAxes {
    ImVec2 p0, p1;
    double x_lo, x_hi, y_lo, y_hi;  // log10
    ImVec2 at(double x, double y) const {
        const double fx = (std::log10(x) - x_lo) / (x_hi - x_lo), fy = (std::log10(y) - y_lo) / (y_hi - y_lo);
        return {p0.x + static_cast<float>(fx) * (p1.x - p0.x), p1.y - static_cast<float>(fy) * (p1.y - p0.y)};
    }
};

std::string flops_label(double v) {
    static constexpr const char* kPrefix[] = {"", "k", "M", "G", "T", "P", "E"};
    int k = 0;
    while (k < 6 && std::abs(v) >= 1000) {
        v /= 1000;
        ++k;
    }
    return fmt::format("{:.3g} {}FLOP/s", v, kPrefix[k]);
}

void axes_and_roof(ImDrawList* dl, const LogAxes& ax, const RooflineView& v) {
    const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
    dl->AddRectFilled(ax.p0, ax.p1, rgb(colors::kPanelBg));
    const double xl = std::pow(10.0, ax.x_lo), xh = std::pow(10.0, ax.x_hi);
    const double yl = std::pow(10.0, ax.y_lo), yh = std::pow(10.0, ax.y_hi);
    for (double t : log_ticks(xl, xh, 10.0)) {
        const ImVec2 a = ax.at(t, yl);
        dl->AddLine(a, ax.at(t, yh), rgb(colors::kGrid));
        const std::string lab = fmt::format("{:g}", t);
        dl->AddText(ImVec2(a.x - ImGui::CalcTextSize(lab.c_str()).x * 0.5F, a.y + 4), text, lab.c_str());
    }
    // Powers of ten, with 2x and 5x between them when fewer than two decades show.
    std::vector<double> yt;
    for (double t : log_ticks(yl / 10, yh, 10.0)) {
        for (double m : {1.0, 2.0, 5.0}) {
            if (t * m >= yl && t * m <= yh && (m == 1.0 || ax.y_hi - ax.y_lo < 2.0)) yt.push_back(t * m);
        }
    }
    for (double t : yt) {
        const ImVec2 a = ax.at(xl, t);
        dl->AddLine(a, ax.at(xh, t), rgb(colors::kGrid));
        const std::string lab = flops_label(t);
        const ImVec2 sz = ImGui::CalcTextSize(lab.c_str());
        dl->AddText(ImVec2(a.x - sz.x - 6, a.y - sz.y * 0.5F), text, lab.c_str());
    }
    dl->PushClipRect(ax.p0, ax.p1, true);
    // The roof: min(peak, intensity x bandwidth), bending at the ridge.
    const double ridge = v.roof.ridge();
    const ImVec2 roof[3] = {ax.at(xl, v.roof.attainable(xl)), ax.at(ridge, v.roof.attainable(ridge)),
                            ax.at(xh, v.roof.attainable(xh))};
    dl->AddPolyline(roof, 3, rgb(0xF4F4F4), ImDrawFlags_None, 3.0F);
    const ImVec2 r0 = ax.at(ridge, yh), r1 = ax.at(ridge, yl);
    for (float y = r0.y; y < r1.y; y += 10)
        dl->AddLine(ImVec2(r0.x, y), ImVec2(r0.x, std::min(y + 5, r1.y)), rgb(colors::kMuted));
    const std::string rl = fmt::format("ridge point {:.3g} FLOP/B", ridge);
    // Right of the ridge line, or left of it when the axes end first.
    const float rw = ImGui::CalcTextSize(rl.c_str()).x;
    const float rx = r0.x + 6 + rw <= ax.p1.x - 4 ? r0.x + 6 : std::max(ax.p0.x + 4, r0.x - 6 - rw);
    dl->AddText(ImVec2(rx, ax.p0.y + 6), rgb(colors::kMuted), rl.c_str());
    dl->PopClipRect();
    dl->AddRect(ax.p0, ax.p1, rgb(colors::kMuted));
}

// One run: a filled marker at its HBM intensity (a square for a backward), a ring at its DRAM
// intensity joined to it, a dotted drop up to the roof, and its name. Returns whether the mouse is
// on it.
bool mark(ImDrawList* dl, const LogAxes& ax, const RooflineMark& m, const Fonts& f,
          std::vector<std::pair<ImVec2, ImVec2>>& labels) {
    const ImU32 c = algorithm_color(m.key);
    const ImVec2 p = ax.at(m.point.intensity, m.point.achieved_flops_per_s);
    const ImVec2 roof = ax.at(m.point.intensity, m.attainable);
    for (float y = roof.y; y < p.y - 4; y += 7)
        dl->AddLine(ImVec2(p.x, y), ImVec2(p.x, std::min(y + 3, p.y)), c);
    if (m.point.dram_intensity > 0) {
        const ImVec2 q = ax.at(m.point.dram_intensity, m.point.achieved_flops_per_s);
        dl->AddLine(p, q, with_alpha(c, 140), 1.5F);
        dl->AddCircle(q, 7.0F, c, 0, 2.5F);
    }
    if (m.backward) {
        dl->AddRectFilled(ImVec2(p.x - 6, p.y - 6), ImVec2(p.x + 6, p.y + 6), c);
    } else {
        dl->AddCircleFilled(p, 7.0F, c);
    }
    // The name beside the marker, moved up or down a line at a time until it covers no other name
    // (markers of runs with the same intensity sit on top of one another).
    const ImVec2 size = f.small->CalcTextSizeA(f.small->FontSize, FLT_MAX, 0, m.title.c_str());
    ImVec2 at(p.x + 10, p.y - size.y - 2);
    for (int k = 1; k < 12; ++k) {
        const bool clash = std::any_of(labels.begin(), labels.end(), [&](const auto& r) {
            return at.x < r.second.x && at.x + size.x > r.first.x && at.y < r.second.y &&
                   at.y + size.y > r.first.y;
        });
        if (!clash) break;
        at.y =
            p.y - size.y - 2 + static_cast<float>((k + 1) / 2) * (size.y + 1) * (k % 2 == 1 ? -1.0F : 1.0F);
    }
    at.x = std::max(ax.p0.x + 2, std::min(at.x, ax.p1.x - size.x - 2));  // inside the axes
    labels.emplace_back(at, ImVec2(at.x + size.x, at.y + size.y));
    dl->AddText(f.small, f.small->FontSize, at, c, m.title.c_str());
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    return std::abs(mouse.x - p.x) < 9 && std::abs(mouse.y - p.y) < 9;
}

void tooltip(const RooflineMark& m, const RooflineView& v) {
    ImGui::BeginTooltip();
    ImGui::TextUnformatted(m.title.c_str());
    ImGui::Text("%s FLOPs / %s of HBM traffic = %.4g FLOP/B", fmt_count(m.point.flops).c_str(),
                fmt_bytes(m.point.hbm_bytes).c_str(), m.point.intensity);
    if (m.point.dram_intensity > 0)
        ImGui::Text("DRAM estimate %s: %.4g FLOP/B (the ring)", fmt_bytes(m.point.dram_bytes).c_str(),
                    m.point.dram_intensity);
    ImGui::Text("achieved %s at the predicted time; the roof allows %s here",
                flops_label(m.point.achieved_flops_per_s).c_str(), flops_label(m.attainable).c_str());
    ImGui::TextUnformatted(m.point.intensity < v.roof.ridge() ? "left of the ridge: memory-bound on HBM"
                                                              : "right of the ridge: compute-bound");
    ImGui::EndTooltip();
}

}  // namespace

void draw_roofline_view(Session& s, UiState& /*ui*/) {
    if (s.model() == nullptr || !s.model()->result) {
        ImGui::TextDisabled("waiting for the model...");
        return;
    }
    const RooflineView v = build_roofline_view(*s.model()->result);
    if (!v.error.empty()) {
        error_text(v.error);
        return;
    }
    ImGui::TextWrapped("Roofline on %s: peak %s, HBM %s/s, ridge %.3g FLOP per byte", v.hardware.c_str(),
                flops_label(v.roof.peak_flops_per_s).c_str(), fmt_bytes(v.roof.hbm_bytes_per_s).c_str(),
                v.roof.ridge());
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped(
        "filled: FLOPs / HBM bytes (a square: a backward); ring: FLOPs / DRAM-estimate bytes; "
        "height: FLOPs / predicted time%s",
        v.misfits > 0 ? fmt::format("; {} run(s) do not fit in SRAM", v.misfits).c_str() : "");
    ImGui::PopStyleColor();
    const ImVec2 o = ImGui::GetCursorScreenPos(), avail = ImGui::GetContentRegionAvail();
    ImGui::InvisibleButton("roofline", ImVec2(avail.x, std::max(200.0F, avail.y - 4)));
    const bool hovered = ImGui::IsItemHovered();
    const float th = ImGui::GetTextLineHeight();
    LogAxes ax;
    // Room for the widest y label at any --scale.
    ax.p0 = ImVec2(o.x + ImGui::CalcTextSize("999 TFLOP/s").x + 14, o.y + 8);
    ax.p1 = ImVec2(o.x + avail.x - 16, o.y + std::max(200.0F, avail.y - 4) - 2 * th - 12);
    double y_lo = v.roof.attainable(v.x_lo), y_hi = v.roof.peak_flops_per_s;
    for (const auto& m : v.marks) y_lo = std::min(y_lo, m.point.achieved_flops_per_s);
    ax.x_lo = std::log10(v.x_lo);
    ax.x_hi = std::log10(v.x_hi);
    ax.y_lo = std::log10(y_lo) - 0.3;
    ax.y_hi = std::log10(y_hi) + 0.3;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    axes_and_roof(dl, ax, v);
    const RooflineMark* hit = nullptr;
    std::vector<std::pair<ImVec2, ImVec2>> labels;
    for (const auto& m : v.marks) {
        if (mark(dl, ax, m, fonts(), labels) && hovered) hit = &m;
    }
    const char* xl = "arithmetic intensity (FLOP per byte)";
    dl->AddText(ImVec2((ax.p0.x + ax.p1.x - ImGui::CalcTextSize(xl).x) * 0.5F, ax.p1.y + th + 8),
                ImGui::GetColorU32(ImGuiCol_Text), xl);
    if (hit != nullptr) tooltip(*hit, v);
}

}  // namespace tilesim::viz
