#pragma once
// The two chart types the figures are made of, laid out for a slide (1280 x 720 by default, text
// 18-24 px): a log-log chart (decade ticks, legend beside the plot, caption below) and a Gantt chart
// (lanes of bars over a linear time axis, grouped, with shaded spans behind them). Both return a
// Canvas, so SVG and PNG come from the same drawing.
#include <functional>
#include <string>
#include <vector>

#include "plot/canvas.h"

namespace tilesim::plot {

// Okabe & Ito's colour-blind-safe palette, without its yellow (too pale on white): blue, vermillion,
// bluish green, reddish purple, orange, sky blue, black.
Color palette(int index);
inline constexpr unsigned kInk = 0x222222;    // text and axes
inline constexpr unsigned kMuted = 0x555555;  // secondary text, bounds

enum class Marker : std::uint8_t { none, circle, square, triangle, diamond };
// The marker of series number `index`: shapes tell series apart where colours do not.
Marker marker_for(int index);

using TickFormat = std::function<std::string(double)>;

struct Series {
    std::string label;          // legend text
    std::string key;            // the SVG group's data-key
    std::string role = "data";  // the SVG group's class is "series <role>"
    std::vector<double> x, y;   // a point with a non-positive or non-finite value is a gap
    Color color;
    double width = 3;
    std::vector<double> dash;  // empty: solid
    Marker marker = Marker::none;
    bool hollow = false;  // markers outlined, not filled
    bool line = true;     // false: markers only
    bool in_legend = true;
    int legend_rank = 0;  // legend order: lower first, then drawing order
};

// A vertical line across the plot (the roofline's ridge point), labelled at its top.
struct VLine {
    double x = 0;
    std::string label;
    Color color;
    std::vector<double> dash;
};

struct LogLogChart {
    std::string title, subtitle;
    std::string x_label, y_label;    // with units
    std::vector<std::string> notes;  // caption paragraphs under the plot, wrapped to its width
    TickFormat x_ticks, y_ticks;     // label of a tick value
    std::vector<Series> series;
    std::vector<VLine> vlines;
    double width = 1280, height = 720;
};

Canvas draw(const LogLogChart& chart, const TextMeasure& measure);

// Ticks of a log axis over [lo, hi]: every decade and its 2..9 multiples; `labelled` marks the ones
// that carry a label (the decades, and 2x and 5x when fewer than three decades are in range).
struct LogTick {
    double value;
    bool major, labelled;
};
std::vector<LogTick> log_ticks(double lo, double hi);

// "Nice" linear ticks (1, 2 or 5 times a power of ten apart) covering [0, hi].
std::vector<double> linear_ticks(double hi, int target = 8);

// ---- Gantt ----

struct GanttKind {
    std::string label;  // legend text: "load HBM -> SRAM"
    Color color;
};
struct GanttBar {
    int lane = 0;
    double start = 0, end = 0;  // x units (e.g. microseconds)
    int kind = 0;
};
// A shaded span behind one group's lanes (a kernel pass), labelled when it is wide enough.
struct GanttBand {
    int group = 0;
    double start = 0, end = 0;
    std::string label;
};
struct GanttChart {
    std::string title, subtitle, x_label;
    std::vector<std::string> notes;
    std::vector<std::string> group_titles;
    std::vector<std::string> lane_labels;
    std::vector<int> lane_group;  // the group of each lane; groups' lanes are consecutive
    std::vector<GanttKind> kinds;
    std::vector<GanttBar> bars;
    std::vector<GanttBand> bands;
    TickFormat x_ticks;
    double width = 1280, height = 720;
};

// Bars closer than about a pixel on one lane with one kind are drawn as one (a trace of a million
// events stays a small file); no bar is drawn narrower than 1 px.
Canvas draw(const GanttChart& chart, const TextMeasure& measure);

// Splits `text` into lines no wider than `width` at `size` px (at spaces; a longer word stands alone).
std::vector<std::string> wrap(const std::string& text, double width, double size, bool bold,
                              const TextMeasure& m);

}  // namespace tilesim::plot
