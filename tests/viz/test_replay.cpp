// The view model's contract: replaying the model's trace reproduces its counters exactly, the trace
// declares everything the views draw (tensors, SRAM buffers, passes), and the decimated step list
// never drops what a person must be able to land on.
#include <catch2/catch.hpp>

#include <set>

#include "kernels/registry.h"
#include "scenarios/runner.h"
#include "viz/algorithms.h"
#include "viz/lanes.h"
#include "viz/replay.h"
#include "viz/sram_view.h"

using namespace tilesim;
using sim::Level;
using sim::Tensor;

namespace {

scenarios::ScenarioResult run_all(const std::string& id, const std::vector<std::string>& sets = {}) {
    auto s = scenarios::resolve_scenario(id);
    scenarios::apply_settings(s, sets);
    // Every key that has the passes asked for (the decode definitions are forward-only).
    s.algorithms = viz::runnable_keys(s);
    scenarios::RunControls c;
    c.trace = true;
    c.watch_block = 0;
    return scenarios::run_scenario(s, c);
}

viz::Replay replay_of(std::shared_ptr<const sim::Trace> t, const scenarios::Scenario& s) {
    return viz::Replay(std::move(t), s.hardware);
}
viz::Replay replay_of(const scenarios::AlgorithmRun& r, const scenarios::Scenario& s) {
    return replay_of(r.trace, s);
}

// Replaying all of `trace` gives `c` (the model's counters): HBM and L2 per tensor, flops, transfers,
// the SRAM peak, and heat-map cells that add up to the per-tensor HBM counts of declared tensors.
void check_replay_matches(const std::shared_ptr<const sim::Trace>& trace, const sim::Counters& c,
                          const scenarios::Scenario& s) {
    auto rp = replay_of(trace, s);
    rp.seek(static_cast<std::int64_t>(trace->events().size()) - 1);
    const auto& t = rp.totals();
    for (Level l : {Level::HBM, Level::L2}) {
        CHECK(t.at(l) == c.at(l));
        for (std::size_t x = 0; x < sim::kTensorCount; ++x) {
            CHECK(t.at(l, static_cast<Tensor>(x)) == c.at(l, static_cast<Tensor>(x)));
        }
    }
    CHECK(t.flops == c.flops());
    CHECK(t.transfers == c.transfers);
    CHECK(t.sram_peak_bytes == c.sram_peak_bytes);
    // Every tensor with HBM traffic is declared by the trace (so the GUI has a matrix to draw it in),
    // and its cells partition the matrix, so their elements add up to the counters.
    for (std::size_t x = 0; x < sim::kTensorCount; ++x) {
        const auto tensor = static_cast<Tensor>(x);
        CAPTURE(sim::tensor_name(tensor));
        const auto& hbm = c.at(Level::HBM, tensor);
        const auto* cells = rp.heat().find(tensor);
        if (hbm.total_elements() == 0 && cells == nullptr) continue;
        REQUIRE(cells != nullptr);
        std::int64_t rd = 0, wr = 0;
        for (auto v : cells->traffic.read_elements) rd += v;
        for (auto v : cells->traffic.write_elements) wr += v;
        CHECK(rd == hbm.read_elements);
        CHECK(wr == hbm.write_elements);
        if (!cells->decl.in_hbm) CHECK(hbm.total_elements() == 0);  // "never written to HBM" is true
    }
}

}  // namespace

TEST_CASE("replaying a whole trace gives the model's per-head counters exactly", "[replay]") {
    const auto [id, sets] = GENERATE(table<std::string, std::vector<std::string>>({
        {"classroom", {}},
        {"classroom-ragged", {}},
        {"gpt2-medium", {"seq_len=256", "numerics=false"}},
        {"eager-pytorch", {"seq_len=200", "numerics=false"}},
        {"classroom", {"hardware=A100-40GB", "seq_len=100", "head_dim=8"}},  // with an L2: re-reads hit it
        // The backward definitions too (recomputes, atomics, their own buffers and tensors), run after
        // their forward the way the GUI plays them.
        {"classroom", {"pass=forward+backward"}},
        {"classroom-ragged", {"pass=backward"}},
        {"gpt2-medium", {"seq_len=128", "numerics=false", "pass=forward+backward"}},
    }));
    CAPTURE(id, sets);
    const auto res = run_all(id, sets);
    REQUIRE(res.runs.size() ==
            viz::runnable_keys(res.scenario).size() * scenarios::passes_of(res.scenario).size());
    for (const auto& r : res.runs) {
        CAPTURE(r.key());
        REQUIRE(r.fit.ok);
        REQUIRE(r.trace);
        REQUIRE_FALSE(r.trace->truncated());
        // The trace carries its SRAM reservations: every buffer allocated once and released once.
        std::size_t allocs = 0, releases = 0;
        for (const auto& e : r.trace->events()) {
            allocs += e.op == sim::Op::Allocate ? 1 : 0;
            releases += e.op == sim::Op::Release ? 1 : 0;
        }
        CHECK(allocs == r.trace->buffers().size());
        CHECK(releases == allocs);
        CHECK(r.trace->phases().size() == r.phases.size());
        check_replay_matches(r.trace, r.per_head, res.scenario);
    }
    // Each key's lane (its passes joined) replays to the passes' counters added up.
    for (const auto& key : res.scenario.algorithms) {
        CAPTURE(key);
        const auto lane = viz::make_lane(res.runs, key);
        REQUIRE(lane.trace);
        CHECK(lane.pass_starts.size() == scenarios::passes_of(res.scenario).size());
        check_replay_matches(lane.trace, lane.per_head, res.scenario);
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
            CAPTURE(r.key(), budget, ev.size());
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
        REQUIRE(idx.buffers.size() == r.trace->buffers().size());
        for (const auto& life : idx.buffers) {
            CHECK(life.allocated >= 0);
            CHECK(life.released > life.allocated);
        }
        CHECK(idx.model_start.back() ==
              Approx(r.per_head.at(Level::HBM).total_bytes() / res.scenario.hardware.hbm_bytes_per_s +
                     static_cast<double>(r.per_head.flops()) / res.scenario.hardware.matmul_flops_per_s));
    }
}

TEST_CASE("SRAM view: the live buffers add up to the model's occupancy and hold the latest tile",
          "[replay]") {
    const auto res = run_all("classroom-ragged");
    for (const auto& r : res.runs) {
        CAPTURE(r.key());
        const auto idx = viz::build_trace_index(*r.trace, res.scenario.hardware, 1e-12);
        const auto& ev = r.trace->events();
        std::size_t most_live = 0;
        std::set<std::string> unbuffered;
        for (std::int64_t k = 0; k < static_cast<std::int64_t>(ev.size()); ++k) {
            const auto snap = viz::sram_at(*r.trace, idx, k, res.scenario.hardware.sram_bytes);
            REQUIRE(snap.consistent);
            REQUIRE(snap.capacity_bytes == res.scenario.hardware.sram_bytes);
            most_live = std::max(most_live, snap.slots.size());
            const auto& e = ev[static_cast<std::size_t>(k)];
            CHECK(snap.phase == e.phase);
            const bool holds = std::any_of(
                snap.slots.begin(), snap.slots.end(),
                [&](const viz::SramSlot& sl) { return sl.tensor == e.tensor || sl.alias == e.tensor; });
            if ((e.op == sim::Op::Load || e.op == sim::Op::Compute || e.op == sim::Op::Store) &&
                e.buffer < 0) {
                // A tile with no buffer at all (the model's hierarchy found none live for its
                // tensor): the view can only caption it. Never when a live buffer could hold it.
                CHECK_FALSE(holds);
                unbuffered.insert(std::string(sim::tensor_name(e.tensor)));
                continue;
            }
            if (e.op == sim::Op::Load || e.op == sim::Op::Compute || e.op == sim::Op::Store) {
                // The event names the buffer the tile lands in (or leaves from): it is live.
                const int slot = snap.slot_of(e.buffer);
                REQUIRE(slot >= 0);
                const auto& sl = snap.slots[static_cast<std::size_t>(slot)];
                CHECK((sl.tensor == e.tensor || sl.alias == e.tensor));
                if (e.op != sim::Op::Store) {
                    CHECK(sl.filled);
                    CHECK(sl.since_step == k);
                    CHECK(sl.tile == e.tile);
                    CHECK(sl.held == e.tensor);
                    CHECK(sl.computed == (e.op == sim::Op::Compute));
                }
            }
            if (e.op == sim::Op::Allocate) CHECK(snap.slot_of(e.buffer) >= 0);
            if (e.op == sim::Op::Release) CHECK(snap.slot_of(e.buffer) < 0);
        }
        CHECK(most_live >= 3);  // every algorithm holds at least a Q, a K and a result tile at once
        for (const auto& t : unbuffered)
            WARN(std::string(r.key()) + ": tiles of " + t + " are computed in no SRAM buffer");
    }
}

TEST_CASE("a trace appended to itself replays to twice the counters, with every id renumbered", "[replay]") {
    const auto res = run_all("classroom-ragged");
    for (const auto& r : res.runs) {
        CAPTURE(r.key());
        std::vector<std::int64_t> starts;
        const auto joined = viz::join_traces({r.trace.get(), r.trace.get()}, &starts);
        const auto n = static_cast<std::int64_t>(r.trace->events().size());
        REQUIRE(static_cast<std::int64_t>(joined->events().size()) == 2 * n);
        CHECK(starts == std::vector<std::int64_t>{0, n});
        CHECK_FALSE(joined->truncated());
        CHECK(joined->phases().size() == 2 * r.trace->phases().size());
        CHECK(joined->buffers().size() == 2 * r.trace->buffers().size());
        // Each run's declarations are kept (a backward may tile a tensor differently); the heat map
        // draws each tensor once.
        CHECK(joined->tensors().size() == 2 * r.trace->tensors().size());
        CHECK(viz::make_heat_map(*joined).tensors.size() == r.trace->tensors().size());
        const auto nb = static_cast<std::int32_t>(r.trace->buffers().size());
        const auto np = static_cast<std::int32_t>(r.trace->phases().size());
        for (std::int64_t k = 0; k < 2 * n; ++k) {
            const auto& e = joined->events()[static_cast<std::size_t>(k)];
            const auto& o = r.trace->events()[static_cast<std::size_t>(k % n)];
            REQUIRE(e.step == k);
            CHECK(e.buffer == (o.buffer < 0 ? -1 : o.buffer + (k >= n ? nb : 0)));
            CHECK(e.phase == (o.phase < 0 ? -1 : o.phase + (k >= n ? np : 0)));
        }
        sim::Counters twice = r.per_head;
        twice += r.per_head;
        check_replay_matches(joined, twice, res.scenario);
        // The SRAM view of the second copy is the first one's, step for step.
        const auto idx = viz::build_trace_index(*joined, res.scenario.hardware, 1e-12);
        for (std::int64_t k = 0; k < n; ++k) {
            const auto a = viz::sram_at(*joined, idx, k, res.scenario.hardware.sram_bytes);
            const auto b = viz::sram_at(*joined, idx, k + n, res.scenario.hardware.sram_bytes);
            REQUIRE(b.consistent);
            REQUIRE(a.slots.size() == b.slots.size());
            for (std::size_t q = 0; q < a.slots.size(); ++q) {
                CHECK(b.slots[q].buffer == a.slots[q].buffer + nb);
                CHECK(b.slots[q].tile == a.slots[q].tile);
                CHECK(b.slots[q].since_step == (a.slots[q].filled ? a.slots[q].since_step + n : -1));
            }
        }
    }
}

TEST_CASE("a lane plays its passes one after the other, counters added up", "[replay]") {
    const auto res = run_all("classroom");
    // Two passes of one key, whatever the table holds today: the forward run twice stands in for a
    // forward and its backward (the lane code never looks at what a pass is).
    const auto& fwd = res.runs.front();
    std::vector<scenarios::AlgorithmRun> runs{fwd, fwd};
    const auto lane = viz::make_lane(runs, std::string(fwd.key()));
    REQUIRE(lane.trace);
    CHECK(lane.runs == std::vector<std::size_t>{0, 1});
    CHECK_FALSE(lane.failed);
    const auto n = static_cast<std::int64_t>(fwd.trace->events().size());
    CHECK(lane.pass_starts == std::vector<std::int64_t>{0, n});
    CHECK(lane.per_head.at(Level::HBM).total_bytes() == 2 * fwd.per_head.at(Level::HBM).total_bytes());
    CHECK(lane.predicted_s == Approx(2 * fwd.cost.total_s));
    // One pass: the run's own trace, shared, not copied.
    const auto single = viz::make_lane(res.runs, std::string(fwd.key()));
    CHECK(single.trace.get() == fwd.trace.get());
    // A pass that does not fit: no trace, and the lane says which.
    runs[1].fit = sim::FitStatus::fails("too big", "smaller blocks", 2, 1);
    const auto failed = viz::make_lane(runs, std::string(fwd.key()));
    CHECK_FALSE(failed.trace);
    REQUIRE(failed.failed);
    CHECK(*failed.failed == 1);
}

TEST_CASE("atomic adds and recomputed tiles replay exactly", "[replay]") {
    // A hand-made schedule through the real hierarchy: what a backward does with dQ (FlashAttention-2
    // accumulates it in fp32 by atomic adds) and with S (recomputed from Q and K).
    auto hw = *sim::find_preset("classroom");
    sim::Hierarchy h(hw, sim::Dtype::fp32, true);
    h.declare({Tensor::Q, 8, 4, 4, 4, true, true});
    h.declare({Tensor::S, 8, 8, 4, 4, false, false});
    h.declare({Tensor::dQacc, 8, 4, 4, 4, true, false});
    h.begin_phase("backward", 1);
    sim::FitStatus st;
    const auto q = *h.allocate(Tensor::Q, 4, 4, "Q_i", &st);
    const auto sbuf = *h.allocate(Tensor::S, 4, 4, "S_ij", &st);
    const auto acc = *h.allocate(Tensor::dQacc, 4, 4, "dQ_i", &st);
    for (std::int32_t i = 0; i < 2; ++i) {
        h.load(Tensor::Q, {4 * i, 0, 4, 4}, i, -1, "load Q_i");
        h.compute(Tensor::S, {4 * i, 0, 4, 4}, 128, 0, 32, 16, i, 0, "recompute S_ij",
                  sim::flags::kRecompute);
        h.compute(Tensor::dQacc, {4 * i, 0, 4, 4}, 128, 0, 32, 16, i, 0, "dQ_i partial");
        h.atomic_add(Tensor::dQacc, {4 * i, 0, 4, 4}, i, 0, "dQ_i += partial");
    }
    h.release(acc);
    h.release(sbuf);
    h.release(q);
    std::shared_ptr<const sim::Trace> trace = h.take_trace();
    scenarios::Scenario s;
    s.hardware = hw;
    check_replay_matches(trace, h.counters(), s);
    viz::Replay rp(trace, hw);
    rp.seek(static_cast<std::int64_t>(trace->events().size()) - 1);
    // Both S tiles recomputed; each dQ tile read (the atomic's read half) and written once.
    const auto* S = rp.heat().find(Tensor::S);
    REQUIRE(S != nullptr);
    std::int64_t recomputed = 0;
    for (auto v : S->recomputed_elements) recomputed += v;
    CHECK(recomputed == 32);
    CHECK(rp.heat().find(Tensor::dQacc)->traffic.reads(0) == Approx(1.0));
    CHECK(rp.heat().find(Tensor::dQacc)->traffic.writes(1) == Approx(1.0));
    const auto idx = viz::build_trace_index(*trace, hw, 1e-12);
    CHECK(idx.has_recompute);
    CHECK(idx.has_atomic);
    // The recomputed tile sits in S's buffer, marked as such.
    std::int64_t first = 0;
    while (!trace->events()[static_cast<std::size_t>(first)].has(sim::flags::kRecompute)) ++first;
    const auto snap = viz::sram_at(*trace, idx, first, hw.sram_bytes);
    const int slot = snap.slot_of(trace->events()[static_cast<std::size_t>(first)].buffer);
    REQUIRE(slot >= 0);
    CHECK(snap.slots[static_cast<std::size_t>(slot)].recomputed);
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
