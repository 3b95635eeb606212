#pragma once
// What a run will cost, estimated before it starts from the tilings alone (no kernel runs), so that a
// run whose size is valid but whose work would take hours (N = 2^20 with d = 1 on the classroom
// machine: 4.6e10 tiles) is refused at once with the estimate and the override, instead of starting
// and never reporting.
#include <string>

#include "scenarios/runner.h"

namespace tilesim::scenarios {

// Rates the estimate assumes: a slow classroom machine (two cores, measured on a loaded one), so the
// estimate errs long.
inline constexpr double kTileStepsPerSecond = 2e6;      // count-only: a tile of S with its moves and steps
inline constexpr double kNumericsFlopsPerSecond = 3e9;  // Eigen on SRAM tiles and the fp64 reference
// Events (moves, compute steps, allocations) per tile step, for progress: about 8 in the flash loops.
inline constexpr double kEventsPerTileStep = 8;

struct WorkEstimate {
    double tile_steps = 0;      // tiles of S visited, every algorithm, pass and simulated head
    double numerics_flops = 0;  // host arithmetic of the numerics and the fp64 reference
    double host_bytes = 0;      // the model's own memory: distinct-tile sets and traces (not numerics)
    double numerics_bytes = 0;  // the numerics' matrices (runner.cpp's numerics_need)
    std::string largest;        // the biggest part: "standard forward: 1048576 x 43691 tiles of 1 x 24"
    double seconds() const {
        return tile_steps / kTileStepsPerSecond + numerics_flops / kNumericsFlopsPerSecond;
    }
};

// The estimate for `s`, whose problem carries its final mask (problem_of), under `c` (trace or not).
WorkEstimate estimate_work(const Scenario& s, const RunControls& c);

// "4.6e10 tile steps (standard forward: ...), about 6.4 h here": the estimate in words.
std::string describe_work(const WorkEstimate& w);

// Throws ScenarioError when w.seconds() exceeds `max_seconds` (no limit when <= 0), naming the
// estimate, the limit and the override (--allow-long).
void check_work(const WorkEstimate& w, double max_seconds);

// "1.5 s", "12 min", "6.4 h", "3.1 days".
std::string human_duration(double seconds);

}  // namespace tilesim::scenarios
