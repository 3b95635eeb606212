#pragma once
// Time for one run: the schedule it runs under, the three traffics (with the L2 model or the DRAM
// estimate), the timeline and the predicted time it gives (or the two-level roofline in paper mode).
// Generic over the definitions: it reads only their schedule lists and the phases they produced.
#include "kernels/algorithm.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace tilesim::scenarios {

// Whether the scenario runs the L2 model (l2 = true on hardware that has an L2).
bool l2_model_runs(const Scenario& s);

// The timeline's options for `def` under the scenario, and the schedule that runs (the scenario's,
// or the definition's own when it does not support that one: `note` says so).
// `units` is how many copies of the simulated unit the launch runs (B*H heads, or B*H_kv packed KV
// groups).
sim::TimelineOptions timeline_options(const Scenario& s, const kernels::AlgorithmDef& def, std::string* note,
                                      std::int64_t units);

// Fills run.schedule, traffic, timeline, paper_cost and cost from `r` (per unit counts of the problem
// `unit` the definition ran, kernels::unit_problem; `groups` the tensors a KV group shares; the access
// logs of r.phases are replayed by the L2 model when it runs, then dropped). run.dram must be set.
void time_run(AlgorithmRun& run, kernels::RunResult& r, const Scenario& s, const kernels::Problem& unit,
              const sim::HeadGroups& groups);

// The timeline as the roofline's breakdown type (predicted time per pass, its busiest agent).
sim::CostBreakdown cost_of(const sim::TimelineResult& t);

}  // namespace tilesim::scenarios
