#include "viz/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "viz/theme.h"

namespace tilesim::viz {

std::vector<MarkerShape> marker_shapes(const std::vector<PlotSeries>& series) {
    constexpr MarkerShape kOrder[] = {MarkerShape::circle, MarkerShape::square, MarkerShape::triangle,
                                      MarkerShape::diamond, MarkerShape::triangle_down};
    std::vector<MarkerShape> out;
    std::size_t solid = 0;
    for (const auto& s : series)
        out.push_back(s.dashed ? MarkerShape::none : kOrder[solid++ % std::size(kOrder)]);
    return out;
}

std::vector<double> log_ticks(double lo, double hi, double base) {
    std::vector<double> t;
    if (!(lo > 0) || !(hi >= lo) || !(base > 1)) return t;
    // Small epsilon: a bound that is itself a power (1024 in log2) must count as inside.
    const double k0 = std::ceil(std::log(lo) / std::log(base) - 1e-9);
    const double k1 = std::floor(std::log(hi) / std::log(base) + 1e-9);
    for (double k = k0; k <= k1; k += 1) t.push_back(std::pow(base, k));
    return t;
}

std::pair<double, double> log_range(const std::vector<PlotSeries>& series, bool x_axis, double base,
                                    double pad) {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& s : series) {
        for (std::size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
            if (!(s.x[k] > 0) || !(s.y[k] > 0)) continue;
            const double v = x_axis ? s.x[k] : s.y[k];
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    if (!std::isfinite(lo)) return {1.0, base};
    if (hi <= lo) hi = lo * base;
    return {lo / std::pow(base, pad), hi * std::pow(base, pad)};
}

std::string format_pow2(double v) {
    char buf[32];
    const char* unit = "";
    double x = v;
    if (v >= 1024.0 * 1024.0) {
        x = v / (1024.0 * 1024.0);
        unit = "M";
    } else if (v >= 1024.0) {
        x = v / 1024.0;
        unit = "K";
    }
    if (std::abs(x - std::round(x)) < 1e-9) {
        std::snprintf(buf, sizeof buf, "%.0f%s", x, unit);
    } else {
        std::snprintf(buf, sizeof buf, "%.3g%s", x, unit);
    }
    return buf;
}

namespace {

// Dashed polyline in screen space: dash and gap lengths in pixels, continued across vertices.
void dashed_polyline(ImDrawList* dl, const std::vector<ImVec2>& pts, ImU32 col, float thickness) {
    constexpr float kDash = 7.0F, kGap = 5.0F;
    float phase = 0;
    for (std::size_t k = 1; k < pts.size(); ++k) {
        const ImVec2 a = pts[k - 1], b = pts[k];
        const float len = std::sqrt((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y));
        float t = 0;
        while (t < len) {
            const bool on = std::fmod(phase, kDash + kGap) < kDash;
            const float left =
                on ? kDash - std::fmod(phase, kDash + kGap) : kDash + kGap - std::fmod(phase, kDash + kGap);
            const float step = std::min(left, len - t);
            if (on) {
                const ImVec2 p0(a.x + (b.x - a.x) * t / len, a.y + (b.y - a.y) * t / len);
                const ImVec2 p1(a.x + (b.x - a.x) * (t + step) / len, a.y + (b.y - a.y) * (t + step) / len);
                dl->AddLine(p0, p1, col, thickness);
            }
            t += step;
            phase += step;
        }
    }
}

struct Axes {
    ImVec2 p0, p1;                  // plot area corners (top-left, bottom-right)
    double x_lo, x_hi, y_lo, y_hi;  // log10 of the ranges
    ImVec2 to_screen(double x, double y) const {
        const double fx = (std::log10(x) - x_lo) / (x_hi - x_lo);
        const double fy = (std::log10(y) - y_lo) / (y_hi - y_lo);
        return {p0.x + static_cast<float>(fx) * (p1.x - p0.x), p1.y - static_cast<float>(fy) * (p1.y - p0.y)};
    }
    double x_of(float sx) const { return std::pow(10.0, x_lo + (sx - p0.x) / (p1.x - p0.x) * (x_hi - x_lo)); }
};

// The legend: one row per series, wrapping; returns its height.
// One marker, with a dark rim so a smaller one on top of a larger one stays distinct.
void draw_marker(ImDrawList* dl, MarkerShape m, ImVec2 c, float r, ImU32 col) {
    const ImU32 rim = rgb(0x101215, 220);
    switch (m) {
        case MarkerShape::none:
            return;
        case MarkerShape::circle:
            dl->AddCircleFilled(c, r, col);
            dl->AddCircle(c, r, rim, 0, 1.0F);
            return;
        case MarkerShape::square:
            dl->AddRectFilled(ImVec2(c.x - r * 0.85F, c.y - r * 0.85F),
                              ImVec2(c.x + r * 0.85F, c.y + r * 0.85F), col);
            dl->AddRect(ImVec2(c.x - r * 0.85F, c.y - r * 0.85F), ImVec2(c.x + r * 0.85F, c.y + r * 0.85F),
                        rim);
            return;
        case MarkerShape::triangle:
        case MarkerShape::triangle_down: {
            const float s = m == MarkerShape::triangle ? 1.0F : -1.0F;
            const ImVec2 a(c.x, c.y - s * r * 1.15F), b(c.x - r, c.y + s * r * 0.75F),
                d(c.x + r, c.y + s * r * 0.75F);
            dl->AddTriangleFilled(a, b, d, col);
            dl->AddTriangle(a, b, d, rim);
            return;
        }
        case MarkerShape::diamond: {
            const ImVec2 a(c.x, c.y - r * 1.2F), b(c.x + r * 1.2F, c.y), d(c.x, c.y + r * 1.2F),
                e(c.x - r * 1.2F, c.y);
            dl->AddQuadFilled(a, b, d, e, col);
            dl->AddQuad(a, b, d, e, rim);
            return;
        }
    }
}

float draw_legend(ImDrawList* dl, ImVec2 at, float width, const std::vector<PlotSeries>& series,
                  bool measure_only) {
    const auto shapes = marker_shapes(series);
    std::size_t idx = 0;
    const float line_h = ImGui::GetTextLineHeight() + 4;
    float x = at.x, y = at.y;
    for (const auto& s : series) {
        const MarkerShape shape = shapes[idx++];
        const float w = 34 + ImGui::CalcTextSize(s.label.c_str()).x + 16;
        if (x + w > at.x + width && x > at.x) {
            x = at.x;
            y += line_h;
        }
        if (!measure_only) {
            const float cy = y + line_h * 0.5F - 1;
            if (s.dashed) {
                dashed_polyline(dl, {ImVec2(x, cy), ImVec2(x + 28, cy)}, s.color, 2.0F);
            } else {
                dl->AddLine(ImVec2(x, cy), ImVec2(x + 28, cy), s.color, 3.0F);
                if (s.markers) draw_marker(dl, shape, ImVec2(x + 14, cy), 4.5F, s.color);
            }
            dl->AddText(ImVec2(x + 34, y + 1), ImGui::GetColorU32(ImGuiCol_Text), s.label.c_str());
        }
        x += w;
    }
    return y + line_h - at.y;
}

}  // namespace

int draw_loglog_plot(const char* id, ImVec2 size, const PlotSpec& spec,
                     const std::vector<PlotSeries>& series) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImGui::PushID(id);
    ImGui::InvisibleButton("plot", size);
    const bool hovered = ImGui::IsItemHovered();
    ImGui::PopID();

    // Legend and note on top, then the plot area with room for tick labels and axis titles.
    const float text_h = ImGui::GetTextLineHeight();
    float top = origin.y + 2;
    top += draw_legend(dl, ImVec2(origin.x + 8, top), size.x - 16, series, false);
    if (!spec.note.empty()) {
        dl->AddText(ImVec2(origin.x + 8, top), rgb(colors::kMuted), spec.note.c_str());
        top += text_h + 2;
    }
    dl->AddText(ImVec2(origin.x + 8, top + 2), ImGui::GetColorU32(ImGuiCol_Text), spec.y_label.c_str());
    top += text_h + 8;
    Axes ax;
    ax.p0 = ImVec2(origin.x + 74, top);
    ax.p1 = ImVec2(origin.x + size.x - 16, origin.y + size.y - 2 * text_h - 10);
    if (ax.p1.y - ax.p0.y < 40 || ax.p1.x - ax.p0.x < 60) return -1;  // too small to draw honestly

    const auto [xl, xh] = log_range(series, true, 2.0, 0.3);
    const auto [yl, yh] = log_range(series, false, 10.0, 0.12);
    ax.x_lo = std::log10(xl);
    ax.x_hi = std::log10(xh);
    ax.y_lo = std::log10(yl);
    ax.y_hi = std::log10(yh);

    dl->AddRectFilled(ax.p0, ax.p1, rgb(colors::kPanelBg));
    dl->PushClipRect(ax.p0, ax.p1, true);
    // Grid: powers of two on x, powers of ten on y (and 2x, 5x when less than two decades show).
    const auto xt = log_ticks(xl, xh, 2.0);
    const std::size_t x_every = xt.size() > 12 ? 2 : 1;
    for (double t : xt) dl->AddLine(ax.to_screen(t, yl), ax.to_screen(t, yh), rgb(colors::kGrid));
    std::vector<double> yt = log_ticks(yl, yh, 10.0);
    if (ax.y_hi - ax.y_lo < 2.0) {
        std::vector<double> dense;
        for (double t : log_ticks(yl / 10, yh, 10.0)) {
            for (double m : {1.0, 2.0, 5.0}) {
                if (t * m >= yl && t * m <= yh) dense.push_back(t * m);
            }
        }
        yt = dense;
    }
    for (double t : yt) dl->AddLine(ax.to_screen(xl, t), ax.to_screen(xh, t), rgb(colors::kGrid));

    // Series: lines with gaps where y <= 0, then markers on top. Two algorithms can move exactly the
    // same bytes (a flat curve under another): earlier data series are drawn wider underneath, so a
    // coinciding one shows as a band around the later one instead of vanishing behind it.
    int solid_left = 0;
    for (const auto& s : series) solid_left += s.dashed ? 0 : 1;
    const auto shapes = marker_shapes(series);
    std::size_t si = 0;
    for (const auto& s : series) {
        const MarkerShape shape = shapes[si++];
        const float widen = s.dashed ? 0.0F : static_cast<float>(std::max(0, --solid_left));
        std::vector<ImVec2> run;
        auto flush = [&] {
            if (run.size() >= 2) {
                if (s.dashed) {
                    dashed_polyline(dl, run, s.color, 2.0F);
                } else {
                    dl->AddPolyline(run.data(), static_cast<int>(run.size()), s.color, ImDrawFlags_None,
                                    2.5F + 1.75F * widen);
                }
            }
            run.clear();
        };
        for (std::size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
            if (s.x[k] > 0 && s.y[k] > 0) {
                run.push_back(ax.to_screen(s.x[k], s.y[k]));
            } else {
                flush();
            }
        }
        flush();
        if (s.markers) {
            for (std::size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
                if (s.x[k] > 0 && s.y[k] > 0)
                    draw_marker(dl, shape, ax.to_screen(s.x[k], s.y[k]), 4.0F + 1.5F * widen, s.color);
            }
        }
    }
    // The current value: a vertical line, its label and a ring on each series.
    if (spec.marker && spec.marker->x > 0) {
        const ImVec2 a = ax.to_screen(spec.marker->x, yh), b = ax.to_screen(spec.marker->x, yl);
        dashed_polyline(dl, {a, b}, rgb(colors::kCompute, 200), 1.5F);
        for (const auto& [col, y] : spec.marker->points) {
            if (y > 0) {
                dl->AddCircle(ax.to_screen(spec.marker->x, y), 8.0F, rgb(colors::kCompute), 0, 2.5F);
                dl->AddCircleFilled(ax.to_screen(spec.marker->x, y), 4.5F, col);
            }
        }
        const ImVec2 ts = ImGui::CalcTextSize(spec.marker->label.c_str());
        const float lx = std::min(a.x + 6, ax.p1.x - ts.x - 4);
        dl->AddRectFilled(ImVec2(lx - 3, ax.p0.y + 4), ImVec2(lx + ts.x + 3, ax.p0.y + 6 + ts.y),
                          rgb(colors::kPanelBg, 220));
        dl->AddText(ImVec2(lx, ax.p0.y + 5), rgb(colors::kCompute), spec.marker->label.c_str());
    }
    dl->PopClipRect();
    dl->AddRect(ax.p0, ax.p1, rgb(colors::kMuted));

    // Tick labels and axis title.
    const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
    for (std::size_t k = 0; k < xt.size(); ++k) {
        if (k % x_every != 0) continue;
        const std::string lab = spec.x_format ? spec.x_format(xt[k]) : format_pow2(xt[k]);
        const ImVec2 p = ax.to_screen(xt[k], yl);
        const float w = ImGui::CalcTextSize(lab.c_str()).x;
        dl->AddLine(p, ImVec2(p.x, p.y + 4), rgb(colors::kMuted));
        dl->AddText(ImVec2(p.x - w * 0.5F, p.y + 5), text, lab.c_str());
    }
    for (double t : yt) {
        const std::string lab = spec.y_format ? spec.y_format(t) : format_pow2(t);
        const ImVec2 p = ax.to_screen(xl, t);
        const ImVec2 sz = ImGui::CalcTextSize(lab.c_str());
        dl->AddLine(ImVec2(p.x - 4, p.y), p, rgb(colors::kMuted));
        dl->AddText(ImVec2(p.x - 8 - sz.x, p.y - sz.y * 0.5F), text, lab.c_str());
    }
    const float xw = ImGui::CalcTextSize(spec.x_label.c_str()).x;
    dl->AddText(ImVec2((ax.p0.x + ax.p1.x - xw) * 0.5F, ax.p1.y + text_h + 8), text, spec.x_label.c_str());

    // Hover: snap to the nearest x of the data series and list every series there.
    int hovered_index = -1;
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    if (hovered && mouse.x >= ax.p0.x && mouse.x <= ax.p1.x && mouse.y >= ax.p0.y && mouse.y <= ax.p1.y &&
        !series.empty()) {
        const double mx = std::log10(ax.x_of(mouse.x));
        const PlotSeries& first = series.front();
        double best = INFINITY;
        for (std::size_t k = 0; k < first.x.size(); ++k) {
            if (!(first.x[k] > 0)) continue;
            const double dist = std::abs(std::log10(first.x[k]) - mx);
            if (dist < best) {
                best = dist;
                hovered_index = static_cast<int>(k);
            }
        }
        if (hovered_index >= 0) {
            const double hx = first.x[static_cast<std::size_t>(hovered_index)];
            dl->AddLine(ax.to_screen(hx, yl), ax.to_screen(hx, yh), rgb(0xFFFFFF, 120), 1.0F);
            ImGui::BeginTooltip();
            ImGui::Text("%s = %s", spec.x_label.c_str(),
                        (spec.x_format ? spec.x_format(hx) : format_pow2(hx)).c_str());
            for (const auto& s : series) {
                double v = -1;
                for (std::size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
                    if (std::abs(s.x[k] - hx) <= 1e-9 * hx) v = s.y[k];
                }
                ImGui::ColorButton(s.label.c_str(), ImGui::ColorConvertU32ToFloat4(s.color),
                                   ImGuiColorEditFlags_NoTooltip, ImVec2(10, 10));
                ImGui::SameLine();
                if (v > 0) {
                    ImGui::Text("%s: %s", s.label.c_str(),
                                (spec.y_format ? spec.y_format(v) : format_pow2(v)).c_str());
                } else if (s.dashed) {
                    ImGui::TextDisabled("%s: -", s.label.c_str());
                } else {
                    ImGui::TextDisabled("%s: does not fit in SRAM here", s.label.c_str());
                }
            }
            ImGui::EndTooltip();
        }
    }
    return hovered_index;
}

}  // namespace tilesim::viz
