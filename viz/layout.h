#pragma once
// Where each panel sits. One fixed dashboard, not floating windows: a projected screen must look the
// same every lesson, and the screenshot tests look for colours in these rectangles.
//
//   +-----------+--------------------------------+----------------+
//   | controls  | main view (tabs: memory, plots,| counters race  |
//   |           | online softmax)                +----------------+
//   |           |                                | online softmax |
//   |           +--------------------------------+ (memory view)  |
//   |           | timeline                       |                |
//   +-----------+--------------------------------+----------------+
#include <imgui.h>

namespace tilesim::viz {

struct PanelRect {
    ImVec2 pos;
    ImVec2 size;
};

struct Layout {
    PanelRect controls;
    PanelRect main;
    PanelRect timeline;
    PanelRect counters;
    PanelRect softmax;
};

// Proportions of the display; also written down in tests/viz/screenshot_tests.cmake.
inline constexpr float kControlsWidth = 0.18F;
inline constexpr float kRightWidth = 0.29F;
inline constexpr float kTimelineHeight = 0.13F;
inline constexpr float kCountersHeight = 0.60F;

// `scale` (--scale): the side columns keep at least the width their text needs at that scale (a
// projector at 1.5 or 2), taken from the main view; at scale 1 the proportions above hold exactly.
Layout compute_layout(ImVec2 display, float scale = 1.0F);

}  // namespace tilesim::viz
