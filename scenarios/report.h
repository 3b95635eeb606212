#pragma once
// Reports of runs and sweeps: a terminal table, JSON (a stable contract: keys may be added, never
// renamed) and CSV. Shared by the CLI and the GUI's export.
#include <nlohmann/json.hpp>
#include <string>

#include "scenarios/runner.h"
#include "scenarios/sweep.h"

namespace tilesim::scenarios {

nlohmann::json scenario_json(const Scenario& s);
nlohmann::json run_json(const AlgorithmRun& r, const Scenario& s);
nlohmann::json to_json(const ScenarioResult& r);
std::string to_table(const ScenarioResult& r);
std::string to_csv(const ScenarioResult& r);

nlohmann::json to_json(const SweepResult& r);
std::string to_table(const SweepResult& r);
std::string to_csv(const SweepResult& r);

// Decoding (report_decode.cpp): the scenario's decode keys (page_size, page_order, kv_splits) added to
// its JSON; a run's `decode` object (split count, pages, packed heads; null for a definition that neither
// splits, pages nor packs); the table's problem-line text and notes (split count and why, page waste,
// packed heads, thread blocks against SMs, memory-bound in words).
void add_decode_keys(nlohmann::json& scenario, const Scenario& s);
nlohmann::json decode_json(const AlgorithmRun& r, const Scenario& s);
std::string decode_problem_text(const Scenario& s);
std::string decode_notes(const AlgorithmRun& r, const Scenario& s);
// The timeline's part of the JSON (scenarios/report_timeline.cpp): the scenario's keys, and each run's
// `traffic`, `tflops`, `timeline` (agents' busy fractions, bound, per pass) and `paper_predicted_ms`.
void add_timeline_keys(nlohmann::json& scenario, const Scenario& s);
void add_timeline_run(nlohmann::json& run, const AlgorithmRun& r);
nlohmann::json traffic_json(const sim::BoundaryTraffic& t);
// The terminal table's timeline section: per run, its schedule, occupancy, waves, the three traffics,
// predicted time, TFLOP/s and bound.
std::string timeline_table(const ScenarioResult& r);

// Trace events as CSV (one row per event), for export and inspection.
std::string trace_csv(const sim::Trace& t);

// One algorithm's passes added up (forward + backward), for the totals of a training step.
struct PassTotals {
    std::string key;
    bool complete = false;  // every pass fitted
    std::int64_t hbm_bytes = 0, dram_bytes = 0, flops = 0;
    double predicted_s = 0;
};
std::vector<PassTotals> pass_totals(const ScenarioResult& r);

// "1.23 GB", "456 KB": decimal units, as the paper reports traffic.
std::string human_bytes(double bytes);
// Capacities in binary units (192 KiB, 40 MiB), as datasheets give them.
std::string binary_bytes(std::int64_t bytes);
// "1.25 ms", "830 us".
std::string human_seconds(double s);

}  // namespace tilesim::scenarios
