// The memory view: for each animated algorithm (a "lane"), HBM drawn as the matrices the algorithm
// keeps there, cut into its tiles, and SRAM drawn as a box holding the buffers of the current pass.
// The event under the play head animates as a tile travelling between the two; the tile being
// computed on is outlined in yellow. Each HBM tile is tinted by how often it has been read (the
// re-reads that make standard attention slow) and output tiles fill in as they are written (S and P
// visibly filling HBM for standard attention; never appearing for FlashAttention).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "kernels/registry.h"
#include "viz/format.h"
#include "viz/panels.h"
#include "viz/sram_view.h"
#include "viz/theme.h"
#include "viz/widgets.h"

namespace tilesim::viz {

using sim::Op;
using sim::Tensor;

namespace {

struct MatrixBox {
    Tensor tensor = Tensor::Q;
    ImVec2 p0, p1;
    bool ghost = false;  // never stored in HBM by this algorithm
};

bool is_input(Tensor t) {
    return t == Tensor::Q || t == Tensor::K || t == Tensor::V;
}

// Screen rectangle of an element rectangle of a rows x cols matrix drawn in `box`.
std::pair<ImVec2, ImVec2> sub_rect(const MatrixBox& box, const TileGrid& g, const sim::Rect& r) {
    const float w = box.p1.x - box.p0.x, h = box.p1.y - box.p0.y;
    const auto fx = [&](std::int64_t c) {
        return box.p0.x + w * static_cast<float>(c) / static_cast<float>(g.cols);
    };
    const auto fy = [&](std::int64_t v) {
        return box.p0.y + h * static_cast<float>(v) / static_cast<float>(g.rows);
    };
    return {ImVec2(fx(r.col0), fy(r.row0)), ImVec2(fx(r.col0 + r.cols), fy(r.row0 + r.rows))};
}

std::string count_label(double v) {
    char buf[16];
    if (std::abs(v - std::round(v)) < 0.05) {
        std::snprintf(buf, sizeof buf, "%.0f", std::round(v));
    } else {
        std::snprintf(buf, sizeof buf, "%.1f", v);
    }
    return buf;
}

// Lays the matrices out left to right in data-flow order: Q K V, then S P, then O and the
// statistics. All share one vertical scale (N rows), so row block i lines up across matrices.
std::vector<MatrixBox> layout_matrices(const HeatMap& heat, const kernels::Problem& p, ImVec2 p0, ImVec2 p1) {
    std::vector<Tensor> order = {Tensor::Q, Tensor::K, Tensor::V, Tensor::S, Tensor::P, Tensor::O};
    for (Tensor t : {Tensor::l, Tensor::m, Tensor::L}) {
        if (heat.used[static_cast<std::size_t>(t)]) order.push_back(t);
    }
    const float W = p1.x - p0.x, Hmax = p1.y - p0.y;
    const float gap = 12, stat_w = 14;
    const float ratio = static_cast<float>(p.d) / static_cast<float>(std::max<std::int64_t>(1, p.N));
    auto tall_w = [&](float H) { return std::clamp(H * ratio, 26.0F, 0.14F * W); };
    auto total = [&](float H) {
        float x = 0;
        for (Tensor t : order) {
            x += (t == Tensor::S || t == Tensor::P) ? H : sim::is_statistic(t) ? stat_w : tall_w(H);
        }
        return x + gap * static_cast<float>(order.size() - 1) + 2 * gap;  // wider gaps around S, P
    };
    float H = std::max(20.0F, Hmax);
    while (H > 20 && total(H) > W) H *= 0.96F;
    std::vector<MatrixBox> boxes;
    float x = p0.x + std::max(0.0F, (W - total(H)) * 0.5F);
    for (Tensor t : order) {
        const float w = (t == Tensor::S || t == Tensor::P) ? H : sim::is_statistic(t) ? stat_w : tall_w(H);
        if (t == Tensor::S || t == Tensor::O) x += gap;
        MatrixBox b;
        b.tensor = t;
        b.p0 = ImVec2(x, p0.y);
        b.p1 = ImVec2(x + w, p0.y + H);
        b.ghost = !heat.used[static_cast<std::size_t>(t)];
        boxes.push_back(b);
        x += w + gap;
    }
    return boxes;
}

// Hovering a tile gives its exact counts: which tile (or group of tiles), and how many bytes of it
// have crossed the HBM boundary so far.
void cell_tooltip(Tensor t, const CellTraffic& ct, std::int32_t r, std::int32_t c,
                  const kernels::Problem& p) {
    const TileGrid& g = ct.grid;
    const sim::Rect rect = g.cell_rect(r, c);
    const std::int32_t cell = r * g.cells_c + c;
    const auto el_bytes = static_cast<std::int64_t>(sim::element_bytes(t, p.dtype));
    std::string name = std::string(sim::tensor_name(t));
    if (!g.aggregated()) {
        name = (t == Tensor::S || t == Tensor::P)
                   ? tile_name(t, r, c)
                   : tile_name(t, t == Tensor::K || t == Tensor::V ? -1 : r, r);
    }
    ImGui::BeginTooltip();
    ImGui::Text("%s: rows %lld-%lld, columns %lld-%lld%s", name.c_str(), static_cast<long long>(rect.row0),
                static_cast<long long>(rect.row0 + rect.rows - 1), static_cast<long long>(rect.col0),
                static_cast<long long>(rect.col0 + rect.cols - 1),
                g.aggregated() ? " (a group of tiles)" : "");
    const std::int64_t rd = ct.read_elements[static_cast<std::size_t>(cell)];
    const std::int64_t wr = ct.write_elements[static_cast<std::size_t>(cell)];
    ImGui::Text("read from HBM: %s (%lld elements, %.4g%s the tile)",
                fmt_bytes(static_cast<double>(rd * el_bytes)).c_str(), static_cast<long long>(rd),
                ct.reads(cell), sym_times());
    ImGui::Text("written to HBM: %s (%lld elements, %.4g%s the tile)",
                fmt_bytes(static_cast<double>(wr * el_bytes)).c_str(), static_cast<long long>(wr),
                ct.writes(cell), sym_times());
    ImGui::EndTooltip();
}

void draw_matrix(ImDrawList* dl, const MatrixBox& b, const CellTraffic& ct, const kernels::Problem& p) {
    const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
    const Fonts& f = fonts();
    const std::string name(sim::tensor_name(b.tensor));
    // Name above in the tensor's colour; the shape below.
    const float nw = ImGui::CalcTextSize(name.c_str()).x;
    dl->AddText(ImVec2((b.p0.x + b.p1.x - nw) * 0.5F, b.p0.y - ImGui::GetTextLineHeight() - 2),
                tensor_color(b.tensor), name.c_str());
    {
        char shape[48];
        const std::int64_t cols = b.tensor == Tensor::S || b.tensor == Tensor::P ? p.N
                                  : sim::is_statistic(b.tensor)                  ? 1
                                                                                 : p.d;
        std::snprintf(shape, sizeof shape, "%lldx%lld", static_cast<long long>(p.N),
                      static_cast<long long>(cols));
        const float sw = f.small->CalcTextSizeA(f.small->FontSize, FLT_MAX, 0, shape).x;
        // Under the matrix when it fits (a long sequence's thin N x d matrices get no label).
        if (sw <= b.p1.x - b.p0.x + 10) {
            dl->AddText(f.small, f.small->FontSize, ImVec2((b.p0.x + b.p1.x - sw) * 0.5F, b.p1.y + 2),
                        rgb(colors::kMuted), shape);
        }
    }
    if (b.ghost) {
        draw_dashed_rect(dl, b.p0, b.p1, tensor_color(b.tensor, 150));
        if (b.p1.x - b.p0.x > 40) {
            draw_wrapped_text(dl, ImVec2(b.p0.x + 6, (b.p0.y + b.p1.y) * 0.5F - 16), b.p1.x - b.p0.x - 12,
                              rgb(colors::kMuted), "never written to HBM", f.small);
        }
        return;
    }
    dl->AddRectFilled(b.p0, b.p1, rgb(colors::kPanelBg));
    const TileGrid& g = ct.grid;
    for (std::int32_t r = 0; r < g.cells_r; ++r) {
        for (std::int32_t c = 0; c < g.cells_c; ++c) {
            const std::int32_t cell = r * g.cells_c + c;
            const auto [q0, q1] = sub_rect(b, g, g.cell_rect(r, c));
            const double reads = ct.reads(cell), writes = ct.writes(cell);
            // Present (an input, or written already) gives a base tint; every read brightens it.
            const bool present = is_input(b.tensor) || writes > 0;
            const double a = (present ? 80.0 : 0.0) + std::min(150.0, 40.0 * reads);
            if (a > 0)
                dl->AddRectFilled(q0, q1, tensor_color(b.tensor, static_cast<unsigned>(std::min(235.0, a))));
            const float cw = q1.x - q0.x, ch = q1.y - q0.y;
            // Tile borders only where they stay apart; a dense grid would hide the fill.
            if (cw >= 8 && ch >= 8) dl->AddRect(q0, q1, rgb(colors::kGrid));
            if (ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(q0, q1))
                cell_tooltip(b.tensor, ct, r, c, p);
            if (cw >= 22 && ch >= 15 && reads >= 0.95) {
                const std::string lab = count_label(reads) + sym_times();
                dl->AddText(f.small, f.small->FontSize, ImVec2(q0.x + 3, q0.y + 1), text, lab.c_str());
            }
            if (cw >= 22 && ch >= 30 && writes >= 1.95) {
                const std::string lab = "w" + count_label(writes);
                const float lw = f.small->CalcTextSizeA(f.small->FontSize, FLT_MAX, 0, lab.c_str()).x;
                dl->AddText(f.small, f.small->FontSize, ImVec2(q1.x - lw - 3, q1.y - f.small->FontSize - 1),
                            text, lab.c_str());
            }
        }
    }
    dl->AddRect(b.p0, b.p1, tensor_color(b.tensor, 200), 0, 0, 1.5F);
}

struct SlotGeom {
    ImVec2 tile0, tile1;  // the mini tile inside the slot row (travelling tiles land here)
};

// The SRAM box: title, capacity bar (one segment per reserved buffer), then one row per buffer
// showing the tile it holds. Returns where each slot's mini tile sits.
std::vector<SlotGeom> draw_sram(ImDrawList* dl, ImVec2 p0, ImVec2 p1, const SramSnapshot& snap,
                                const ReplayTotals& totals, const sim::Event* current,
                                const std::vector<sim::Phase>& phases) {
    const Fonts& f = fonts();
    const float line = ImGui::GetTextLineHeight();
    dl->AddRectFilled(p0, p1, rgb(0x14171B), 6.0F);
    dl->AddRect(p0, p1, rgb(colors::kMuted), 6.0F, 0, 2.0F);
    const std::string title = "SRAM (on-chip), M = " + fmt_binary_bytes(snap.capacity_bytes);
    dl->AddText(ImVec2(p0.x + 8, p0.y + 5), ImGui::GetColorU32(ImGuiCol_Text), title.c_str());

    // Capacity bar.
    const ImVec2 b0(p0.x + 8, p0.y + 10 + line), b1(p1.x - 8, p0.y + 10 + line + 16);
    dl->AddRectFilled(b0, b1, rgb(0x2A2F36));
    const float bw = b1.x - b0.x;
    const double cap = std::max<double>(1.0, static_cast<double>(snap.capacity_bytes));
    if (snap.consistent) {
        // At a pass's first event its buffers are about to be reserved: drawn faint until they are.
        const unsigned alpha = snap.used_bytes == snap.slot_bytes() ? 255 : 90;
        float x = b0.x;
        for (const auto& s : snap.slots) {
            const float w = bw * static_cast<float>(static_cast<double>(s.bytes) / cap);
            dl->AddRectFilled(ImVec2(x, b0.y), ImVec2(x + w, b1.y), tensor_color(s.tensor, alpha));
            dl->AddLine(ImVec2(x + w, b0.y), ImVec2(x + w, b1.y), rgb(0x14171B), 1.0F);
            x += w;
        }
    } else {
        const float w = bw * static_cast<float>(static_cast<double>(snap.used_bytes) / cap);
        dl->AddRectFilled(b0, ImVec2(b0.x + w, b1.y), rgb(colors::kMuted));
    }
    dl->AddRect(b0, b1, rgb(colors::kMuted));
    char usage[128];
    std::snprintf(usage, sizeof usage, "in use %s (%.0f%%)", fmt_binary_bytes(totals.sram_used_bytes).c_str(),
                  100.0 * static_cast<double>(totals.sram_used_bytes) / cap);
    dl->AddText(f.small, f.small->FontSize, ImVec2(b0.x, b1.y + 3), rgb(colors::kMuted), usage);
    const std::string peak = "peak " + fmt_binary_bytes(totals.sram_peak_bytes);
    const float pw = f.small->CalcTextSizeA(f.small->FontSize, FLT_MAX, 0, peak.c_str()).x;
    dl->AddText(f.small, f.small->FontSize, ImVec2(b1.x - pw, b1.y + 3), rgb(colors::kMuted), peak.c_str());

    // Buffer rows.
    std::vector<SlotGeom> geom;
    const float top = b1.y + 8 + f.small->FontSize;
    const float avail = p1.y - 10 - f.small->FontSize - top;  // the pass name sits at the bottom
    const float row = snap.slots.empty() ? 0 : std::min(34.0F, avail / static_cast<float>(snap.slots.size()));
    for (std::size_t k = 0; k < snap.slots.size(); ++k) {
        const auto& s = snap.slots[k];
        const float y = top + row * static_cast<float>(k);
        const float th = std::max(6.0F, row - 6);
        // The mini tile keeps the buffer's aspect within a 46 x th box (a B_c x d tile looks tall).
        const ImVec2 t0(p0.x + 10, y + 2), t1(p0.x + 10 + std::min(46.0F, th * 2.2F), y + 2 + th);
        SlotGeom g{t0, t1};
        geom.push_back(g);
        const bool is_current = current != nullptr && s.filled && s.since_step == current->step;
        if (s.filled) {
            dl->AddRectFilled(t0, t1, tensor_color(s.held));
        } else {
            dl->AddRect(t0, t1, tensor_color(s.tensor, 160), 0, 0, 1.5F);
        }
        if (is_current) {
            const bool compute = current->op == Op::Compute;
            dl->AddRect(ImVec2(t0.x - 3, t0.y - 3), ImVec2(t1.x + 3, t1.y + 3),
                        compute ? rgb(colors::kCompute) : rgb(0xFFFFFF), 2.0F, 0, 3.0F);
        }
        std::string held = s.filled ? tile_name(s.held, s.i, s.j) : "empty";
        if (s.filled && s.i < 0 && s.j < 0 && s.tile.rows > 0) {
            held +=
                " rows " + std::to_string(s.tile.row0) + "-" + std::to_string(s.tile.row0 + s.tile.rows - 1);
        }
        if (s.filled && s.computed) held += " (computed)";
        const float tx = t1.x + 8;
        const std::string what = s.what + ", " + fmt_binary_bytes(s.bytes);
        // Two lines when the row allows (the tile held, then the buffer it sits in), else one.
        const bool two = row >= line + f.small->FontSize;
        const float ty = two ? y : y + std::max(0.0F, (th - line) * 0.5F);
        dl->AddText(ImVec2(tx, ty), s.filled ? tensor_color(s.held) : rgb(colors::kMuted), held.c_str());
        if (two) {
            dl->AddText(f.small, f.small->FontSize, ImVec2(tx, ty + line - 1), rgb(colors::kMuted),
                        what.c_str());
        }
    }
    if (snap.phase >= 0 && static_cast<std::size_t>(snap.phase) < phases.size() && phases.size() > 1) {
        const std::string pass = "pass " + std::to_string(snap.phase + 1) + " of " +
                                 std::to_string(phases.size()) + ": " +
                                 phases[static_cast<std::size_t>(snap.phase)].name;
        dl->AddText(f.small, f.small->FontSize, ImVec2(p0.x + 8, p1.y - f.small->FontSize - 5),
                    rgb(colors::kMuted), pass.c_str());
    }
    return geom;
}

std::string event_caption(const sim::Event& e, const scenarios::AlgorithmRun& run, std::int64_t n) {
    char head[48];
    std::snprintf(head, sizeof head, "step %lld/%lld: ", static_cast<long long>(e.step + 1),
                  static_cast<long long>(n));
    if (e.op == Op::Phase) {
        const auto k = static_cast<std::size_t>(e.i);
        return head + std::string("pass begins: ") + (k < run.phases.size() ? run.phases[k].name : "");
    }
    std::string s = head + std::string(e.label);
    if (e.op != Op::Compute) {
        s += " (" + tile_name(e.tensor, e.i, e.j) + ", " + fmt_bytes(static_cast<double>(e.bytes));
        if (e.from == sim::Level::L2) s += ", an L2 hit: no HBM traffic";
        s += ")";
    }
    return s;
}

void draw_lane(Session& s, std::size_t idx, ImVec2 p0, ImVec2 p1) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    Lane& lane = s.lanes()[idx];
    const Fonts& f = fonts();
    const auto& info = kernels::info(lane.algorithm);
    const float line = ImGui::GetTextLineHeight();
    dl->PushClipRect(p0, p1, true);

    // Header: the algorithm in its colour, then what it is doing now.
    dl->AddRectFilled(p0, ImVec2(p0.x + 6, p0.y + f.large->FontSize + 2), algorithm_color(lane.algorithm));
    dl->AddText(f.large, f.large->FontSize, ImVec2(p0.x + 12, p0.y), algorithm_color(lane.algorithm),
                std::string(info.display_name).c_str());
    const float name_w =
        f.large->CalcTextSizeA(f.large->FontSize, FLT_MAX, 0, std::string(info.display_name).c_str()).x;
    // Rows: header, caption, the "HBM" title (where the SRAM box starts), matrix names, matrices.
    const float cap_y = p0.y + f.large->FontSize + 3;
    const float title_y = cap_y + line + 4;
    const ImVec2 body0(p0.x, title_y + f.small->FontSize + 6 + line + 2), body1(p1.x, p1.y - 2);

    if (lane.run == nullptr) {
        dl->AddText(ImVec2(p0.x + 12, cap_y), rgb(colors::kMuted), "waiting for the model...");
        dl->PopClipRect();
        return;
    }
    const auto& run = *lane.run;
    const auto& sc = s.model()->result->scenario;
    char tiling[160];
    std::snprintf(tiling, sizeof tiling, "B_r = %lld, B_c = %lld: %lld x %lld blocks",
                  static_cast<long long>(run.tiling.B_r), static_cast<long long>(run.tiling.B_c),
                  static_cast<long long>(run.tiling.T_r), static_cast<long long>(run.tiling.T_c));
    dl->AddText(ImVec2(p0.x + 22 + name_w, p0.y + 3), rgb(colors::kMuted), tiling);
    if (!run.fit.ok) {
        draw_error_box(dl, ImVec2(p0.x + 10, cap_y + 4), ImVec2(p1.x - 10, p1.y - 4),
                       std::string(info.display_name) + " cannot run with these settings", run.fit.reason,
                       run.fit.fix);
        dl->PopClipRect();
        return;
    }
    if (!run.trace || !lane.index || lane.index->size() == 0) {
        dl->AddText(ImVec2(p0.x + 12, cap_y), rgb(colors::kMuted), "no trace recorded");
        dl->PopClipRect();
        return;
    }
    const auto& events = run.trace->events();
    const Playback& pb = s.playback();
    const std::int64_t k =
        std::clamp<std::int64_t>(pb.event(idx), 0, static_cast<std::int64_t>(events.size()) - 1);
    const bool done = pb.finished(idx);
    const sim::Event& e = events[static_cast<std::size_t>(k)];
    const float frac = static_cast<float>(pb.fraction(idx));

    // Caption line: what this step does, in the paper's words (yellow while computing).
    if (done) {
        const std::string msg =
            "finished: " +
            fmt_bytes(static_cast<double>(lane.replay.totals().at(sim::Level::HBM).total_bytes())) +
            " of HBM traffic in " + fmt_seconds(lane.replay.totals().model_seconds) + " (one head)";
        dl->AddText(ImVec2(p0.x + 12, cap_y), algorithm_color(lane.algorithm), msg.c_str());
    } else {
        const std::string cap = event_caption(e, run, static_cast<std::int64_t>(events.size()));
        dl->AddText(ImVec2(p0.x + 12, cap_y),
                    e.op == Op::Compute ? rgb(colors::kCompute) : ImGui::GetColorU32(ImGuiCol_Text),
                    cap.c_str());
    }

    // HBM on the left, SRAM on the right.
    const float sram_w = std::clamp((body1.x - body0.x) * 0.32F, 220.0F, 360.0F);
    const ImVec2 h0(body0.x + 8, body0.y), h1(body1.x - sram_w - 16, body1.y - f.small->FontSize - 4);
    const ImVec2 s0(body1.x - sram_w - 4, title_y), s1(body1.x - 6, body1.y);
    std::string hbm_title = "HBM (off-chip), " + fmt_bytes(sc.hardware.hbm_bytes_per_s) + "/s";
    if (run.trace->truncated())
        hbm_title += "  [trace capped: animating the first events; totals are the full run's]";
    dl->AddText(f.small, f.small->FontSize, ImVec2(h0.x, title_y),
                run.trace->truncated() ? rgb(colors::kError) : rgb(colors::kMuted), hbm_title.c_str());
    const auto boxes = layout_matrices(lane.replay.heat(), sc.problem, h0, h1);
    for (const auto& b : boxes) draw_matrix(dl, b, lane.replay.heat().of(b.tensor), sc.problem);
    if (lane.replay.heat().of(Tensor::S).grid.aggregated()) {
        const auto& g = lane.replay.heat().of(Tensor::S).grid;
        char agg[96];
        std::snprintf(agg, sizeof agg, "big problem: each cell of S, P = %d x %d tiles", g.group_r,
                      g.group_c);
        dl->AddText(f.small, f.small->FontSize, ImVec2(h0.x, body1.y - f.small->FontSize + 2),
                    rgb(colors::kMuted), agg);
    }

    const SramSnapshot snap = sram_at(run, sc, k, lane.index->phase_events);
    const auto slots = draw_sram(dl, s0, s1, snap, lane.replay.totals(), done ? nullptr : &e, run.phases);

    if (done) {
        dl->PopClipRect();
        return;
    }
    // Where the current tile is in HBM (source of a load, destination of a store, position of a
    // computed block), and which SRAM slot it goes to or comes from.
    const MatrixBox* box = nullptr;
    for (const auto& b : boxes) {
        if (b.tensor == e.tensor) box = &b;
    }
    if (box != nullptr && e.op != Op::Phase) {
        const auto [q0, q1] = sub_rect(*box, lane.replay.heat().of(e.tensor).grid, e.tile);
        const ImVec2 r0(q0.x - 1, q0.y - 1), r1(std::max(q1.x, q0.x + 3) + 1, std::max(q1.y, q0.y + 3) + 1);
        if (e.op == Op::Compute) {
            draw_dashed_rect(dl, r0, r1, rgb(colors::kCompute), 2.5F);
        } else {
            dl->AddRect(r0, r1, rgb(0xFFFFFF), 0, 0, 2.5F);
        }
        if (e.op == Op::Load || e.op == Op::Store) {
            int slot = -1;
            for (std::size_t q = 0; q < snap.slots.size(); ++q) {
                if (snap.slots[q].tensor == e.tensor) slot = static_cast<int>(q);
            }
            if (slot >= 0) {
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
                dl->AddRectFilled(m0, m1, tensor_color(e.tensor), 2.0F);
                dl->AddRect(m0, m1, rgb(0xFFFFFF), 2.0F, 0, 2.0F);
                std::string lab = tile_name(e.tensor, e.i, e.j);
                if (e.from == sim::Level::L2) lab += " (L2)";
                dl->AddText(f.small, f.small->FontSize, ImVec2(m0.x + 3, m0.y + 1), rgb(0x101010),
                            lab.c_str());
            }
        }
    }
    dl->PopClipRect();
}

}  // namespace

void draw_memory_panel(Session& s, UiState& /*ui*/) {
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
        draw_lane(s, i, l0, l1);
    }
    const ImVec2 g0(p0.x + 4, p1.y - legend_h + 4);
    float x = draw_tensor_legend(
        dl, g0, {Tensor::Q, Tensor::K, Tensor::V, Tensor::S, Tensor::P, Tensor::O, Tensor::l});
    const std::string rest = std::string("(l, m, L: statistics)   n") + sym_times() +
                             " = read n times from HBM   wn = written n times   yellow = computing";
    dl->AddText(ImVec2(x + 4, g0.y), rgb(colors::kMuted), rest.c_str());
    ImGui::Dummy(avail);
}

}  // namespace tilesim::viz
