// The timeline: play, pause, step, speed, a scrub bar over the whole animation, and "jump to the
// next HBM write". The scrub bar is drawn in animation time, so the lanes' end markers show the race
// at a glance (FlashAttention's marker stops short of standard attention's).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "viz/format.h"
#include "viz/panels.h"
#include "viz/theme.h"

namespace tilesim::viz {

namespace {

// The lane the step buttons follow (Playback::focus): the watched one, else the first that runs.
const Lane* focus_lane(const Session& s) {
    for (const auto& l : s.lanes()) {
        if (l.index != nullptr && l.index.get() == s.playback().focus()) return &l;
    }
    return nullptr;
}

void scrub_bar(Session& s, float width, float height) {
    Playback& pb = s.playback();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    const ImVec2 p1(p0.x + width, p0.y + height);
    ImGui::InvisibleButton("scrub", ImVec2(width, height));
    const double dur = pb.duration();
    auto x_of = [&](double t) { return p0.x + static_cast<float>(dur > 0 ? t / dur : 0.0) * width; };
    auto t_of = [&](float x) { return std::clamp(static_cast<double>((x - p0.x) / width), 0.0, 1.0) * dur; };
    if (ImGui::IsItemActive()) {
        pb.set_playing(false);
        pb.seek_clock(t_of(ImGui::GetIO().MousePos.x));
    }
    dl->AddRectFilled(p0, p1, rgb(colors::kPanelBg), 3.0F);

    const Lane* focus = focus_lane(s);
    const TraceIndex* idx = pb.focus();
    const Fonts& f = fonts();
    if (focus != nullptr && idx != nullptr && focus->trace() != nullptr) {
        const sim::Trace& trace = *focus->trace();
        const auto& ev = trace.events();
        // Kernel passes as alternating bands, named when there is room.
        for (std::size_t k = 0; k < idx->phase_events.size(); ++k) {
            const std::int64_t a = idx->phase_events[k];
            const std::int64_t b = k + 1 < idx->phase_events.size() ? idx->phase_events[k + 1] : idx->size();
            const float xa = x_of(idx->anim_start[static_cast<std::size_t>(a)]);
            const float xb = x_of(idx->anim_start[static_cast<std::size_t>(b)]);
            dl->AddRectFilled(ImVec2(xa, p0.y), ImVec2(xb, p1.y), k % 2 == 0 ? rgb(0x262B33) : rgb(0x2E3540));
            const auto ph = static_cast<std::size_t>(ev[static_cast<std::size_t>(a)].phase);
            if (ph < trace.phases().size()) {
                const std::string& name = trace.phases()[ph].name;
                if (f.small->CalcTextSizeA(f.small->FontSize, FLT_MAX, 0, name.c_str()).x < xb - xa - 6) {
                    dl->AddText(f.small, f.small->FontSize, ImVec2(xa + 4, p0.y + 2), rgb(colors::kMuted),
                                name.c_str());
                }
            }
        }
        // Where the backward begins: a bright boundary across the bar, named below it.
        const auto& starts = focus->data->pass_starts;
        for (std::size_t k = 1; k < starts.size() && k < focus->runs.size(); ++k) {
            if (starts[k] >= idx->size()) break;  // the trace was capped before this pass
            const float x = x_of(idx->anim_start[static_cast<std::size_t>(starts[k])]);
            dl->AddLine(ImVec2(x, p0.y - 3), ImVec2(x, p1.y + 3), rgb(0xFFFFFF), 2.0F);
            const std::string name =
                std::string(kernels::pass_name(focus->runs[k]->pass())) + " " + sym_arrow();
            dl->AddText(f.small, f.small->FontSize, ImVec2(x + 3, p1.y - f.small->FontSize - 1),
                        rgb(0xFFFFFF), name.c_str());
        }
        // HBM writes of the focus as ticks at the bottom, bucketed to one per pixel.
        float last_x = -1;
        for (std::int64_t w : idx->hbm_writes) {
            const float x = std::floor(x_of(idx->anim_start[static_cast<std::size_t>(w)]));
            if (x == last_x) continue;
            last_x = x;
            dl->AddLine(ImVec2(x, p1.y - 7), ImVec2(x, p1.y),
                        tensor_color(ev[static_cast<std::size_t>(w)].tensor, 200));
        }
    }
    // Each lane's finish line in its colour.
    for (std::size_t i = 0; i < s.lanes().size(); ++i) {
        const TraceIndex* l = pb.lane(i);
        if (l == nullptr) continue;
        const float x = x_of(l->anim_duration());
        const ImU32 c = algorithm_color(s.lanes()[i].key);
        dl->AddLine(ImVec2(x - 1, p0.y), ImVec2(x - 1, p1.y), c, 3.0F);
        dl->AddTriangleFilled(ImVec2(x - 7, p0.y - 1), ImVec2(x + 5, p0.y - 1), ImVec2(x - 1, p0.y + 7), c);
    }
    // The play head.
    const float hx = x_of(pb.clock());
    dl->AddLine(ImVec2(hx, p0.y - 2), ImVec2(hx, p1.y + 2), rgb(colors::kCompute), 3.0F);
    dl->AddRect(p0, p1, rgb(colors::kMuted), 3.0F);
    if (ImGui::IsItemHovered() && dur > 0 && idx != nullptr && focus != nullptr &&
        focus->trace() != nullptr) {
        const std::int64_t e = idx->event_at(t_of(ImGui::GetIO().MousePos.x));
        const auto& ev = focus->trace()->events()[static_cast<std::size_t>(e)];
        const char* what = ev.label;
        if (ev.op == sim::Op::Phase) what = "pass begins";
        if (ev.op == sim::Op::Allocate) what = "SRAM buffer reserved";
        if (ev.op == sim::Op::Release) what = "SRAM buffer freed";
        const std::string pass =
            focus->runs.size() > 1
                ? " (" + std::string(kernels::pass_name(focus->runs[focus->pass_of(e)]->pass())) + ")"
                : "";
        ImGui::SetTooltip("step %lld%s: %s", static_cast<long long>(e + 1), pass.c_str(), what);
    }
}

}  // namespace

void draw_timeline_panel(Session& s, UiState& /*ui*/) {
    Playback& pb = s.playback();
    // Shorter labels when the full row would not fit (a projector's scale), so nothing runs off.
    const ImGuiStyle& st = ImGui::GetStyle();
    const float row_w = ImGui::CalcTextSize("|<< StepPlay  Step >>|Next HBM writespeed 200000 steps/s").x +
                        14 * st.FramePadding.x + 7 * st.ItemSpacing.x;
    const bool compact = row_w > ImGui::GetContentRegionAvail().x;
    if (ImGui::Button("|<")) pb.to_start();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Back to the start (Home)");
    ImGui::SameLine();
    if (ImGui::Button(compact ? "<" : "< Step")) pb.step_back();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("One step back (Left arrow)");
    ImGui::SameLine();
    if (ImGui::Button(compact        ? (pb.playing() ? "Pause" : "Play")
                      : pb.playing() ? "  Pause  "
                                     : "   Play   "))
        pb.toggle();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Play or pause (Space)");
    ImGui::SameLine();
    if (ImGui::Button(compact ? ">" : "Step >")) pb.step_forward();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("One step forward (Right arrow)");
    ImGui::SameLine();
    if (ImGui::Button(">|")) pb.to_end();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("To the end (End)");
    ImGui::SameLine();
    if (ImGui::Button(compact ? "W" : "Next HBM write")) pb.jump_to_next_hbm_write();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Jump to the next tile written to HBM (W)");
    ImGui::SameLine();
    float speed = static_cast<float>(pb.speed());
    ImGui::SetNextItemWidth(std::max(ImGui::GetFontSize() * 6, ImGui::GetContentRegionAvail().x - 4));
    if (ImGui::SliderFloat("##speed", &speed, static_cast<float>(Playback::kMinSpeed),
                           static_cast<float>(Playback::kMaxSpeed),
                           compact ? "%.3g steps/s" : "speed %.3g steps/s", ImGuiSliderFlags_Logarithmic)) {
        pb.set_speed(speed);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Steps of the first lane per second (+ and - keys)");

    scrub_bar(s, ImGui::GetContentRegionAvail().x, ImGui::GetTextLineHeight() * 1.6F);

    // Where we are, in steps of the focus and in model time.
    const Lane* focus = focus_lane(s);
    if (focus != nullptr) {
        const auto* idx = focus->index.get();
        char buf[200];
        std::snprintf(buf, sizeof buf, "%s: step %lld of %lld%s, model clock %s of %s", focus->key.c_str(),
                      static_cast<long long>(idx->event_at(pb.clock()) + 1),
                      static_cast<long long>(idx->size()),
                      idx->decimated ? " (stepping through a sample: the trace is long)" : "",
                      fmt_seconds(focus->replay.totals().model_seconds).c_str(),
                      fmt_seconds(idx->model_start.back()).c_str());
        ImGui::TextWrapped("%s", buf);
    } else if (s.model_busy()) {
        ImGui::TextDisabled("running the model...");
    } else if (s.model() != nullptr) {
        ImGui::TextDisabled(
            "nothing to animate: no shown algorithm runs with these settings (see the memory view)");
    }
}

}  // namespace tilesim::viz
