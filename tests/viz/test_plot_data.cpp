// The plots' numbers: data summed per algorithm, Theta() curves that meet their algorithm at the
// current value, and each definition's closed form equal to the simulation at every block size.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "kernels/bounds.h"
#include "kernels/registry.h"
#include "scenarios/scenario.h"
#include "scenarios/sweep.h"
#include "viz/plot_data.h"

using namespace tilesim;

namespace {
scenarios::Scenario all_keys(const char* id) {
    auto s = scenarios::resolve_scenario(id);
    s.algorithms.clear();
    for (auto k : kernels::algorithm_key_list()) s.algorithms.emplace_back(k);
    s.numerics = false;
    return s;
}
}  // namespace

TEST_CASE("the closed-form curve is the simulation's count at every block size of the sweep", "[plot]") {
    const auto base = all_keys("block-size");
    const std::vector<std::string> values = {"16", "32", "64", "128", "256", "512"};
    const auto sw = scenarios::run_sweep(base, "block_cols", values, false);
    const auto data = viz::data_series(sw);
    REQUIRE(data.size() == base.algorithms.size());
    std::size_t compared = 0;
    for (std::size_t a = 0; a < data.size(); ++a) {
        CAPTURE(base.algorithms[a]);
        const auto curve = viz::closed_form_series(base.algorithms[a], base, data[a].x);
        REQUIRE(curve.y.size() == data[a].y.size());
        CHECK(curve.dashed);
        for (std::size_t k = 0; k < curve.y.size(); ++k) {
            CAPTURE(curve.x[k]);
            // Exactly equal, gaps included: both say "does not fit" at the same block sizes.
            CHECK(curve.y[k] == data[a].y[k]);
            compared += data[a].y[k] > 0 ? 1 : 0;
        }
    }
    CHECK(compared >= data.size() * 3);  // most points fit: the comparison is not vacuous
}

TEST_CASE("the closed-form curve counts packed GQA units, not query heads", "[plot]") {
    // Grouped-query decoding: a definition that packs a KV group's 4 query heads into one unit has
    // its closed form per (batch, KV head); summed over the B x H_kv units it equals the simulation.
    const auto base = all_keys("gqa");
    const std::vector<std::string> values = {"64", "128", "256"};
    const auto sw = scenarios::run_sweep(base, "block_cols", values, false);
    const auto data = viz::data_series(sw);
    bool packed = false;
    for (const auto* d : kernels::definitions()) packed = packed || d->packs_gqa;
    REQUIRE(packed);
    std::size_t compared = 0;
    for (std::size_t a = 0; a < data.size(); ++a) {
        CAPTURE(base.algorithms[a]);
        const auto curve = viz::closed_form_series(base.algorithms[a], base, data[a].x);
        REQUIRE(curve.y.size() == data[a].y.size());
        for (std::size_t k = 0; k < curve.y.size(); ++k) {
            CAPTURE(curve.x[k]);
            CHECK(curve.y[k] == data[a].y[k]);
            compared += data[a].y[k] > 0 ? 1 : 0;
        }
    }
    CHECK(compared >= 3);
}

TEST_CASE("data series add up an algorithm's passes over all heads", "[plot]") {
    const auto base = all_keys("classroom");
    const auto sw = scenarios::run_sweep(base, "seq_len", {"16", "32"}, false);
    const auto data = viz::data_series(sw);
    for (std::size_t a = 0; a < data.size(); ++a) {
        for (std::size_t p = 0; p < sw.points.size(); ++p) {
            double sum = 0;
            for (const auto& r : sw.points[p].runs) {
                if (r.key() == base.algorithms[a])
                    sum += static_cast<double>(r.total.at(sim::Level::HBM).total_bytes());
            }
            CHECK(data[a].y[p] == sum);
            CHECK(data[a].x[p] == sw.points[p].value);
        }
    }
    CHECK(viz::hbm_total(sw.points[0].runs, "no-such-key") < 0);
}

TEST_CASE("Theta() curves: one per distinct bound, meeting their algorithm at the current value", "[plot]") {
    const auto s = all_keys("gpt2-medium");
    const auto now = scenarios::run_scenario(s).runs;
    const std::vector<double> xs = {256, 512, 1024, 2048};
    const double d = static_cast<double>(s.problem.d);
    const double M = static_cast<double>(s.hardware.sram_bytes) / 2;  // fp16 elements
    std::vector<std::string> scaled;
    const auto curves = viz::theta_series(
        s.algorithms, s, xs,
        [&](double n) {
            return viz::ThetaPoint{n, d, M};
        },
        1024, now, &scaled);
    REQUIRE(curves.size() == scaled.size());
    REQUIRE_FALSE(curves.empty());
    std::set<std::string> texts;
    for (const auto& k : s.algorithms) texts.insert(viz::theta_text(k, s));
    CHECK(curves.size() == texts.size());  // every distinct bound once
    for (std::size_t c = 0; c < curves.size(); ++c) {
        CAPTURE(scaled[c]);
        CHECK(curves[c].dashed);
        // Through the algorithm's current point (x = 1024 is xs[2])...
        CHECK(curves[c].y[2] == Approx(viz::hbm_total(now, scaled[c])));
        // ... with the bound's own shape: the ratio between two points is the bound's ratio.
        const double ratio =
            viz::theta_elements(scaled[c], s, {2048, d, M}) / viz::theta_elements(scaled[c], s, {256, d, M});
        CHECK(curves[c].y[3] / curves[c].y[0] == Approx(ratio));
    }
    // Against M, a bound that does not depend on M draws nothing.
    const auto flat = viz::theta_series(
        s.algorithms, s, {1e4, 1e5},
        [&](double m) {
            return viz::ThetaPoint{1024, d, m};
        },
        1e5, now);
    for (const auto& c : flat) CHECK(c.y.front() != Approx(c.y.back()));
}

TEST_CASE("dense block sizes: four per octave, whole and increasing", "[plot]") {
    const auto b = viz::dense_block_sizes(2, 16);
    CHECK(b.front() == 2);
    CHECK(b.back() == 16);
    // 2^(1 + k/4) for k = 0..12, rounded; small sizes round together (2.38 -> 2, 3.36 -> 3).
    CHECK(b == std::vector<double>{2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 16});
    for (std::size_t k = 1; k < b.size(); ++k) {
        CHECK(b[k] > b[k - 1]);
        CHECK(b[k] == std::round(b[k]));
    }
    CHECK(viz::dense_block_sizes(0, 8).empty());
}

TEST_CASE("the bound curves: compulsory traffic is io_bounds at every N and no algorithm moves less", "[plot]") {
    const auto base = all_keys("gpt2-medium");
    const std::vector<std::string> values = {"128", "512", "2048", "8192"};
    const auto sw = scenarios::run_sweep(base, "seq_len", values, false);
    std::vector<double> xs;
    for (const auto& v : values) xs.push_back(std::stod(v));
    const auto bounds = viz::bounds_series(base, "seq_len", xs);
    REQUIRE(bounds.size() == 2);
    CHECK_FALSE(bounds[0].dashed);  // exact
    CHECK(bounds[1].dashed);        // asymptotic, constant 1
    for (std::size_t k = 0; k < xs.size(); ++k) {
        auto s = base;
        scenarios::apply_setting(s, "seq_len", values[k]);
        const auto b = kernels::io_bounds(scenarios::problem_of(s), kernels::Pass::forward, s.hardware);
        CHECK(bounds[0].y[k] == static_cast<double>(b.compulsory_bytes * s.problem.bh()));
        CHECK(bounds[1].y[k] == Approx(b.saha_ye_bytes * static_cast<double>(s.problem.bh())));
    }
    std::size_t compared = 0;
    for (const auto& series : viz::data_series(sw)) {
        CAPTURE(series.label);
        for (std::size_t k = 0; k < series.y.size(); ++k) {
            if (series.y[k] <= 0) continue;
            CHECK(series.y[k] >= bounds[0].y[k]);
            ++compared;
        }
    }
    CHECK(compared >= 12);
    // A value the scenario refuses is a gap, not a crash.
    const auto gap = viz::bounds_series(base, "seq_len", {0.0});
    CHECK(gap[0].y.at(0) < 0);
}
