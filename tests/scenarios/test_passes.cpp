// Scenario keys and report fields for the passes (`pass`), the problem's new dimensions (seq_len_q,
// kv_heads, mask) and published figures: the contract scripts and lessons rely on.
#include <catch2/catch.hpp>

#include "kernels/registry.h"
#include "scenarios/report.h"

using namespace tilesim;
using kernels::Pass;
using nlohmann::json;
using scenarios::Scenario;
using scenarios::ScenarioError;

namespace {

Scenario classroom(std::vector<std::string> sets) {
    Scenario s = scenarios::resolve_scenario("classroom");
    scenarios::apply_settings(s, sets);
    return s;
}

void expect_error(Scenario s, const std::string& assignment, std::vector<std::string> parts) {
    try {
        scenarios::apply_settings(s, {assignment});
        FAIL("no error for " << assignment);
    } catch (const ScenarioError& e) {
        const std::string msg = e.what();
        INFO(msg);
        CHECK(msg.find('\n') == std::string::npos);  // one line
        for (const auto& p : parts) CHECK_THAT(msg, Catch::Contains(p));
    }
}

}  // namespace

TEST_CASE("pass: forward, backward or forward+backward, runs are one per algorithm and pass", "[scenarios][passes]") {
    for (auto [text, n] : {std::pair<const char*, std::size_t>{"forward", 1}, {"backward", 1}, {"forward+backward", 2}}) {
        const Scenario s = classroom({std::string("pass=") + text});
        CHECK(kernels::passes_name(s.problem.passes) == text);
        const auto r = scenarios::run_scenario(s);
        REQUIRE(r.runs.size() == s.algorithms.size() * n);
        for (std::size_t k = 0; k < r.runs.size(); ++k) {
            const auto& run = r.runs[k];
            INFO(run.key() << " " << kernels::pass_name(run.pass()));
            CHECK(run.key() == s.algorithms[k / n]);
            CHECK(kernels::includes(s.problem.passes, run.pass()));
            REQUIRE(run.fit.ok);
            CHECK(run.counts_match_closed_form());
            REQUIRE(run.max_abs_error.has_value());
            if (run.pass() == Pass::backward) {
                // The backward's error is the worst of dQ, dK, dV, each reported.
                REQUIRE(run.gradient_errors.has_value());
                const auto& g = *run.gradient_errors;
                CHECK(*run.max_abs_error == std::max({g.dQ, g.dK, g.dV}));
                CHECK(*run.max_abs_error <= 2e-5);  // see tests/kernels/test_gradients.cpp
            } else {
                CHECK_FALSE(run.gradient_errors.has_value());
            }
        }
        if (n == 2) {
            // forward then backward, per algorithm.
            CHECK(r.runs[0].pass() == Pass::forward);
            CHECK(r.runs[1].pass() == Pass::backward);
        }
    }
    expect_error(scenarios::resolve_scenario("classroom"), "pass=sideways", {"key 'pass'", "'sideways'", "forward+backward"});
}

TEST_CASE("pass: a backward run alone counts only the backward, the same as in forward+backward", "[scenarios][passes]") {
    const auto both = scenarios::run_scenario(classroom({"pass=forward+backward"}));
    const auto back = scenarios::run_scenario(classroom({"pass=backward"}));
    for (const auto& key : both.scenario.algorithms) {
        const auto* a = both.find(key, Pass::backward);
        const auto* b = back.find(key, Pass::backward);
        REQUIRE(a != nullptr);
        REQUIRE(b != nullptr);
        CHECK(a->total.by_tensor == b->total.by_tensor);
        CHECK(a->total.flops() == b->total.flops());
        // The gradients agree too: the backward alone ran its forward (uncounted) for O and the statistics.
        REQUIRE(b->gradient_errors.has_value());
        CHECK(b->gradient_errors->dQ == a->gradient_errors->dQ);
        CHECK(back.find(key, Pass::forward) == nullptr);
    }
}

TEST_CASE("JSON: runs carry their pass and gradient errors, totals add both passes", "[scenarios][passes][json]") {
    const Scenario s = classroom({"pass=forward+backward", "batch=2", "heads=3"});
    const auto r = scenarios::run_scenario(s);
    const json j = scenarios::to_json(r);
    CHECK(j.at("scenario").at("pass") == "forward+backward");
    const auto& runs = j.at("runs");
    REQUIRE(runs.size() == r.runs.size());
    for (std::size_t k = 0; k < runs.size(); ++k) {
        const auto& run = r.runs[k];
        CHECK(runs[k].at("pass") == std::string(kernels::pass_name(run.pass())));
        // The backward entry counts only the backward's traffic.
        CHECK(runs[k].at("hbm").at("read_bytes").get<std::int64_t>() == run.total.at(sim::Level::HBM).read_bytes);
        CHECK(runs[k].at("counts_match_closed_form") == true);
        if (run.pass() == Pass::backward) {
            const auto& g = runs[k].at("gradient_errors");
            CHECK(g.at("dQ").get<double>() == run.gradient_errors->dQ);
            CHECK(g.at("dK").get<double>() == run.gradient_errors->dK);
            CHECK(g.at("dV").get<double>() == run.gradient_errors->dV);
            CHECK(runs[k].at("max_abs_error").get<double>() == *run.max_abs_error);
        } else {
            CHECK_FALSE(runs[k].contains("gradient_errors"));
        }
    }
    const auto& totals = j.at("totals");
    REQUIRE(totals.size() == s.algorithms.size());
    for (const auto& t : totals) {
        const std::string key = t.at("algorithm");
        const auto* f = r.find(key, Pass::forward);
        const auto* b = r.find(key, Pass::backward);
        CHECK(t.at("passes") == "forward+backward");
        CHECK(t.at("hbm_bytes").get<std::int64_t>() ==
              f->total.at(sim::Level::HBM).total_bytes() + b->total.at(sim::Level::HBM).total_bytes());
        CHECK(t.at("flops").get<std::int64_t>() == f->total.flops() + b->total.flops());
        CHECK(t.at("predicted_ms").get<double>() == Approx((f->cost.total_s + b->cost.total_s) * 1e3));
    }
    // A forward-only run has no totals list.
    CHECK_FALSE(scenarios::to_json(scenarios::run_scenario(classroom({}))).contains("totals"));
}

TEST_CASE("CSV and table: a pass column and a row per run, the table adds the training step's totals",
          "[scenarios][passes]") {
    const auto r = scenarios::run_scenario(classroom({"pass=forward+backward"}));
    const std::string csv = scenarios::to_csv(r);
    const auto header = csv.substr(0, csv.find('\n'));
    CHECK_THAT(header, Catch::Contains(",pass,dram_estimate_bytes,"));
    CHECK_THAT(csv, Catch::Contains(",backward,") && Catch::Contains(",forward,"));
    const std::string table = scenarios::to_table(r);
    for (const auto& run : r.runs) CHECK_THAT(table, Catch::Contains(std::string(run.def->name)));
    CHECK_THAT(table, Catch::Contains("forward + backward (all heads)"));
    CHECK_THAT(table, Catch::Contains("max |err| of dQ"));
}

TEST_CASE("seq_len_q and kv_heads follow seq_len and heads until set, H must be a multiple of H_kv",
          "[scenarios][passes]") {
    Scenario s = classroom({"seq_len=20"});
    CHECK(s.problem.N_kv == 20);
    CHECK(s.problem.N_q == 20);
    scenarios::apply_settings(s, {"seq_len_q=3", "seq_len=40"});
    CHECK(s.problem.N_q == 3);  // set explicitly: seq_len no longer moves it
    CHECK(s.problem.N_kv == 40);
    scenarios::apply_settings(s, {"heads=8"});
    CHECK(s.problem.kv_heads == 8);
    scenarios::apply_settings(s, {"kv_heads=2", "heads=4"});
    CHECK(s.problem.kv_heads == 2);
    CHECK(s.problem.heads == 4);
    expect_error(s, "kv_heads=3", {"'heads' = 4", "'kv_heads' = 3", "multiple"});
    expect_error(s, "seq_len_q=0", {"key 'seq_len_q'", "positive"});
    expect_error(s, "mask=diagonal", {"key 'mask'", "'diagonal'"});
    // In a file, the order of the keys does not matter.
    const Scenario f = scenarios::parse_scenario_toml("seq_len_q = 5\nseq_len = 64\nkv_heads = 1\nheads = 4\n", "order.toml");
    CHECK(f.problem.N_q == 5);
    CHECK(f.problem.N_kv == 64);
    CHECK(f.problem.kv_heads == 1);
    const json j = scenarios::scenario_json(f);
    CHECK(j.at("seq_len_q") == 5);
    CHECK(j.at("seq_len") == 64);
    CHECK(j.at("kv_heads") == 1);
    CHECK(j.at("mask") == "none");
}

TEST_CASE("N_q != N_kv: counts equal the definitions' closed forms, outputs match the reference", "[scenarios][passes]") {
    // Queries fewer than keys (a chunk of a longer context) and more than keys; ragged against blocks.
    for (auto [nq, nkv] : {std::pair<int, int>{3, 40}, {40, 7}, {1, 33}}) {
        Scenario s = classroom({"pass=forward+backward", "seq_len=" + std::to_string(nkv), "seq_len_q=" + std::to_string(nq)});
        const auto r = scenarios::run_scenario(s);
        for (const auto& run : r.runs) {
            INFO(run.key() << " " << kernels::pass_name(run.pass()) << " N_q = " << nq << " N_kv = " << nkv);
            REQUIRE(run.fit.ok);
            CHECK(run.counts_match_closed_form());
            REQUIRE(run.max_abs_error.has_value());
            CHECK(*run.max_abs_error <= 2e-5);
        }
    }
}

TEST_CASE("published figures: parsed from the scenario, set beside the model's totals", "[scenarios][passes]") {
    const Scenario s = scenarios::resolve_scenario("gpt2-medium-train");
    CHECK(s.problem.passes == kernels::Passes::forward_backward);
    REQUIRE(s.published.size() == 2);
    CHECK(s.published[0].algorithm == "standard");
    CHECK(s.published[0].metrics[0] == std::pair<std::string, double>{"hbm_gb", 40.3});
    Scenario counted = s;
    counted.numerics = false;
    const auto r = scenarios::run_scenario(counted);
    const json j = scenarios::to_json(r);
    const auto& figs = j.at("published").at("figures");
    REQUIRE(figs.size() == 2);
    const auto totals = scenarios::pass_totals(r);
    for (const auto& f : figs) {
        const auto& hbm = f.at("metrics").at("hbm_gb");
        const auto it = std::find_if(totals.begin(), totals.end(), [&](const auto& t) { return t.key == f.at("algorithm"); });
        REQUIRE(it != totals.end());
        CHECK(hbm.at("model").get<double>() == Approx(static_cast<double>(it->hbm_bytes) / 1e9));
        CHECK(hbm.at("model_over_published").get<double>() ==
              Approx(hbm.at("model").get<double>() / hbm.at("published").get<double>()));
    }
    CHECK_THAT(scenarios::to_table(r), Catch::Contains("model/published") && Catch::Contains("why they differ"));
    // Bad figures are one clear error.
    Scenario t = scenarios::resolve_scenario("classroom");
    expect_error(t, "published=flash3: hbm_gb=1", {"key 'published'", "'flash3'"});
    expect_error(t, "published=flash: speed=3", {"key 'published'", "'speed=3'"});
    expect_error(t, "published=flash: hbm_gb=-1", {"key 'published'", "positive"});
    expect_error(t, "published=flash", {"key 'published'", "KEY: metric=value"});
    scenarios::apply_settings(t, {"algorithms=standard"});
    expect_error(t, "published=flash: hbm_gb=1", {"key 'published'", "'flash'", "not among"});
}
