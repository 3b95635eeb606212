#pragma once
// The figures of `tilesim plot KIND`, built from the model (sweeps, runs, traces) and the definition
// table: nothing here names an algorithm. Each builder returns a chart description (plot/chart.h),
// so tests check the series' numbers and the drawing is shared by SVG and PNG.
#include <optional>
#include <string>
#include <string_view>

#include "plot/canvas.h"
#include "plot/chart.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace tilesim::scenarios {

enum class PlotKind : std::uint8_t { io_vs_n, io_vs_block, io_vs_sram, roofline, timeline };
std::optional<PlotKind> parse_plot_kind(std::string_view text);
inline constexpr const char* kPlotKinds = "io-vs-n, io-vs-block, io-vs-sram, roofline, timeline";

// The sweep of an io-vs-* figure when --over is not given, around the scenario's own values (so the
// classroom's N = 16 and the A100's N = 1024 both get a useful range):
//   io-vs-n      seq_len = N/4 .. 16 N (doubling from N/4, so N itself is a point when 4 divides it)
//   io-vs-block  block_cols = n/256 .. n with n = min(N, 4096)
//   io-vs-sram   sram_bytes = M/8 .. 8 M (M itself is a point)
std::string default_over(PlotKind kind, const Scenario& s);

struct PlotOptions {
    std::string over;  // "key=lo..hi" or "key=a,b,c" (as `tilesim sweep --over`); empty: default_over
    double width = 1280, height = 720;
};

// io-vs-n, io-vs-block, io-vs-sram: a count-only sweep; per algorithm its HBM traffic (passes added),
// its Theta() bound scaled to meet it at one stated point, and the IO lower bounds. Throws ScenarioError.
plot::LogLogChart io_chart(PlotKind kind, const Scenario& s, const PlotOptions& o);
// Each run's arithmetic intensity (FLOPs / HBM bytes) and predicted FLOP/s under the preset's roof
// (scenarios/roofline.h).
plot::LogLogChart roofline_chart(const Scenario& s, const PlotOptions& o);
// Each run's trace (head 0) on run_clock (trace_export.h): lanes per agent on the scheduled timeline,
// or per memory level and compute kind on the serial clock (schedule = paper); the caption says which.
plot::GanttChart timeline_chart(const ScenarioResult& r, const PlotOptions& o);

// The figure of `kind` as a canvas (runs the model). Throws ScenarioError for bad input.
plot::Canvas make_plot(PlotKind kind, const Scenario& s, const PlotOptions& o, const plot::TextMeasure& m);

// "Θ(N² d² / M)" from a definition's "Theta(N^2 d^2 / M)".
std::string pretty_math(std::string_view text);

}  // namespace tilesim::scenarios
