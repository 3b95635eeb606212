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

Text label(Point at, std::string text, double size, Anchor a, Color color, int rotate = 0) {
    return Text{at, std::move(text), size, a, false, color, rotate};
}

std::string tick_label(const TickFormat& f, double v) {
    return f ? f(v) : std::to_string(v);
}

// The legend's entries, wrapped and in rank order, and the box's width.
std::vector<LegendEntry> legend_entries(const LogLogChart& ch, const TextMeasure& m, double& width) {
    const double text_max = std::min(340.0, ch.width * 0.28);
    std::vector<LegendEntry> legend;
    double text_w = 0;
    for (const auto& s : ch.series) {
        if (!s.in_legend || s.label.empty()) continue;
        LegendEntry e{&s, wrap(s.label, text_max, kTextSize, false, m)};
        for (const auto& l : e.lines) text_w = std::max(text_w, m(l, kTextSize, false));
        legend.push_back(std::move(e));
    }
    std::stable_sort(legend.begin(), legend.end(), [](const LegendEntry& a, const LegendEntry& b) {
        return a.s->legend_rank < b.s->legend_rank;
    });
    width = legend.empty() ? 0 : 12 + kSample + 10 + text_w + 12;
    return legend;
}

// Where the plot area sits and how the axes map values to pixels.
struct Frame {
    double left = 0, right = 0, top = 0, bottom = 0;
    Axis ax, ay;
    std::vector<LogTick> xt, yt;
};

Frame frame_for(const LogLogChart& ch, double top, double bottom, double right, const TextMeasure& m) {
    Frame f;
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
    std::tie(f.ax.lo, f.ax.hi) = log_range(xs);
    std::tie(f.ay.lo, f.ay.hi) = log_range(ys);
    f.xt = log_ticks(std::pow(10.0, f.ax.lo), std::pow(10.0, f.ax.hi));
    f.yt = log_ticks(std::pow(10.0, f.ay.lo), std::pow(10.0, f.ay.hi));
    // The left edge leaves room for the widest y label that may be drawn.
    double ylab_w = 0;
    for (const auto& t : f.yt) {
        if (t.labelled) ylab_w = std::max(ylab_w, m(tick_label(ch.y_ticks, t.value), kTextSize, false));
    }
    f.left = kPad + kAxisSize + 14 + ylab_w + 12;
    f.right = right;
    f.top = top;
    f.bottom = bottom;
    f.ax.p0 = f.left;
    f.ax.p1 = f.right;
    f.ay.p0 = f.bottom;
    f.ay.p1 = f.top;
    return f;
}

// Grid lines at decades (and labelled minor ticks), tick marks, labels that do not collide, the
// frame and the axis labels.
void draw_axes(Canvas& c, const LogLogChart& ch, const Frame& f, const TextMeasure& m) {
    const Stroke grid{hex(0xDDDDDD), 1, {}}, minor{hex(0xEEEEEE), 1, {}}, axis{hex(kInk), 1.5, {}};
    std::vector<double> xext, yext(f.yt.size(), kTextSize);
    for (const auto& t : f.xt) xext.push_back(m(tick_label(ch.x_ticks, t.value), kTextSize, false));
    const auto xkeep = thin_labels(f.xt, f.ax, xext), ykeep = thin_labels(f.yt, f.ay, yext);
    c.begin_group("axes");
    for (std::size_t k = 0; k < f.xt.size(); ++k) {
        const LogTick& t = f.xt[k];
        const double p = f.ax.at(t.value);
        if (t.major || t.labelled) c.line({p, f.top}, {p, f.bottom}, t.major ? grid : minor);
        c.line({p, f.bottom}, {p, f.bottom + (t.major ? 8 : 4)}, axis);
        if (xkeep[k])
            c.text(label({p, f.bottom + 28}, tick_label(ch.x_ticks, t.value), kTextSize, Anchor::middle,
                         hex(kInk)));
    }
    for (std::size_t k = 0; k < f.yt.size(); ++k) {
        const LogTick& t = f.yt[k];
        const double p = f.ay.at(t.value);
        if (t.major || t.labelled) c.line({f.left, p}, {f.right, p}, t.major ? grid : minor);
        c.line({f.left - (t.major ? 8 : 4), p}, {f.left, p}, axis);
        if (ykeep[k])
            c.text(label({f.left - 12, p + 6}, tick_label(ch.y_ticks, t.value), kTextSize, Anchor::end,
                         hex(kInk)));
    }
    c.rect(f.left, f.top, f.right - f.left, f.bottom - f.top, std::nullopt, axis);
    c.text(label({(f.left + f.right) / 2, f.bottom + 60}, ch.x_label, kAxisSize, Anchor::middle, hex(kInk)));
    c.text(label({kPad + kAxisSize, (f.top + f.bottom) / 2}, ch.y_label, kAxisSize, Anchor::middle, hex(kInk),
                 -90));
    c.end_group();
}

// Vertical lines, then the series (lines broken at gaps, a marker per point), clipped to the plot.
void draw_data(Canvas& c, const LogLogChart& ch, const Frame& f, const TextMeasure& m) {
    c.set_clip(ClipBox{f.left, f.top, f.right - f.left, f.bottom - f.top});
    for (const auto& v : ch.vlines) {
        const double p = f.ax.at(v.x);
        c.begin_group("vline", v.label);
        c.line({p, f.top}, {p, f.bottom}, Stroke{v.color, 2, v.dash});
        // Right of the line, or left of it when the label would leave the plot.
        const bool right = p + 8 + m(v.label, kTextSize, false) <= f.right - 4;
        c.text(label({right ? p + 8 : p - 8, f.bottom - 12}, v.label, kTextSize,
                     right ? Anchor::start : Anchor::end, v.color));
        c.end_group();
    }
    for (const auto& s : ch.series) {
        c.begin_group("series " + s.role, s.key);
        std::vector<Point> run, pts;
        auto flush = [&] {
            if (s.line && run.size() >= 2) c.polyline(run, Stroke{s.color, s.width, s.dash});
            run.clear();
        };
        for (std::size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
            if (!usable(s.x[k]) || !usable(s.y[k])) {
                flush();
                continue;
            }
            run.push_back({f.ax.at(s.x[k]), f.ay.at(s.y[k])});
            pts.push_back(run.back());
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
}

void draw_legend(Canvas& c, const std::vector<LegendEntry>& legend, double lx, double ly, double w) {
    if (legend.empty()) return;
    double h = 12;
    for (const auto& e : legend) h += static_cast<double>(e.lines.size()) * kLine + 6;
    c.begin_group("legend");
    c.rect(lx, ly, w, h, hex(0xFFFFFF), Stroke{hex(0xBBBBBB), 1, {}});
    double y = ly + 12;
    for (const auto& e : legend) {
        const double mid = y + kLine / 2 - 1;
        const Series& s = *e.s;
        if (s.line) c.line({lx + 12, mid}, {lx + 12 + kSample, mid}, Stroke{s.color, s.width, s.dash});
        marker(c, s.marker, {lx + 12 + kSample / 2, mid}, kMarkerR, s.color, s.hollow);
        double ty = y + 18;
        for (const auto& l : e.lines) {
            c.text(label({lx + 12 + kSample + 10, ty}, l, kTextSize, Anchor::start, hex(kInk)));
            ty += kLine;
        }
        y += static_cast<double>(e.lines.size()) * kLine + 6;
    }
    c.end_group();
}

}  // namespace

Canvas draw(const LogLogChart& ch, const TextMeasure& m) {
    Canvas c(ch.width, ch.height);
    c.rect(0, 0, ch.width, ch.height, hex(0xFFFFFF));
    const double top = title_block(c, ch.title, ch.subtitle, m) + 8;
    double legend_w = 0;
    const auto legend = legend_entries(ch, m, legend_w);
    const auto cap = caption_lines(ch.notes, ch.width - 2 * kPad, m);
    // Bottom up: the caption, the x label and the tick labels.
    const double bottom = ch.height - kPad - static_cast<double>(cap.empty() ? 0 : cap.size() - 1) * kLine -
                          (cap.empty() ? 0 : 34) - 62;
    const double right = ch.width - kPad - (legend.empty() ? 0 : legend_w + 22);
    const Frame f = frame_for(ch, top, bottom, right, m);
    draw_axes(c, ch, f, m);
    draw_data(c, ch, f, m);
    draw_legend(c, legend, ch.width - kPad - legend_w, top, legend_w);
    caption(c, cap);
    return c;
}

}  // namespace tilesim::plot
