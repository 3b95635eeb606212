#include "viz/layout.h"

#include <algorithm>

namespace tilesim::viz {

Layout compute_layout(ImVec2 display, float scale) {
    const float w = std::max(display.x, 640.0F);
    const float h = std::max(display.y, 400.0F);
    // Widths the controls' labelled fields and the counters' table need, in pixels at scale 1.
    const float left = std::max(w * kControlsWidth, std::min(w * 0.26F, 250.0F * scale));
    const float right = std::max(w * kRightWidth, std::min(w * 0.34F, 322.0F * scale));
    const float center = w - left - right;
    const float timeline = std::max(h * kTimelineHeight, std::min(h * 0.2F, 88.0F * scale));
    const float counters = h * kCountersHeight;
    Layout l;
    l.controls = {{0, 0}, {left, h}};
    l.main = {{left, 0}, {center, h - timeline}};
    l.timeline = {{left, h - timeline}, {center, timeline}};
    l.counters = {{left + center, 0}, {right, counters}};
    l.softmax = {{left + center, counters}, {right, h - counters}};
    return l;
}

}  // namespace tilesim::viz
