// The Gantt chart: groups of lanes, bars coloured by kind over a linear axis, shaded spans behind.
#include <algorithm>
#include <cmath>

#include "plot/chart.h"
#include "plot/chart_layout.h"

namespace tilesim::plot {

namespace {

using namespace layout;

// Narrow bars (under 3 px) of one lane and kind that would touch on screen become one: what the eye
// sees anyway, and a trace of a million events stays a small file. Wider bars stay apart.
std::vector<GanttBar> coalesce(std::vector<GanttBar> bars, double px_per_unit) {
    std::sort(bars.begin(), bars.end(), [](const GanttBar& a, const GanttBar& b) {
        return a.lane != b.lane ? a.lane < b.lane : a.kind != b.kind ? a.kind < b.kind : a.start < b.start;
    });
    std::vector<GanttBar> out;
    for (const auto& b : bars) {
        if (!out.empty() && out.back().lane == b.lane && out.back().kind == b.kind &&
            (b.start - out.back().end) * px_per_unit < 0.75 && (b.end - b.start) * px_per_unit < 3 &&
            (out.back().end - out.back().start) * px_per_unit < 3) {
            out.back().end = std::max(out.back().end, b.end);
        } else {
            out.push_back(b);
        }
    }
    return out;
}

// The kinds' legend: swatches in rows under the title; returns the y below it.
double kinds_legend(Canvas& c, const GanttChart& ch, double y, const TextMeasure& m) {
    c.begin_group("legend");
    double x = kPad;
    y += 12;
    for (const auto& k : ch.kinds) {
        const double w = 22 + 8 + m(k.label, kTextSize, false) + 26;
        if (x + w > ch.width - kPad && x > kPad) {
            x = kPad;
            y += kLine + 4;
        }
        c.rect(x, y - 16, 22, 18, k.color);
        c.text({{x + 30, y}, k.label, kTextSize, Anchor::start, false, hex(kInk)});
        x += w;
    }
    c.end_group();
    return y + 18;
}

// The plot area, the time scale and where each lane sits.
struct Layout {
    double left = 0, right = 0, top = 0, bottom = 0, x_hi = 1, lane_h = 0;
    std::vector<double> ticks, lane_y, header_y;
    std::vector<std::pair<double, double>> group_span;  // top and bottom of each group's lanes
    double at(double v) const { return left + v / x_hi * (right - left); }
};

Layout layout_for(const GanttChart& ch, double top, double bottom, const TextMeasure& m) {
    Layout L;
    double label_w = 0;
    for (const auto& l : ch.lane_labels) label_w = std::max(label_w, m(l, kTextSize, false));
    L.left = kPad + label_w + 14;
    L.right = ch.width - kPad;
    L.top = top;
    L.bottom = bottom;
    double x_max = 0;
    for (const auto& b : ch.bars) x_max = std::max(x_max, b.end);
    for (const auto& b : ch.bands) x_max = std::max(x_max, b.end);
    L.ticks = linear_ticks(x_max > 0 ? x_max : 1);
    L.x_hi = std::max(L.ticks.back(), x_max > 0 ? x_max : 1);
    const std::size_t groups = ch.group_titles.size(), lanes = ch.lane_labels.size();
    const double header = kLine + 6;
    L.lane_h =
        lanes == 0
            ? 0
            : std::clamp((bottom - top - static_cast<double>(groups) * header) / static_cast<double>(lanes),
                         12.0, 44.0);
    L.lane_y.assign(lanes, 0);
    L.group_span.assign(groups, {1e300, -1e300});
    double gy = top;
    for (std::size_t g = 0; g < groups; ++g) {
        L.header_y.push_back(gy);
        gy += header;
        for (std::size_t l = 0; l < lanes; ++l) {
            if (ch.lane_group[l] != static_cast<int>(g)) continue;
            L.lane_y[l] = gy;
            L.group_span[g] = {std::min(L.group_span[g].first, gy),
                               std::max(L.group_span[g].second, gy + L.lane_h)};
            gy += L.lane_h;
        }
    }
    return L;
}

void time_axis(Canvas& c, const GanttChart& ch, const Layout& L) {
    c.begin_group("axes");
    const Stroke grid{hex(0xDDDDDD), 1, {}}, axis{hex(kInk), 1.5, {}};
    for (double t : L.ticks) {
        const double p = L.at(t);
        c.line({p, L.top}, {p, L.bottom}, grid);
        c.line({p, L.bottom}, {p, L.bottom + 8}, axis);
        const std::string text = ch.x_ticks ? ch.x_ticks(t) : std::to_string(t);
        c.text({{p, L.bottom + 28}, text, kTextSize, Anchor::middle, false, hex(kInk)});
    }
    c.line({L.left, L.bottom}, {L.right, L.bottom}, axis);
    c.text(
        {{(L.left + L.right) / 2, L.bottom + 60}, ch.x_label, kAxisSize, Anchor::middle, false, hex(kInk)});
    c.end_group();
}

// One group's title and shaded bands. Each band's label goes at its start when every one fits
// there; otherwise all of them, in order, after the title (the alternating shading tells which is
// which); a single band's label would repeat the title and is left out.
void group_header(Canvas& c, const GanttChart& ch, const Layout& L, std::size_t g, const TextMeasure& m) {
    const std::string& title = ch.group_titles[g];
    const double base = L.header_y[g] + kLine - 4;
    const auto& sp = L.group_span[g];
    c.begin_group("group", title);
    c.text({{kPad, base}, title, kTextSize, Anchor::start, true, hex(kInk)});
    const double used = kPad + m(title, kTextSize, true) + 16;
    std::vector<std::pair<double, std::string>> placed;
    bool all_fit = true;
    std::string listed;
    double next_free = used;
    int band_index = 0;
    for (const auto& b : ch.bands) {
        if (b.group != static_cast<int>(g) || sp.first > sp.second) continue;
        const double x0 = L.at(b.start), x1 = L.at(b.end);
        c.rect(x0, sp.first, std::max(0.0, x1 - x0), sp.second - sp.first,
               hex(band_index++ % 2 == 0 ? 0xEFEFEF : 0xF8F8F8));
        c.line({x0, L.header_y[g] + 6}, {x0, sp.second}, Stroke{hex(0xAAAAAA), 1, {4, 3}});
        if (b.label.empty()) continue;
        const double tw = m(b.label, kTextSize, false);
        all_fit = all_fit && x0 + 4 >= next_free && x0 + 4 + tw <= std::max(x1, L.right);
        next_free = x0 + 4 + tw + 12;
        placed.emplace_back(x0 + 4, b.label);
        listed += (listed.empty() ? "" : " | ") + b.label;
    }
    if (placed.size() >= 2 && all_fit) {
        for (const auto& [px, text] : placed)
            c.text({{px, base}, text, kTextSize, Anchor::start, false, hex(kMuted)});
    } else if (placed.size() >= 2 && used + m(listed, kTextSize, false) <= L.right) {
        c.text({{used, base}, listed, kTextSize, Anchor::start, false, hex(kMuted)});
    }
    c.end_group();
}

// The bars, one SVG group per kind, clipped to the plot area.
void bars(Canvas& c, const GanttChart& ch, const Layout& L) {
    const auto merged = coalesce(ch.bars, (L.right - L.left) / L.x_hi);
    const int lanes = static_cast<int>(ch.lane_labels.size());
    c.set_clip(ClipBox{L.left, L.top, L.right - L.left, L.bottom - L.top});
    for (std::size_t k = 0; k < ch.kinds.size(); ++k) {
        c.begin_group("bars", ch.kinds[k].label);
        for (const auto& b : merged) {
            if (b.kind != static_cast<int>(k) || b.lane < 0 || b.lane >= lanes) continue;
            // Wide bars end a pixel early, so consecutive moves of one kind stay apart.
            const double x0 = L.at(b.start), full = L.at(b.end) - x0;
            const double w = full >= 3 ? full - 1 : std::max(1.0, full);
            const double y = L.lane_y[static_cast<std::size_t>(b.lane)] + L.lane_h * 0.15;
            c.rect(x0, y, w, L.lane_h * 0.7, ch.kinds[k].color);
        }
        c.end_group();
    }
    c.set_clip(std::nullopt);
}

}  // namespace

Canvas draw(const GanttChart& ch, const TextMeasure& m) {
    Canvas c(ch.width, ch.height);
    c.rect(0, 0, ch.width, ch.height, hex(0xFFFFFF));
    const double top = kinds_legend(c, ch, title_block(c, ch.title, ch.subtitle, m), m);
    const auto cap = caption_lines(ch.notes, ch.width - 2 * kPad, m);
    const double bottom = ch.height - kPad - static_cast<double>(cap.empty() ? 0 : cap.size() - 1) * kLine -
                          (cap.empty() ? 0 : 34) - 62;
    const Layout L = layout_for(ch, top, bottom, m);
    time_axis(c, ch, L);
    for (std::size_t g = 0; g < ch.group_titles.size(); ++g) group_header(c, ch, L, g, m);
    for (std::size_t l = 0; l < ch.lane_labels.size(); ++l) {
        c.text({{kPad, L.lane_y[l] + L.lane_h / 2 + 6},
                ch.lane_labels[l],
                std::min(kTextSize, L.lane_h * 0.9),
                Anchor::start,
                false,
                hex(kInk)});
    }
    bars(c, ch, L);
    caption(c, cap);
    return c;
}

}  // namespace tilesim::plot
