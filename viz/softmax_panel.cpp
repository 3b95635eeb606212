// The online softmax of one Q block (Algorithm 1, lines 10-13): after each K/V block j is folded
// in, the running row maximum m_i, the running row sum l_i and the output O_i. When a new maximum
// appears, the old sum and output are rescaled by e^(m_old - m_new): that factor is the whole trick
// that lets FlashAttention never hold a full row of S. The numbers are the model's own (peeked, not
// counted: kernels::SoftmaxSnapshot), following the play head. Which algorithm is watched, and
// whether it divides O_i by l_i at every step or once at the end, come from its definition
// (AlgorithmDef::softmax).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "kernels/registry.h"
#include "viz/algorithms.h"
#include "viz/panels.h"
#include "viz/theme.h"
#include "viz/widgets.h"

namespace tilesim::viz {

using kernels::OnlineSoftmax;

namespace {

bool has_online_softmax(std::string_view key) {
    const auto* d = kernels::find_definition(key, kernels::Pass::forward);
    return d != nullptr && d->softmax != OnlineSoftmax::none;
}

// The algorithm whose probe is shown: the first lane whose forward has an online softmax, else the
// first algorithm of the table that has one.
std::optional<std::string> probe_key(const Session& s) {
    for (const auto& l : s.lanes()) {
        if (has_online_softmax(l.key)) return l.key;
    }
    for (const auto& k : s.keys()) {
        if (has_online_softmax(k)) return k;
    }
    return std::nullopt;
}

// Where the probed algorithm's play head is: its lane's index and event, when it is animated.
struct Watched {
    const Lane* lane = nullptr;
    std::int64_t event = -1;
};
Watched watched(const Session& s, const std::string& key) {
    for (std::size_t i = 0; i < s.lanes().size(); ++i) {
        if (s.lanes()[i].key == key) return {&s.lanes()[i], s.playback().event(i)};
    }
    return {};
}

std::string num(double v) {
    char buf[32];
    if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
    std::snprintf(buf, sizeof buf, "%.4f", v);
    return buf;
}

// Every update so far, one column per K/V block: m_i and l_i of each row after that block. A yellow
// m_i is a new maximum: the moment the old sum and output were rescaled.
void draw_history(const scenarios::AlgorithmRun& run, std::int64_t shown, int rows, std::int64_t r0) {
    const int steps = static_cast<int>(run.probe.size());
    // As many blocks as fit the width (a projector's scale fits fewer), ending at the one shown.
    const float row_w = ImGui::CalcTextSize("row 000").x;
    const float col_w = ImGui::CalcTextSize("m -0.0000 l 00.0000").x + 3 * ImGui::GetStyle().CellPadding.x;
    const int fit = std::max(1, static_cast<int>((ImGui::GetContentRegionAvail().x - row_w) / col_w));
    const int ncols = std::min({steps, 12, fit});
    const int first = std::clamp(static_cast<int>(shown) - ncols + 1, 0, steps - ncols);
    const int cols = 1 + ncols;
    const ImGuiTableFlags flags =
        ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingStretchSame;
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped(
        "m_i and l_i after each K/V block (yellow: a new row maximum, so the past was rescaled)");
    ImGui::PopStyleColor();
    if (!ImGui::BeginTable("history", cols, flags)) return;
    ImGui::TableSetupColumn("row", ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("row").x);
    for (int j = first; j < first + ncols; ++j) {
        ImGui::TableSetupColumn(
            ("after j = " + std::to_string(run.probe[static_cast<std::size_t>(j)].j)).c_str());
    }
    ImGui::TableHeadersRow();
    for (int r = 0; r < rows; ++r) {
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::Text("%lld", static_cast<long long>(r0 + r));
        for (int j = first; j < first + ncols; ++j) {
            ImGui::TableSetColumnIndex(1 + j - first);
            if (j > shown) {
                ImGui::TextDisabled(".");
                continue;
            }
            if (j == shown) ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, rgb(colors::kCompute, 40));
            const auto& snap = run.probe[static_cast<std::size_t>(j)];
            const bool rose = j > 0 && snap.m(r) > run.probe[static_cast<std::size_t>(j - 1)].m(r);
            if (rose) {
                ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(rgb(colors::kCompute)), "m %s",
                                   num(snap.m(r)).c_str());
            } else {
                ImGui::Text("m %s", num(snap.m(r)).c_str());
            }
            ImGui::SameLine();
            ImGui::TextDisabled("l %s", num(snap.l(r)).c_str());
        }
    }
    ImGui::EndTable();
}

// This update's arithmetic with the model's numbers: the factor e^(m_old - m_new) and how the new
// l_i splits into the old sum, rescaled, plus this block's contribution.
void draw_arithmetic(const kernels::SoftmaxSnapshot& now, const kernels::SoftmaxSnapshot* prev, int rows,
                     std::int64_t r0, const kernels::AlgorithmDef& def) {
    ImGui::Spacing();
    ImGui::Text("this update, row by row (%s):", std::string(def.paper).c_str());
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped("l_new = e^(m_old - m_new) x l_old + this block's row sum (taken at m_new); %s",
                       def.softmax == OnlineSoftmax::deferred
                           ? "O_i is scaled by the same factor"
                           : "O_i by the same factor, times l_old / l_new");
    ImGui::PopStyleColor();
    for (int r = 0; r < rows; ++r) {
        if (prev == nullptr) {
            ImGui::Text("row %lld: first block, m = %s, l = %s", static_cast<long long>(r0 + r),
                        num(now.m(r)).c_str(), num(now.l(r)).c_str());
            continue;
        }
        const double a = std::exp(static_cast<double>(prev->m(r)) - now.m(r));
        const double block = now.l(r) - a * prev->l(r);
        // One wrapped line per row (it wraps at a projector's scale); yellow when the past is rescaled.
        ImGui::PushStyleColor(ImGuiCol_Text, a < 1.0 ? ImGui::ColorConvertU32ToFloat4(rgb(colors::kCompute))
                                                     : ImGui::GetStyleColorVec4(ImGuiCol_Text));
        ImGui::TextWrapped("row %lld: e^(%s - %s) = %.4f;  l = %.4f x %s + %s = %s",
                           static_cast<long long>(r0 + r), num(prev->m(r)).c_str(), num(now.m(r)).c_str(), a,
                           a, num(prev->l(r)).c_str(), num(block).c_str(), num(now.l(r)).c_str());
        ImGui::PopStyleColor();
    }
}

// The strip of K/V blocks, one box per block, filled once folded in.
void draw_strip(const scenarios::AlgorithmRun& run, std::int64_t shown) {
    const Fonts& f = fonts();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const auto steps = static_cast<int>(run.probe.size());
    const float avail = ImGui::GetContentRegionAvail().x;
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    const float label_w = ImGui::CalcTextSize("K/V j: ").x;
    const float line = ImGui::GetTextLineHeight();
    const float bw = std::clamp((avail - label_w - 2) / static_cast<float>(steps), 3.0F, 2.4F * line);
    dl->AddText(p0, ImGui::GetColorU32(ImGuiCol_Text), "K/V j:");
    for (int j = 0; j < steps; ++j) {
        const ImVec2 a(p0.x + label_w + bw * static_cast<float>(j), p0.y), b(a.x + bw - 2, a.y + line + 2);
        const bool done = j <= shown;
        dl->AddRectFilled(
            a, b, done ? tensor_color(sim::Tensor::K, j == shown ? 255 : 120) : rgb(colors::kPanelBg));
        if (j == shown)
            dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), rgb(colors::kCompute), 0, 0, 2);
        if (bw >= f.small->FontSize * 1.3F) {
            const std::string t = std::to_string(run.probe[static_cast<std::size_t>(j)].j);
            dl->AddText(f.small, f.small->FontSize, ImVec2(a.x + 3, a.y + 2), rgb(0xFFFFFF), t.c_str());
        }
    }
    ImGui::Dummy(ImVec2(avail, line + 4));
}

// m_i, l_i, the rescale factor (compact view) and the first columns of O_i: divided by l_i when
// `final_O` (the deferred division has run), else as the kernel holds it.
void draw_values(const kernels::SoftmaxSnapshot& now, const kernels::SoftmaxSnapshot* prev, std::int64_t r0,
                 bool large, bool final_O) {
    // Only the rows and columns that fit, so nothing scrolls out of view at a projector's scale.
    const ImGuiStyle& st = ImGui::GetStyle();
    const float cell = ImGui::CalcTextSize("-0.0000").x + 2 * st.CellPadding.x + 1;
    const float row_w = ImGui::CalcTextSize("row").x + 2 * st.CellPadding.x;
    const float row_h = ImGui::GetTextLineHeight() + 2 * st.CellPadding.y;
    const int fit_rows = std::max(1, static_cast<int>(ImGui::GetContentRegionAvail().y / row_h) - 1);
    const int fit_cols =
        std::max(1, static_cast<int>((ImGui::GetContentRegionAvail().x - row_w) / cell) - (large ? 0 : 3));
    const auto rows =
        static_cast<int>(std::min<Eigen::Index>(now.m.size(), std::min(large ? 16 : 6, fit_rows)));
    const int show_cols =
        static_cast<int>(std::min<Eigen::Index>(now.O.cols(), std::min(large ? 8 : 3, fit_cols)));
    const int cols = (large ? 1 : 4) + show_cols;
    const ImGuiTableFlags flags =
        ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingStretchProp;
    if (!ImGui::BeginTable("probe", cols, flags)) return;
    ImGui::TableSetupColumn("row", ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("row").x);
    if (!large) {
        ImGui::TableSetupColumn("m_i");
        ImGui::TableSetupColumn("l_i");
        ImGui::TableSetupColumn("rescale");
    }
    for (int c = 0; c < show_cols; ++c) ImGui::TableSetupColumn(("O_i[" + std::to_string(c) + "]").c_str());
    ImGui::TableHeadersRow();
    const ImVec4 yellow = ImGui::ColorConvertU32ToFloat4(rgb(colors::kCompute));
    for (int r = 0; r < rows; ++r) {
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::Text("%lld", static_cast<long long>(r0 + r));
        int col = 1;
        if (!large) {
            const double m_new = now.m(r), l_new = now.l(r);
            const double m_old = prev != nullptr ? prev->m(r) : -INFINITY;
            ImGui::TableSetColumnIndex(col++);
            // A rising maximum is the moment the rescale matters: shown in yellow.
            if (m_new > m_old && prev != nullptr) {
                ImGui::TextColored(yellow, "%s", num(m_new).c_str());
            } else {
                ImGui::TextUnformatted(num(m_new).c_str());
            }
            ImGui::TableSetColumnIndex(col++);
            ImGui::TextUnformatted(num(l_new).c_str());
            ImGui::TableSetColumnIndex(col++);
            if (prev == nullptr) {
                ImGui::TextDisabled("first");
            } else if (const double factor = std::exp(m_old - m_new); factor < 1.0) {
                ImGui::TextColored(yellow, "x%.4f", factor);
            } else {
                ImGui::TextDisabled("x1");
            }
        }
        const double div = final_O && !now.O_normalised ? static_cast<double>(now.l(r)) : 1.0;
        for (int c = 0; c < show_cols; ++c) {
            ImGui::TableSetColumnIndex(col + c);
            ImGui::TextUnformatted(num(static_cast<double>(now.O(r, c)) / div).c_str());
        }
    }
    ImGui::EndTable();
}

// What O_i is at this point, in words.
const char* O_state(const kernels::SoftmaxSnapshot& now, bool final_O) {
    if (now.O_normalised) return " (already divided by l_i)";
    return final_O ? " (divided by l_i once, after the last K/V block: final)"
                   : " (not yet divided by l_i: that happens once, after the last K/V block)";
}

}  // namespace

// A deferred rescale divides O_i by l_i once, after the last K/V block: the first event past the last
// update that touches O_i of this block again (computes the division, or stores the result). From
// that event on, the block's O_i is final. -1 when the trace has no such event.
std::int64_t deferred_division_step(const sim::Trace& trace, std::int64_t after, std::int64_t r0,
                                    std::int64_t rows) {
    const auto& ev = trace.events();
    for (auto k = static_cast<std::size_t>(std::max<std::int64_t>(0, after + 1)); k < ev.size(); ++k) {
        const auto& e = ev[k];
        const bool touches = e.tensor == sim::Tensor::O &&
                             (e.op == sim::Op::Compute || e.op == sim::Op::Store) &&
                             e.tile.row0 < r0 + rows && r0 < e.tile.row0 + e.tile.rows;
        if (touches) return static_cast<std::int64_t>(k);
    }
    return -1;
}

void draw_softmax_panel(Session& s, bool large) {
    ImGui::PushFont(fonts().large);
    ImGui::TextUnformatted("Online softmax");
    ImGui::PopFont();
    const auto key = probe_key(s);
    if (!key) {
        disabled_wrapped("no algorithm of this scenario keeps an online softmax");
        return;
    }
    const auto* def = kernels::find_definition(*key, kernels::Pass::forward);
    const auto* run = s.run_of(*key, kernels::Pass::forward);
    same_line_if_fits(ImGui::CalcTextSize(std::string(def->name).c_str()).x);
    ImGui::TextDisabled("%s", std::string(def->name).c_str());
    if (run == nullptr) {
        ImGui::TextWrapped(s.model() == nullptr || s.model_busy()
                               ? "waiting for the model..."
                               : "This scenario runs the backward only; the online softmax is the forward's "
                                 "(set pass = forward or forward+backward).");
        return;
    }
    if (!run->fit.ok) {
        ImGui::TextWrapped("%s does not run with these settings (see the memory view).",
                           std::string(def->name).c_str());
        return;
    }
    // Q block chooser: re-runs the model with the probe on that block.
    int block = s.watch_block();
    const int last = static_cast<int>(std::max<std::int64_t>(1, run->tiling.T_r)) - 1;
    // A new tiling may have fewer Q blocks than the one being watched: watch the last one instead.
    if (s.watch_block() > last && !s.model_busy()) s.set_watch_block(last);
    ImGui::SetNextItemWidth(std::min(200.0F, ImGui::GetContentRegionAvail().x * 0.5F));
    if (ImGui::SliderInt("Q block i", &block, 0, last)) s.set_watch_block(std::clamp(block, 0, last));
    if (run->probe.empty()) {
        if (s.model() != nullptr && !s.model()->request.numerics) {
            ImGui::TextWrapped(
                "Numerics are off above N = %lld, which keeps every update under 100 ms (the counts are "
                "identical). "
                "Tick \"compute O (numerics)\" in the controls to see the numbers.",
                static_cast<long long>(s.numerics_max_N()));
        } else {
            disabled_wrapped("no values recorded for this block");
        }
        return;
    }
    const std::int64_t r0 = static_cast<std::int64_t>(s.watch_block()) * run->tiling.B_r;
    const std::int64_t rows = run->probe.front().m.size();

    // Which update the play head has reached, when this algorithm is animated (its forward comes
    // first in its lane, so the probe's steps are the lane's event numbers).
    std::int64_t shown = static_cast<std::int64_t>(run->probe.size()) - 1;
    const Watched w = watched(s, *key);
    bool final_O = w.lane == nullptr;  // not animated: the whole run is over
    if (w.lane != nullptr) {
        shown = -1;
        for (std::size_t p = 0; p < run->probe.size(); ++p) {
            if (run->probe[p].step <= w.event) shown = static_cast<std::int64_t>(p);
        }
        if (w.lane->trace() != nullptr) {
            const std::int64_t f = deferred_division_step(*w.lane->trace(), run->probe.back().step, r0, rows);
            final_O = f >= 0 && w.event >= f;
        }
    }
    ImGui::TextWrapped(
        "rows %lld-%lld of Q. %s", static_cast<long long>(r0), static_cast<long long>(r0 + rows - 1),
        def->softmax == OnlineSoftmax::deferred
            ? "O_i is kept unscaled and divided by l_i once, after the last block."
            : "Each step: m_new = max(m_i, rowmax S_ij); O_i and l_i rescaled by e^(m_i - m_new).");
    draw_strip(*run, shown);
    if (shown < 0) {
        disabled_wrapped(w.lane != nullptr ? "The play head has not reached this block's first update yet."
                                           : "No update yet.");
        return;
    }
    const auto& now = run->probe[static_cast<std::size_t>(shown)];
    const kernels::SoftmaxSnapshot* prev =
        shown > 0 ? &run->probe[static_cast<std::size_t>(shown - 1)] : nullptr;
    const bool at_end = shown + 1 == static_cast<std::int64_t>(run->probe.size()) && final_O;
    ImGui::TextWrapped("after folding in K/V block j = %d (%lld of %d)%s", now.j,
                       static_cast<long long>(shown + 1), static_cast<int>(run->probe.size()),
                       at_end ? ": block done" : "");
    if (large) {
        // As many rows as the height leaves for the history, the arithmetic and O_i (each row takes a
        // line in each, the arithmetic two when it wraps), after about eight lines of headings.
        const float row_h = ImGui::GetTextLineHeightWithSpacing();
        const float arith_lines =
            ImGui::CalcTextSize("row 0: e^(0.0000 - 0.0000) = 0.0000;  l = 0.0000 x 0.0000 + 0.0000 = 0.0000")
                        .x > ImGui::GetContentRegionAvail().x
                ? 2.0F
                : 1.0F;
        const auto fit =
            static_cast<int>((ImGui::GetContentRegionAvail().y - 9 * row_h) / ((2 + arith_lines) * row_h));
        const int show_rows = static_cast<int>(std::min<std::int64_t>(rows, std::clamp(fit, 1, 8)));
        draw_history(*run, shown, show_rows, r0);
        draw_arithmetic(now, prev, show_rows, r0, *def);
        ImGui::Spacing();
        ImGui::TextWrapped("O_i now%s:", O_state(now, at_end));
    } else if (!now.O_normalised) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        ImGui::TextWrapped("O_i%s", O_state(now, at_end));
        ImGui::PopStyleColor();
    }
    draw_values(now, prev, r0, large, at_end);
}

}  // namespace tilesim::viz
