#pragma once
// Sizes and pieces shared by the charts (chart.cpp, gantt.cpp): one place for the slide's typography.
#include <string>
#include <vector>

#include "plot/chart.h"

namespace tilesim::plot::layout {

inline constexpr double kPad = 28;        // margin around everything
inline constexpr double kTitleSize = 24;  // bold
inline constexpr double kAxisSize = 20;   // axis labels
inline constexpr double kTextSize = 18;   // ticks, legend, caption: the smallest text on a slide
inline constexpr double kLine = 24;       // line height of 18 px text
inline constexpr double kSample = 44;     // legend sample line
inline constexpr double kMarkerR = 6;

// Draws the title and subtitle (wrapped); returns the y where the content may start.
double title_block(Canvas& c, const std::string& title, const std::string& subtitle, const TextMeasure& m);
std::vector<std::string> caption_lines(const std::vector<std::string>& notes, double width,
                                       const TextMeasure& m);
// Draws caption lines at the bottom of the canvas.
void caption(Canvas& c, const std::vector<std::string>& lines);
void marker(Canvas& c, Marker mk, Point p, double r, const Color& color, bool hollow);

}  // namespace tilesim::plot::layout
