#include "scenarios/precision_table.h"

#include <fmt/format.h>

#include "kernels/registry.h"
#include "scenarios/report.h"

namespace tilesim::scenarios {

const std::vector<PrecisionVariant>& precision_variants() {
    // FlashAttention-3 (Shah et al. 2024), Table 3: RMSE on N(0,1) + N(0,100) x Bernoulli(0.001) inputs.
    // "FP16 baseline" is standard attention, "FA2 FP16" FlashAttention-2; "FP8 baseline" per-tensor
    // scales; "FA3 FP8" block quantisation + incoherent processing, then each one removed.
    static const std::vector<PrecisionVariant> v = {
        {"fp16", {"dtype=fp16"}, "FP16 baseline 3.2e-4, FA2 FP16 1.9e-4", std::nullopt},
        {"bf16", {"dtype=bf16"}, "", std::nullopt},
        {"fp8e4m3, per-tensor scales", {"dtype=fp8e4m3", "fp8_scale=tensor", "fp8_incoherent=false"},
         "FP8 baseline (per-tensor)", 2.4e-2},
        {"fp8e4m3, per-block scales", {"dtype=fp8e4m3", "fp8_scale=block", "fp8_incoherent=false"},
         "FA3 FP8 without incoherent processing", 2.4e-2},
        {"fp8e4m3, per-tensor + incoherent", {"dtype=fp8e4m3", "fp8_scale=tensor", "fp8_incoherent=true"},
         "FA3 FP8 without block quantisation", 9.3e-3},
        {"fp8e4m3, per-block + incoherent", {"dtype=fp8e4m3", "fp8_scale=block", "fp8_incoherent=true"},
         "FA3 FP8 (block quantisation + incoherent)", 9.1e-3},
        {"fp8e5m2, per-block + incoherent", {"dtype=fp8e5m2", "fp8_scale=block", "fp8_incoherent=true"}, "",
         std::nullopt},
    };
    return v;
}

PrecisionTable run_precision_table(const Scenario& base, const RunControls& controls) {
    PrecisionTable t;
    t.base = base;
    t.base.numerics = true;
    t.base.rounding = true;
    t.base.problem.passes = kernels::Passes::forward;
    for (const auto& v : precision_variants()) {
        Scenario s = t.base;
        apply_settings(s, v.settings);
        const ScenarioResult r = run_scenario(s, controls);
        PrecisionRow row;
        row.variant = v;
        for (const auto& run : r.runs) {
            row.rmse.emplace_back(std::string(run.key()), run.rmse);
            std::int64_t in = 0;
            for (auto tensor : {sim::Tensor::Q, sim::Tensor::K, sim::Tensor::V}) {
                in += run.total.at(sim::Level::HBM, tensor).read_bytes;
            }
            row.input_bytes.emplace_back(std::string(run.key()), in);
        }
        t.rows.push_back(std::move(row));
    }
    return t;
}

std::string to_table(const PrecisionTable& t) {
    const auto& p = t.base.problem;
    std::string out = fmt::format(
        "tilesim precision  {}: N = {}, d = {}, {} inputs, seed {}; RMSE of O against the fp64 reference "
        "(over {} head(s), each its own inputs)\n\n",
        t.base.name, p.N_kv, p.d, kernels::distribution_name(t.base.inputs), t.base.seed, t.base.numerics_heads);
    out += fmt::format("{:<34}", "format");
    for (const auto& key : t.base.algorithms) out += fmt::format(" {:>10}", key);
    out += fmt::format("   {:>13}  {}\n", "Q,K,V bytes", "FlashAttention-3, Table 3");
    for (const auto& row : t.rows) {
        out += fmt::format("{:<34}", row.variant.label);
        for (const auto& [key, e] : row.rmse) out += fmt::format(" {:>10}", e ? fmt::format("{:.2e}", *e) : "-");
        const std::int64_t bytes = row.input_bytes.empty() ? 0 : row.input_bytes.back().second;
        std::string pub = row.variant.published_label;
        if (row.variant.published) pub += fmt::format(": {:.1e}", *row.variant.published);
        out += fmt::format("   {:>13}  {}\n", human_bytes(static_cast<double>(bytes)), pub);
    }
    out +=
        "\nQ,K,V bytes: what the last algorithm reads of them from HBM (all heads). fp8 halves every element, and "
        "the same SRAM\nholds twice the elements, so FlashAttention-2's blocks grow and K, V are read fewer times. "
        "The paper's figures are\nfrom an H100 kernel on its own inputs (shapes not stated): compare directions, "
        "not digits.\n";
    return out;
}

nlohmann::json to_json(const PrecisionTable& t) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : t.rows) {
        nlohmann::json rmse = nlohmann::json::object();
        for (const auto& [key, e] : row.rmse) rmse[key] = e ? nlohmann::json(*e) : nlohmann::json(nullptr);
        nlohmann::json bytes = nlohmann::json::object();
        for (const auto& [key, b] : row.input_bytes) bytes[key] = b;
        rows.push_back({{"format", row.variant.label},
                        {"settings", row.variant.settings},
                        {"rmse", rmse},
                        {"qkv_read_bytes", bytes},
                        {"published_label", row.variant.published_label},
                        {"published_rmse", row.variant.published ? nlohmann::json(*row.variant.published)
                                                                 : nlohmann::json(nullptr)}});
    }
    return {{"scenario", scenario_json(t.base)}, {"rows", rows}};
}

}  // namespace tilesim::scenarios
