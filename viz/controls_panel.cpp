// The controls: scenario, algorithms, problem size, tiling, hardware. Every field goes through the
// scenario key table (Session::set_value), so typing "0" for N gets the same message the CLI gives,
// shown in red under the field, and the views keep the last valid scenario meanwhile.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>

#include <imgui.h>
#include <imgui_stdlib.h>

#include "kernels/registry.h"
#include "viz/algorithms.h"
#include "viz/format.h"
#include "viz/panels.h"
#include "viz/theme.h"
#include "viz/widgets.h"

namespace tilesim::viz {

namespace {

void section(const char* title) {
    ImGui::Spacing();
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(rgb(colors::kMuted)));
    ImGui::TextUnformatted(title);
    ImGui::PopStyleColor();
    ImGui::Separator();
}

// A section that folds: open at first when the display has room for `lines` lines of text (a
// projector at --scale 1.5 or 2 starts with the later sections folded, so nothing scrolls away).
bool fold_section(const char* title, float lines) {
    ImGui::Spacing();
    ImGui::SetNextItemOpen(ImGui::GetIO().DisplaySize.y >= lines * ImGui::GetFontSize(), ImGuiCond_Once);
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(rgb(colors::kMuted)));
    const bool open = ImGui::CollapsingHeader(title);
    ImGui::PopStyleColor();
    return open;
}

// A text field bound to a scenario key. What the person types stays in the field (and in
// ui.edit) while it is being edited or while it is invalid; it is applied on Enter or on leaving.
void key_field(Session& s, UiState& ui, const char* label, const std::string& key, const std::string& current,
               const char* help, float width) {
    const auto it = ui.edit.find(key);
    std::string buf = it != ui.edit.end() ? it->second : current;
    ImGui::SetNextItemWidth(width);
    ImGui::InputText(label, &buf, ImGuiInputTextFlags_AutoSelectAll);
    if (help != nullptr && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", help);
    if (ImGui::IsItemDeactivatedAfterEdit()) {
        const std::string err = s.set_value(key, buf);
        if (err.empty()) {
            ui.edit.erase(key);
        } else {
            ui.edit[key] = buf;
        }
    } else if (ImGui::IsItemActive()) {
        ui.edit[key] = buf;
    } else if (s.field_error(key) == nullptr) {
        ui.edit.erase(key);
    }
}

// Labels sit in a fixed column on the left, so the fields line up and nothing is cut off.
float label_width() {
    float w = 0;
    for (const char* l : {"preset", "passes", "watch", "dtype", "SRAM", "race", "B_r", "B_c"})
        w = std::max(w, ImGui::CalcTextSize(l).x);
    return w + ImGui::GetStyle().ItemSpacing.x + ImGui::GetStyle().WindowPadding.x;
}
void label(const char* text, const char* help) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(text);
    if (help != nullptr && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", help);
    ImGui::SameLine(label_width());
}

// An integer key with halve / double buttons (sizes are explored in powers of two).
void pow2_field(Session& s, UiState& ui, const char* name, const std::string& key, std::int64_t value,
                const char* help, std::int64_t min_value) {
    ImGui::PushID(key.c_str());
    label(name, help);
    const float button = ImGui::GetFrameHeight();
    const float width = std::max(60.0F, ImGui::GetContentRegionAvail().x - 2 * (button + 2));
    key_field(s, ui, "##v", key, value == 0 ? "auto" : std::to_string(value), help, width);
    ImGui::SameLine(0, 2);
    if (ImGui::Button("-", ImVec2(button, 0)) && value / 2 >= min_value) {
        s.set_value(key, std::to_string(value / 2));
        ui.edit.erase(key);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("halve");
    ImGui::SameLine(0, 2);
    if (ImGui::Button("+", ImVec2(button, 0))) {
        s.set_value(key, std::to_string(std::max<std::int64_t>(1, value * 2)));
        ui.edit.erase(key);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("double");
    if (const std::string* err = s.field_error(key)) {
        error_text(*err);
        ImGui::TextDisabled("(the views keep %s = %s)", name,
                            value == 0 ? "auto" : std::to_string(value).c_str());
    }
    ImGui::PopID();
}

// The keys that can run the scenario's passes, each in its colour, with its definitions' one-line
// descriptions and bounds in the tooltip. `current` empty: "none".
void algorithm_combo(const char* label, const Session& s, const std::string& current, bool allow_none,
                     const std::function<void(std::optional<std::string>)>& pick) {
    const std::string preview = current.empty() ? "none" : display_name(current);
    if (!ImGui::BeginCombo(label, preview.c_str())) return;
    if (allow_none && ImGui::Selectable("none", current.empty())) pick(std::nullopt);
    for (const auto& key : s.keys()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(algorithm_color(key)));
        if (ImGui::Selectable(display_name(key).c_str(), key == current)) pick(key);
        ImGui::PopStyleColor();
        if (ImGui::IsItemHovered()) {
            std::string tip;
            for (auto pass : scenarios::passes_of(s.scenario())) {
                const auto* d = kernels::find_definition(key, pass);
                tip += (tip.empty() ? "" : "\n") + std::string(kernels::pass_name(pass)) + ": " +
                       std::string(d->description) + "\n  HBM accesses: " + pretty_math(d->theta.text);
            }
            ImGui::SetTooltip("%s", tip.c_str());
        }
    }
    ImGui::EndCombo();
}

void busy_indicator(const Session& s) {
    if (!s.model_busy() || s.model_seconds_running() < 0.15) return;
    const auto& p = s.model_progress();
    const double total = static_cast<double>(p.total.load());
    // The runner reports whole algorithms; between reports the bar creeps so it visibly lives.
    const float frac = total > 0 ? static_cast<float>(static_cast<double>(p.done.load()) / total) : 0.0F;
    char overlay[96];
    std::snprintf(overlay, sizeof overlay, "running the model: %.1f s (%lld of %lld)",
                  s.model_seconds_running(), static_cast<long long>(p.done.load()),
                  static_cast<long long>(p.total.load()));
    ImGui::ProgressBar(std::max(frac, 0.02F), ImVec2(-1, 0), overlay);
}

void scenario_section(Session& s, UiState& ui) {
    const auto& sc = s.scenario();
    section("Scenario");
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##scenario", s.scenario_id().c_str())) {
        for (const auto& b : scenarios::builtin_scenarios()) {
            if (ImGui::Selectable(std::string(b.id).c_str(), s.scenario_id() == b.id)) {
                s.load_scenario(std::string(b.id));
                ui.edit.clear();
            }
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", std::string(b.summary).c_str());
        }
        ImGui::EndCombo();
    }
    const float load_w = ImGui::CalcTextSize("Load").x + 2 * ImGui::GetStyle().FramePadding.x;
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - load_w - ImGui::GetStyle().ItemSpacing.x);
    ImGui::InputTextWithHint("##toml", "or a .toml file path", &ui.toml_path);
    ImGui::SameLine();
    if (ImGui::Button("Load") && !ui.toml_path.empty()) {
        s.load_scenario(ui.toml_path);
        ui.edit.clear();
    }
    if (const std::string* err = s.field_error("scenario")) error_text(*err);
    // The scenario's own text names its N, d, ...: after an edit the current values replace it.
    const std::string desc = s.description();
    if (!desc.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(rgb(colors::kMuted)));
        ImGui::TextWrapped("%s", desc.c_str());
        ImGui::PopStyleColor();
        if (s.edited() && !sc.description.empty() && ImGui::IsItemHovered())
            ImGui::SetTooltip("As loaded: %s", sc.description.c_str());
    }
}

void algorithms_section(Session& s) {
    section("Algorithms");
    label("watch", "The algorithm animated in the upper lane (keys 1, 2, 3)");
    ImGui::SetNextItemWidth(-1);
    algorithm_combo("##watch", s, s.focus(), false, [&](std::optional<std::string> a) {
        if (a) s.set_focus(*a);
    });
    label("race", "The algorithm racing it in the lower lane, on the same clock (R: on / off)");
    ImGui::SetNextItemWidth(-1);
    algorithm_combo("##race", s, s.rival().value_or(""), true,
                    [&](std::optional<std::string> a) { s.set_rival(std::move(a)); });
}

void problem_section(Session& s, UiState& ui) {
    const auto& sc = s.scenario();
    section("Problem (one attention head)");
    pow2_field(s, ui, "N", "seq_len", sc.problem.N_kv, "Sequence length N (key seq_len)", 1);
    pow2_field(s, ui, "d", "head_dim", sc.problem.d, "Head dimension d (key head_dim)", 1);
    label("dtype", "Element type of Q, K, V, S, P, O (l, m, L stay fp32; with fp8, what is written is bf16)");
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##dtype", std::string(sim::dtype_name(sc.problem.dtype)).c_str())) {
        for (auto dt : sim::kDtypes) {
            if (ImGui::Selectable(std::string(sim::dtype_name(dt)).c_str(), dt == sc.problem.dtype)) {
                s.set_value("dtype", std::string(sim::dtype_name(dt)));
            }
        }
        ImGui::EndCombo();
    }
    if (const std::string* err = s.field_error("dtype")) error_text(*err);
    label("passes", "Which passes run (key pass): the forward, the backward, or both one after the other");
    ImGui::SetNextItemWidth(-1);
    const std::string passes_now(kernels::passes_name(sc.problem.passes));
    if (ImGui::BeginCombo("##passes", passes_now.c_str())) {
        for (auto ps :
             {kernels::Passes::forward, kernels::Passes::backward, kernels::Passes::forward_backward}) {
            const std::string name(kernels::passes_name(ps));
            if (ImGui::Selectable(name.c_str(), ps == sc.problem.passes)) s.set_value("pass", name);
        }
        ImGui::EndCombo();
    }
    if (const std::string* err = s.field_error("pass")) error_text(*err);
    if (ImGui::TreeNode("batch and heads")) {
        pow2_field(s, ui, "B", "batch", sc.problem.batch, "Batch size B (totals and times scale by B x H)",
                   1);
        pow2_field(s, ui, "H", "heads", sc.problem.heads, "Attention heads H", 1);
        ImGui::TreePop();
    }
}

void tiling_section(Session& s, UiState& ui) {
    const auto& sc = s.scenario();
    if (!fold_section("Tiling (auto = the paper's rule)", 44)) return;
    pow2_field(s, ui, "B_r", "block_rows", sc.tiling.B_r,
               "B_r: rows of a Q block (key block_rows); auto or 0 = the paper's rule", 1);
    pow2_field(s, ui, "B_c", "block_cols", sc.tiling.B_c,
               "B_c: rows of a K/V block (key block_cols); auto or 0 = the paper's rule", 1);
    if (s.model() != nullptr && s.model()->result) {
        const bool passes = scenarios::passes_of(s.model()->result->scenario).size() > 1;
        for (const auto& r : s.model()->result->runs) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(algorithm_color(r.key())));
            const std::string who =
                std::string(r.key()) + (passes ? " " + std::string(kernels::pass_name(r.pass())) : "");
            if (r.fit.ok) {
                ImGui::Text("%s: %lld x %lld", who.c_str(), static_cast<long long>(r.tiling.B_r),
                            static_cast<long long>(r.tiling.B_c));
            } else {
                ImGui::Text("%s: does not fit", who.c_str());
            }
            ImGui::PopStyleColor();
            if (ImGui::IsItemHovered()) {
                ImGui::SetTooltip(
                    "%s", r.fit.ok ? r.tiling.note.c_str() : (r.fit.reason + "\n" + r.fit.fix).c_str());
            }
        }
    }
}

void hardware_section(Session& s, UiState& ui) {
    const auto& sc = s.scenario();
    if (!fold_section("Hardware", 58)) return;
    label("preset", "Hardware preset: datasheet bandwidths, SRAM per block, rates");
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##hardware", sc.hardware_name.c_str())) {
        for (const auto& h : sim::hardware_presets()) {
            if (ImGui::Selectable(h.name.c_str(), h.name == sc.hardware_name))
                s.set_value("hardware", h.name);
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", h.description.c_str());
        }
        ImGui::EndCombo();
    }
    pow2_field(s, ui, "SRAM", "sram_bytes", sc.hardware.sram_bytes,
               "SRAM one thread block may use, in bytes: the paper's M times the element size", 1);
    ImGui::TextDisabled("bytes: M = %lld elements of %s",
                        static_cast<long long>(sc.hardware.sram_bytes /
                                               static_cast<std::int64_t>(sim::dtype_bytes(sc.problem.dtype))),
                        std::string(sim::dtype_name(sc.problem.dtype)).c_str());
    bool numerics = s.force_numerics();
    const std::string numerics_label = "compute O (numerics) for N > " + std::to_string(s.numerics_max_N());
    if (ImGui::Checkbox(numerics_label.c_str(), &numerics)) s.set_force_numerics(numerics);
    if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip(
            "The online-softmax numbers and the error against the reference need the arithmetic;\n"
            "it is skipped for longer sequences so updates stay fast. Counts are identical either way.");
    }
}

void export_section(Session& s, UiState& ui) {
    if (fold_section("Export", 58)) {
        if (ImGui::Button("Screenshot (F12)")) ui.want_screenshot = true;
        ImGui::SameLine();
        if (ImGui::Button("N sweep CSV (E)")) ui.want_sweep_csv = true;
        if (ImGui::Button("Keyboard shortcuts (F1)")) ui.show_help = !ui.show_help;
    }
    busy_indicator(s);
    if (!ui.status.empty()) {
        if (ui.status_is_error) {
            error_text(ui.status);
        } else {
            ImGui::TextWrapped("%s", ui.status.c_str());
        }
    }
}

}  // namespace

void draw_controls_panel(Session& s, UiState& ui) {
    ImGui::PushFont(fonts().large);
    ImGui::TextUnformatted("tilesim");
    ImGui::PopFont();
    // The subtitle only where it fits beside the title (a projector's scale leaves no room).
    const char* subtitle = "why FlashAttention is fast";
    if (ImGui::GetContentRegionAvail().x - ImGui::GetItemRectSize().x - ImGui::GetStyle().ItemSpacing.x >=
        ImGui::CalcTextSize(subtitle).x) {
        ImGui::SameLine();
        ImGui::TextDisabled("%s", subtitle);
    }

    // Command-line settings the key table refused (--set KEY=VALUE): said here whatever the key, as
    // not every key has a field of its own.
    if (!ui.set_errors.empty()) {
        section("Command line");
        for (const auto& e : ui.set_errors) error_text(e);
        if (ImGui::SmallButton("dismiss")) ui.set_errors.clear();
    }

    scenario_section(s, ui);
    algorithms_section(s);
    problem_section(s, ui);
    tiling_section(s, ui);
    hardware_section(s, ui);
    export_section(s, ui);
}

}  // namespace tilesim::viz
