#include "viz/layout.h"

#include <algorithm>

namespace tilesim::viz {

Layout compute_layout(ImVec2 display) {
    const float w = std::max(display.x, 640.0F);
    const float h = std::max(display.y, 400.0F);
    const float left = w * kControlsWidth;
    const float right = w * kRightWidth;
    const float center = w - left - right;
    const float timeline = h * kTimelineHeight;
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
