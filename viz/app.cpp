#include "viz/app.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "kernels/registry.h"
#include "scenarios/report.h"
#include "viz/algorithms.h"
#include "viz/export.h"
#include "viz/layout.h"
#include "viz/theme.h"

namespace tilesim::viz {

App::App(const Options& o, SessionOptions so)
    : session_([&] {
          so.scenario = o.scenario;
          return so;
      }()) {
    // Order matters as in the CLI: hardware first, so a preset never drops an override after it.
    std::vector<std::string> sets;
    for (const auto& a : o.sets) {
        if (a.rfind("hardware=", 0) == 0) sets.push_back(a);
    }
    for (const auto& a : o.sets) {
        if (a.rfind("hardware=", 0) != 0) sets.push_back(a);
    }
    for (const auto& a : sets) {
        const auto eq = a.find('=');
        const std::string key = a.substr(0, eq), value = a.substr(eq + 1);
        const std::string err = session_.set_value(key, value);
        if (err.empty()) continue;
        ui_.edit[key] = value;  // shown in its field, in red, where the key has one
        ui_.set_errors.push_back("--set " + a + ": " + err);
    }
    if (o.algorithm) {
        const std::string err = session_.set_focus(*o.algorithm);
        if (!err.empty()) ui_.set_errors.push_back("--algorithm " + *o.algorithm + ": " + err);
    }
    if (o.rival) {
        if (*o.rival == "none") {
            session_.set_rival(std::nullopt);
        } else if (std::find(session_.keys().begin(), session_.keys().end(), *o.rival) ==
                   session_.keys().end()) {
            ui_.set_errors.push_back("--rival " + *o.rival +
                                     ": it has no definition for every pass this scenario runs");
        } else {
            session_.set_rival(*o.rival);
        }
    }
    if (o.watch_block) session_.set_watch_block(*o.watch_block);
    if (o.numerics) session_.set_force_numerics(true);
    session_.set_side_kind(o.side == "block" ? SideSweep::block : SideSweep::sram);
    ui_.tab = o.panel == "plots"     ? MainTab::plots
              : o.panel == "softmax" ? MainTab::softmax
              : o.panel == "threads" ? MainTab::threads
                                     : MainTab::memory;
    if (o.panel == "timeline") ui_.tab = MainTab::timeline;
    if (o.panel == "roofline") ui_.tab = MainTab::roofline;
    ui_.select_tab = true;
    if (o.step) pending_step_ = *o.step - 1;
    if (o.progress) pending_progress_ = *o.progress;
}

std::string App::screenshot_name() {
    const std::time_t now = std::time(nullptr);
    char buf[64];
    std::strftime(buf, sizeof buf, "tilesim-%Y%m%d-%H%M%S.png", std::localtime(&now));
    return buf;
}

void App::apply_pending_seek() {
    if (placed() || session_.model() == nullptr || session_.model_busy()) return;
    if (pending_step_) session_.playback().seek_event(*pending_step_);
    if (pending_progress_) session_.playback().seek_progress(*pending_progress_);
    pending_step_.reset();
    pending_progress_.reset();
    session_.sync_replays();
}

void App::shortcuts() {
    const ImGuiIO& io = ImGui::GetIO();
    if (io.WantTextInput) return;  // typing a value: keys are text
    Playback& pb = session_.playback();
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Space), false)) pb.toggle();
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow))) pb.step_forward();
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow))) pb.step_back();
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Home), false)) pb.to_start();
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_End), false)) pb.to_end();
    // A presenter's clicker sends Page Down / Page Up: one K/V block of the paper's loop per click.
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_PageDown))) pb.jump_to_next_kv_block();
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_PageUp))) pb.jump_to_previous_kv_block();
    if (ImGui::IsKeyPressed(kKeyF1, false)) ui_.show_help = !ui_.show_help;
    if (ImGui::IsKeyPressed(kKeyF12, false)) ui_.want_screenshot = true;
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false)) ui_.show_help = false;
    // Printable keys by the character typed, so they work on every keyboard layout.
    for (ImWchar c : io.InputQueueCharacters) {
        switch (c) {
            case 'w':
            case 'W':
                pb.jump_to_next_hbm_write();
                break;
            case 'n':
            case 'N':
                pb.jump_to_next_pass();
                break;
            case 'j':
            case 'J':
                pb.jump_to_next_kv_block();
                break;
            case 'i':
            case 'I':
                pb.jump_to_next_q_block();
                break;
            case 't':
            case 'T':
                ui_.tab = MainTab::threads;
                ui_.select_tab = true;
                break;
            case '+':
            case '=':
                pb.set_speed(pb.speed() * 2);
                break;
            case '-':
            case '_':
                pb.set_speed(pb.speed() / 2);
                break;
            case 'm':
            case 'M':
                ui_.tab = MainTab::memory;
                ui_.select_tab = true;
                break;
            case 'p':
            case 'P':
                ui_.tab = MainTab::plots;
                ui_.select_tab = true;
                break;
            case 'o':
            case 'O':
                ui_.tab = MainTab::softmax;
                ui_.select_tab = true;
                break;
            case 'e':
            case 'E':
                ui_.want_sweep_csv = true;
                break;
            case '?':
                ui_.show_help = !ui_.show_help;
                break;
            case 'r':
            case 'R':
                session_.set_rival(session_.rival() ? std::nullopt : session_.default_rival());
                break;
            default:
                // 1..9: watch the algorithms in the table's order.
                if (c >= '1' && c <= '9') {
                    const auto k = static_cast<std::size_t>(c - '1');
                    if (k < session_.keys().size()) session_.set_focus(session_.keys()[k]);
                }
                break;
        }
    }
}

void App::exports() {
    auto save = [&](const SweepOutput* out, const char* what) {
        if (out == nullptr || !out->result) {
            ui_.status = std::string("no ") + what + " sweep to save yet";
            ui_.status_is_error = true;
            return;
        }
        const std::string name = "tilesim-sweep-" + out->request.key + ".csv";
        const std::string err = write_file_atomic(name, scenarios::to_csv(*out->result));
        ui_.status_is_error = !err.empty();
        std::error_code ec;
        ui_.status = err.empty() ? "saved " + std::filesystem::absolute(name, ec).string() : err;
    };
    if (ui_.want_sweep_csv) save(session_.n_sweep(), "N");
    if (ui_.want_side_csv) save(session_.side_sweep(), "SRAM / block");
    ui_.want_sweep_csv = ui_.want_side_csv = false;
}

std::vector<std::pair<std::string, std::string>> App::help_rows() const {
    // The number keys follow the definition table, so the list of them is built from it.
    const auto& keys = session_.keys();
    std::string numbers, watched;
    for (std::size_t k = 0; k < keys.size() && k < 9; ++k) {
        numbers += (k == 0 ? "" : ", ") + std::to_string(k + 1);
        watched += (k == 0 ? "" : " / ") + display_name(keys[k]);
    }
    return {
        {"Space", "play / pause"},
        {"Right, Left", "one step forward / back"},
        {"Home, End", "start / end"},
        {"J, Page Down", "next K/V block (j) of the paper's loop"},
        {"Page Up", "back to the start of this (or the previous) K/V block"},
        {"I", "next Q block (i)"},
        {"N", "next pass (kernel)"},
        {"W", "jump to the next tile written to HBM"},
        {"+, -", "faster / slower"},
        {numbers, "watch " + watched},
        {"R", "race a second algorithm on / off"},
        {"M, P, O, T", "memory view / plots / online softmax / threads"},
        {"E", "save the N sweep as CSV"},
        {"F12", "save a screenshot (PNG)"},
        {"F1, ?", "this help"},
    };
}

void App::help_window() {
    if (!ui_.show_help) return;
    const ImVec2 d = ImGui::GetIO().DisplaySize;
    ImGui::SetNextWindowPos(ImVec2(d.x * 0.5F, d.y * 0.45F), ImGuiCond_Always, ImVec2(0.5F, 0.5F));
    ImGui::SetNextWindowBgAlpha(0.96F);
    if (ImGui::Begin("Keyboard shortcuts", &ui_.show_help,
                     ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings |
                         ImGuiWindowFlags_NoCollapse)) {
        const auto rows = help_rows();
        if (ImGui::BeginTable("keys", 2, ImGuiTableFlags_RowBg)) {
            for (const auto& [key, what] : rows) {
                ImGui::TableNextRow();
                ImGui::TableSetColumnIndex(0);
                ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(rgb(colors::kCompute)), "%s", key.c_str());
                ImGui::TableSetColumnIndex(1);
                ImGui::TextUnformatted(what.c_str());
            }
            ImGui::EndTable();
        }
        ImGui::TextDisabled("Keys act when no text field is being edited.");
    }
    ImGui::End();
}

// While a long run is in flight the views keep the previous result; this says so, with a spinner
// and the seconds elapsed, in the main view's top-right corner (the window never blocks).
void App::busy_overlay() {
    if (!session_.model_busy() || session_.model_seconds_running() < 0.15) return;
    const auto& p = session_.model_progress();
    char text[128];
    std::snprintf(text, sizeof text, "running the model for the new settings: %.1f s (%lld of %lld)",
                  session_.model_seconds_running(), static_cast<long long>(p.done.load()),
                  static_cast<long long>(p.total.load()));
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 size = ImGui::CalcTextSize(text);
    const ImVec2 wp = ImGui::GetWindowPos(), ws = ImGui::GetWindowSize();
    const ImVec2 p1(wp.x + ws.x - 10, wp.y + 34 + size.y + 12), p0(p1.x - size.x - 44, wp.y + 34);
    dl->AddRectFilled(p0, p1, rgb(0x2A2F36, 240), 4.0F);
    dl->AddRect(p0, p1, rgb(colors::kCompute), 4.0F, 0, 1.5F);
    // A quarter arc turning once a second.
    const float t = static_cast<float>(ImGui::GetTime()) * 6.2832F;
    const ImVec2 c(p0.x + 18, (p0.y + p1.y) * 0.5F);
    dl->PathArcTo(c, 7.0F, t, t + 4.7F, 16);
    dl->PathStroke(rgb(colors::kCompute), 0, 2.5F);
    dl->AddText(ImVec2(p0.x + 34, p0.y + 6), ImGui::GetColorU32(ImGuiCol_Text), text);
}

void App::frame(float dt) {
    session_.update();
    apply_pending_seek();
    shortcuts();
    session_.playback().tick(dt);

    const Layout l = compute_layout(ImGui::GetIO().DisplaySize, ui_scale());
    const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                   ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings |
                                   ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoBringToFrontOnFocus;
    auto place = [](const PanelRect& r) {
        ImGui::SetNextWindowPos(r.pos, ImGuiCond_Always);
        ImGui::SetNextWindowSize(r.size, ImGuiCond_Always);
    };

    // The timeline first: it may move the play head, and every other panel should show the result.
    place(l.timeline);
    if (ImGui::Begin("Timeline", nullptr, fixed | ImGuiWindowFlags_NoScrollbar))
        draw_timeline_panel(session_, ui_);
    ImGui::End();
    session_.sync_replays();

    place(l.controls);
    if (ImGui::Begin("Controls", nullptr, fixed)) draw_controls_panel(session_, ui_);
    ImGui::End();

    place(l.main);
    if (ImGui::Begin("Main", nullptr, fixed | ImGuiWindowFlags_NoScrollbar)) {
        if (ImGui::BeginTabBar("views")) {
            auto tab = [&](const char* name, MainTab t) {
                const ImGuiTabItemFlags f =
                    ui_.select_tab && ui_.tab == t ? ImGuiTabItemFlags_SetSelected : 0;
                const bool open = ImGui::BeginTabItem(name, nullptr, f);
                if (open && !ui_.select_tab) ui_.tab = t;
                return open;
            };
            if (tab("Memory: HBM and SRAM", MainTab::memory)) {
                draw_memory_panel(session_, ui_);
                ImGui::EndTabItem();
            }
            if (tab("Plots: traffic vs N, M, B_c", MainTab::plots)) {
                draw_plots_panel(session_, ui_);
                ImGui::EndTabItem();
            }
            if (tab("Online softmax", MainTab::softmax)) {
                draw_softmax_panel(session_, true);
                ImGui::EndTabItem();
            }
            if (tab("Timeline: agents", MainTab::timeline)) {
                draw_schedule_view(session_, ui_);
                ImGui::EndTabItem();
            }
            if (tab("Roofline", MainTab::roofline)) {
                draw_roofline_view(session_, ui_);
                ImGui::EndTabItem();
            }
            if (tab("Threads: blocks, waves, warps", MainTab::threads)) {
                draw_threads_panel(session_, ui_);
                ImGui::EndTabItem();
            }
            ImGui::EndTabBar();
        }
        ui_.select_tab = false;
        busy_overlay();
    }
    ImGui::End();

    // With the online softmax in the main view, the counters take the whole right column. Otherwise
    // they take what their rows needed last frame (at least the layout's share), leaving the online
    // softmax room for its title, strip and a few rows.
    // When both cannot fit (--scale 2), the online softmax keeps to its own tab.
    const float column = l.counters.size.y + l.softmax.size.y;
    const float softmax_min = 7.0F * ImGui::GetFrameHeightWithSpacing();
    const bool softmax_main = ui_.tab == MainTab::softmax || ui_.counters_need > column - softmax_min;
    const float counters_h =
        softmax_main ? column : std::clamp(ui_.counters_need, l.counters.size.y, column - softmax_min);
    place(PanelRect{l.counters.pos, ImVec2(l.counters.size.x, counters_h)});
    if (ImGui::Begin("Counters", nullptr, fixed)) {
        draw_counters_panel(session_, ui_);
        ui_.counters_need = ImGui::GetCursorPosY() + ImGui::GetStyle().WindowPadding.y;
    }
    ImGui::End();
    if (!softmax_main) {
        place(PanelRect{ImVec2(l.softmax.pos.x, l.counters.pos.y + counters_h),
                        ImVec2(l.softmax.size.x, column - counters_h)});
        if (ImGui::Begin("Softmax", nullptr, fixed)) draw_softmax_panel(session_, false);
        ImGui::End();
    }

    help_window();
    exports();
}

}  // namespace tilesim::viz
