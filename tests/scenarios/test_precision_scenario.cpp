// Low precision through scenarios: the keys dtype (fp8), rounding, inputs, fp8_scale, fp8_incoherent;
// their errors; the JSON fields; the built-in fp8; and `tilesim precision`'s table.
#include <catch2/catch.hpp>
#include <cmath>

#include "scenarios/precision_table.h"
#include "scenarios/report.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "sim/numeric.h"

using namespace tilesim;
using scenarios::Scenario;
using scenarios::ScenarioError;

namespace {

Scenario small(std::vector<std::string> sets) {
    Scenario s = scenarios::default_scenario();
    std::vector<std::string> all = {"batch=1", "heads=2", "seq_len=128", "head_dim=64"};
    all.insert(all.end(), sets.begin(), sets.end());
    scenarios::apply_settings(s, all);
    return s;
}

void expect_error(std::vector<std::string> sets, std::initializer_list<std::string> parts) {
    try {
        Scenario s = small(std::move(sets));
        (void)scenarios::run_scenario(s);
        FAIL("no error");
    } catch (const ScenarioError& e) {
        const std::string msg = e.what();
        INFO(msg);
        for (const auto& p : parts) CHECK_THAT(msg, Catch::Contains(p));
        CHECK(msg.find('\n') == std::string::npos);
    }
}

}  // namespace

TEST_CASE("precision keys: bad values get one line naming the key and the fix", "[precision]") {
    expect_error({"fp8_scale=0"}, {"key 'fp8_scale'", "positive finite", "\"block\""});
    expect_error({"fp8_scale=-2"}, {"key 'fp8_scale'", "positive finite"});
    expect_error({"fp8_scale=inf"}, {"key 'fp8_scale'"});
    expect_error({"fp8_scale=blocks"}, {"key 'fp8_scale'", "neither tensor, block nor a number"});
    expect_error({"fp8_incoherent=true", "head_dim=96"}, {"key 'fp8_incoherent'", "power of two", "head_dim = 96"});
    expect_error({"inputs=uniform"}, {"key 'inputs'", "normal or outliers"});
    expect_error({"dtype=fp8"}, {"key 'dtype'", "fp8e4m3 or fp8e5m2"});
    expect_error({"rounding=maybe"}, {"rounding"});
    // A fixed scale from a TOML file may be a number.
    const Scenario t = scenarios::parse_scenario_toml("dtype = \"fp8e4m3\"\nfp8_scale = 0.25\n", "t.toml");
    CHECK(t.quant.scale == kernels::Fp8Scale::fixed);
    CHECK(t.quant.fixed_scale == 0.25);
    CHECK_THROWS_WITH(scenarios::parse_scenario_toml("fp8_scale = 0\n", "z.toml"), Catch::Contains("positive"));
}

TEST_CASE("precision: fp8 halves the input bytes and the JSON says what was stored how", "[precision]") {
    const auto r16 = scenarios::run_scenario(small({"dtype=fp16", "block_rows=32", "block_cols=32"}));
    const auto r8 = scenarios::run_scenario(small({"dtype=fp8e4m3", "block_rows=32", "block_cols=32"}));
    for (std::size_t k = 0; k < r16.runs.size(); ++k) {
        INFO(r16.runs[k].key());
        for (auto t : {sim::Tensor::Q, sim::Tensor::K, sim::Tensor::V}) {
            CHECK(r8.runs[k].total.at(sim::Level::HBM, t).read_bytes * 2 == r16.runs[k].total.at(sim::Level::HBM, t).read_bytes);
        }
        // Same blocks, same elements: the outputs keep 2 bytes (bf16).
        CHECK(r8.runs[k].total.at(sim::Level::HBM, sim::Tensor::O).write_bytes ==
              r16.runs[k].total.at(sim::Level::HBM, sim::Tensor::O).write_bytes);
        CHECK(r8.runs[k].counts_match_closed_form());
        REQUIRE(r8.runs[k].rmse.has_value());
        CHECK(*r8.runs[k].rmse > 10 * *r16.runs[k].rmse);  // fp8 costs accuracy
    }
    const auto j = scenarios::to_json(r8);
    const auto& prec = j.at("scenario").at("precision");
    CHECK(prec.at("input_format") == "fp8e4m3");
    CHECK(prec.at("output_format") == "bf16");
    CHECK(prec.at("rounding") == true);
    CHECK(prec.at("fp8_scale") == "block");
    CHECK(prec.at("fp8_incoherent") == false);
    CHECK(prec.at("inputs") == "normal");
    for (const auto& run : j.at("runs")) {
        CHECK(run.at("rmse").is_number());
        CHECK(run.at("quantisation").at("scales").get<std::int64_t>() > 0);
        CHECK(run.at("quantisation").at("saturated") == 0);
    }
    const std::string table = scenarios::to_table(r8);
    CHECK_THAT(table, Catch::Contains("stored fp8e4m3 with per-block scales"));
    CHECK_THAT(table, Catch::Contains("RMSE against the fp64 reference"));
}

TEST_CASE("precision: rounding = false is fp32 arithmetic, rounding on is the format's error", "[precision]") {
    const auto off = scenarios::run_scenario(small({"rounding=false"}));
    const auto on = scenarios::run_scenario(small({}));
    for (std::size_t k = 0; k < on.runs.size(); ++k) {
        CHECK(*off.runs[k].max_abs_error <= 1e-5);
        CHECK(*on.runs[k].rel_error >= sim::unit_roundoff(sim::Dtype::fp16) / 8);
        CHECK(*on.runs[k].rel_error <= 4 * sim::unit_roundoff(sim::Dtype::fp16));
        // Counts are the same.
        CHECK(on.runs[k].total.at(sim::Level::HBM).total_bytes() == off.runs[k].total.at(sim::Level::HBM).total_bytes());
    }
    CHECK_THAT(scenarios::to_table(off), Catch::Contains("rounding off"));
}

TEST_CASE("precision: a backward with incoherent processing returns gradients in the original basis",
          "[precision]") {
    const auto r = scenarios::run_scenario(small({"pass=forward+backward", "dtype=bf16", "fp8_incoherent=true"}));
    for (const auto& run : r.runs) {
        INFO(run.key() << " " << kernels::pass_name(run.pass()));
        REQUIRE(run.rel_error.has_value());
        CHECK(*run.rel_error <= 4 * sim::unit_roundoff(sim::Dtype::bf16));  // a rotated dQ, dK would be O(1) off
    }
}

TEST_CASE("precision table: every recipe, the published column, and the directions", "[precision]") {
    Scenario s = scenarios::resolve_scenario("fp8");
    scenarios::apply_settings(s, {"batch=1", "heads=4", "numerics_heads=4", "seq_len=256", "algorithms=flash2"});
    const auto t = scenarios::run_precision_table(s);
    REQUIRE(t.rows.size() == scenarios::precision_variants().size());
    auto rmse = [&](const std::string& label) {
        for (const auto& row : t.rows) {
            if (row.variant.label == label) return *row.rmse.at(0).second;
        }
        FAIL("no row " << label);
        return 0.0;
    };
    CHECK(rmse("fp16") < rmse("bf16"));
    CHECK(rmse("bf16") < rmse("fp8e4m3, per-tensor scales"));
    CHECK(rmse("fp8e4m3, per-block + incoherent") < 0.8 * rmse("fp8e4m3, per-block scales"));
    CHECK(rmse("fp8e4m3, per-tensor + incoherent") < 0.8 * rmse("fp8e4m3, per-tensor scales"));
    const std::string text = scenarios::to_table(t);
    CHECK_THAT(text, Catch::Contains("FA3 FP8 (block quantisation + incoherent): 9.1e-03"));
    const auto j = scenarios::to_json(t);
    CHECK(j.at("rows").size() == t.rows.size());
    CHECK(j["rows"][5].at("published_rmse") == 9.1e-3);
    CHECK(j["rows"][0].at("rmse").at("flash2").is_number());
}
