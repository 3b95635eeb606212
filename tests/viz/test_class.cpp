// The GUI for a class: the thread-hierarchy view against the model's launch, the presenter keys
// against what the F1 window says they do, and the traps a new user fell into (a stale scenario
// description, a play speed that did not adapt, labels that disagreed with what they label).
#include <catch2/catch.hpp>

#include <imgui.h>
#include <imgui_internal.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "scenarios/timing.h"
#include "sim/timeline.h"
#include "tests/viz/imgui_context.h"
#include "viz/app.h"
#include "viz/format.h"
#include "viz/memory_widgets.h"
#include "viz/plot.h"
#include "viz/theme.h"
#include "viz/thread_grid.h"

using namespace tilesim;
using Context = viz::test::HeadlessContext;
using viz::test::frame;
using viz::test::vertices;
using kernels::Pass;

namespace {

viz::Options options(std::vector<std::string> args) {
    const auto p = viz::parse_options(args);
    REQUIRE(p.error.empty());
    return p.options;
}

void type(viz::App& app, char c) {
    ImGui::GetIO().AddInputCharacter(static_cast<unsigned>(c));
    frame(app);
}

void press_key(viz::App& app, ImGuiKey k) {
    ImGuiIO& io = ImGui::GetIO();
    io.KeysDown[io.KeyMap[k]] = true;
    frame(app);
    io.KeysDown[io.KeyMap[k]] = false;
    frame(app);
}

const sim::Event& at_play_head(const viz::Session& s) {
    const auto& ev = s.lanes()[0].trace()->events();
    return ev.at(static_cast<std::size_t>(s.playback().event(0)));
}

}  // namespace

TEST_CASE("the thread grid is the pass's parallel units, in the model's waves", "[threads]") {
    viz::Session s;
    REQUIRE(s.wait_idle(60));
    s.set_focus("flash2");
    const auto* run = s.run_of("flash2", Pass::forward);
    REQUIRE(run != nullptr);
    const viz::ThreadGrid* g = viz::lane_thread_grid(s, 0);
    REQUIRE(g != nullptr);
    // FlashAttention-2 runs one thread block per Q block: T_r of them per head (4 in the classroom).
    CHECK(g->blocks_per_unit == run->tiling.T_r);
    CHECK(g->blocks_per_unit == 4);
    CHECK(g->total_blocks == run->units * run->tiling.T_r);
    CHECK(g->q_resident);
    // Each block alone moves its own Q_i and O_i (rows i B_r .. (i+1) B_r), and shares every K_j.
    REQUIRE(g->block_tiles.size() == 4);
    for (std::size_t b = 0; b < 4; ++b) {
        const auto& tiles = g->block_tiles[b];
        const auto r0 = static_cast<std::int64_t>(b) * run->tiling.B_r;
        auto has = [&](sim::Tensor t, bool owned) {
            return std::any_of(tiles.begin(), tiles.end(), [&](const viz::BlockTile& x) {
                return x.tensor == t && x.owned == owned && x.tile.row0 == r0;
            });
        };
        CHECK(has(sim::Tensor::Q, true));
        CHECK(has(sim::Tensor::O, true));
        const auto k_shared = std::count_if(tiles.begin(), tiles.end(), [](const viz::BlockTile& x) {
            return x.tensor == sim::Tensor::K && !x.owned;
        });
        CHECK(k_shared == run->tiling.T_c);
    }
    // The classroom machine has one SM holding one block: four waves of one block, none a tail.
    CHECK(g->slots == 1);
    CHECK(g->waves == 4);
    CHECK(g->wave_of(0, 3) == 3);
    CHECK(g->tail_blocks == 1);

    // FlashAttention (Algorithm 1): one block per head loops over K/V blocks outside.
    s.set_focus("flash");
    const viz::ThreadGrid* g1 = viz::lane_thread_grid(s, 0);
    REQUIRE(g1 != nullptr);
    CHECK(g1->blocks_per_unit == 1);
    CHECK_FALSE(g1->q_resident);
}

TEST_CASE("waves and occupancy come from the model's launch for a real preset", "[threads]") {
    viz::Session s;
    REQUIRE(s.load_scenario("gpt2-medium").empty());
    REQUIRE(s.wait_idle(120));
    s.set_focus("flash2");
    const auto* run = s.run_of("flash2", Pass::forward);
    REQUIRE(run != nullptr);
    REQUIRE_FALSE(run->timeline.phases.empty());
    const sim::PhaseTimeline& t = run->timeline.phases[0];
    const viz::ThreadGrid* g = viz::lane_thread_grid(s, 0);
    REQUIRE(g != nullptr);
    // Batch 64 x 16 heads x T_r Q blocks, as the timeline launched them.
    CHECK(g->total_blocks == t.blocks);
    CHECK(g->total_blocks == 64 * 16 * run->tiling.T_r);
    CHECK(g->blocks_per_sm == t.blocks_per_sm);
    CHECK(g->slots == t.slots);
    CHECK(g->waves == static_cast<std::int64_t>(std::ceil(t.waves - 1e-9)));
    CHECK(g->tail_blocks == g->total_blocks - (g->waves - 1) * g->slots);
    CHECK(g->wave_of(g->units - 1, g->blocks_per_unit - 1) == g->waves - 1);
    CHECK(g->warps * 32 == g->threads);
    CHECK(g->occupancy_limit == t.occupancy_limit);
}

TEST_CASE("warps split a block's rows: 4 warps x 16 rows for B_r = 64", "[threads]") {
    const auto four = viz::split_rows(4, false, 64);
    REQUIRE(four.size() == 4);
    for (std::size_t w = 0; w < 4; ++w) {
        CHECK(four[w].rows == 16);
        CHECK(four[w].row0 == static_cast<std::int64_t>(16 * w));
        CHECK_FALSE(four[w].producer);
    }
    // A producer warp group (FlashAttention-3's schedules) holds no rows; 8 consumers share 128.
    const auto fa3 = viz::split_rows(12, true, 128);
    REQUIRE(fa3.size() == 12);
    for (std::size_t w = 0; w < 4; ++w) CHECK((fa3[w].producer && fa3[w].rows == 0));
    for (std::size_t w = 4; w < 12; ++w) CHECK(fa3[w].rows == 16);
    CHECK(fa3[11].row0 + fa3[11].rows == 128);
    CHECK(fa3[8].group == 2);
    // Fewer rows than warps: the last warps get none.
    const auto few = viz::split_rows(4, false, 2);
    CHECK(few[0].rows == 1);
    CHECK(few[3].rows == 0);
}

TEST_CASE("hovering a thread block picks it for the memory view", "[threads]") {
    Context ctx;
    viz::App app(options({"classroom", "--algorithm", "flash2", "--panel", "threads", "--progress", "0.2"}));
    REQUIRE(app.session().wait_idle(60));
    for (int i = 0; i < 3; ++i) frame(app);
    CHECK(app.ui().tab == viz::MainTab::threads);
    // Sweep the mouse along the grid's row until the third block (id 2) is under it.
    std::int64_t seen = -1;
    for (float x = 300; x < 900 && seen != 2; x += 8) {
        for (float y = 120; y < 260 && seen != 2; y += 12) {
            ImGui::GetIO().MousePos = ImVec2(x, y);
            frame(app);
            seen = app.ui().thread_hover.block;
        }
    }
    REQUIRE(seen == 2);
    const viz::ThreadGrid* g = viz::lane_thread_grid(app.session(), 0);
    REQUIRE(g != nullptr);
    CHECK(app.ui().thread_hover.phase == g->phase);
    // A click keeps it; the memory view then outlines the block's tiles (more vertices than without).
    ImGui::GetIO().MouseDown[0] = true;
    frame(app);
    ImGui::GetIO().MouseDown[0] = false;
    frame(app);
    CHECK(app.ui().thread_selected.block == 2);
    ImGui::GetIO().MousePos = ImVec2(-100, -100);
    app.ui().tab = viz::MainTab::memory;
    app.ui().select_tab = true;
    for (int i = 0; i < 3; ++i) frame(app);
    const int with = ImGui::FindWindowByName("Main")->DrawList->VtxBuffer.Size;
    app.ui().thread_selected = {};
    frame(app);
    const int without = ImGui::FindWindowByName("Main")->DrawList->VtxBuffer.Size;
    CHECK(with > without);
}

TEST_CASE("presenter keys do what the F1 window says", "[keys]") {
    Context ctx;
    viz::App app(options({"classroom", "--algorithm", "flash2"}));
    REQUIRE(app.session().wait_idle(60));
    frame(app);
    auto& s = app.session();
    auto& pb = s.playback();
    const auto rows = app.help_rows();
    auto says = [&](const std::string& keys, const std::string& what) {
        return std::any_of(rows.begin(), rows.end(), [&](const auto& r) {
            return r.first.find(keys) != std::string::npos && r.second.find(what) != std::string::npos;
        });
    };
    REQUIRE(says("J", "next K/V block"));
    REQUIRE(says("Page Down", "next K/V block"));
    REQUIRE(says("Page Up", "K/V block"));
    REQUIRE(says("I", "next Q block"));
    REQUIRE(says("N", "next pass"));
    REQUIRE(says("Space", "play / pause"));
    REQUIRE(says("T", "threads"));

    // J: the first event of the next K/V block; FA2's inner loop runs j = 0, 1, 2, 3 per Q block.
    type(app, 'j');
    CHECK(at_play_head(s).j == 0);
    CHECK(at_play_head(s).i == 0);
    type(app, 'j');
    CHECK(at_play_head(s).j == 1);
    const auto e1 = pb.event(0);
    const auto& ev = s.lanes()[0].trace()->events();
    for (auto k = e1 - 1; k >= 0 && ev[static_cast<std::size_t>(k)].j != 0; --k)
        CHECK(ev[static_cast<std::size_t>(k)].j < 0);  // nothing of block 1 before it
    press_key(app, ImGuiKey_PageDown);
    CHECK(at_play_head(s).j == 2);
    press_key(app, ImGuiKey_PageUp);
    CHECK(at_play_head(s).j == 1);
    CHECK(pb.event(0) == e1);
    // I: the next Q block.
    type(app, 'i');
    CHECK(at_play_head(s).i == 1);
    type(app, 'i');
    CHECK(at_play_head(s).i == 2);
    CHECK_FALSE(pb.playing());
    // Space plays, and again pauses.
    press_key(app, ImGuiKey_Space);
    CHECK(pb.playing());
    press_key(app, ImGuiKey_Space);
    CHECK_FALSE(pb.playing());
    // N: standard attention's forward is three kernel passes (S = QK^T, softmax, PV).
    REQUIRE(s.set_focus("standard").empty());
    frame(app);
    pb.to_start();
    const auto& sev = s.lanes()[0].trace()->events();
    REQUIRE(s.lanes()[0].trace()->phases().size() >= 3);
    type(app, 'n');  // the first event is the first pass's start: the next one is the second pass
    CHECK(sev.at(static_cast<std::size_t>(pb.event(0))).op == sim::Op::Phase);
    CHECK(sev.at(static_cast<std::size_t>(pb.event(0))).phase == 1);
    type(app, 'n');
    CHECK(sev.at(static_cast<std::size_t>(pb.event(0))).phase == 2);
    type(app, 't');
    frame(app);
    CHECK(app.ui().tab == viz::MainTab::threads);
}

TEST_CASE("the scenario description follows the edits", "[session]") {
    viz::Session s;
    REQUIRE(s.wait_idle(60));
    CHECK(s.description() == s.scenario().description);
    CHECK(s.description().find("N = 16") != std::string::npos);
    REQUIRE(s.set_value("seq_len", "64").empty());
    REQUIRE(s.set_value("head_dim", "8").empty());
    CHECK(s.edited());
    CHECK(s.description().find("N = 64") != std::string::npos);
    CHECK(s.description().find("d = 8") != std::string::npos);
    CHECK(s.description().find("N = 16") == std::string::npos);
    // Back to the loaded values: the scenario's own words again.
    REQUIRE(s.set_value("seq_len", "16").empty());
    REQUIRE(s.set_value("head_dim", "4").empty());
    CHECK_FALSE(s.edited());
    CHECK(s.description() == s.scenario().description);
}

TEST_CASE("the play speed is chosen again after an edit, unless the person chose one", "[session]") {
    viz::Session s;
    REQUIRE(s.wait_idle(60));
    CHECK(s.playback().speed() == 4.0);  // a classroom trace: 4 steps a second
    REQUIRE(s.set_value("seq_len", "256").empty());
    REQUIRE(s.wait_idle(60));
    const double steps = static_cast<double>(s.playback().focus()->size());
    CHECK(s.playback().speed() == std::max(4.0, std::round(steps / 45.0)));
    CHECK(s.playback().speed() > 4.0);
    s.playback().set_speed(7.0);  // the person's choice stays
    REQUIRE(s.set_value("seq_len", "128").empty());
    REQUIRE(s.wait_idle(60));
    CHECK(s.playback().speed() == 7.0);
}

TEST_CASE("the SRAM label says what the bar shows, at every step", "[sram]") {
    viz::Session s;
    REQUIRE(s.wait_idle(60));
    for (const char* key : {"flash", "flash2", "standard"}) {
        REQUIRE(s.set_focus(key).empty());
        const viz::Lane& lane = s.lanes()[0];
        REQUIRE(lane.trace() != nullptr);
        const auto n = static_cast<std::int64_t>(lane.trace()->events().size());
        int live_steps = 0;
        for (std::int64_t k = 0; k < n; ++k) {
            const viz::SramSnapshot snap =
                viz::sram_at(*lane.trace(), *lane.index, k, s.scenario().hardware.sram_bytes);
            const std::int64_t bar = snap.consistent ? snap.slot_bytes() : snap.used_bytes;
            const std::string label = viz::sram_usage_label(snap);
            CAPTURE(key, k, label);
            CHECK(label.rfind("in use " + viz::fmt_binary_bytes(bar) + " (", 0) == 0);
            if (!snap.slots.empty()) {
                ++live_steps;
                CHECK(label.rfind("in use 0 B", 0) != 0);  // a bar with segments is never "0 B"
            }
        }
        CHECK(live_steps > n / 2);
    }
}

TEST_CASE("coinciding curves keep distinct markers", "[plot]") {
    // Standard attention and FlashAttention-2 move the same bytes against B_c: their markers differ in
    // shape, so the one drawn later does not hide the other.
    viz::PlotSeries standard{"standard", 0xFF0000FF, {16, 32}, {100, 100}};
    viz::PlotSeries flash{"flash", 0xFF00FF00, {16, 32}, {50, 25}};
    viz::PlotSeries flash2{"flash2", 0xFFFF0000, {16, 32}, {100, 100}};
    viz::PlotSeries theory{"theory", 0xFFFFFFFF, {16, 32}, {90, 90}, true, false};
    const auto shapes = viz::marker_shapes({standard, theory, flash, flash2});
    REQUIRE(shapes.size() == 4);
    CHECK(shapes[1] == viz::MarkerShape::none);
    CHECK(shapes[0] != shapes[3]);
    CHECK(shapes[0] != shapes[2]);
    CHECK(shapes[2] != shapes[3]);
    CHECK(shapes[0] != viz::MarkerShape::none);
}

TEST_CASE("FlashAttention-2's l_i and m_i are live buffers with the block's rows in them", "[sram]") {
    viz::Session s;
    REQUIRE(s.wait_idle(60));
    REQUIRE(s.set_focus("flash2").empty());
    const viz::Lane& lane = s.lanes()[0];
    const auto& ev = lane.trace()->events();
    const auto& bufs = lane.trace()->buffers();
    int checked = 0;
    for (std::size_t k = 0; k < ev.size(); ++k) {
        // After every update of m_i or l_i, the buffer holding it shows that tile, computed.
        if (ev[k].op != sim::Op::Compute ||
            (ev[k].tensor != sim::Tensor::m && ev[k].tensor != sim::Tensor::l))
            continue;
        const auto snap = viz::sram_at(*lane.trace(), *lane.index, static_cast<std::int64_t>(k),
                                       s.scenario().hardware.sram_bytes);
        const int slot = snap.slot_of(ev[k].buffer);
        REQUIRE(slot >= 0);
        const auto& sl = snap.slots[static_cast<std::size_t>(slot)];
        CAPTURE(k, bufs[static_cast<std::size_t>(ev[k].buffer)].what);
        CHECK(sl.filled);
        CHECK(sl.computed);
        CHECK(sl.held == ev[k].tensor);
        CHECK(sl.tile.row0 == ev[k].tile.row0);
        ++checked;
    }
    CHECK(checked >= 2 * 4 * 4);  // m_i and l_i after each of 4 x 4 (Q block, K/V block) pairs
}

TEST_CASE("FlashAttention-2's O_i is final from its division by l_i on", "[softmax]") {
    viz::Session s;
    REQUIRE(s.wait_idle(60));
    const auto* run = s.run_of("flash2", Pass::forward);
    REQUIRE(run != nullptr);
    REQUIRE_FALSE(run->probe.empty());
    const auto& ev = run->trace->events();
    const std::int64_t rows = run->probe.front().m.size();
    const std::int64_t f = viz::deferred_division_step(*run->trace, run->probe.back().step, 0, rows);
    REQUIRE(f >= 0);
    // The division itself: the compute of O_i for block 0 with no K/V block (j = -1), after the
    // last update, and before the next Q block begins.
    const auto& e = ev.at(static_cast<std::size_t>(f));
    CHECK(e.op == sim::Op::Compute);
    CHECK(e.tensor == sim::Tensor::O);
    CHECK(e.j == -1);
    CHECK(e.i == 0);
    for (auto k = static_cast<std::size_t>(run->probe.back().step) + 1; k < static_cast<std::size_t>(f); ++k)
        CHECK_FALSE((ev[k].tensor == sim::Tensor::O && ev[k].op == sim::Op::Compute));
}

TEST_CASE("the memory view never draws over the counters, and one lane takes the whole view", "[panels]") {
    Context ctx;
    for (const char* rival : {"standard", "none"}) {
        viz::App app(options({"classroom", "--algorithm", "flash2", "--rival", rival}));
        REQUIRE(app.session().wait_idle(60));
        frame(app);
        const ImRect counters = ImGui::FindWindowByName("Counters")->Rect();
        auto& pb = app.session().playback();
        for (int k = 0; k <= 40; ++k) {
            pb.seek_progress(k / 40.0);
            frame(app);
            const ImDrawList* dl = ImGui::FindWindowByName("Main")->DrawList;
            // What reaches the screen is each triangle cut by its clip rectangle.
            for (const ImDrawCmd& cmd : dl->CmdBuffer) {
                const ImRect clip(cmd.ClipRect.x, cmd.ClipRect.y, cmd.ClipRect.z, cmd.ClipRect.w);
                for (unsigned i = 0; i < cmd.ElemCount; ++i) {
                    ImVec2 p = dl->VtxBuffer[dl->IdxBuffer[static_cast<int>(cmd.IdxOffset + i)]].pos;
                    p = ImVec2(ImClamp(p.x, clip.Min.x, clip.Max.x), ImClamp(p.y, clip.Min.y, clip.Max.y));
                    CHECK_FALSE((p.x > counters.Min.x + 1 && counters.Contains(p)));
                }
            }
        }
        // --rival none: the single lane uses the main view's full width and height.
        if (std::string(rival) == "none") {
            REQUIRE(app.session().lanes().size() == 1);
            const ImGuiWindow* main = ImGui::FindWindowByName("Main");
            const ImDrawList* dl = main->DrawList;
            float lo = FLT_MAX, hi = -FLT_MAX, right = -FLT_MAX;
            for (const auto& v : dl->VtxBuffer) {
                lo = std::min(lo, v.pos.y);
                hi = std::max(hi, v.pos.y);
                right = std::max(right, v.pos.x);
            }
            CHECK(hi - lo > main->Rect().GetHeight() * 0.85F);
            CHECK(right > main->Rect().Max.x - 30);
        }
    }
}
