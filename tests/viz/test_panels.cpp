// Panels without a window: an ImGui context with a fixed display size and a few NewFrame/Render
// cycles, as ImGui's example_null does. Checks that every view draws (and what it draws for bad
// input), and that the keyboard shortcuts reach the play head.
#include <catch2/catch.hpp>

#include <imgui.h>
#include <imgui_internal.h>

#include "tests/viz/imgui_context.h"
#include "viz/app.h"
#include "viz/plot.h"
#include "viz/theme.h"

using namespace tilesim;
using Context = viz::test::HeadlessContext;
using viz::test::frame;
using viz::test::vertices;

namespace {

void press(int key) {
    ImGuiIO& io = ImGui::GetIO();
    io.KeysDown[key] = true;
}
void release_all() {
    ImGuiIO& io = ImGui::GetIO();
    for (bool& k : io.KeysDown) k = false;
}

viz::Options options(std::vector<std::string> args) {
    const auto p = viz::parse_options(args);
    REQUIRE(p.error.empty());
    return p.options;
}

}  // namespace

TEST_CASE("every panel draws, in every main tab", "[panels]") {
    Context ctx;
    viz::App app(options({"classroom", "--progress", "0.4"}));
    REQUIRE(app.session().wait_idle(60));
    for (int i = 0; i < 3; ++i) frame(app);
    CHECK(app.placed());
    for (const char* w : {"Controls", "Main", "Timeline", "Counters", "Softmax"}) {
        CAPTURE(w);
        CHECK(vertices(w) > 200);
    }
    const int memory = vertices("Main");
    for (auto tab : {viz::MainTab::plots, viz::MainTab::softmax, viz::MainTab::memory}) {
        app.ui().tab = tab;
        app.ui().select_tab = true;
        for (int i = 0; i < 3; ++i) frame(app);
        CHECK(app.ui().tab == tab);
        CHECK(vertices("Main") > 500);
    }
    // The memory view draws every tile of both lanes: far more than an empty frame.
    CHECK(memory > 3000);
    CHECK(ImGui::GetDrawData()->TotalVtxCount > 10000);
}

TEST_CASE("panels cope with no model yet, a failed fit and a bad value", "[panels]") {
    Context ctx;
    SECTION("before the model answers") {
        viz::App app(options({"gpt2-medium", "--set", "seq_len=8192"}));
        frame(app);  // the run is still going: panels say so instead of drawing stale or null data
        frame(app);
        CHECK(vertices("Main") > 0);
        REQUIRE(app.session().wait_idle(120));
    }
    SECTION("flash does not fit") {
        viz::App app(
            options({"classroom", "--set", "block_cols=64", "--algorithm", "flash", "--progress", "0.5"}));
        REQUIRE(app.session().wait_idle(60));
        for (int i = 0; i < 3; ++i) frame(app);
        CHECK_FALSE(app.session().run_of("flash", kernels::Pass::forward)->fit.ok);
        CHECK(vertices("Main") > 200);
        app.ui().tab = viz::MainTab::softmax;
        app.ui().select_tab = true;
        for (int i = 0; i < 3; ++i) frame(app);
    }
    SECTION("a bad value in --set is shown in its field") {
        viz::App app(options({"classroom", "--set", "seq_len=0"}));
        REQUIRE(app.session().wait_idle(60));
        for (int i = 0; i < 3; ++i) frame(app);
        REQUIRE(app.session().field_error("seq_len") != nullptr);
        CHECK(app.ui().edit.at("seq_len") == "0");
        CHECK(app.session().scenario().problem.N_kv == 16);  // the views keep the last valid scenario
        REQUIRE(app.refused().size() == 1);
        CHECK(app.refused()[0].rfind("--set seq_len=0: ", 0) == 0);
    }
    SECTION("a value of a key without a field of its own is listed too, and drawn") {
        viz::App plain(options({"classroom"}));
        REQUIRE(plain.session().wait_idle(60));
        for (int i = 0; i < 3; ++i) frame(plain);
        const int before = vertices("Controls");
        viz::App app(options({"classroom", "--set", "hardware=nope", "--set", "head_dim=8"}));
        REQUIRE(app.session().wait_idle(60));
        for (int i = 0; i < 3; ++i) frame(app);
        REQUIRE(app.refused().size() == 1);
        CHECK(app.refused()[0].find("hardware=nope") != std::string::npos);
        CHECK(app.refused()[0].find('\n') == std::string::npos);
        CHECK(app.session().scenario().problem.d == 8);  // the good one still applies
        CHECK(vertices("Controls") > before);            // the message is on screen
    }
}

TEST_CASE("keyboard shortcuts drive the play head", "[panels]") {
    Context ctx;
    viz::App app(options({"classroom", "--algorithm", "flash"}));
    REQUIRE(app.session().wait_idle(60));
    frame(app);
    auto& pb = app.session().playback();
    REQUIRE(pb.event(0) == 0);
    press(ImGui::GetIO().KeyMap[ImGuiKey_RightArrow]);
    frame(app);
    release_all();
    frame(app);
    CHECK(pb.event(0) == 1);
    press(ImGui::GetIO().KeyMap[ImGuiKey_Space]);
    frame(app);
    release_all();
    frame(app);  // a key must be seen up before it can be pressed again
    CHECK(pb.playing());
    press(ImGui::GetIO().KeyMap[ImGuiKey_Space]);
    frame(app);
    release_all();
    frame(app);
    CHECK_FALSE(pb.playing());
    ImGui::GetIO().AddInputCharacter('w');
    frame(app);
    CHECK(pb.lane(0) != nullptr);
    const auto& writes = pb.lane(0)->hbm_writes;
    CHECK(std::find(writes.begin(), writes.end(), pb.event(0)) != writes.end());
    ImGui::GetIO().AddInputCharacter('p');
    frame(app);
    frame(app);
    CHECK(app.ui().tab == viz::MainTab::plots);
    ImGui::GetIO().AddInputCharacter('3');
    frame(app);
    CHECK(app.session().focus() == app.session().keys().at(2));
    ImGui::GetIO().AddInputCharacter('1');
    frame(app);
    CHECK(app.session().focus() == app.session().keys().at(0));
    ImGui::GetIO().AddInputCharacter('r');  // rival off, then back to the default
    frame(app);
    CHECK(app.session().lanes().size() == 1);
    ImGui::GetIO().AddInputCharacter('r');
    frame(app);
    REQUIRE(app.session().lanes().size() == 2);
    CHECK(app.session().rival() == app.session().default_rival());
    press(viz::kKeyF1);
    frame(app);
    release_all();
    frame(app);
    CHECK(app.ui().show_help);
    CHECK(vertices("Keyboard shortcuts") > 100);
}

TEST_CASE("the plot widget draws any data, hovers to the nearest point", "[panels][plot]") {
    Context ctx;
    viz::PlotSpec spec;
    spec.x_label = "N";
    spec.y_label = "bytes";
    spec.marker = viz::PlotMarker{64, "now", {{0xFF0000FF, 100.0}}};
    viz::PlotSeries a{"a", 0xFF00FF00, {16, 32, 64, 128}, {10, 40, -1, 640}, false, true};
    viz::PlotSeries theory{"theory", 0xFFFFFFFF, {16, 32, 64, 128}, {10, 40, 160, 640}, true, false};
    for (const auto& series : std::vector<std::vector<viz::PlotSeries>>{
             {}, {a}, {a, theory}, {viz::PlotSeries{"one", 0xFFFFFFFF, {5}, {5}}}}) {
        ImGui::NewFrame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(ImVec2(800, 600));
        ImGui::Begin("plot test");
        viz::draw_loglog_plot("p", ImVec2(780, 560), spec, series);
        ImGui::End();
        ImGui::Render();
    }
    // Hover: put the mouse inside the plot area, near x = 32.
    int hovered = -2;
    for (int i = 0; i < 3; ++i) {
        ImGui::GetIO().MousePos = ImVec2(300, 300);
        ImGui::NewFrame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(ImVec2(800, 600));
        ImGui::Begin("plot test");
        hovered = viz::draw_loglog_plot("p", ImVec2(780, 560), spec, {a, theory});
        ImGui::End();
        ImGui::Render();
    }
    CHECK(hovered >= 0);
    CHECK(hovered < 4);
}

TEST_CASE("the online-softmax panel watches a Q block that exists", "[panels]") {
    Context ctx;
    viz::App app(options({"classroom", "--algorithm", "flash", "--watch-block", "99", "--panel", "softmax"}));
    REQUIRE(app.session().wait_idle(60));
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 3; ++i) frame(app);
        REQUIRE(app.session().wait_idle(60));
    }
    const auto* fa = app.session().run_of("flash", kernels::Pass::forward);
    REQUIRE(fa != nullptr);
    CHECK(app.session().watch_block() == fa->tiling.T_r - 1);
    CHECK(fa->probe.size() == static_cast<std::size_t>(fa->tiling.T_c));  // one snapshot per K/V block
}

TEST_CASE("hovering an HBM tile shows its exact counts", "[panels]") {
    Context ctx;
    viz::App app(options({"classroom", "--algorithm", "standard", "--progress", "1"}));
    REQUIRE(app.session().wait_idle(60));
    for (int i = 0; i < 3; ++i) frame(app);
    // Scan the upper lane's left edge (where Q is drawn) until a tile's tooltip opens.
    bool shown = false;
    for (float y = 100; y < 260 && !shown; y += 20) {
        for (float x = 290; x < 340 && !shown; x += 10) {
            ImGui::GetIO().MousePos = ImVec2(x, y);
            frame(app);
            frame(app);
            ImGuiWindow* tip = ImGui::FindWindowByName("##Tooltip_00");
            shown = tip != nullptr && tip->Active;
        }
    }
    CHECK(shown);
}

TEST_CASE("the timeline and roofline views draw from --panel, and again after a schedule change",
          "[panels][views]") {
    Context ctx;
    viz::App app(options({"classroom", "--panel", "timeline", "--algorithm", "flash2"}));
    REQUIRE(app.session().wait_idle(60));
    for (int i = 0; i < 3; ++i) frame(app);
    CHECK(app.ui().tab == viz::MainTab::timeline);
    CHECK(vertices("Main") > 1500);  // rows, a bar per span, the waves, the busy bars
    REQUIRE(app.session().set_value("schedule", "pingpong").empty());
    REQUIRE(app.session().wait_idle(60));
    for (int i = 0; i < 3; ++i) frame(app);
    CHECK(app.session().run_of("flash2", kernels::Pass::forward)->schedule == sim::Schedule::pingpong);
    CHECK(vertices("Main") > 1500);
    viz::App roof(options({"classroom", "--panel", "roofline"}));
    REQUIRE(roof.session().wait_idle(60));
    for (int i = 0; i < 3; ++i) frame(roof);
    CHECK(roof.ui().tab == viz::MainTab::roofline);
    CHECK(vertices("Main") > 500);
}
