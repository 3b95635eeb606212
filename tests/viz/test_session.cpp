// The session: edits through the scenario key table, inline errors, runs off the UI thread.
#include <catch2/catch.hpp>

#include <chrono>

#include "scenarios/scenario.h"
#include "viz/session.h"

using namespace tilesim;
using kernels::AlgorithmId;

TEST_CASE("a session runs every algorithm and animates the watched one against its rival", "[session]") {
    viz::Session s;
    REQUIRE(s.wait_idle(60));
    REQUIRE(s.model() != nullptr);
    REQUIRE(s.model()->error.empty());
    REQUIRE(s.model()->result->runs.size() == 3);
    REQUIRE(s.lanes().size() == 2);
    CHECK(s.lanes()[0].algorithm == AlgorithmId::standard);
    CHECK(s.lanes()[1].algorithm == AlgorithmId::flash);
    CHECK(s.model()->request.numerics);
    CHECK_FALSE(s.run_of(AlgorithmId::flash)->probe.empty());
    REQUIRE(s.n_sweep() != nullptr);
    REQUIRE(s.n_sweep()->result);
    CHECK(s.n_sweep()->result->points.size() == viz::n_sweep_values(s.scenario()).size());
    REQUIRE(s.side_sweep() != nullptr);
    CHECK(s.side_sweep()->request.key == "sram_bytes");
    CHECK(s.last_update_latency() > 0);

    s.set_focus(AlgorithmId::flash2);
    CHECK(s.lanes()[0].algorithm == AlgorithmId::flash2);
    s.set_rival(AlgorithmId::flash2);  // racing itself means no rival
    CHECK(s.lanes().size() == 1);
    s.set_rival(std::nullopt);
    CHECK(s.lanes().size() == 1);
}

TEST_CASE("a bad value is reported for its key and changes nothing", "[session]") {
    viz::Session s;
    REQUIRE(s.wait_idle(60));
    const auto N = s.scenario().problem.N;
    const std::string err = s.set_value("seq_len", "0");
    CHECK_FALSE(err.empty());
    CHECK(err.find("seq_len") != std::string::npos);
    REQUIRE(s.field_error("seq_len") != nullptr);
    CHECK(s.scenario().problem.N == N);
    CHECK_FALSE(s.busy());  // nothing was re-run
    CHECK_FALSE(s.set_value("dtype", "fp8").empty());
    CHECK_FALSE(s.set_value("seq_len", "lots").empty());
    CHECK(s.set_value("seq_len", "32").empty());
    CHECK(s.field_error("seq_len") == nullptr);
    CHECK(s.scenario().problem.N == 32);
    REQUIRE(s.wait_idle(60));
    CHECK(s.model()->result->scenario.problem.N == 32);
    CHECK_FALSE(s.load_scenario("no-such-scenario").empty());
    CHECK(s.scenario().problem.N == 32);
}

TEST_CASE("a tile that does not fit is a status with a reason and a fix, not a crash", "[session]") {
    viz::Session s;
    REQUIRE(s.set_value("block_cols", "64").empty());  // valid key and value; the tile does not fit
    REQUIRE(s.wait_idle(60));
    const auto* fa = s.run_of(AlgorithmId::flash);
    REQUIRE(fa != nullptr);
    CHECK_FALSE(fa->fit.ok);
    CHECK_FALSE(fa->fit.reason.empty());
    CHECK_FALSE(fa->fit.fix.empty());
    CHECK(s.lanes()[1].index == nullptr);
    s.sync_replays();
    s.playback().step_forward();
    s.playback().seek_progress(0.5);
    s.sync_replays();
}

TEST_CASE("numerics are skipped for long sequences unless asked for", "[session]") {
    viz::Session s({"gpt2-medium"});
    REQUIRE(s.set_value("seq_len", "1024").empty());
    REQUIRE(s.wait_idle(60));
    CHECK_FALSE(s.model()->request.numerics);
    CHECK(s.run_of(AlgorithmId::flash)->probe.empty());
    s.set_force_numerics(true);
    REQUIRE(s.wait_idle(60));
    CHECK(s.model()->request.numerics);
    CHECK_FALSE(s.run_of(AlgorithmId::flash)->probe.empty());
}

TEST_CASE("a long run stays off the UI thread and a newer edit supersedes it", "[session]") {
    viz::Session s({"gpt2-medium"});
    REQUIRE(s.wait_idle(60));
    REQUIRE(s.set_value("seq_len", "65536").empty());
    // update() is what each frame calls: it must return at once whatever the model is doing.
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) s.update();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    CHECK(ms < 50);
    REQUIRE(s.set_value("seq_len", "512").empty());
    REQUIRE(s.wait_idle(120));
    CHECK(s.model()->result->scenario.problem.N == 512);  // the stale 65536 result never shows up
}

TEST_CASE("sweep values bracket the current size and keep within the time budget", "[session]") {
    auto gpt = scenarios::resolve_scenario("gpt2-medium");
    scenarios::apply_setting(gpt, "seq_len", "1024");
    const auto v = viz::n_sweep_values(gpt);
    CHECK(v.front() == "16");
    CHECK(v.back() == "16384");
    // The classroom's toy SRAM makes tiny tiles: the sweep stops where the runs would get slow.
    const auto room = scenarios::resolve_scenario("classroom");
    const auto c = viz::n_sweep_values(room);
    CHECK(c.front() == "16");
    CHECK(std::stoll(c.back()) < 4096);
    CHECK(c.size() >= 3);
    for (const auto& n : c) {
        auto s = room;
        scenarios::apply_setting(s, "seq_len", n);
        CHECK(viz::tile_pairs(s) <= viz::kSweepPairBudget);
    }
    // A long sequence keeps its own N in range, however costly.
    scenarios::apply_setting(gpt, "seq_len", "1048576");
    const auto big = viz::n_sweep_values(gpt);
    CHECK(std::find(big.begin(), big.end(), "1048576") != big.end());
    const auto m = viz::sram_sweep_values(room);
    CHECK(m.front() == "96");  // 384 / 4 is the first of at least 64 bytes
    CHECK(m.back() == "6144");
    const auto b = viz::block_sweep_values(room);
    CHECK(b.front() == "2");
    CHECK(b.back() == "16");
}
