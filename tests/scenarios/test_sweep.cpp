// scenarios/sweep.h: --over parsing, log-log slopes, and the lessons a sweep must show: standard
// attention's HBM traffic grows as N^2, FlashAttention-2's share of it keeps shrinking with N.
#include <catch2/catch.hpp>
#include <cmath>

#include "kernels/registry.h"
#include "scenarios/report.h"
#include "scenarios/sweep.h"

using namespace tilesim;
using scenarios::ScenarioError;

TEST_CASE("parse_over: lists and doubling ranges", "[scenarios][sweep]") {
    auto [k1, v1] = scenarios::parse_over("seq_len=128..1024");
    CHECK(k1 == "seq_len");
    CHECK(v1 == std::vector<std::string>{"128", "256", "512", "1024"});
    auto [k2, v2] = scenarios::parse_over("block_cols=64,128,,256");  // empty items are skipped
    CHECK(k2 == "block_cols");
    CHECK(v2 == std::vector<std::string>{"64", "128", "256"});
    // A range whose top is not a power-of-two multiple stops below it.
    CHECK(scenarios::parse_over("seq_len=3..20").second == std::vector<std::string>{"3", "6", "12"});
    CHECK(scenarios::parse_over("seq_len=7..7").second == std::vector<std::string>{"7"});
    CHECK(scenarios::parse_over("head_dim=64").second == std::vector<std::string>{"64"});
    // Up to the largest int64 the doubling stops cleanly: 1, 2, ..., 2^62 (63 values).
    const auto huge = scenarios::parse_over("seq_len=1..9223372036854775807").second;
    CHECK(huge.size() == 63);
    CHECK(huge.back() == "4611686018427387904");
}

TEST_CASE("parse_over: bad forms throw a ScenarioError with an example", "[scenarios][sweep]") {
    for (const char* bad : {"seq_len", "=1,2", "seq_len=", "seq_len=10..5", "seq_len=0..4", "seq_len=a..b",
                            "seq_len=1..", "seq_len=..8", "seq_len=,,,", "seq_len=-4..8", "seq_len=16,...,64",
                            "seq_len=16,32..64"}) {
        INFO(bad);
        try {
            scenarios::parse_over(bad);
            FAIL("no error");
        } catch (const ScenarioError& e) {
            const std::string msg = e.what();
            CHECK_THAT(msg, Catch::Contains("--over"));
            CHECK_THAT(msg, Catch::Contains(bad));
        }
    }
}

TEST_CASE("loglog_slope: exact power laws, constants, and too few points", "[scenarios][sweep]") {
    const std::vector<double> x = {1, 2, 4, 8, 16, 100};
    auto power = [&](double a, double k) {
        std::vector<double> y;
        for (double v : x) y.push_back(a * std::pow(v, k));
        return y;
    };
    CHECK(*scenarios::loglog_slope(x, power(3, 2)) == Approx(2.0).margin(1e-12));
    CHECK(*scenarios::loglog_slope(x, power(0.5, -1)) == Approx(-1.0).margin(1e-12));
    CHECK(*scenarios::loglog_slope(x, power(7, 0.5)) == Approx(0.5).margin(1e-12));
    CHECK(*scenarios::loglog_slope(x, power(7, 0)) == Approx(0.0).margin(1e-12));
    // Too few points, or no spread in x: no slope at all (not a misleading 0).
    CHECK_FALSE(scenarios::loglog_slope({5}, {25}).has_value());
    CHECK_FALSE(scenarios::loglog_slope({}, {}).has_value());
    CHECK_FALSE(scenarios::loglog_slope({2, 2}, {3, 5}).has_value());
    // Non-positive points are ignored: the slope of the rest.
    CHECK(*scenarios::loglog_slope({0, 1, 2, 4, -1}, {9, 1, 4, 16, 3}) == Approx(2.0).margin(1e-12));
}

TEST_CASE("sweep: standard attention's HBM traffic grows as N^2, FlashAttention-2's ratio to it falls",
          "[scenarios][sweep]") {
    // A100, one head, N = 4096 .. 65536, count-only. Standard: 4Nd + 4N^2 elements, so the slope
    // d log / d log N = (4Nd + 8N^2) / (4Nd + 4N^2) = 1 + N / (N + d) -> 2; at N >= 4096 with d = 64 the
    // least-squares slope is within 0.05 of 2.
    scenarios::Scenario s = scenarios::default_scenario();
    scenarios::apply_settings(s, {"batch=1", "heads=1", "algorithms=standard,flash,flash2"});
    const auto [key, values] = scenarios::parse_over("seq_len=4096..65536");
    REQUIRE(values.size() == 5);
    const auto r = scenarios::run_sweep(s, key, values, false);
    REQUIRE(r.points.size() == 5);
    REQUIRE(r.fits.size() == 3);
    CHECK(r.fits[0].def->key == "standard");
    CHECK(r.fits[0].points == 5);
    CHECK(*r.fits[0].slope == Approx(2.0).margin(0.05));
    // The fit is the least-squares slope of the points' totals.
    std::vector<double> xs, ys;
    for (const auto& pt : r.points) {
        xs.push_back(pt.value);
        ys.push_back(static_cast<double>(pt.runs[0].total.at(sim::Level::HBM).total_bytes()));
        // Count-only, exact.
        for (const auto& run : pt.runs) {
            CHECK_FALSE(run.max_abs_error.has_value());
            CHECK(run.counts_match_closed_form());
        }
    }
    CHECK(*r.fits[0].slope == Approx(*scenarios::loglog_slope(xs, ys)).margin(1e-12));
    // FlashAttention-2 / standard falls with N towards d / (2 B_r) = 64 / 256 = 0.25 with FA2's 128-row
    // Q blocks: (2Nd + N + 2 (N/128) N d) / (4Nd + 4N^2) = 0.2540 at 4096, 0.2503 at 65536.
    double prev = 1e9;
    for (const auto& pt : r.points) {
        const double ratio = static_cast<double>(pt.runs[2].total.at(sim::Level::HBM).total_bytes()) /
                             static_cast<double>(pt.runs[0].total.at(sim::Level::HBM).total_bytes());
        INFO("N = " << pt.value_text << " ratio " << ratio);
        CHECK(ratio < prev);
        CHECK(ratio > 0.25);
        CHECK(ratio < 0.255);
        prev = ratio;
    }
    // Points keep the order given, whatever order the threads ran them in.
    for (std::size_t k = 0; k < values.size(); ++k) CHECK(r.points[k].value_text == values[k]);
}

TEST_CASE("sweep: FlashAttention's HBM traffic falls as B_c grows (Figure 2, middle)", "[scenarios][sweep]") {
    // block-size built-in: N = 1024, d = 64, B_r = 32. FA1 reads 2Nd + T_c (2Nd + 2N): T_c = 16, 8, 4, 2
    // for B_c = 64 .. 512, so traffic strictly falls.
    const auto base = scenarios::resolve_scenario("block-size");
    const auto r = scenarios::run_sweep(base, "block_cols", {"64", "128", "256", "512"}, false);
    REQUIRE(r.points.size() == 4);
    std::int64_t prev = INT64_MAX;
    for (const auto& pt : r.points) {
        REQUIRE(pt.runs.size() == 1);
        REQUIRE(pt.runs[0].fit.ok);
        CHECK(pt.runs[0].tiling.B_c == static_cast<std::int64_t>(pt.value));
        const auto total = pt.runs[0].total.at(sim::Level::HBM).total_bytes();
        CHECK(total < prev);
        prev = total;
    }
    CHECK(*r.fits[0].slope < 0);
}

TEST_CASE("sweep: a point that does not fit is reported and left out of the fit", "[scenarios][sweep]") {
    // Classroom, explicit B_r = B_c = 4 (352 B for FA1): sram_bytes 256 cannot hold it.
    auto s = scenarios::resolve_scenario("classroom");
    scenarios::apply_settings(s, {"algorithms=flash", "block_rows=4", "block_cols=4"});
    const auto r = scenarios::run_sweep(s, "sram_bytes", {"256", "384", "1024"}, false);
    CHECK_FALSE(r.points[0].runs[0].fit.ok);
    CHECK(r.points[1].runs[0].fit.ok);
    CHECK(r.fits[0].points == 2);
    const std::string csv = scenarios::to_csv(r);
    CHECK_THAT(csv, Catch::Contains("flash,256,false"));
    // The table says by how much and what fits, as `tilesim run` does.
    const std::string table = scenarios::to_table(r);
    CHECK_THAT(table, Catch::Contains("does not fit:\n  sram_bytes = 256, flash forward: ") &&
                          Catch::Contains(r.points[0].runs[0].fit.reason) &&
                          Catch::Contains("; fix: " + r.points[0].runs[0].fit.fix));
}

TEST_CASE("parse_over: a list mixed with a range, and a range of words, are named as such", "[scenarios][sweep]") {
    CHECK_THROWS_WITH(scenarios::parse_over("seq_len=16,...,64"), Catch::Contains("mixes a list and a range"));
    CHECK_THROWS_WITH(scenarios::parse_over("seq_len=a..b"), Catch::Contains("takes two whole numbers"));
    CHECK_THROWS_WITH(scenarios::parse_over("seq_len=10..5"), Catch::Contains("1 <= lo <= hi"));
}

TEST_CASE("sweep: values are checked before any work, non-numeric values are refused", "[scenarios][sweep]") {
    const auto s = scenarios::resolve_scenario("classroom");
    try {
        scenarios::run_sweep(s, "seq_len", {"16", "abc"}, false);
        FAIL("no error");
    } catch (const ScenarioError& e) {
        CHECK_THAT(std::string(e.what()), Catch::Contains("seq_len") && Catch::Contains("'abc'"));
    }
    try {
        scenarios::run_sweep(s, "hardware", {"T4", "A100-40GB"}, false);
        FAIL("no error");
    } catch (const ScenarioError& e) {
        CHECK_THAT(std::string(e.what()), Catch::Contains("'T4'") && Catch::Contains("not a number"));
    }
    CHECK_THROWS_AS(scenarios::run_sweep(s, "seq_len", {"16", "0"}, false), ScenarioError);
    CHECK_THROWS_AS(scenarios::run_sweep(s, "seqlen", {"16"}, false), ScenarioError);
}

TEST_CASE("sweep: numerics on request, CSV has a header and one row per (algorithm, value)",
          "[scenarios][sweep]") {
    const auto s = scenarios::resolve_scenario("classroom");
    const auto r = scenarios::run_sweep(s, "seq_len", {"8", "16", "33"}, true);
    for (const auto& pt : r.points) {
        for (const auto& run : pt.runs) {
            REQUIRE(run.max_abs_error.has_value());
            CHECK(*run.max_abs_error <= 1e-5);
        }
    }
    const std::string csv = scenarios::to_csv(r);
    std::vector<std::string> lines;
    for (std::size_t pos = 0, nl; (nl = csv.find('\n', pos)) != std::string::npos; pos = nl + 1) {
        lines.push_back(csv.substr(pos, nl - pos));
    }
    REQUIRE(lines.size() == 1 + 3 * 3);
    CHECK(lines[0].rfind("algorithm,seq_len,fits,", 0) == 0);
    // Row (algorithm, value) carries that run's totals.
    std::size_t k = 1;
    for (const auto& pt : r.points) {
        for (const auto& run : pt.runs) {
            const auto& h = run.total.at(sim::Level::HBM);
            const std::string key(run.key());
            CHECK(lines[k].rfind(key + "," + pt.value_text + ",true,", 0) == 0);
            CHECK_THAT(lines[k], Catch::Contains("," + std::to_string(h.read_bytes) + "," +
                                                 std::to_string(h.write_bytes) + "," +
                                                 std::to_string(h.total_bytes()) + ","));
            ++k;
        }
    }
    // JSON: one point per value, fits per algorithm.
    const auto j = scenarios::to_json(r);
    CHECK(j["over"] == "seq_len");
    REQUIRE(j["points"].size() == 3);
    CHECK(j["points"][1]["value"] == 16.0);
    CHECK(j["points"][1]["runs"].size() == 3);
    REQUIRE(j["fits"].size() == 3);
    CHECK(j["fits"][0]["algorithm"] == "standard");
    CHECK(j["fits"][0]["loglog_slope"].get<double>() == Approx(*r.fits[0].slope));
    // Table: the slopes are printed.
    CHECK_THAT(scenarios::to_table(r), Catch::Contains("log-log slope"));
}
