#pragma once
// The roofline view's data (no ImGui, so tests check it): every run of the current result at its
// arithmetic intensity against the preset's roof, from scenarios/roofline.h, the same functions
// `tilesim plot roofline` uses. Nothing is computed here that the library does not define.
#include <string>
#include <vector>

#include "scenarios/roofline.h"
#include "scenarios/runner.h"

namespace tilesim::viz {

struct RooflineMark {
    std::string key;    // the algorithm (its colour)
    std::string title;  // "flash forward"
    bool backward = false;
    scenarios::RooflinePoint point;
    double attainable = 0;  // what the roof allows at point.intensity
};

struct RooflineView {
    scenarios::Roof roof;
    std::string hardware;
    std::vector<RooflineMark> marks;  // the runs' order
    int misfits = 0;                  // runs left out: their blocks do not fit in SRAM
    std::string error;                // the preset has no roof: why, and what to set
    // The x range to draw (FLOP per byte): every intensity and the ridge, with room either side.
    double x_lo = 1, x_hi = 1;
};

RooflineView build_roofline_view(const scenarios::ScenarioResult& r);

}  // namespace tilesim::viz
