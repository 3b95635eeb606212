#pragma once
// A log-log line plot drawn with ImGui's draw lists (Debian packages no plotting library for
// ImGui 1.86): axes with ticks and labels, a legend above the plot area (so it never covers data),
// dashed theory curves, a marked x position, and a hover read-out of every series at the nearest x.
// Data series drawn earlier are drawn wider, so coinciding curves stay visible.
#include <imgui.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tilesim::viz {

struct PlotSeries {
    std::string label;
    ImU32 color = 0xFFFFFFFF;
    std::vector<double> x;
    std::vector<double> y;  // a value <= 0 is a gap (e.g. the algorithm does not fit at that x)
    bool dashed = false;    // theory curves
    bool markers = true;    // data points
};

struct PlotMarker {
    double x = 0;
    std::string label;                             // "N = 1024 (now)"
    std::vector<std::pair<ImU32, double>> points;  // (colour, y) rings on the marker line
};

struct PlotSpec {
    std::string x_label;
    std::string y_label;
    std::function<std::string(double)> x_format;  // tick and read-out labels
    std::function<std::string(double)> y_format;
    std::optional<PlotMarker> marker;
    std::string note;  // one line under the legend (how the theory curves were scaled)
};

// Draws the plot in a `size` box at the cursor and advances the cursor past it. Returns the index
// into the first data series' x of the hovered point, or -1.
int draw_loglog_plot(const char* id, ImVec2 size, const PlotSpec& spec,
                     const std::vector<PlotSeries>& series);

// Marker shapes of the data series (dashed ones get none): each solid series its own, in order
// (circle, square, triangle, diamond, inverted triangle, then round again), so curves that coincide
// (standard attention and FlashAttention-2 against B_c) still show every algorithm's points.
enum class MarkerShape { none, circle, square, triangle, diamond, triangle_down };
std::vector<MarkerShape> marker_shapes(const std::vector<PlotSeries>& series);

// Powers of `base` in [lo, hi] (lo, hi > 0), ascending.
std::vector<double> log_ticks(double lo, double hi, double base);
// Axis range in log space: [lo, hi] of the positive values, padded by `pad` (in log units of base).
std::pair<double, double> log_range(const std::vector<PlotSeries>& series, bool x_axis, double base,
                                    double pad);

// 1024 -> "1K", 65536 -> "64K", 1048576 -> "1M" (binary prefixes: sequence lengths and SRAM sizes).
std::string format_pow2(double v);

}  // namespace tilesim::viz
