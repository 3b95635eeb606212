#pragma once
// Number formats of the figures' ticks and captions (plot_figures.cpp, plot_timeline.cpp).
#include <cstdint>
#include <string>

#include "scenarios/scenario.h"

namespace tilesim::scenarios::text {

// 3 significant digits and an SI prefix: si(2e9, "B", true) = "2 GB", si(1e4, "", false) = "10k".
std::string si(double v, const std::string& unit, bool space);
// Plain below 1000, "10k", "1M" above.
std::string count(double v);
// "192 KiB", "1 MiB".
std::string binary(std::int64_t bytes);
// "gpt2-medium on A100-40GB: B = 64, H = 16, N = 1024, d = 64, fp16, forward".
std::string problem_line(const Scenario& s, bool with_N = true);

}  // namespace tilesim::scenarios::text
