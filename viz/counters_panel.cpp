// The counters race: the animated algorithms side by side, their HBM traffic growing as the play
// head moves. Bars first (what a class sees from the back row), then the exact figures per tensor
// (bytes and elements, reads and writes), SRAM occupancy and peak, FLOPs and time.
//
// Every figure is a prefix sum of the model's trace (replay.h): at the last step it is the model's
// own per-head count, which a test checks.
#include <algorithm>
#include <cfloat>
#include <cstdio>

#include "kernels/algorithm.h"
#include "viz/algorithms.h"
#include "viz/format.h"
#include "viz/panels.h"
#include "viz/theme.h"
#include "viz/widgets.h"

namespace tilesim::viz {

using sim::Level;
using sim::Tensor;

namespace {

// Every tensor, in the model's order; rows without traffic in any lane are left out.
Tensor tensor_at(std::size_t k) {
    return static_cast<Tensor>(k);
}

double final_hbm(const Lane& l) {
    return static_cast<double>(l.data->per_head.at(Level::HBM).total_bytes());
}

// One stacked bar: HBM bytes so far, one segment per tensor in its colour; a thin outline marks
// the final total, so the class sees how far each algorithm still has to go.
void race_bar(ImDrawList* dl, ImVec2 p0, ImVec2 p1, const ReplayTotals& now, double final_bytes,
              double scale) {
    dl->AddRectFilled(p0, p1, rgb(colors::kPanelBg));
    const float w = p1.x - p0.x;
    float x = p0.x;
    for (std::size_t k = 0; k < sim::kTensorCount; ++k) {
        const Tensor t = tensor_at(k);
        const double b = static_cast<double>(now.at(Level::HBM, t).total_bytes());
        if (b <= 0) continue;
        const float seg = w * static_cast<float>(b / scale);
        dl->AddRectFilled(ImVec2(x, p0.y), ImVec2(x + seg, p1.y), tensor_color(t));
        x += seg;
    }
    const float end = p0.x + w * static_cast<float>(final_bytes / scale);
    dl->AddRect(p0, ImVec2(std::max(end, p0.x + 2), p1.y), rgb(0xFFFFFF, 140), 0, 0, 1.0F);
}

// A table cell's text: in the small font when the column is too narrow for it (a projector's scale),
// shrunk or cut as a last resort, never running into the next column.
void cell_text(const std::string& text, bool disabled = false) {
    const ImU32 col = ImGui::GetColorU32(disabled ? ImGuiCol_TextDisabled : ImGuiCol_Text);
    const float w = ImGui::GetContentRegionAvail().x;
    ImFont* font = ImGui::CalcTextSize(text.c_str()).x <= w ? ImGui::GetFont() : fonts().small;
    const ImVec2 at = ImGui::GetCursorScreenPos();
    const float used = draw_text_fit(ImGui::GetWindowDrawList(), font, at, w, col, text);
    ImGui::Dummy(ImVec2(std::max(1.0F, used), ImGui::GetTextLineHeight()));
}

// One unit at a time keeps the columns legible from the back of a room; the other unit is in the
// cell's tooltip.
void traffic_cell(const sim::Traffic& t, bool read, bool elements) {
    const std::int64_t b = read ? t.read_bytes : t.write_bytes;
    const std::int64_t e = read ? t.read_elements : t.write_elements;
    if (b == 0) {
        ImGui::TextDisabled("-");
        return;
    }
    const std::string bytes = fmt_bytes(static_cast<double>(b));
    const std::string el = fmt_elements(e);
    cell_text(elements ? el : bytes);
    if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip("%lld bytes = %lld elements", static_cast<long long>(b), static_cast<long long>(e));
    }
}

// The race bars and the sentence under them.
void race_bars(const Session& s) {
    const auto& lanes = s.lanes();
    // Bars, on a shared scale: the largest final total among the lanes.
    double scale = 1;
    for (const auto& l : lanes) {
        if (l.runs_ok()) scale = std::max(scale, final_hbm(l));
    }
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float w = ImGui::GetContentRegionAvail().x;
    for (std::size_t i = 0; i < lanes.size(); ++i) {
        const Lane& l = lanes[i];
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(algorithm_color(l.key)));
        ImGui::TextUnformatted(display_name(l.key).c_str());
        ImGui::PopStyleColor();
        if (!l.runs_ok()) {
            ImGui::TextDisabled(l.data == nullptr ? "waiting for the model..."
                                                  : "does not run with these settings");
            continue;
        }
        const auto& now = l.replay.totals();
        const double fin = final_hbm(l);
        const double so_far = static_cast<double>(now.at(Level::HBM).total_bytes());
        char of[96];
        std::snprintf(of, sizeof of, "%s of %s%s", fmt_bytes(so_far).c_str(), fmt_bytes(fin).c_str(),
                      s.playback().finished(i) ? "  (done)" : "");
        // Beside the name when it fits, else written on the bar (a projector's scale): no extra line.
        const float of_w = ImGui::CalcTextSize(of).x;
        const bool beside = ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x + of_w <=
                            ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
        if (beside) {
            ImGui::SameLine();
            ImGui::TextDisabled("%s", of);
        }
        const ImVec2 p0 = ImGui::GetCursorScreenPos();
        const float bar_h = ImGui::GetTextLineHeight() + 2;
        race_bar(dl, p0, ImVec2(p0.x + w - 1, p0.y + bar_h), now, fin, scale);
        if (!beside) {
            const ImVec2 t0(p0.x + w - 1 - of_w - 6, p0.y);
            dl->AddRectFilled(t0, ImVec2(p0.x + w - 1, p0.y + bar_h), rgb(0x14171B, 230));
            dl->AddText(ImVec2(t0.x + 3, p0.y + 1), rgb(colors::kMuted), of);
        }
        ImGui::Dummy(ImVec2(w - 1, bar_h + 2));
    }
    // The race in words: at one clock both move bytes at the same bandwidth, so what differs is how
    // much each still has to move.
    if (lanes.size() == 2 && lanes[0].runs_ok() && lanes[1].runs_ok()) {
        auto done = [&](std::size_t i) {
            const double fin = final_hbm(lanes[i]);
            return fin > 0 ? static_cast<double>(lanes[i].replay.totals().at(Level::HBM).total_bytes()) / fin
                           : 1.0;
        };
        const std::string& a = lanes[0].key;
        const std::string& b = lanes[1].key;
        const double fa = final_hbm(lanes[0]);
        const double fb = final_hbm(lanes[1]);
        const bool fin0 = s.playback().finished(0), fin1 = s.playback().finished(1);
        if (fin0 != fin1 && fa > 0 && fb > 0) {
            const std::size_t winner = fin0 ? 0 : 1;
            ImGui::TextWrapped("%s finished first: %.2f%s less HBM traffic than %s",
                               (winner == 0 ? a : b).c_str(), winner == 0 ? fb / fa : fa / fb, sym_times(),
                               (winner == 0 ? b : a).c_str());
        } else if (!fin0) {
            ImGui::TextWrapped("same clock: %s %.0f%% done, %s %.0f%% done", a.c_str(), 100 * done(0),
                               b.c_str(), 100 * done(1));
        } else {
            ImGui::TextWrapped("both done: %s %s, %s %s", a.c_str(), fmt_bytes(fa).c_str(), b.c_str(),
                               fmt_bytes(fb).c_str());
        }
    }
}

// What one column's figures are of: a (batch, head), or for a definition that packs a KV group's
// query heads into one thread block (kernels::unit_problem) a (batch, KV head) of g query heads.
std::string units_line(const Session& s, const scenarios::Scenario& sc) {
    std::string packed;
    for (const auto& l : s.lanes()) {
        const auto* def = l.runs.empty() ? nullptr : l.runs.front()->def;
        if (def == nullptr) continue;
        const std::int64_t g = kernels::query_heads_per_unit(*def, sc.problem);
        if (g > 1) {
            packed += (packed.empty() ? "" : "; ") + l.key + ": per (batch, KV head) of " +
                      std::to_string(g) + " query heads, " +
                      std::to_string(kernels::unit_problem(*def, sc.problem).bh()) + " units";
        }
    }
    const std::string x = sym_times();
    return "per head, so far (of B" + x + "H = " + std::to_string(sc.problem.bh()) + " heads)" +
           (packed.empty() ? "" : "; " + packed);
}

// The figures, per tensor, then SRAM, FLOPs and time.
void counters_table(const Session& s, bool elements) {
    const auto& lanes = s.lanes();
    // The figures, per tensor.
    const int cols = 1 + 2 * static_cast<int>(lanes.size());
    const ImGuiTableFlags flags =
        ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingStretchSame;
    // No scrolling: the App gives this panel the height its rows need (UiState::counters_height).
    // When even the screen is too short for the rows (a forward+backward's fourteen tensors at
    // --scale 2), the whole table takes the small font.
    std::size_t rows = 8;  // headers, total, SRAM, FLOPs, clock, pred., the note
    for (std::size_t k = 0; k < sim::kTensorCount; ++k) {
        for (const auto& l : lanes) {
            if (l.runs_ok() && l.data->per_head.at(Level::HBM, tensor_at(k)).total_bytes() > 0) {
                ++rows;
                break;
            }
        }
    }
    const float row_h = ImGui::GetTextLineHeight() + 2 * ImGui::GetStyle().CellPadding.y;
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    const bool compact = static_cast<float>(rows) * row_h > vp->WorkPos.y + vp->WorkSize.y - ImGui::GetCursorScreenPos().y;
    if (compact) {
        ImGui::PushFont(fonts().small);
        ImGui::PushStyleVar(ImGuiStyleVar_CellPadding, ImVec2(ImGui::GetStyle().CellPadding.x, 0.0F));
    }
    if (ImGui::BeginTable("counters", cols, flags)) {
        ImGui::TableSetupColumn("HBM", ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("dQacc").x + 4);
        for (std::size_t i = 0; i < lanes.size(); ++i) {
            ImGui::TableSetupColumn("read");
            ImGui::TableSetupColumn("write");
        }
        ImGui::TableHeadersRow();
        // The algorithm over each read/write pair, in its colour (the header row says read/write).
        ImGui::TableNextRow();
        for (std::size_t i = 0; i < lanes.size(); ++i) {
            ImGui::TableSetColumnIndex(static_cast<int>(1 + 2 * i));
            ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(algorithm_color(lanes[i].key)), "%s",
                               lanes[i].key.c_str());
        }
        auto any = [&](Tensor t) {
            for (const auto& l : lanes) {
                if (l.runs_ok() && l.data->per_head.at(Level::HBM, t).total_bytes() > 0) return true;
            }
            return false;
        };
        for (std::size_t k = 0; k < sim::kTensorCount; ++k) {
            const Tensor t = tensor_at(k);
            if (!any(t)) continue;
            ImGui::TableNextRow();
            ImGui::TableSetColumnIndex(0);
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(tensor_color(t)));
            ImGui::Text("%s", std::string(sim::tensor_name(t)).c_str());
            ImGui::PopStyleColor();
            for (std::size_t i = 0; i < lanes.size(); ++i) {
                const sim::Traffic tr =
                    lanes[i].runs_ok() ? lanes[i].replay.totals().at(Level::HBM, t) : sim::Traffic{};
                ImGui::TableSetColumnIndex(static_cast<int>(1 + 2 * i));
                traffic_cell(tr, true, elements);
                ImGui::TableSetColumnIndex(static_cast<int>(2 + 2 * i));
                traffic_cell(tr, false, elements);
            }
        }
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::TextUnformatted("total");
        for (std::size_t i = 0; i < lanes.size(); ++i) {
            const sim::Traffic tr =
                lanes[i].runs_ok() ? lanes[i].replay.totals().at(Level::HBM) : sim::Traffic{};
            ImGui::TableSetColumnIndex(static_cast<int>(1 + 2 * i));
            traffic_cell(tr, true, elements);
            ImGui::TableSetColumnIndex(static_cast<int>(2 + 2 * i));
            traffic_cell(tr, false, elements);
        }
        // One row per figure, each algorithm's value spanning its two columns' first cell.
        auto figure = [&](const char* name, const char* tip, auto value) {
            ImGui::TableNextRow();
            ImGui::TableSetColumnIndex(0);
            ImGui::TextUnformatted(name);
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tip);
            for (std::size_t i = 0; i < lanes.size(); ++i) {
                ImGui::TableSetColumnIndex(static_cast<int>(1 + 2 * i));
                if (!lanes[i].runs_ok()) {
                    ImGui::TextDisabled("-");
                    continue;
                }
                const auto [main, sub] = value(lanes[i]);
                cell_text(main);
                if (!sub.empty()) {
                    // Secondary figures in the small font: they fit the narrow columns of a projector.
                    ImGui::TableSetColumnIndex(static_cast<int>(2 + 2 * i));
                    ImGui::PushFont(fonts().small);
                    cell_text(sub, true);
                    ImGui::PopFont();
                }
            }
        };
        using Pair = std::pair<std::string, std::string>;
        figure("SRAM", "SRAM in use now, and the peak so far", [](const Lane& l) {
            return Pair{fmt_binary_bytes(l.replay.totals().sram_used_bytes),
                        "peak " + fmt_binary_bytes(l.replay.totals().sram_peak_bytes)};
        });
        figure("FLOPs", "Floating-point operations so far (matmul + softmax), of the run's total",
               [](const Lane& l) {
                   return Pair{fmt_count(static_cast<double>(l.replay.totals().flops)),
                               "of " + fmt_count(static_cast<double>(l.data->per_head.flops()))};
               });
        // Two different clocks, both labelled: the animation's model clock (one head, events one after
        // another) and the timeline's prediction (all heads, blocks in waves over the SMs).
        figure("clock",
               "Model clock, ONE head, up to the play head: each event's bytes / bandwidth or FLOPs / rate,\n"
               "one after another. The animation runs on it; it is not a prediction of the kernel's time.",
               [](const Lane& l) {
                   return Pair{fmt_seconds(l.replay.totals().model_seconds),
                               "of " + fmt_seconds(l.index ? l.index->model_start.back() : 0.0)};
               });
        figure(
            "pred.",
            "Predicted time of the whole launch, ALL B x H heads: the scheduled timeline (thread blocks in\n"
            "waves over the SMs, copies and math overlapping per the schedule), with the busiest agent;\n"
            "forward and backward added up when both run (docs/timeline.md). Not comparable with 'clock'.",
            [](const Lane& l) {
                std::string bound;
                for (const auto* r : l.runs) {
                    for (const auto& ph : r->cost.phases) {
                        if (bound.find(ph.bound) == std::string::npos)
                            bound += (bound.empty() ? "" : ", ") + ph.bound;
                    }
                }
                return Pair{fmt_seconds(l.data->predicted_s), bound + " bound"};
            });
        ImGui::EndTable();
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        ImGui::PushFont(fonts().small);
        ImGui::TextWrapped(
            "clock: model time of one head, as animated; pred.: the timeline's prediction for "
            "all B%sH heads (hover the names)",
            sym_times());
        ImGui::PopFont();
        ImGui::PopStyleColor();
    }
    if (compact) {
        ImGui::PopStyleVar();
        ImGui::PopFont();
    }
}

}  // namespace

void draw_counters_panel(Session& s, UiState& ui) {
    bool& elements = ui.counters_in_elements;
    const Fonts& f = fonts();
    ImGui::PushFont(f.large);
    ImGui::TextUnformatted("HBM traffic race");
    ImGui::PopFont();
    if (s.model() == nullptr || !s.model()->result) {
        ImGui::TextDisabled(s.model() == nullptr ? "waiting for the model..."
                                                 : "no result (see the memory view)");
        return;
    }
    const auto& sc = s.model()->result->scenario;
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped("%s", units_line(s, sc).c_str());
    ImGui::PopStyleColor();

    race_bars(s);
    // The sentence only when it fits on one line with the buttons (the table's header says "HBM").
    const float radio = ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x;
    const char* intro = "HBM traffic so far, per tensor, in";
    const float row = ImGui::CalcTextSize(intro).x + 2 * radio + ImGui::CalcTextSize("byteselements").x +
                      3 * ImGui::GetStyle().ItemSpacing.x;
    if (row <= ImGui::GetContentRegionAvail().x) {
        ImGui::TextDisabled("%s", intro);
        ImGui::SameLine();
    }
    if (ImGui::RadioButton("bytes", !elements)) elements = false;
    same_line_if_fits(radio + ImGui::CalcTextSize("elements").x);
    if (ImGui::RadioButton("elements", elements)) elements = true;
    ImGui::Separator();

    counters_table(s, elements);
}

}  // namespace tilesim::viz
