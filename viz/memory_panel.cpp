// The memory view: for each animated algorithm (a "lane"), HBM drawn as the matrices its trace
// declares, cut into their tiles (matrix_view.cpp), and SRAM drawn as a box holding the buffers live
// at the play head (sram_box.cpp). The event under the play head animates as a tile travelling
// between the two; the tile being computed on is outlined in yellow, a recomputed one is hatched, an
// atomic add travels with a "+=". Each HBM tile is tinted by how often it has been read (the
// re-reads that make standard attention slow) and output tiles fill in as they are written (S and P
// visibly filling HBM for standard attention; never appearing for FlashAttention). A lane that runs
// the forward and the backward plays them one after the other; its header says which pass is on.
#include <algorithm>
#include <cfloat>
#include <cstdio>

#include "viz/algorithms.h"
#include "viz/format.h"
#include "viz/memory_widgets.h"
#include "viz/panels.h"
#include "viz/theme.h"
#include "viz/widgets.h"

namespace tilesim::viz {

using sim::Op;

namespace {

std::string event_caption(const sim::Event& e, const Lane& lane, std::int64_t n) {
    const sim::Trace& trace = *lane.trace();
    char head[48];
    std::snprintf(head, sizeof head, "step %lld/%lld: ", static_cast<long long>(e.step + 1),
                  static_cast<long long>(n));
    const auto& bufs = trace.buffers();
    const bool has_buffer = e.buffer >= 0 && static_cast<std::size_t>(e.buffer) < bufs.size();
    switch (e.op) {
        case Op::Phase: {
            const auto k = static_cast<std::size_t>(e.phase);
            return head + std::string("pass begins: ") +
                   (k < trace.phases().size() ? trace.phases()[k].name : "");
        }
        case Op::Allocate:
        case Op::Release: {
            const std::string what = has_buffer ? bufs[static_cast<std::size_t>(e.buffer)].what : "a buffer";
            return head + std::string(e.op == Op::Allocate ? "reserve SRAM for " : "free SRAM of ") + what +
                   " (" + fmt_binary_bytes(e.bytes) + ")";
        }
        default:
            break;
    }
    std::string s = head + std::string(e.label);
    const std::string tile = lane.tile_name(e.tensor, e.tile, e.step);
    if (e.op == Op::Compute) {
        if (e.has(sim::flags::kRecompute))
            s += " (" + tile + " recomputed: the forward pass computed it too)";
        return s;
    }
    s += " (" + tile + ", " + fmt_bytes(static_cast<double>(e.bytes));
    if (e.has(sim::flags::kAtomic)) s += ", atomic add +=: HBM reads the old value, writes the sum";
    if (e.from == sim::Level::L2) s += ", an L2 hit: no HBM traffic";
    return s + ")";
}

// "forward" / "backward (2 of 2)" and the tiling in force for the pass the play head is in.
std::string pass_text(const Lane& lane, std::size_t pass) {
    const auto* run = lane.runs[std::min(pass, lane.runs.size() - 1)];
    char tiling[160];
    std::snprintf(tiling, sizeof tiling, "B_r = %lld, B_c = %lld: %lld x %lld blocks",
                  static_cast<long long>(run->tiling.B_r), static_cast<long long>(run->tiling.B_c),
                  static_cast<long long>(run->tiling.T_r), static_cast<long long>(run->tiling.T_c));
    if (lane.runs.size() < 2) return tiling;
    return std::string(kernels::pass_name(run->pass())) + " pass (" + std::to_string(pass + 1) + " of " +
           std::to_string(lane.runs.size()) + "), " + tiling;
}

// The tile under the play head: outlined at its HBM position and, for a move, travelling between
// that position and its SRAM buffer (loads go in, stores come out).
void draw_current(ImDrawList* dl, const sim::Event& e, float frac, const std::vector<MatrixBox>& boxes,
                  const SramSnapshot& snap, const std::vector<SlotGeom>& slots, const Lane& lane) {
    const Fonts& f = fonts();
    const MatrixBox* box = nullptr;
    for (const auto& b : boxes) {
        if (b.tensor->decl.tensor == e.tensor) box = &b;
    }
    if (box == nullptr || (e.op != Op::Load && e.op != Op::Store && e.op != Op::Compute)) return;
    const auto [q0, q1] = sub_rect(*box, e.tile);
    const ImVec2 r0(q0.x - 1, q0.y - 1), r1(std::max(q1.x, q0.x + 3) + 1, std::max(q1.y, q0.y + 3) + 1);
    if (e.op == Op::Compute) {
        if (e.has(sim::flags::kRecompute)) {
            draw_hatch(dl, r0, r1, rgb(colors::kRecompute, 220));
            dl->AddText(f.small, f.small->FontSize, ImVec2(r0.x, r1.y + 1), rgb(colors::kCompute),
                        "recomputed");
        }
        draw_dashed_rect(dl, r0, r1, rgb(colors::kCompute), 2.5F);
        return;
    }
    dl->AddRect(r0, r1, rgb(0xFFFFFF), 0, 0, 2.5F);
    const int slot = snap.slot_of(e.buffer);
    if (slot < 0) return;
    const SlotGeom& g = slots[static_cast<std::size_t>(slot)];
    const bool load = e.op == Op::Load;
    const ImVec2 a0 = load ? q0 : g.tile0, a1 = load ? q1 : g.tile1;
    const ImVec2 z0 = load ? g.tile0 : q0, z1 = load ? g.tile1 : q1;
    const float t = ease(frac);
    ImVec2 m0 = lerp(a0, z0, t), m1 = lerp(a1, z1, t);
    // Never smaller than a thumb-nail, so a 1-row tile of a long sequence stays visible.
    if (m1.x - m0.x < 12) m1.x = m0.x + 12;
    if (m1.y - m0.y < 10) m1.y = m0.y + 10;
    const ImVec2 ca((a0.x + a1.x) * 0.5F, (a0.y + a1.y) * 0.5F),
        cz((z0.x + z1.x) * 0.5F, (z0.y + z1.y) * 0.5F);
    dl->AddLine(ca, cz, tensor_color(e.tensor, 110), 2.0F);
    // See-through, so the read counts ("2x") and the SRAM rows it passes over stay readable.
    dl->AddRectFilled(m0, m1, tensor_color(e.tensor, 190), 2.0F);
    dl->AddRect(m0, m1, rgb(0xFFFFFF), 2.0F, 0, 2.0F);
    std::string lab = lane.tile_name(e.tensor, e.tile, e.step);
    if (e.has(sim::flags::kAtomic)) lab = "+= " + lab;
    if (e.from == sim::Level::L2) lab += " (L2)";
    dl->AddText(f.small, f.small->FontSize, ImVec2(m0.x + 3, m0.y + 1), rgb(0x101010), lab.c_str());
}

// Header, or the reason the lane shows nothing; false when there is nothing to animate.
bool draw_header(ImDrawList* dl, const Session& s, std::size_t idx, ImVec2 p0, ImVec2 p1, float cap_y) {
    const Lane& lane = s.lanes()[idx];
    const Fonts& f = fonts();
    const std::string name = display_name(lane.key);
    dl->AddRectFilled(p0, ImVec2(p0.x + 6, p0.y + f.large->FontSize + 2), algorithm_color(lane.key));
    dl->AddText(f.large, f.large->FontSize, ImVec2(p0.x + 12, p0.y), algorithm_color(lane.key), name.c_str());
    const float name_w = f.large->CalcTextSizeA(f.large->FontSize, FLT_MAX, 0, name.c_str()).x;
    if (lane.data == nullptr) {
        dl->AddText(ImVec2(p0.x + 12, cap_y), rgb(colors::kMuted), "waiting for the model...");
        return false;
    }
    if (lane.failed != nullptr) {
        const std::string what =
            name + (lane.runs.size() > 1
                        ? " (" + std::string(kernels::pass_name(lane.failed->pass())) + " pass)"
                        : "");
        draw_error_box(dl, ImVec2(p0.x + 10, cap_y + 4), ImVec2(p1.x - 10, p1.y - 4),
                       what + " cannot run with these settings", lane.failed->fit.reason,
                       lane.failed->fit.fix);
        return false;
    }
    if (lane.trace() == nullptr || !lane.index || lane.index->size() == 0) {
        dl->AddText(ImVec2(p0.x + 12, cap_y), rgb(colors::kMuted), "no trace recorded");
        return false;
    }
    const std::int64_t k = std::max<std::int64_t>(0, s.playback().event(idx));
    const std::string pass = pass_text(lane, lane.pass_of(k));
    draw_text_fit(dl, nullptr, ImVec2(p0.x + 22 + name_w, p0.y + 3), p1.x - (p0.x + 22 + name_w) - 4,
                  rgb(colors::kMuted), pass.c_str());
    return true;
}

void draw_lane(Session& s, std::size_t idx, ImVec2 p0, ImVec2 p1, const UiState& ui) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    Lane& lane = s.lanes()[idx];
    const Fonts& f = fonts();
    const float line = ImGui::GetTextLineHeight();
    dl->PushClipRect(p0, p1, true);
    // Rows: header, caption, the "HBM" title (where the SRAM box starts), then the matrices.
    const float cap_y = p0.y + f.large->FontSize + 3;
    const float title_y = cap_y + line + 4;
    if (!draw_header(dl, s, idx, p0, p1, cap_y)) {
        dl->PopClipRect();
        return;
    }
    const sim::Trace& trace = *lane.trace();
    const auto& sc = s.model()->result->scenario;
    const auto& events = trace.events();
    const Playback& pb = s.playback();
    const std::int64_t k =
        std::clamp<std::int64_t>(pb.event(idx), 0, static_cast<std::int64_t>(events.size()) - 1);
    const bool done = pb.finished(idx);
    const sim::Event& e = events[static_cast<std::size_t>(k)];

    // Caption line: what this step does, in the paper's words (yellow while computing).
    if (done) {
        const std::string msg =
            std::string("finished") + (lane.runs.size() > 1 ? " forward and backward" : "") + ": " +
            fmt_bytes(static_cast<double>(lane.replay.totals().at(sim::Level::HBM).total_bytes())) +
            " of HBM traffic in " + fmt_seconds(lane.replay.totals().model_seconds) + " (one head)";
        draw_text_fit(dl, nullptr, ImVec2(p0.x + 12, cap_y), p1.x - p0.x - 16, algorithm_color(lane.key),
                      msg);
    } else {
        const std::string cap = event_caption(e, lane, static_cast<std::int64_t>(events.size()));
        draw_text_fit(dl, nullptr, ImVec2(p0.x + 12, cap_y), p1.x - p0.x - 16,
                      e.op == Op::Compute ? rgb(colors::kCompute) : ImGui::GetColorU32(ImGuiCol_Text), cap);
    }

    // HBM on the left, SRAM on the right.
    const ImVec2 body1(p1.x, p1.y - 2);
    // The SRAM box's labels grow with a projector's scale; HBM keeps the larger part of the lane.
    const float lane_w = body1.x - p0.x, ks = ui_scale();
    const float sram_w = std::min(std::clamp(lane_w * 0.32F, 220.0F * ks, 360.0F * ks), lane_w * 0.42F);
    const ImVec2 h0(p0.x + 8, title_y + f.small->FontSize + 4),
        h1(body1.x - sram_w - 16, body1.y - f.small->FontSize - 2);
    const ImVec2 s0(body1.x - sram_w - 4, title_y), s1(body1.x - 6, body1.y);
    std::string hbm_title = "HBM (off-chip), " + fmt_bytes(sc.hardware.hbm_bytes_per_s) + "/s";
    if (trace.truncated())
        hbm_title += "  [trace capped: animating the first events; totals are the full run's]";
    draw_text_fit(dl, f.small, ImVec2(h0.x, title_y), h1.x - h0.x,
                  trace.truncated() ? rgb(colors::kError) : rgb(colors::kMuted), hbm_title);
    const auto boxes = layout_matrices(lane.replay.heat(), h0, h1);
    for (const auto& b : boxes) draw_matrix(dl, b, sc.problem.dtype);
    // The thread block picked in the threads view (same lane, same pass): its tiles outlined.
    const ThreadPick& pick = ui.thread_hover.block >= 0 ? ui.thread_hover : ui.thread_selected;
    if (idx == 0 && pick.block >= 0 && pick.phase == e.phase) {
        const ThreadGrid* g = lane_thread_grid(s, 0);
        if (g != nullptr && static_cast<std::size_t>(pick.block) < g->block_tiles.size())
            outline_block_tiles(dl, boxes, g->block_tiles[static_cast<std::size_t>(pick.block)]);
    }
    // A big problem's grids are merged: say how many tiles a cell stands for, for the most merged.
    const TileGrid* most = nullptr;
    for (const auto& ht : lane.replay.heat().tensors) {
        const auto& g = ht.traffic.grid;
        if (g.aggregated() && (most == nullptr || g.group_r * g.group_c > most->group_r * most->group_c))
            most = &g;
    }
    if (most != nullptr) {
        std::string names;
        for (const auto& ht : lane.replay.heat().tensors) {
            const auto& g = ht.traffic.grid;
            if (g.group_r == most->group_r && g.group_c == most->group_c)
                names += (names.empty() ? "" : ", ") + std::string(sim::tensor_name(ht.decl.tensor));
        }
        const std::string agg = "big problem: each cell of " + names + " = " + std::to_string(most->group_r) +
                                " x " + std::to_string(most->group_c) + " tiles";
        draw_text_fit(dl, f.small, ImVec2(h0.x, body1.y - f.small->FontSize + 2), h1.x - h0.x,
                      rgb(colors::kMuted), agg);
    }
    const SramSnapshot snap = sram_at(trace, *lane.index, k, sc.hardware.sram_bytes);
    const auto slots = draw_sram(dl, s0, s1, snap, done ? nullptr : &e, lane);
    if (!done) draw_current(dl, e, static_cast<float>(pb.fraction(idx)), boxes, snap, slots, lane);
    dl->PopClipRect();
}

// The colour key: every tensor the lanes declare (statistics share one swatch), then the marks.
void draw_legend(ImDrawList* dl, const Session& s, ImVec2 at, float right) {
    std::vector<sim::Tensor> shown;
    std::string stats;
    bool recompute = false, atomic = false;
    for (const auto& l : s.lanes()) {
        if (l.trace() == nullptr) continue;
        recompute = recompute || (l.index && l.index->has_recompute);
        atomic = atomic || (l.index && l.index->has_atomic);
        for (const auto& d : l.trace()->tensors()) {
            const bool seen = std::find(shown.begin(), shown.end(), d.tensor) != shown.end();
            const std::string name(sim::tensor_name(d.tensor));
            if (sim::is_statistic(d.tensor)) {
                if (stats.find(name) == std::string::npos) stats += (stats.empty() ? "" : ", ") + name;
                if (!seen && std::none_of(shown.begin(), shown.end(),
                                          [](sim::Tensor t) { return sim::is_statistic(t); }))
                    shown.push_back(d.tensor);
            } else if (!seen) {
                shown.push_back(d.tensor);
            }
        }
    }
    float x = draw_tensor_legend(dl, at, shown, right);
    std::string rest = stats.empty() ? "" : "(" + stats + ": statistics)   ";
    rest += std::string("n") + sym_times() + " = read n times   wn = written n times   yellow = computing";
    if (recompute) rest += "   hatched = recomputed";
    if (atomic) rest += "   += atomic add";
    if (x + 4 + ImGui::CalcTextSize(rest.c_str()).x <= right && x > at.x)
        dl->AddText(ImVec2(x + 4, at.y), rgb(colors::kMuted), rest.c_str());
}

}  // namespace

void draw_memory_panel(Session& s, UiState& ui) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const ImVec2 p1(p0.x + avail.x, p0.y + avail.y);
    const float line = ImGui::GetTextLineHeight();

    if (s.model() == nullptr) {
        dl->AddText(ImVec2(p0.x + 10, p0.y + 10), rgb(colors::kMuted), "Running the model...");
        ImGui::Dummy(avail);
        return;
    }
    if (!s.model()->error.empty()) {
        draw_error_box(dl, ImVec2(p0.x + 10, p0.y + 10), ImVec2(p1.x - 10, p1.y - 10),
                       "The model could not run", s.model()->error, "");
        ImGui::Dummy(avail);
        return;
    }
    // Legend row at the bottom; lanes share the rest.
    const float legend_h = line + 8;
    const auto n = static_cast<float>(std::max<std::size_t>(1, s.lanes().size()));
    const float lane_h = (avail.y - legend_h) / n;
    for (std::size_t i = 0; i < s.lanes().size(); ++i) {
        const ImVec2 l0(p0.x, p0.y + lane_h * static_cast<float>(i));
        const ImVec2 l1(p1.x, l0.y + lane_h - 4);
        if (i > 0) dl->AddLine(ImVec2(l0.x, l0.y - 3), ImVec2(l1.x, l0.y - 3), rgb(colors::kGrid), 1.0F);
        draw_lane(s, i, l0, l1, ui);
    }
    draw_legend(dl, s, ImVec2(p0.x + 4, p1.y - legend_h + 4), p1.x);
    ImGui::Dummy(avail);
}

}  // namespace tilesim::viz
