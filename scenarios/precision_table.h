#pragma once
// The low-precision error table: the scenario's algorithms run once per storage format and fp8
// recipe (fp16, bf16; fp8 e4m3 with per-tensor or per-block scales, with and without incoherent
// processing; e5m2), each RMSE against the fp64 reference beside FlashAttention-3's Table 3 where the
// paper has the matching entry. Counts do not change with the recipe, only bytes with the format.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/runner.h"

namespace tilesim::scenarios {

struct PrecisionVariant {
    std::string label;                // "fp8e4m3, per-block scales + incoherent"
    std::vector<std::string> settings;  // the --set assignments that make it
    std::string published_label;      // FlashAttention-3 Table 3's column, or ""
    std::optional<double> published;  // its RMSE
};

struct PrecisionRow {
    PrecisionVariant variant;
    std::vector<std::pair<std::string, std::optional<double>>> rmse;  // per algorithm key (forward)
    std::vector<std::pair<std::string, std::int64_t>> input_bytes;   // HBM bytes read of Q, K, V per algorithm
};

struct PrecisionTable {
    Scenario base;
    std::vector<PrecisionRow> rows;
};

// The variants, in table order (the published column follows FlashAttention-3, Table 3).
const std::vector<PrecisionVariant>& precision_variants();

// Runs every variant (numerics on, forward only). Throws ScenarioError as run_scenario does, and
// when a variant cannot apply (fp8_incoherent needs head_dim a power of two).
PrecisionTable run_precision_table(const Scenario& base, const RunControls& controls = {});

std::string to_table(const PrecisionTable& t);
nlohmann::json to_json(const PrecisionTable& t);

}  // namespace tilesim::scenarios
