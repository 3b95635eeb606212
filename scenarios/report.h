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

// Trace events as CSV (one row per event), for export and inspection.
std::string trace_csv(const sim::Trace& t, const std::vector<sim::Phase>& phases);

// "1.23 GB", "456 KB": decimal units, as the paper reports traffic.
std::string human_bytes(double bytes);

}  // namespace tilesim::scenarios
