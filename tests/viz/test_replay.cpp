// The view model's contract: replaying the model's trace reproduces its counters exactly, and the
// decimated step list never drops what a person must be able to land on.
#include <catch2/catch.hpp>

#include "kernels/registry.h"
#include "scenarios/runner.h"
#include "viz/replay.h"
#include "viz/sram_view.h"

using namespace tilesim;
using sim::Level;
using sim::Tensor;

namespace {

scenarios::ScenarioResult run_all(const std::string& id, const std::vector<std::string>& sets = {}) {
    auto s = scenarios::resolve_scenario(id);
    scenarios::apply_settings(s, sets);
    s.algorithms.clear();
    for (const auto& a : kernels::algorithms()) s.algorithms.push_back(a.id);
    scenarios::RunControls c;
    c.trace = true;
    c.watch_block = 0;
    return scenarios::run_scenario(s, c);
}

viz::Replay replay_of(const scenarios::AlgorithmRun& r, const scenarios::Scenario& s) {
    return viz::Replay(r.trace, s.hardware, viz::make_heat_map(s.problem, r.tiling, r.trace.get()));
}

}  // namespace

TEST_CASE("replaying a whole trace gives the model's per-head counters exactly", "[replay]") {
    const auto [id, sets] = GENERATE(table<std::string, std::vector<std::string>>({
        {"classroom", {}},
        {"classroom-ragged", {}},
        {"gpt2-medium", {"seq_len=256", "numerics=false"}},
        {"eager-pytorch", {"seq_len=200", "numerics=false"}},
        {"classroom", {"hardware=A100-40GB", "seq_len=100", "head_dim=8"}},  // with an L2: re-reads hit it
    }));
    CAPTURE(id, sets);
    const auto res = run_all(id, sets);
    for (const auto& r : res.runs) {
        CAPTURE(kernels::info(r.algorithm).key);
        REQUIRE(r.fit.ok);
        REQUIRE(r.trace);
        REQUIRE_FALSE(r.trace->truncated());
        auto rp = replay_of(r, res.scenario);
        rp.seek(static_cast<std::int64_t>(r.trace->events().size()) - 1);
        const auto& t = rp.totals();
        for (Level l : {Level::HBM, Level::L2}) {
            CHECK(t.at(l) == r.per_head.at(l));
            for (std::size_t x = 0; x < sim::kTensorCount; ++x) {
                CHECK(t.at(l, static_cast<Tensor>(x)) == r.per_head.at(l, static_cast<Tensor>(x)));
            }
        }
        CHECK(t.flops == r.per_head.flops());
        CHECK(t.transfers == r.per_head.transfers);
        CHECK(t.sram_peak_bytes == r.per_head.sram_peak_bytes);
        // The heat map's cells partition each matrix, so its elements add up to the counters too.
        for (std::size_t x = 0; x < sim::kTensorCount; ++x) {
            const auto& cells = rp.heat().tensors[x];
            std::int64_t rd = 0, wr = 0;
            for (auto v : cells.read_elements) rd += v;
            for (auto v : cells.write_elements) wr += v;
            CHECK(rd == r.per_head.at(Level::HBM, static_cast<Tensor>(x)).read_elements);
            CHECK(wr == r.per_head.at(Level::HBM, static_cast<Tensor>(x)).write_elements);
        }
    }
}

TEST_CASE("the counters at step k are the sum of events 0..k, whichever way the cursor moved", "[replay]") {
    const auto res = run_all("classroom-ragged");
    for (const auto& r : res.runs) {
        const auto& ev = r.trace->events();
        const auto n = static_cast<std::int64_t>(ev.size());
        auto rp = replay_of(r, res.scenario);
        std::int64_t hbm_read = 0, hbm_write = 0, flops = 0;
        for (std::int64_t k = 0; k < n; ++k) {
            const auto& e = ev[static_cast<std::size_t>(k)];
            if (e.op == sim::Op::Load && e.from == Level::HBM) hbm_read += e.bytes;
            if (viz::is_hbm_write(e)) hbm_write += e.bytes;
            flops += e.flops;
            rp.seek(k);
            REQUIRE(rp.position() == k);
            REQUIRE(rp.totals().at(Level::HBM).read_bytes == hbm_read);
            REQUIRE(rp.totals().at(Level::HBM).write_bytes == hbm_write);
            REQUIRE(rp.totals().flops == flops);
        }
        // Backwards (replays from the start) lands on the same figures as forwards.
        auto fwd = replay_of(r, res.scenario);
        fwd.seek(n / 2);
        rp.seek(n / 2);
        CHECK(rp.totals().at(Level::HBM) == fwd.totals().at(Level::HBM));
        CHECK(rp.totals().flops == fwd.totals().flops);
        rp.seek(-5);
        CHECK(rp.position() == -1);
        CHECK(rp.totals().at(Level::HBM).total_bytes() == 0);
        rp.seek(n + 100);
        CHECK(rp.position() == n - 1);
    }
}

TEST_CASE("decimation keeps the first and last events, every pass boundary and every HBM write", "[replay]") {
    const auto res = run_all("gpt2-medium", {"seq_len=1024", "numerics=false"});
    for (const auto& r : res.runs) {
        const auto& ev = r.trace->events();
        for (std::size_t budget : {std::size_t{50}, std::size_t{300}, ev.size() / 2, ev.size() + 10}) {
            CAPTURE(kernels::info(r.algorithm).key, budget, ev.size());
            const auto kept = viz::decimate(ev, budget);
            REQUIRE_FALSE(kept.empty());
            CHECK(kept.front() == 0);
            CHECK(kept.back() == static_cast<std::int64_t>(ev.size()) - 1);
            CHECK(std::is_sorted(kept.begin(), kept.end()));
            CHECK(std::adjacent_find(kept.begin(), kept.end()) == kept.end());
            std::size_t mandatory = 2;
            for (std::size_t k = 0; k < ev.size(); ++k) {
                if (viz::is_hbm_write(ev[k]) || ev[k].op == sim::Op::Phase) {
                    ++mandatory;
                    CHECK(std::binary_search(kept.begin(), kept.end(), static_cast<std::int64_t>(k)));
                }
            }
            CHECK(kept.size() <= std::max(budget, mandatory));
            if (ev.size() <= budget) CHECK(kept.size() == ev.size());
        }
    }
    CHECK(viz::decimate({}, 10).empty());
}

TEST_CASE("the trace index maps animation time to events and lists HBM writes and passes", "[replay]") {
    const auto res = run_all("classroom");
    for (const auto& r : res.runs) {
        const auto idx = viz::build_trace_index(*r.trace, res.scenario.hardware, 1e-12);
        const auto n = idx.size();
        REQUIRE(n == static_cast<std::int64_t>(r.trace->events().size()));
        CHECK(idx.event_at(-1.0) == 0);
        CHECK(idx.event_at(idx.anim_duration() * 2) == n - 1);
        for (std::int64_t k = 0; k < n; ++k) {
            const double mid = 0.5 * (idx.anim_start[static_cast<std::size_t>(k)] +
                                      idx.anim_start[static_cast<std::size_t>(k) + 1]);
            REQUIRE(idx.event_at(mid) == k);  // every event has a moment of its own (the floor)
        }
        for (auto w : idx.hbm_writes)
            CHECK(viz::is_hbm_write(r.trace->events()[static_cast<std::size_t>(w)]));
        CHECK(idx.phase_events.size() == r.phases.size());
        CHECK(idx.model_start.back() ==
              Approx(r.per_head.at(Level::HBM).total_bytes() / res.scenario.hardware.hbm_bytes_per_s +
                     static_cast<double>(r.per_head.flops()) / res.scenario.hardware.matmul_flops_per_s));
    }
}

TEST_CASE("SRAM view: the buffers add up to the model's occupancy and hold the latest tile", "[replay]") {
    const auto res = run_all("classroom-ragged");
    for (const auto& r : res.runs) {
        CAPTURE(kernels::info(r.algorithm).key);
        const auto idx = viz::build_trace_index(*r.trace, res.scenario.hardware, 1e-12);
        const auto& ev = r.trace->events();
        for (std::int64_t k = 0; k < static_cast<std::int64_t>(ev.size()); ++k) {
            const auto snap = viz::sram_at(r, res.scenario, k, idx.phase_events);
            REQUIRE(snap.consistent);
            REQUIRE(snap.capacity_bytes == res.scenario.hardware.sram_bytes);
            const auto& e = ev[static_cast<std::size_t>(k)];
            if (e.op == sim::Op::Load && e.to == Level::SRAM) {
                bool found = false;
                for (const auto& s : snap.slots) {
                    if (s.filled && s.since_step == k) {
                        found = true;
                        CHECK(s.tile == e.tile);
                        CHECK(s.held == e.tensor);
                    }
                }
                CHECK(found);
            }
        }
    }
}

TEST_CASE("tile grids merge tiles of big problems into at most kMaxCells per side", "[replay]") {
    const auto g = viz::make_grid(65536, 65536, 64, 256);
    CHECK(g.cells_r <= viz::kMaxCells);
    CHECK(g.cells_c <= viz::kMaxCells);
    CHECK(g.aggregated());
    const auto small = viz::make_grid(18, 4, 4, 4);  // ragged: 5 row tiles, the last of 2 rows
    CHECK(small.cells_r == 5);
    CHECK(small.cells_c == 1);
    CHECK(small.cell_rect(4, 0).rows == 2);
    std::int64_t total = 0;
    small.for_each_overlap({3, 0, 10, 4}, [&](std::int32_t, std::int64_t el) { total += el; });
    CHECK(total == 40);
}
