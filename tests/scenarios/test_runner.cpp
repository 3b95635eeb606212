// scenarios/runner.h: counts for all heads scale exactly by B*H, numerics on a sample of heads, the
// closed forms and predicted time beside them, refusal of numerics that would not fit in memory.
#include <catch2/catch.hpp>

#include "kernels/reference.h"
#include "kernels/registry.h"
#include "scenarios/runner.h"

using namespace tilesim;
using scenarios::Scenario;
using scenarios::ScenarioError;

namespace {
Scenario classroom() {
    return scenarios::resolve_scenario("classroom");
}
}  // namespace

TEST_CASE("runner: totals are exactly B*H times one head, the SRAM peak stays per block",
          "[scenarios][runner]") {
    Scenario s = classroom();
    scenarios::apply_settings(s, {"batch=3", "heads=5", "numerics_heads=2"});
    const auto r = scenarios::run_scenario(s);
    REQUIRE(r.runs.size() == 3);
    for (const auto& run : r.runs) {
        INFO(run.key());
        REQUIRE(run.fit.ok);
        // One head, straight from the kernel: the runner's per-head counters are that.
        kernels::RunOptions o;
        o.numerics = false;
        const auto one = kernels::run(*run.def, s.problem, s.tiling, s.hardware, nullptr, o);
        CHECK(run.per_head.level == one.counters.level);
        CHECK(run.per_head.by_tensor == one.counters.by_tensor);
        // Totals: x 15 in every traffic field and in flops, never in the peak.
        for (std::size_t lv = 0; lv < sim::kLevelCount; ++lv) {
            CHECK(run.total.level[lv].read_elements == 15 * run.per_head.level[lv].read_elements);
            CHECK(run.total.level[lv].write_elements == 15 * run.per_head.level[lv].write_elements);
            CHECK(run.total.level[lv].read_bytes == 15 * run.per_head.level[lv].read_bytes);
            CHECK(run.total.level[lv].write_bytes == 15 * run.per_head.level[lv].write_bytes);
            for (std::size_t t = 0; t < sim::kTensorCount; ++t) {
                CHECK(run.total.by_tensor[lv][t].read_elements ==
                      15 * run.per_head.by_tensor[lv][t].read_elements);
                CHECK(run.total.by_tensor[lv][t].write_bytes ==
                      15 * run.per_head.by_tensor[lv][t].write_bytes);
            }
        }
        CHECK(run.total.matmul_flops == 15 * run.per_head.matmul_flops);
        CHECK(run.total.other_flops == 15 * run.per_head.other_flops);
        CHECK(run.total.sram_peak_bytes == run.per_head.sram_peak_bytes);
        // Closed form, per head; the paper's formula; the cost model over all heads.
        kernels::RunOptions co;
        co.extra_passes = s.extra_passes;
        const auto cf = run.def->closed_form(s.problem, run.tiling, s.hardware, co);
        CHECK(run.closed_form.hbm_read_elements() == cf.hbm_read_elements());
        CHECK(run.closed_form.hbm_write_elements() == cf.hbm_write_elements());
        CHECK(run.counts_match_closed_form());
        CHECK(run.paper_total_elements == run.def->paper_elements(s.problem, run.tiling));
        // The paper's roofline is kept beside the timeline, whose passes add up to the predicted time.
        const auto cost = sim::predict(s.hardware, run.phases, 15);
        CHECK(run.paper_cost.total_s == Approx(cost.total_s));
        CHECK(run.cost.total_s == Approx(run.timeline.total_s));
        REQUIRE(run.timeline.phases.size() == run.phases.size());
        double sum = 0;
        for (const auto& ph : run.timeline.phases) sum += ph.time_s;
        CHECK(run.cost.total_s == Approx(sum));
        CHECK(run.cost.total_s > 0);
        // Numerics on 2 of the 15 heads, each against its own reference.
        CHECK(run.heads_checked == 2);
        REQUIRE(run.max_abs_error.has_value());
        CHECK(*run.max_abs_error <= 1e-5);  // fp32 vs fp64, see tests/kernels/test_numerics.cpp
        REQUIRE(run.rel_error.has_value());
        CHECK(*run.rel_error <= 1e-5);
    }
}

TEST_CASE("runner: the numerics error is the worst over the sampled heads", "[scenarios][runner]") {
    Scenario s = classroom();
    scenarios::apply_settings(s, {"heads=3", "numerics_heads=3", "seed=40"});
    const auto r = scenarios::run_scenario(s);
    for (const auto& run : r.runs) {
        double worst = 0;
        for (std::uint64_t h = 0; h < 3; ++h) {
            auto in = kernels::random_inputs(s.problem, 40 + h);  // seed + head
            const auto ref = kernels::reference_attention(kernels::inputs_of(in));
            kernels::RunOptions o;
            REQUIRE(kernels::run(*run.def, s.problem, s.tiling, s.hardware, &in, o).fit.ok);
            worst = std::max(worst, kernels::compare(in[sim::Tensor::O], ref).max_abs);
        }
        REQUIRE(run.max_abs_error.has_value());
        CHECK(*run.max_abs_error == worst);
    }
}

TEST_CASE("runner: count-only has no error figures and identical counts", "[scenarios][runner]") {
    Scenario s = classroom();
    const auto with = scenarios::run_scenario(s);
    s.numerics = false;
    const auto without = scenarios::run_scenario(s);
    for (std::size_t a = 0; a < with.runs.size(); ++a) {
        CHECK_FALSE(without.runs[a].max_abs_error.has_value());
        CHECK_FALSE(without.runs[a].rel_error.has_value());
        CHECK(without.runs[a].heads_checked == 0);
        CHECK(with.runs[a].per_head.by_tensor == without.runs[a].per_head.by_tensor);
        CHECK(with.runs[a].total.level == without.runs[a].total.level);
    }
}

TEST_CASE("runner: refuses numerics that need more host memory than is free, naming numerics=false",
          "[scenarios][runner]") {
    REQUIRE(scenarios::host_memory_available() > 0);  // Linux: /proc/meminfo
    Scenario s = scenarios::default_scenario();
    scenarios::apply_settings(s, {"seq_len=1048576", "batch=1", "heads=1", "numerics=true"});
    // The fp64 reference alone would hold N^2 doubles: 2^40 x 8 B = 8 TiB.
    CHECK(static_cast<double>(s.problem.N_q) * static_cast<double>(s.problem.N_kv) * 8 >= static_cast<double>(std::int64_t{1} << 43));
    try {
        scenarios::run_scenario(s);
        FAIL("no error");
    } catch (const ScenarioError& e) {
        const std::string msg = e.what();
        CHECK_THAT(msg, Catch::Contains("numerics=false") && Catch::Contains("seq_len = 1048576") &&
                            Catch::Contains("GiB"));
    }
}

TEST_CASE("runner: an algorithm whose tiles do not fit reports why, the others still run",
          "[scenarios][runner]") {
    Scenario s = classroom();
    // B_r = 4, B_c = 8 (fp32, d = 4): standard's GEMM tiles (16 + 32 + 32) x 4 = 320 B fit; FA1 and FA2
    // need (2 x 32 + 2 x 16 + 32) x 4 + 2 x 4 x 4 = 544 B > 384 B.
    scenarios::apply_settings(s, {"block_rows=4", "block_cols=8"});
    const auto r = scenarios::run_scenario(s);
    REQUIRE(r.runs.size() == 3);
    CHECK(r.runs[0].fit.ok);
    CHECK(r.runs[0].counts_match_closed_form());
    CHECK(r.runs[0].max_abs_error.has_value());
    for (std::size_t a : {1, 2}) {
        CHECK_FALSE(r.runs[a].fit.ok);
        CHECK_THAT(r.runs[a].fit.reason, Catch::Contains("544 B") && Catch::Contains("384 B"));
        CHECK_FALSE(r.runs[a].fit.fix.empty());
        CHECK_FALSE(r.runs[a].counts_match_closed_form());
        CHECK_FALSE(r.runs[a].max_abs_error.has_value());
        CHECK(r.runs[a].total.transfers == 0);
    }
}

TEST_CASE("runner: trace and probe of head 0 on request, progress, cancel", "[scenarios][runner]") {
    Scenario s = classroom();
    scenarios::RunControls c;
    c.trace = true;
    c.watch_block = 1;
    std::vector<std::pair<std::int64_t, std::int64_t>> calls;
    c.progress = [&](std::int64_t done, std::int64_t total) { calls.emplace_back(done, total); };
    const auto r = scenarios::run_scenario(s, c);
    for (const auto& run : r.runs) {
        REQUIRE(run.trace);
        CHECK_FALSE(run.trace->events().empty());
        CHECK(static_cast<std::int64_t>(run.trace->events().size()) > run.per_head.transfers);
    }
    CHECK(r.runs[0].probe.empty());  // standard attention has no online softmax
    CHECK(r.runs[1].probe.size() == 4);
    CHECK(r.runs[2].probe.size() == 4);
    REQUIRE(calls.size() == 3);  // one unit per algorithm, one head
    for (std::size_t k = 0; k < calls.size(); ++k) {
        CHECK(calls[k].first == static_cast<std::int64_t>(k + 1));
        CHECK(calls[k].second == 3);
    }
    // Without the request: no trace.
    const auto plain = scenarios::run_scenario(s);
    CHECK_FALSE(plain.runs[0].trace);

    std::atomic<bool> cancel{true};
    scenarios::RunControls cc;
    cc.cancel = &cancel;
    CHECK_THROWS_AS(scenarios::run_scenario(s, cc), ScenarioError);
}

TEST_CASE("runner: validates the scenario it is given", "[scenarios][runner]") {
    Scenario s = classroom();
    s.problem.N_kv = 0;
    CHECK_THROWS_AS(scenarios::run_scenario(s), ScenarioError);
}

TEST_CASE("runner: totals that would overflow 64-bit counters are refused, not wrapped",
          "[scenarios][runner]") {
    // B*H = 2^20 heads of N = 65536, d = 1024: validate()'s byte bound passes (2^20 x 2^32 x 128 B =
    // 5.8e17), but the matmul FLOPs are 4 N^2 d x B*H = 2^2 x 2^32 x 2^10 x 2^20 = 2^64: they used to
    // wrap around to exactly 0 in the JSON. Count-only, FA2 only, to keep it fast.
    auto s = scenarios::default_scenario();
    scenarios::apply_settings(s, {"batch=1024", "heads=1024", "seq_len=65536", "head_dim=1024",
                                  "numerics=false", "algorithms=flash2"});
    try {
        scenarios::run_scenario(s);
        FAIL("no error");
    } catch (const ScenarioError& e) {
        CHECK_THAT(std::string(e.what()), Catch::Contains("'batch' x 'heads'") &&
                                              Catch::Contains("overflow") && Catch::Contains("reduce"));
    }
    // A quarter of the heads fits: 2^62 matmul FLOPs, exactly.
    scenarios::apply_settings(s, {"batch=256"});
    const auto r = scenarios::run_scenario(s);
    CHECK(r.runs[0].total.matmul_flops == std::int64_t{1} << 62);
}
