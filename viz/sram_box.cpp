// SRAM in the memory view: the buffers live at the play head (from the trace's Allocate and Release
// events, sram_view.h), each with the tile it holds.
#include <algorithm>
#include <cfloat>
#include <cstdio>

#include "viz/format.h"
#include "viz/memory_widgets.h"
#include "viz/theme.h"
#include "viz/widgets.h"

namespace tilesim::viz {

using sim::Op;

namespace {

// The capacity bar: one segment per live buffer in its tensor's colour, sized in bytes, then the
// occupancy and the peak under it. Returns the bar's bottom.
float capacity_bar(ImDrawList* dl, ImVec2 p0, ImVec2 p1, const SramSnapshot& snap,
                   const ReplayTotals& totals) {
    const Fonts& f = fonts();
    const float line = ImGui::GetTextLineHeight();
    const ImVec2 b0(p0.x + 8, p0.y + 10 + line), b1(p1.x - 8, p0.y + 10 + line + 16);
    dl->AddRectFilled(b0, b1, rgb(0x2A2F36));
    const float bw = b1.x - b0.x;
    const double cap = std::max<double>(1.0, static_cast<double>(snap.capacity_bytes));
    if (snap.consistent) {
        float x = b0.x;
        for (const auto& s : snap.slots) {
            const float w = bw * static_cast<float>(static_cast<double>(s.bytes) / cap);
            dl->AddRectFilled(ImVec2(x, b0.y), ImVec2(x + w, b1.y), tensor_color(s.tensor));
            dl->AddLine(ImVec2(x + w, b0.y), ImVec2(x + w, b1.y), rgb(0x14171B), 1.0F);
            x += w;
        }
    } else {
        const float w = bw * static_cast<float>(static_cast<double>(snap.used_bytes) / cap);
        dl->AddRectFilled(b0, ImVec2(b0.x + w, b1.y), rgb(colors::kMuted));
    }
    dl->AddRect(b0, b1, rgb(colors::kMuted));
    // The label says what the bar shows (the same snapshot), and the peak only where both fit.
    const std::string usage = sram_usage_label(snap);
    const std::string peak = "peak " + fmt_binary_bytes(totals.sram_peak_bytes);
    const float pw = f.small->CalcTextSizeA(f.small->FontSize, FLT_MAX, 0, peak.c_str()).x;
    const float uw = f.small->CalcTextSizeA(f.small->FontSize, FLT_MAX, 0, usage.c_str()).x;
    const bool both = uw + pw + 12 <= bw;
    draw_text_fit(dl, f.small, ImVec2(b0.x, b1.y + 3), bw, rgb(colors::kMuted), usage);
    if (both)
        dl->AddText(f.small, f.small->FontSize, ImVec2(b1.x - pw, b1.y + 3), rgb(colors::kMuted),
                    peak.c_str());
    return b1.y;
}

// What a slot holds, in words: "K_2", "P_1,2 (computed)", "S_0,1 (recomputed)", "empty".
std::string held_text(const SramSlot& s, const Lane& lane) {
    if (!s.filled) return "empty";
    std::string held = lane.tile_name(s.held, s.tile, s.since_step);
    if (s.recomputed) {
        held += " (recomputed)";
    } else if (s.computed) {
        held += " (computed)";
    }
    return held;
}

// The current event's mark on its buffer: yellow while computing in it, white while a tile moves in
// or out, dashed while it is being reserved.
void current_mark(ImDrawList* dl, ImVec2 t0, ImVec2 t1, const sim::Event& e) {
    const ImVec2 a(t0.x - 3, t0.y - 3), b(t1.x + 3, t1.y + 3);
    if (e.op == Op::Allocate) {
        draw_dashed_rect(dl, a, b, rgb(0xFFFFFF), 2.0F);
    } else {
        dl->AddRect(a, b, e.op == Op::Compute ? rgb(colors::kCompute) : rgb(0xFFFFFF), 2.0F, 0, 3.0F);
    }
}

}  // namespace

std::string sram_usage_label(const SramSnapshot& snap) {
    // The bar's segments are the live buffers (or, were they inconsistent, the model's figure).
    const std::int64_t used = snap.consistent ? snap.slot_bytes() : snap.used_bytes;
    const double cap = std::max<double>(1.0, static_cast<double>(snap.capacity_bytes));
    char usage[128];
    std::snprintf(usage, sizeof usage, "in use %s (%.0f%%)", fmt_binary_bytes(used).c_str(),
                  100.0 * static_cast<double>(used) / cap);
    return usage;
}

std::vector<SlotGeom> draw_sram(ImDrawList* dl, ImVec2 p0, ImVec2 p1, const SramSnapshot& snap,
                                const sim::Event* current, const Lane& lane) {
    const sim::Trace& trace = *lane.trace();
    const ReplayTotals& totals = lane.replay.totals();
    const Fonts& f = fonts();
    const float line = ImGui::GetTextLineHeight();
    dl->AddRectFilled(p0, p1, rgb(0x14171B), 6.0F);
    dl->AddRect(p0, p1, rgb(colors::kMuted), 6.0F, 0, 2.0F);
    const std::string title = "SRAM (on-chip), M = " + fmt_binary_bytes(snap.capacity_bytes);
    draw_text_fit(dl, nullptr, ImVec2(p0.x + 8, p0.y + 5), p1.x - p0.x - 14,
                  ImGui::GetColorU32(ImGuiCol_Text), title);
    const float bar_bottom = capacity_bar(dl, p0, p1, snap, totals);

    // Buffer rows.
    std::vector<SlotGeom> geom;
    const float top = bar_bottom + 8 + f.small->FontSize;
    const float avail = p1.y - 10 - f.small->FontSize - top;  // the pass name sits at the bottom
    // Rows of two lines where there is room (34 px at scale 1), never taller than the text needs.
    const float row =
        snap.slots.empty() ? 0 : std::min(line * 2.3F, avail / static_cast<float>(snap.slots.size()));
    float label_bottom = -FLT_MAX;
    for (std::size_t k = 0; k < snap.slots.size(); ++k) {
        const auto& s = snap.slots[k];
        const float y = top + row * static_cast<float>(k);
        const float th = std::max(6.0F, row - 6);
        // The mini tile keeps to a box about three lines wide (46 px at scale 1).
        const ImVec2 t0(p0.x + 10, y + 2), t1(p0.x + 10 + std::min(line * 3.1F, th * 2.2F), y + 2 + th);
        geom.push_back({t0, t1});
        if (s.filled) {
            dl->AddRectFilled(t0, t1, tensor_color(s.held));
            if (s.recomputed) draw_hatch(dl, t0, t1, rgb(0x101010, 200), 4.0F);
        } else {
            dl->AddRect(t0, t1, tensor_color(s.tensor, 160), 0, 0, 1.5F);
        }
        if (current != nullptr && current->buffer == s.buffer && current->op != Op::Phase)
            current_mark(dl, t0, t1, *current);
        const std::string held = held_text(s, lane);
        const float tx = t1.x + 8;
        const std::string what = s.what + ", " + fmt_binary_bytes(s.bytes);
        // Two lines when the row allows (the tile held, then the buffer it sits in), else one.
        const bool two = row >= line + f.small->FontSize;
        // Rows shorter than a line (many buffers, a large --scale) take the small font; shorter than
        // that, a label is left out where it would overlap the one above (the tile still shows).
        ImFont* font = row >= line ? nullptr : f.small;
        const float fh = font == nullptr ? line : f.small->FontSize;
        const float ty = two ? y : y + std::max(0.0F, (th - fh) * 0.5F);
        if (ty < label_bottom) continue;
        label_bottom = ty + fh;
        draw_text_fit(dl, font, ImVec2(tx, ty), p1.x - tx - 6, s.filled ? tensor_color(s.held) : rgb(colors::kMuted),
                      held);
        if (two)
            draw_text_fit(dl, f.small, ImVec2(tx, ty + line - 1), p1.x - tx - 6, rgb(colors::kMuted), what);
    }
    if (snap.slots.empty()) {
        dl->AddText(f.small, f.small->FontSize, ImVec2(p0.x + 10, top), rgb(colors::kMuted),
                    "no buffer reserved at this step");
    }
    const auto& phases = trace.phases();
    if (snap.phase >= 0 && static_cast<std::size_t>(snap.phase) < phases.size() && phases.size() > 1) {
        const std::string pass = "pass " + std::to_string(snap.phase + 1) + " of " +
                                 std::to_string(phases.size()) + ": " +
                                 phases[static_cast<std::size_t>(snap.phase)].name;
        draw_text_fit(dl, f.small, ImVec2(p0.x + 8, p1.y - f.small->FontSize - 5), p1.x - p0.x - 14,
                      rgb(colors::kMuted), pass);
    }
    return geom;
}

}  // namespace tilesim::viz
