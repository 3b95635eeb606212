// The log-log chart and what both charts share (palette, ticks, wrapping, title and caption).
#include <algorithm>
#include <cmath>

#include "plot/chart.h"
#include "plot/chart_layout.h"

namespace tilesim::plot {

Color palette(int index) {
    static constexpr unsigned kColors[] = {0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7,
                                           0xE69F00, 0x56B4E9, 0x000000};
    constexpr int n = sizeof(kColors) / sizeof(kColors[0]);
    return hex(kColors[((index % n) + n) % n]);
}

Marker marker_for(int index) {
    static constexpr Marker kMarkers[] = {Marker::circle, Marker::square, Marker::triangle, Marker::diamond};
    return kMarkers[((index % 4) + 4) % 4];
}

std::vector<LogTick> log_ticks(double lo, double hi) {
    std::vector<LogTick> out;
    if (!(lo > 0) || !(hi > lo)) return out;
    const int d0 = static_cast<int>(std::floor(std::log10(lo))),
              d1 = static_cast<int>(std::ceil(std::log10(hi)));
    int decades = 0;
    for (int d = d0; d <= d1; ++d) {
        const double v = std::pow(10.0, d);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ++decades;
    }
    for (int d = d0; d <= d1; ++d) {
        for (int m = 1; m <= 9; ++m) {
            const double v = m * std::pow(10.0, d);
            if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9)) continue;
            const bool labelled = m == 1 || (decades < 3 && (m == 2 || m == 5)) || (decades == 0 && m != 1);
            out.push_back({v, m == 1, labelled});
        }
    }
    return out;
}

std::vector<double> linear_ticks(double hi, int target) {
    std::vector<double> out;
    if (!(hi > 0)) return {0};
    const double raw = hi / std::max(1, target);
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    double step = p;
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        step = m * p;
        if (step >= raw) break;
    }
    for (int k = 0; k * step <= hi * (1 + 1e-9); ++k) out.push_back(k * step);
    return out;
}

std::vector<std::string> wrap(const std::string& text, double width, double size, bool bold,
                              const TextMeasure& m) {
    std::vector<std::string> lines;
    std::string cur;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t sp = text.find(' ', pos);
        if (sp == std::string::npos) sp = text.size();
        const std::string word = text.substr(pos, sp - pos);
        const std::string trial = cur.empty() ? word : cur + " " + word;
        if (!cur.empty() && m(trial, size, bold) > width) {
            lines.push_back(cur);
            cur = word;
        } else {
            cur = trial;
        }
        pos = sp + 1;
    }
    if (!cur.empty()) lines.push_back(cur);
    return lines;
}

namespace layout {

double title_block(Canvas& c, const std::string& title, const std::string& subtitle, const TextMeasure& m) {
    double y = kPad + kTitleSize * 0.85;
    for (const auto& line : wrap(title, c.width() - 2 * kPad, kTitleSize, true, m)) {
        c.text({{kPad, y}, line, kTitleSize, Anchor::start, true, hex(kInk)});
        y += kTitleSize * 1.25;
    }
    for (const auto& line : wrap(subtitle, c.width() - 2 * kPad, kTextSize, false, m)) {
        c.text({{kPad, y}, line, kTextSize, Anchor::start, false, hex(kMuted)});
        y += kLine;
    }
    return y - kLine + 22;  // below the last baseline
}

std::vector<std::string> caption_lines(const std::vector<std::string>& notes, double width,
                                       const TextMeasure& m) {
    std::vector<std::string> lines;
    for (const auto& n : notes) {
        for (auto& l : wrap(n, width, kTextSize, false, m)) lines.push_back(std::move(l));
    }
    return lines;
}

void caption(Canvas& c, const std::vector<std::string>& lines) {
    double y = c.height() - kPad - static_cast<double>(lines.size() - 1) * kLine;
    for (const auto& l : lines) {
        c.text({{kPad, y}, l, kTextSize, Anchor::start, false, hex(kMuted)});
        y += kLine;
    }
}

void marker(Canvas& c, Marker mk, Point p, double r, const Color& color, bool hollow) {
    const std::optional<Color> fill =
        hollow ? std::optional<Color>(hex(0xFFFFFF)) : std::optional<Color>(color);
    const Stroke edge = hollow ? Stroke{color, 2.5, {}} : Stroke{hex(0xFFFFFF), 1.5, {}};
    switch (mk) {
        case Marker::none:
            return;
        case Marker::circle:
            c.circle(p, r, fill, edge);
            return;
        case Marker::square:
            c.path({{{p.x - r, p.y - r}, {p.x + r, p.y - r}, {p.x + r, p.y + r}, {p.x - r, p.y + r}},
                    true,
                    fill,
                    edge});
            return;
        case Marker::triangle: {
            const double k = r * 1.25;
            c.path(
                {{{p.x, p.y - k}, {p.x + k, p.y + k * 0.75}, {p.x - k, p.y + k * 0.75}}, true, fill, edge});
            return;
        }
        case Marker::diamond: {
            const double k = r * 1.3;
            c.path({{{p.x, p.y - k}, {p.x + k, p.y}, {p.x, p.y + k}, {p.x - k, p.y}}, true, fill, edge});
            return;
        }
    }
}

}  // namespace layout

namespace {

using namespace layout;

struct Axis {
    double lo = 0, hi = 1;  // log10 of the range
    double p0 = 0, p1 = 1;  // pixels
    double at(double v) const { return p0 + (std::log10(v) - lo) / (hi - lo) * (p1 - p0); }
};

bool usable(double v) {
    return std::isfinite(v) && v > 0;
}

// The data range in log10, padded a little on both sides.
std::pair<double, double> log_range(const std::vector<double>& vals) {
    double lo = 1e300, hi = -1e300;
    for (double v : vals) {
        if (!usable(v)) continue;
        lo = std::min(lo, std::log10(v));
        hi = std::max(hi, std::log10(v));
    }
    if (lo > hi) return {0, 1};
    const double span = hi - lo;
    if (span < 1e-9) return {lo - 0.5, hi + 0.5};
    const double pad = std::max(0.04 * span, 0.06);
    return {lo - pad, hi + pad};
}

// Which ticks keep their labels so that neighbours do not collide (pixel extent per label).
std::vector<bool> thin_labels(const std::vector<LogTick>& ticks, const Axis& ax,
                              const std::vector<double>& extent) {
    std::vector<bool> keep(ticks.size());
    for (std::size_t k = 0; k < ticks.size(); ++k) keep[k] = ticks[k].labelled;
    auto collide = [&] {
        double last = -1e300, last_ext = 0;
        for (std::size_t k = 0; k < ticks.size(); ++k) {
            if (!keep[k]) continue;
            const double p = ax.at(ticks[k].value);
            if (std::abs(p - last) < (last_ext + extent[k]) / 2 + 14) return true;
            last = p;
            last_ext = extent[k];
        }
        return false;
    };
    if (collide()) {
        for (std::size_t k = 0; k < ticks.size(); ++k) keep[k] = keep[k] && ticks[k].major;
    }
    for (int stride = 2; collide() && stride < 8; ++stride) {
        int n = 0;
        for (std::size_t k = 0; k < ticks.size(); ++k) {
            if (ticks[k].major) keep[k] = (n++ % stride) == 0;
        }
    }
    return keep;
}

struct LegendEntry {
    const Series* s;
    std::vector<std::string> lines;
};

}  // namespace

Canvas draw(const LogLogChart& ch, const TextMeasure& m) {
    Canvas c(ch.width, ch.height);
    c.rect(0, 0, ch.width, ch.height, hex(0xFFFFFF));
    const double plot_top = title_block(c, ch.title, ch.subtitle, m) + 8;

    // Legend entries (wrapped) decide the plot's right edge.
    const double legend_text_max = std::min(340.0, ch.width * 0.28);
    std::vector<LegendEntry> legend;
    double legend_text_w = 0;
    for (const auto& s : ch.series) {
        if (!s.in_legend || s.label.empty()) continue;
        LegendEntry e{&s, wrap(s.label, legend_text_max, kTextSize, false, m)};
        for (const auto& l : e.lines) legend_text_w = std::max(legend_text_w, m(l, kTextSize, false));
        legend.push_back(std::move(e));
    }
    std::stable_sort(legend.begin(), legend.end(), [](const LegendEntry& a, const LegendEntry& b) {
        return a.s->legend_rank < b.s->legend_rank;
    });
    const double legend_w = legend.empty() ? 0 : 12 + kSample + 10 + legend_text_w + 12;

    std::vector<double> xs, ys;
    for (const auto& s : ch.series) {
        for (std::size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
            if (usable(s.x[k]) && usable(s.y[k])) {
                xs.push_back(s.x[k]);
                ys.push_back(s.y[k]);
            }
        }
    }
    for (const auto& v : ch.vlines) xs.push_back(v.x);
    Axis ax, ay;
    std::tie(ax.lo, ax.hi) = log_range(xs);
    std::tie(ay.lo, ay.hi) = log_range(ys);
    const auto xt = log_ticks(std::pow(10.0, ax.lo), std::pow(10.0, ax.hi));
    const auto yt = log_ticks(std::pow(10.0, ay.lo), std::pow(10.0, ay.hi));
    auto label_of = [](const TickFormat& f, double v) { return f ? f(v) : std::to_string(v); };

    const double caption_w = ch.width - 2 * kPad;
    const auto cap = caption_lines(ch.notes, caption_w, m);
    const double plot_bottom = ch.height - kPad -
                               static_cast<double>(cap.empty() ? 0 : cap.size() - 1) * kLine -
                               (cap.empty() ? 0 : 34) - 62;
    ay.p0 = plot_bottom;
    // First pass on the y labels' widths (all candidates), then the left edge.
    double ylab_w = 0;
    for (const auto& t : yt) {
        if (t.labelled) ylab_w = std::max(ylab_w, m(label_of(ch.y_ticks, t.value), kTextSize, false));
    }
    const double plot_left = kPad + kAxisSize + 14 + ylab_w + 12;
    const double plot_right = ch.width - kPad - (legend.empty() ? 0 : legend_w + 22);
    ax.p0 = plot_left;
    ax.p1 = plot_right;
    ay.p1 = plot_top;

    // Grid, ticks and labels.
    const Stroke grid{hex(0xDDDDDD), 1, {}}, minor{hex(0xEEEEEE), 1, {}}, axis{hex(kInk), 1.5, {}};
    std::vector<double> xext, yext;
    for (const auto& t : xt) xext.push_back(m(label_of(ch.x_ticks, t.value), kTextSize, false));
    for (std::size_t k = 0; k < yt.size(); ++k) yext.push_back(kTextSize);
    const auto xkeep = thin_labels(xt, ax, xext), ykeep = thin_labels(yt, ay, yext);
    c.begin_group("axes");
    for (std::size_t k = 0; k < xt.size(); ++k) {
        const double p = ax.at(xt[k].value);
        if (xt[k].major || xt[k].labelled)
            c.line({p, plot_top}, {p, plot_bottom}, xt[k].major ? grid : minor);
        c.line({p, plot_bottom}, {p, plot_bottom + (xt[k].major ? 8 : 4)}, axis);
        if (xkeep[k])
            c.text({{p, plot_bottom + 28},
                    label_of(ch.x_ticks, xt[k].value),
                    kTextSize,
                    Anchor::middle,
                    false,
                    hex(kInk)});
    }
    for (std::size_t k = 0; k < yt.size(); ++k) {
        const double p = ay.at(yt[k].value);
        if (yt[k].major || yt[k].labelled)
            c.line({plot_left, p}, {plot_right, p}, yt[k].major ? grid : minor);
        c.line({plot_left - (yt[k].major ? 8 : 4), p}, {plot_left, p}, axis);
        if (ykeep[k])
            c.text({{plot_left - 12, p + 6},
                    label_of(ch.y_ticks, yt[k].value),
                    kTextSize,
                    Anchor::end,
                    false,
                    hex(kInk)});
    }
    c.rect(plot_left, plot_top, plot_right - plot_left, plot_bottom - plot_top, std::nullopt, axis);
    c.text({{(plot_left + plot_right) / 2, plot_bottom + 60},
            ch.x_label,
            kAxisSize,
            Anchor::middle,
            false,
            hex(kInk)});
    c.text({{kPad + kAxisSize, (plot_top + plot_bottom) / 2},
            ch.y_label,
            kAxisSize,
            Anchor::middle,
            false,
            hex(kInk),
            -90});
    c.end_group();

    // Vertical lines, then the series, inside the plot area.
    c.set_clip(ClipBox{plot_left, plot_top, plot_right - plot_left, plot_bottom - plot_top});
    for (const auto& v : ch.vlines) {
        const double p = ax.at(v.x);
        c.begin_group("vline", v.label);
        c.line({p, plot_top}, {p, plot_bottom}, Stroke{v.color, 2, v.dash});
        // Right of the line, or left of it when the label would leave the plot.
        const bool right = p + 8 + m(v.label, kTextSize, false) <= plot_right - 4;
        c.text({{right ? p + 8 : p - 8, plot_bottom - 12},
                v.label,
                kTextSize,
                right ? Anchor::start : Anchor::end,
                false,
                v.color});
        c.end_group();
    }
    for (const auto& s : ch.series) {
        c.begin_group("series " + s.role, s.key);
        std::vector<Point> run;
        std::vector<Point> pts;
        auto flush = [&] {
            if (s.line && run.size() >= 2) c.polyline(run, Stroke{s.color, s.width, s.dash});
            run.clear();
        };
        for (std::size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
            if (!usable(s.x[k]) || !usable(s.y[k])) {
                flush();
                continue;
            }
            const Point p{ax.at(s.x[k]), ay.at(s.y[k])};
            run.push_back(p);
            pts.push_back(p);
        }
        flush();
        if (s.marker != Marker::none) {
            c.begin_group("points", s.key);
            for (const auto& p : pts) marker(c, s.marker, p, kMarkerR, s.color, s.hollow);
            c.end_group();
        }
        c.end_group();
    }
    c.set_clip(std::nullopt);

    // Legend, top right, beside the plot.
    if (!legend.empty()) {
        double h = 12;
        for (const auto& e : legend) h += static_cast<double>(e.lines.size()) * kLine + 6;
        const double lx = ch.width - kPad - legend_w, ly = plot_top;
        c.begin_group("legend");
        c.rect(lx, ly, legend_w, h, hex(0xFFFFFF), Stroke{hex(0xBBBBBB), 1, {}});
        double y = ly + 12;
        for (const auto& e : legend) {
            const double mid = y + kLine / 2 - 1;
            const Series& s = *e.s;
            if (s.line) c.line({lx + 12, mid}, {lx + 12 + kSample, mid}, Stroke{s.color, s.width, s.dash});
            marker(c, s.marker, {lx + 12 + kSample / 2, mid}, kMarkerR, s.color, s.hollow);
            double ty = y + 18;
            for (const auto& l : e.lines) {
                c.text({{lx + 12 + kSample + 10, ty}, l, kTextSize, Anchor::start, false, hex(kInk)});
                ty += kLine;
            }
            y += static_cast<double>(e.lines.size()) * kLine + 6;
        }
        c.end_group();
    }
    caption(c, cap);
    return c;
}

}  // namespace tilesim::plot
