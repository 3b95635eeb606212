#pragma once
// Sweeps: one scenario key over a list of values, count-only unless numerics are asked for; per
// algorithm, the fitted log-log slope of HBM traffic against the swept value.
#include <optional>
#include <string>
#include <vector>

#include "scenarios/runner.h"

namespace tilesim::scenarios {

struct SweepPoint {
    std::string value_text;  // as given ("4096")
    double value = 0;
    std::vector<AlgorithmRun> runs;  // same order at every point: algorithms, and their passes
};

struct SweepFit {
    const kernels::AlgorithmDef* def = nullptr;  // which algorithm and pass
    std::optional<double> slope;  // d log(HBM bytes) / d log(value), least squares; empty below 2 points
    std::int64_t points = 0;      // points used (those where the algorithm fits in SRAM)
};

struct SweepResult {
    Scenario base;
    std::string key;
    std::vector<SweepPoint> points;
    std::vector<SweepFit> fits;
};

// "seq_len=256,512,1024" or "seq_len=128..65536" (powers of two from 128 to 65536). Throws ScenarioError.
std::pair<std::string, std::vector<std::string>> parse_over(std::string_view spec);

// Runs the sweep; values must be numeric. Throws ScenarioError naming the bad value.
SweepResult run_sweep(const Scenario& base, const std::string& key, const std::vector<std::string>& values,
                      bool numerics, const RunControls& controls = {});

// Least-squares slope of log(y) on log(x); needs >= 2 points with distinct x and x, y > 0 (else empty).
std::optional<double> loglog_slope(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace tilesim::scenarios
