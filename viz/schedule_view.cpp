// The timeline view (tab "Timeline: agents", --panel timeline): the scheduled timeline the model
// computed for the watched algorithm. One SM's lanes as the model sampled them (sim::SmSample): a row
// per warp-group lane and agent, a bar per span, so a class sees what runs at once: under `sync` the
// softmax (SFU) waits for the GEMM (tensor cores); under `pingpong` one group's softmax runs under
// the other group's GEMMs. Below: the pass's waves over the SMs, and each agent's busy fraction with
// the bound agent. The schedule buttons set the scenario key `schedule`, which re-runs the model as
// every other edit does.
#include "viz/schedule_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "viz/format.h"
#include "viz/panels.h"
#include "viz/theme.h"
#include "viz/widgets.h"

namespace tilesim::viz {

namespace {

WaveInfo waves_of(const sim::PhaseTimeline& pt) {
    WaveInfo w;
    w.blocks = pt.blocks;
    w.slots = std::max<std::int64_t>(1, pt.slots);
    w.blocks_per_sm = pt.blocks_per_sm;
    w.active_sms = pt.active_sms;
    w.waves = pt.waves;
    w.wave_count = (w.blocks + w.slots - 1) / w.slots;
    w.tail_blocks = w.blocks % w.slots;
    w.sm_time_s = pt.sm_time_s;
    w.time_s = pt.time_s;
    w.occupancy_limit = pt.occupancy_limit;
    return w;
}

SchedulePass pass_of(const sim::PhaseTimeline& pt) {
    SchedulePass p;
    p.name = pt.name;
    p.schedule = std::string(sim::schedule_name(pt.schedule));
    p.mma = pt.streaming ? "none (a memory-streaming kernel)" : std::string(sim::mma_name(pt.mma));
    p.sample_blocks = pt.sample.blocks;
    p.simulated_s = pt.sample.simulated_s;
    p.block_s = pt.sample.duration_s;
    p.waves = waves_of(pt);
    p.busy = pt.busy;
    p.bound = pt.bound;
    p.note = pt.note;
    // Rows: the (agent, lane) pairs the spans use, agents in the model's order so each agent's rows
    // sit together (the SFU's right under the tensor cores').
    std::vector<std::pair<int, std::int32_t>> keys;
    for (const auto& sp : pt.sample.spans) keys.emplace_back(static_cast<int>(sp.agent), sp.lane);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (const auto& [a, lane] : keys) {
        ScheduleRow r;
        r.agent = static_cast<sim::Agent>(a);
        r.lane = lane;
        const auto& lanes = pt.sample.lanes;
        const std::string who = lane >= 0 && static_cast<std::size_t>(lane) < lanes.size()
                                    ? lanes[static_cast<std::size_t>(lane)]
                                    : "";
        r.label = std::string(sim::agent_name(r.agent)) + (who.empty() ? "" : " / " + who);
        p.rows.push_back(r);
    }
    for (const auto& sp : pt.sample.spans) {
        const auto it =
            std::lower_bound(keys.begin(), keys.end(), std::pair{static_cast<int>(sp.agent), sp.lane});
        ScheduleBar b;
        b.row = static_cast<std::int32_t>(it - keys.begin());
        b.agent = sp.agent;
        b.issue_s = sp.issue_s;
        b.start_s = sp.start_s;
        b.end_s = sp.end_s;
        b.kind = sp.kind;
        b.tensor = sp.tensor;
        b.block = sp.block;
        b.step = sp.step;
        p.bars.push_back(b);
    }
    return p;
}

// The union of agent a's bars, as sorted disjoint intervals.
std::vector<std::pair<double, double>> merged(const SchedulePass& p, sim::Agent a) {
    std::vector<std::pair<double, double>> v;
    for (const auto& b : p.bars) {
        if (b.agent == a && b.end_s > b.start_s) v.emplace_back(b.start_s, b.end_s);
    }
    std::sort(v.begin(), v.end());
    std::vector<std::pair<double, double>> out;
    for (const auto& iv : v) {
        if (!out.empty() && iv.first <= out.back().second) {
            out.back().second = std::max(out.back().second, iv.second);
        } else {
            out.push_back(iv);
        }
    }
    return out;
}

}  // namespace

std::string bar_label(const ScheduleBar& b) {
    const char* what = b.kind == sim::WorkKind::load    ? "load "
                       : b.kind == sim::WorkKind::store ? "store "
                                                        : "compute ";
    return fmt::format("{}{}, step {}, block {}", what, sim::tensor_name(b.tensor), b.step, b.block);
}

ScheduleView build_schedule_view(const scenarios::AlgorithmRun& run) {
    ScheduleView v;
    v.title = std::string(run.key()) + " " + std::string(kernels::pass_name(run.pass()));
    v.schedule = std::string(sim::schedule_name(run.schedule));
    v.schedule_note = run.schedule_note;
    if (!run.fit.ok) {
        v.empty_reason = "this pass does not fit in SRAM: " + run.fit.reason;
        return v;
    }
    if (run.timeline.phases.empty()) {
        v.empty_reason =
            "schedule = paper: the two-level roofline sum, no timeline to draw (choose a schedule)";
        return v;
    }
    for (const auto& pt : run.timeline.phases) v.passes.push_back(pass_of(pt));
    v.busy = run.timeline.busy;
    v.bound = run.timeline.bound;
    v.total_s = run.timeline.total_s;
    return v;
}

double overlap_seconds(const SchedulePass& p, sim::Agent a, sim::Agent b) {
    const auto x = merged(p, a), y = merged(p, b);
    double total = 0;
    std::size_t i = 0, j = 0;
    while (i < x.size() && j < y.size()) {
        total += std::max(0.0, std::min(x[i].second, y[j].second) - std::max(x[i].first, y[j].first));
        if (x[i].second < y[j].second) {
            ++i;
        } else {
            ++j;
        }
    }
    return total;
}

std::vector<std::string> schedule_choices() {
    std::vector<std::string> out = {"auto"};
    for (auto s : sim::all_schedules()) out.emplace_back(sim::schedule_name(s));
    return out;
}

namespace {

// Agent colours (Okabe & Ito, brightened): the tensor cores green, the SFU vermilion, so the softmax
// stands out against the GEMMs.
unsigned agent_hex(sim::Agent a) {
    static constexpr unsigned kHex[] = {0x56B4E9, 0x3DBE7A, 0xE8554E, 0xF5A623, 0xB07CE8, 0x2EC4C4, 0xC8B273};
    return kHex[static_cast<std::size_t>(a) % sim::kAgentCount];
}

// The schedule buttons: the scenario key `schedule`, through Session::set_value like every field.
void schedule_buttons(Session& s, UiState& ui) {
    const auto& cur = s.scenario().schedule;
    const std::string now = cur ? std::string(sim::schedule_name(*cur)) : "auto";
    ImGui::TextUnformatted("schedule:");
    const ImGuiStyle& st = ImGui::GetStyle();
    for (const auto& c : schedule_choices()) {
        // Wrap rather than run past the view's edge (projector scales).
        const float w = ImGui::GetFrameHeight() + st.ItemInnerSpacing.x + ImGui::CalcTextSize(c.c_str()).x;
        const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
        if (ImGui::GetItemRectMax().x + st.ItemSpacing.x + w <= right) ImGui::SameLine();
        if (ImGui::RadioButton(c.c_str(), c == now) && c != now) {
            s.set_value("schedule", c);
            ui.edit.erase("schedule");
        }
    }
    if (const std::string* err = s.field_error("schedule")) error_text(*err);
}

// Which pass of the watched algorithm is drawn: kept in ImGui's storage, so it survives re-runs.
int& chosen_pass() {
    return *ImGui::GetStateStorage()->GetIntRef(ImGui::GetID("schedule-view-pass"), -1);
}

void busy_bars(const ScheduleView& v, const SchedulePass& p, float width) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    // Widths from the text, so the bars and their labels stay inside the view at any --scale.
    const float row_h = ImGui::GetTextLineHeight() + 4, label_w = ImGui::CalcTextSize("tensor").x + 12,
                tail_w = ImGui::CalcTextSize("100 %  bound").x + 12,
                bar_w = std::max(40.0F, std::min(width * 0.5F, width - label_w - tail_w - 8));
    ImGui::TextWrapped("busy (this pass; bound: %s; the run: %s bound)",
                std::string(sim::agent_name(p.bound)).c_str(), std::string(sim::agent_name(v.bound)).c_str());
    // Two columns of bars when the view is wide for them (it saves three rows at --scale 2).
    const float one = label_w + 120 + tail_w;
    const std::size_t cols = width >= 2 * one + 24 ? 2 : 1;
    const float col_bar_w = cols == 2 ? std::min(bar_w, width * 0.5F - label_w - tail_w - 16) : bar_w;
    const std::size_t per_col = (sim::kAgentCount + cols - 1) / cols;
    const ImVec2 top = ImGui::GetCursorScreenPos();
    ImGui::Dummy(ImVec2(width - 8, static_cast<float>(per_col) * row_h));
    for (std::size_t a = 0; a < sim::kAgentCount; ++a) {
        const auto agent = static_cast<sim::Agent>(a);
        const float col_x = static_cast<float>(a / per_col) * (width * 0.5F);
        const ImVec2 at(top.x + col_x, top.y + static_cast<float>(a % per_col) * row_h);
        const bool bound = agent == p.bound;
        dl->AddText(at, bound ? rgb(colors::kCompute) : ImGui::GetColorU32(ImGuiCol_Text),
                    std::string(sim::agent_name(agent)).c_str());
        const ImVec2 b0(at.x + label_w, at.y + 2), b1(b0.x + col_bar_w, at.y + row_h - 3);
        dl->AddRectFilled(b0, b1, rgb(colors::kPanelBg));
        const double f = std::clamp(p.busy[a], 0.0, 1.0);
        dl->AddRectFilled(b0, ImVec2(b0.x + static_cast<float>(f) * col_bar_w, b1.y), rgb(agent_hex(agent)));
        if (bound) dl->AddRect(b0, b1, rgb(colors::kCompute), 0, 0, 2.0F);
        dl->AddText(ImVec2(b1.x + 6, at.y), ImGui::GetColorU32(ImGuiCol_Text),
                    fmt::format("{:.0f} %{}", 100 * p.busy[a], bound ? "  bound" : "").c_str());
    }
}

// The pass's waves: ceil(waves) boxes of `slots` blocks each, filled as far as blocks run in them.
void wave_strip(const WaveInfo& w, float width) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const double whole = std::floor(w.waves);
    ImGui::TextWrapped("waves: %lld blocks on %lld SMs x %lld per SM (%s) = %lld at once: %.2f waves (%lld full%s)",
                static_cast<long long>(w.blocks), static_cast<long long>(w.active_sms),
                static_cast<long long>(w.blocks_per_sm), w.occupancy_limit.c_str(),
                static_cast<long long>(w.slots), w.waves, static_cast<long long>(whole),
                w.tail_blocks > 0 ? fmt::format(", a tail of {} blocks", w.tail_blocks).c_str() : "");
    const ImVec2 at = ImGui::GetCursorScreenPos();
    const float h = 22;
    ImGui::Dummy(ImVec2(width, h + 4));
    const std::int64_t shown = std::min<std::int64_t>(w.wave_count, 64);
    if (shown <= 0) return;
    const float cell = width / static_cast<float>(shown);
    for (std::int64_t k = 0; k < shown; ++k) {
        const bool tail = k + 1 == w.wave_count && w.tail_blocks > 0;
        const float fill = tail ? static_cast<float>(w.tail_blocks) / static_cast<float>(w.slots) : 1.0F;
        const ImVec2 p0(at.x + cell * static_cast<float>(k) + 1, at.y), p1(p0.x + cell - 2, at.y + h);
        dl->AddRectFilled(p0, p1, rgb(colors::kPanelBg));
        dl->AddRectFilled(ImVec2(p0.x, p1.y - h * fill), p1, rgb(tail ? colors::kS : colors::kO));
    }
    if (w.wave_count > shown)
        dl->AddText(ImVec2(at.x + width - 90, at.y + 3), rgb(0xFFFFFF),
                    fmt::format("... {} waves", w.wave_count).c_str());
}

// The sample SM's rows and bars; hovering a bar says what it is.
void lanes_chart(const SchedulePass& p, ImVec2 size) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 o = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("schedule-chart", size);
    const bool hovered = ImGui::IsItemHovered();
    if (p.rows.empty() || !(p.simulated_s > 0)) {
        dl->AddText(o, rgb(colors::kMuted), "no spans sampled for this pass");
        return;
    }
    const float label_w = 190, axis_h = ImGui::GetTextLineHeight() + 8;
    const float row_h = std::clamp((size.y - axis_h) / static_cast<float>(p.rows.size()), 6.0F, 34.0F);
    const float x0 = o.x + label_w, x1 = o.x + size.x - 8;
    auto sx = [&](double t) { return x0 + static_cast<float>(t / p.simulated_s) * (x1 - x0); };
    const Fonts& f = fonts();
    for (std::size_t r = 0; r < p.rows.size(); ++r) {
        const float y = o.y + row_h * static_cast<float>(r);
        dl->AddRectFilled(ImVec2(x0, y + 1), ImVec2(x1, y + row_h - 1), rgb(colors::kPanelBg));
        if (row_h >= f.small->FontSize)
            dl->AddText(f.small, f.small->FontSize, ImVec2(o.x, y + (row_h - f.small->FontSize) * 0.5F),
                        rgb(agent_hex(p.rows[r].agent)), p.rows[r].label.c_str());
    }
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const ScheduleBar* hit = nullptr;
    for (const auto& b : p.bars) {
        const float y = o.y + row_h * static_cast<float>(b.row);
        const ImVec2 a(sx(b.start_s), y + 2), c(std::max(sx(b.end_s), sx(b.start_s) + 1), y + row_h - 2);
        dl->AddRectFilled(a, c, rgb(agent_hex(b.agent), 220));
        if (hovered && mouse.x >= a.x && mouse.x <= c.x && mouse.y >= a.y && mouse.y <= c.y) hit = &b;
    }
    // Time axis: five ticks over the sampled span.
    const float ya = o.y + row_h * static_cast<float>(p.rows.size()) + 2;
    dl->AddLine(ImVec2(x0, ya), ImVec2(x1, ya), rgb(colors::kMuted));
    for (int k = 0; k <= 4; ++k) {
        const double t = p.simulated_s * k / 4;
        const std::string lab = fmt_seconds(t);
        const float w = ImGui::CalcTextSize(lab.c_str()).x;
        dl->AddLine(ImVec2(sx(t), ya), ImVec2(sx(t), ya + 4), rgb(colors::kMuted));
        dl->AddText(ImVec2(std::clamp(sx(t) - w * 0.5F, x0, x1 - w), ya + 4),
                    ImGui::GetColorU32(ImGuiCol_Text), lab.c_str());
    }
    if (hit != nullptr) {
        const ScheduleRow& row = p.rows[static_cast<std::size_t>(hit->row)];
        ImGui::BeginTooltip();
        ImGui::TextUnformatted(bar_label(*hit).c_str());
        ImGui::Text("agent %s, lane %s", std::string(sim::agent_name(hit->agent)).c_str(), row.label.c_str());
        ImGui::Text("start %s, end %s (%s)", fmt_seconds(hit->start_s).c_str(),
                    fmt_seconds(hit->end_s).c_str(), fmt_seconds(hit->end_s - hit->start_s).c_str());
        if (hit->issue_s < hit->start_s)
            ImGui::Text("issued at %s (waits for its latency or a free slot)",
                        fmt_seconds(hit->issue_s).c_str());
        ImGui::EndTooltip();
    }
}

}  // namespace

void draw_schedule_view(Session& s, UiState& ui) {
    schedule_buttons(s, ui);
    const Lane* lane = nullptr;
    for (const auto& l : s.lanes()) {
        if (l.key == s.focus()) lane = &l;
    }
    if (lane == nullptr || lane->runs.empty()) {
        ImGui::TextDisabled("waiting for the model...");
        return;
    }
    // Every pass of the watched algorithm's runs (forward, then backward), one chosen at a time.
    std::vector<ScheduleView> views;
    std::vector<std::pair<std::size_t, std::size_t>> passes;  // (view, pass)
    for (const auto* run : lane->runs) {
        views.push_back(build_schedule_view(*run));
        for (std::size_t k = 0; k < views.back().passes.size(); ++k) passes.emplace_back(views.size() - 1, k);
    }
    for (const auto& v : views) {
        ImGui::TextWrapped("%s: schedule %s, predicted %s", v.title.c_str(), v.schedule.c_str(),
                    fmt_seconds(v.total_s).c_str());
        if (!v.schedule_note.empty()) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
            ImGui::TextWrapped("(%s)", v.schedule_note.c_str());
            ImGui::PopStyleColor();
        }
        if (!v.empty_reason.empty())
            ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(rgb(colors::kError)), "%s",
                               v.empty_reason.c_str());
    }
    if (passes.empty()) return;
    int& chosen = chosen_pass();
    if (chosen < 0 || static_cast<std::size_t>(chosen) >= passes.size()) {
        // By default the pass that takes longest: where the time goes.
        chosen = 0;
        for (std::size_t k = 1; k < passes.size(); ++k) {
            const auto& a = views[passes[k].first].passes[passes[k].second];
            const auto& b = views[passes[static_cast<std::size_t>(chosen)].first]
                                .passes[passes[static_cast<std::size_t>(chosen)].second];
            if (a.waves.time_s > b.waves.time_s) chosen = static_cast<int>(k);
        }
    }
    if (passes.size() > 1) {
        ImGui::TextUnformatted("pass:");
        for (std::size_t k = 0; k < passes.size(); ++k) {
            ImGui::SameLine();
            const auto& name = views[passes[k].first].passes[passes[k].second].name;
            if (ImGui::RadioButton(fmt::format("{}##pass{}", name, k).c_str(), chosen == static_cast<int>(k)))
                chosen = static_cast<int>(k);
        }
    }
    const auto& [vi, pi] = passes[static_cast<std::size_t>(chosen)];
    const SchedulePass& p = views[vi].passes[pi];
    ImGui::TextWrapped(
        "%s", fmt::format("{}: {}, {}; one SM, {} block(s) in step, sampled {} of a block's {}{}", p.name,
                          p.schedule, p.mma, p.sample_blocks, fmt_seconds(p.simulated_s),
                          fmt_seconds(p.block_s), p.note.empty() ? "" : "; " + p.note)
                  .c_str());
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    // The chart takes what the waves and busy bars below leave: their height as drawn last frame
    // (it grows with --scale), an estimate on the first.
    float& below = *ImGui::GetStateStorage()->GetFloatRef(ImGui::GetID("schedule-view-below"),
                                                          9 * (ImGui::GetTextLineHeight() + 4) + 60);
    lanes_chart(p, ImVec2(avail.x, std::max(120.0F, avail.y - below)));
    const float y0 = ImGui::GetCursorPosY();
    wave_strip(p.waves, avail.x - 16);
    busy_bars(views[vi], p, avail.x);
    below = ImGui::GetCursorPosY() - y0 + ImGui::GetStyle().ItemSpacing.y;
}

}  // namespace tilesim::viz
