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

}  // namespace

Canvas draw(const GanttChart& ch, const TextMeasure& m) {
    Canvas c(ch.width, ch.height);
    c.rect(0, 0, ch.width, ch.height, hex(0xFFFFFF));
    double y = title_block(c, ch.title, ch.subtitle, m);

    // The kinds' legend: swatches in rows.
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
    const double top = y + 18;

    double label_w = 0;
    for (const auto& l : ch.lane_labels) label_w = std::max(label_w, m(l, kTextSize, false));
    const double left = kPad + label_w + 14, right = ch.width - kPad;
    const auto cap = caption_lines(ch.notes, ch.width - 2 * kPad, m);
    const double bottom = ch.height - kPad - static_cast<double>(cap.empty() ? 0 : cap.size() - 1) * kLine -
                          (cap.empty() ? 0 : 34) - 62;

    double x_max = 0;
    for (const auto& b : ch.bars) x_max = std::max(x_max, b.end);
    for (const auto& b : ch.bands) x_max = std::max(x_max, b.end);
    const auto ticks = linear_ticks(x_max > 0 ? x_max : 1);
    const double x_hi = std::max(ticks.back(), x_max > 0 ? x_max : 1);
    auto at = [&](double v) { return left + v / x_hi * (right - left); };

    const int groups = static_cast<int>(ch.group_titles.size());
    const int lanes = static_cast<int>(ch.lane_labels.size());
    const double header = kLine + 6;
    const double lane_h = lanes == 0 ? 0 : std::clamp((bottom - top - groups * header) / lanes, 12.0, 44.0);

    // Gridlines under everything.
    c.begin_group("axes");
    const Stroke grid{hex(0xDDDDDD), 1, {}}, axis{hex(kInk), 1.5, {}};
    for (double t : ticks) {
        const double p = at(t);
        c.line({p, top}, {p, bottom}, grid);
        c.line({p, bottom}, {p, bottom + 8}, axis);
        c.text({{p, bottom + 28},
                ch.x_ticks ? ch.x_ticks(t) : std::to_string(t),
                kTextSize,
                Anchor::middle,
                false,
                hex(kInk)});
    }
    c.line({left, bottom}, {right, bottom}, axis);
    c.text({{(left + right) / 2, bottom + 60}, ch.x_label, kAxisSize, Anchor::middle, false, hex(kInk)});
    c.end_group();

    // Where each lane sits.
    std::vector<double> lane_y(static_cast<std::size_t>(lanes));
    std::vector<std::pair<double, double>> group_span(static_cast<std::size_t>(groups), {1e300, -1e300});
    double gy = top;
    for (int g = 0; g < groups; ++g) {
        const double header_y = gy;
        gy += header;
        for (int l = 0; l < lanes; ++l) {
            if (ch.lane_group[static_cast<std::size_t>(l)] != g) continue;
            lane_y[static_cast<std::size_t>(l)] = gy;
            auto& sp = group_span[static_cast<std::size_t>(g)];
            sp = {std::min(sp.first, gy), std::max(sp.second, gy + lane_h)};
            gy += lane_h;
        }
        // Group title, then the band labels that fit beside it and each other.
        c.begin_group("group", ch.group_titles[static_cast<std::size_t>(g)]);
        const std::string& title = ch.group_titles[static_cast<std::size_t>(g)];
        c.text({{kPad, header_y + kLine - 4}, title, kTextSize, Anchor::start, true, hex(kInk)});
        double used = kPad + m(title, kTextSize, true) + 16;
        const auto& sp = group_span[static_cast<std::size_t>(g)];
        // Each band's label at its start when every one fits there; otherwise all of them, in order,
        // after the title (the alternating shading tells which is which).
        std::vector<std::pair<double, std::string>> placed;
        bool all_fit = true;
        std::string listed;
        double next_free = used;
        int band_index = 0;
        for (const auto& b : ch.bands) {
            if (b.group != g || sp.first > sp.second) continue;
            const double x0 = at(b.start), x1 = at(b.end);
            c.rect(x0, sp.first, std::max(0.0, x1 - x0), sp.second - sp.first,
                   hex(band_index++ % 2 == 0 ? 0xEFEFEF : 0xF8F8F8));
            c.line({x0, header_y + 6}, {x0, sp.second}, Stroke{hex(0xAAAAAA), 1, {4, 3}});
            if (b.label.empty()) continue;
            const double tw = m(b.label, kTextSize, false);
            all_fit = all_fit && x0 + 4 >= next_free && x0 + 4 + tw <= std::max(x1, right);
            next_free = x0 + 4 + tw + 12;
            placed.emplace_back(x0 + 4, b.label);
            listed += (listed.empty() ? "" : " | ") + b.label;
        }
        if (placed.size() < 2) {
            // One pass: its name would repeat the title.
        } else if (all_fit) {
            for (const auto& [px, label] : placed)
                c.text({{px, header_y + kLine - 4}, label, kTextSize, Anchor::start, false, hex(kMuted)});
        } else if (used + m(listed, kTextSize, false) <= right) {
            c.text({{used, header_y + kLine - 4}, listed, kTextSize, Anchor::start, false, hex(kMuted)});
        }
        c.end_group();
    }
    for (int l = 0; l < lanes; ++l) {
        c.text({{kPad, lane_y[static_cast<std::size_t>(l)] + lane_h / 2 + 6},
                ch.lane_labels[static_cast<std::size_t>(l)],
                std::min(kTextSize, lane_h * 0.9),
                Anchor::start,
                false,
                hex(kInk)});
    }

    // Bars, by kind (one SVG group per kind).
    const auto bars = coalesce(ch.bars, (right - left) / x_hi);
    c.set_clip(ClipBox{left, top, right - left, bottom - top});
    for (std::size_t k = 0; k < ch.kinds.size(); ++k) {
        c.begin_group("bars", ch.kinds[k].label);
        for (const auto& b : bars) {
            if (b.kind != static_cast<int>(k) || b.lane < 0 || b.lane >= lanes) continue;
            // Wide bars end a pixel early, so consecutive moves of one kind stay apart.
            const double x0 = at(b.start), full = at(b.end) - x0,
                         w = full >= 3 ? full - 1 : std::max(1.0, full);
            c.rect(x0, lane_y[static_cast<std::size_t>(b.lane)] + lane_h * 0.15, w, lane_h * 0.7,
                   ch.kinds[k].color);
        }
        c.end_group();
    }
    c.set_clip(std::nullopt);
    caption(c, cap);
    return c;
}

}  // namespace tilesim::plot
