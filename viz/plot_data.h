#pragma once
// The plots' series, computed from the sweeps and the definition table (no drawing, so tests check
// the numbers): one data series per algorithm key (its passes added up), Theta() curves from each
// definition's ThetaBound, and a definition's exact closed form at every block size.
#include <functional>
#include <string>
#include <vector>

#include "scenarios/runner.h"
#include "scenarios/sweep.h"
#include "viz/plot.h"

namespace tilesim::viz {

// HBM bytes of `key` over all heads in `runs` (its passes added up); -1 when a pass is missing or
// does not fit.
double hbm_total(const std::vector<scenarios::AlgorithmRun>& runs, std::string_view key);

// One series per algorithm key of the sweep (in the sweep's order), in the key's colour.
std::vector<PlotSeries> data_series(const scenarios::SweepResult& sw);

// The problem sizes a Theta() bound is evaluated at for a sweep value x: (N, d, M in elements).
struct ThetaPoint {
    double N = 0, d = 0, M = 0;
};
using ThetaAxis = std::function<ThetaPoint(double x)>;

// A key's Theta() bound for the scenario's passes: the sum of its definitions' bounds, and their
// texts (distinct ones joined with " + ").
std::string theta_text(std::string_view key, const scenarios::Scenario& s);
double theta_elements(std::string_view key, const scenarios::Scenario& s, const ThetaPoint& at);

// Dashed Theta() curves at `xs`: one per distinct bound among `keys`, in the colour of the first key
// that has it, scaled to pass through that key's current value (x0, y0 = hbm_total(now, key)): a
// bound has no constant, so what the eye compares is the slope. Bounds that do not change over `xs`
// (standard attention's against M) are left out: they say nothing there.
std::vector<PlotSeries> theta_series(const std::vector<std::string>& keys, const scenarios::Scenario& s,
                                     const std::vector<double>& xs, const ThetaAxis& axis, double x0,
                                     const std::vector<scenarios::AlgorithmRun>& now,
                                     std::vector<std::string>* scaled_to = nullptr);

// The IO lower bounds (kernels/bounds.h) along a sweep of `key` over `xs`, the scenario's passes added
// up, all units: the compulsory traffic (exact: no algorithm moves less; solid grey) and Saha & Ye's
// tight bound with constant 1 (dashed grey: compare its slope). Gaps where a value does not apply.
std::vector<PlotSeries> bounds_series(const scenarios::Scenario& base, const std::string& key,
                                      const std::vector<double>& xs);

// Block sizes for drawing a closed form as a curve: four per octave from lo to hi, whole numbers.
std::vector<double> dense_block_sizes(double lo, double hi);

// `key`'s exact closed form (AlgorithmDef::closed_form per unit, kernels::unit_problem: a head, or a
// packed KV group of query heads; passes added up, all units, bytes; drawn
// light grey over the algorithm's own curve) with
// block_cols = each of `bcs` (the other settings as in `base`); -1 where the blocks do not fit.
PlotSeries closed_form_series(std::string_view key, const scenarios::Scenario& base,
                              const std::vector<double>& bcs);

}  // namespace tilesim::viz
