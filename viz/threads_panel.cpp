// The thread hierarchy (tab "Threads", key T, --panel threads): the grid of thread blocks of the pass
// under the play head over (batch, head, block), each coloured by the wave it runs in over the SMs,
// the tail wave hatched; the HBM tiles of the hovered (or clicked) block outlined in the lane's own
// matrices; and inside that block, its warps and warp groups with the rows of Q_i and S_ij each one
// computes. Everything comes from the model: the grid from the pass's parallel units and the launch
// from sim::plan_launch (thread_grid.h), the tiles from the trace's `block` ids.
#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <map>

#include "viz/algorithms.h"
#include "viz/format.h"
#include "viz/memory_widgets.h"
#include "viz/panels.h"
#include "viz/theme.h"
#include "viz/thread_grid.h"
#include "viz/widgets.h"

namespace tilesim::viz {

namespace {

// Waves are categories, not tensors: a palette apart from the tensor colours (ColorBrewer Set3).
constexpr unsigned kWaveHex[] = {0x8DD3C7, 0xFFFFB3, 0xBEBADA, 0xFB8072,
                                 0x80B1D3, 0xFDB462, 0xB3DE69, 0xFCCDE5};
ImU32 wave_color(std::int64_t w, unsigned alpha = 255) {
    return rgb(kWaveHex[static_cast<std::size_t>(w) % std::size(kWaveHex)], alpha);
}
// Warps inside a block: shades of grey-blue, so they never read as a tensor.
constexpr unsigned kWarpHex[] = {0x6C8EBF, 0x9FB4D9, 0x587294, 0xB9C9E6};

// "Q_2", or "K_0..K_3 (4)" for several tiles of one tensor, tensors in the order first moved.
std::string tiles_text(const std::vector<BlockTile>& tiles, bool owned, const sim::Trace& trace,
                       std::int32_t phase) {
    std::vector<sim::Tensor> order;
    std::map<sim::Tensor, std::vector<const BlockTile*>> by;
    for (const auto& t : tiles) {
        if (t.owned != owned) continue;
        if (by[t.tensor].empty()) order.push_back(t.tensor);
        by[t.tensor].push_back(&t);
    }
    std::string out;
    for (sim::Tensor t : order) {
        const auto& v = by[t];
        const sim::TensorDecl* decl = trace.tensor(t, phase);
        std::string s = tile_name(t, decl, v.front()->tile);
        if (v.size() > 1)
            s += ".." + tile_name(t, decl, v.back()->tile) + " (" + std::to_string(v.size()) + ")";
        out += (out.empty() ? "" : ", ") + s;
    }
    return out.empty() ? "none" : out;
}

// "b0 h3", or "b0 kv1" for a unit that packs a KV group's query heads.
std::string unit_text(const ThreadGrid& g, std::int64_t u) {
    const std::int64_t b = u / g.heads_per_batch, h = u % g.heads_per_batch;
    return "b" + std::to_string(b) + (g.query_heads_per_unit > 1 ? " kv" : " h") + std::to_string(h);
}

void header(const ThreadGrid& g, const Lane& lane, const scenarios::Scenario& sc) {
    ImGui::PushFont(fonts().large);
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(algorithm_color(lane.key)), "%s: %s",
                       display_name(lane.key).c_str(), g.pass_name.c_str());
    ImGui::PopFont();
    const std::string unit = g.query_heads_per_unit > 1
                                 ? "(batch, KV head) units of " + std::to_string(g.query_heads_per_unit) +
                                       " query heads each (GQA packed)"
                                 : "(batch, head) units";
    ImGui::TextWrapped(
        "Grid: %lld %s x %lld blocks each = %lld thread blocks (CUDA gridDim = (%lld, %lld, %lld)). "
        "Clusters: 1 block each (thread-block clusters are not modelled).",
        static_cast<long long>(g.units), unit.c_str(), static_cast<long long>(g.blocks_per_unit),
        static_cast<long long>(g.total_blocks), static_cast<long long>(g.blocks_per_unit),
        static_cast<long long>(g.heads_per_batch), static_cast<long long>(g.batch));
    // The loop each block runs, from the definition's tiling rule (which block stays resident).
    ImGui::TextWrapped(g.q_resident
                           ? "Each block keeps its Q_i resident and loops over the T_c = %lld K/V blocks; "
                             "T_r = %lld Q blocks in all."
                           : "Each block's outer loop is over K/V blocks (K_j, V_j resident, T_c = %lld), "
                             "its inner loop over the T_r = %lld Q blocks.",
                       static_cast<long long>(g.T_c), static_cast<long long>(g.T_r));
    ImGui::TextWrapped(
        "%s: %lld SMs x %lld blocks per SM (limited by %s; %s of shared memory per block) = "
        "%lld slots, so %lld wave%s; the last runs %lld of %lld slots%s.",
        sc.hardware.name.c_str(), static_cast<long long>(g.active_sms),
        static_cast<long long>(g.blocks_per_sm), g.occupancy_limit.c_str(),
        fmt_binary_bytes(g.smem_per_block_bytes).c_str(), static_cast<long long>(g.slots),
        static_cast<long long>(g.waves), g.waves == 1 ? "" : "s", static_cast<long long>(g.tail_blocks),
        static_cast<long long>(g.slots),
        g.tail_blocks < g.slots ? " (a tail wave: the rest of the GPU idles)" : " (full)");
}

// Cells of the grid: one per block, merged when there are more than fit (like the HBM tiles).
struct GridCells {
    std::int64_t cols = 1, rows = 1;                       // cells drawn
    std::int64_t blocks_per_cell = 1, units_per_cell = 1;  // what a cell stands for
    float cw = 0, ch = 0, label_w = 0, label_h = 0;
    ImVec2 origin;  // top-left of cell (0, 0)
};

GridCells grid_cells(const ThreadGrid& g, ImVec2 p0, ImVec2 size) {
    GridCells c;
    const float line = ImGui::GetTextLineHeight();
    c.label_w = ImGui::CalcTextSize("b00 kv00").x + 6;
    c.label_h = line + 2;
    const float w = size.x - c.label_w, h = size.y - c.label_h;
    const float min_cell = std::max(6.0F, line * 0.6F);
    const auto max_cols = std::max<std::int64_t>(1, static_cast<std::int64_t>(w / min_cell));
    const auto max_rows = std::max<std::int64_t>(1, static_cast<std::int64_t>(h / min_cell));
    c.blocks_per_cell = (g.blocks_per_unit + max_cols - 1) / max_cols;
    c.units_per_cell = (g.units + max_rows - 1) / max_rows;
    c.cols = (g.blocks_per_unit + c.blocks_per_cell - 1) / c.blocks_per_cell;
    c.rows = (g.units + c.units_per_cell - 1) / c.units_per_cell;
    // Square-ish cells, at most four lines tall.
    const float cell = std::min({w / static_cast<float>(c.cols), h / static_cast<float>(c.rows), line * 4});
    c.cw = std::min(w / static_cast<float>(c.cols), cell * 2.5F);
    c.ch = cell;
    c.origin = ImVec2(p0.x + c.label_w, p0.y + c.label_h);
    return c;
}

// The grid; returns the block under the mouse (block -1: none). Clicking selects it.
ThreadPick draw_grid(ImDrawList* dl, const ThreadGrid& g, ImVec2 p0, ImVec2 size, UiState& ui) {
    const GridCells c = grid_cells(g, p0, size);
    const Fonts& f = fonts();
    ImGui::InvisibleButton("##grid", size);
    const bool hovered = ImGui::IsItemHovered();
    ThreadPick hover;
    hover.phase = g.phase;
    const ImVec2 m = ImGui::GetIO().MousePos;
    for (std::int64_t r = 0; r < c.rows; ++r) {
        const std::int64_t u = r * c.units_per_cell;
        const float y = c.origin.y + c.ch * static_cast<float>(r);
        if (c.ch >= f.small->FontSize || r % std::max<std::int64_t>(1, c.rows / 8) == 0)
            dl->AddText(f.small, f.small->FontSize,
                        ImVec2(p0.x, y + std::max(0.0F, (c.ch - f.small->FontSize) / 2)), rgb(colors::kMuted),
                        unit_text(g, u).c_str());
        for (std::int64_t col = 0; col < c.cols; ++col) {
            const std::int64_t b = col * c.blocks_per_cell;
            const ImVec2 a(c.origin.x + c.cw * static_cast<float>(col), y), z(a.x + c.cw - 2, y + c.ch - 2);
            const std::int64_t w = g.wave_of(u, b);
            dl->AddRectFilled(a, z, wave_color(w));
            if (w == g.waves - 1 && g.tail_blocks < g.slots) draw_hatch(dl, a, z, rgb(0x101010, 150), 5.0F);
            if (c.ch >= f.small->FontSize + 2 && c.cw >= f.small->FontSize * 1.6F)
                dl->AddText(f.small, f.small->FontSize, ImVec2(a.x + 2, a.y + 1), rgb(0x101010),
                            ("w" + std::to_string(w + 1)).c_str());
            const bool picked = ui.thread_selected.phase == g.phase && ui.thread_selected.block >= b &&
                                ui.thread_selected.block < b + c.blocks_per_cell &&
                                ui.thread_selected.unit >= u &&
                                ui.thread_selected.unit < u + c.units_per_cell;
            if (picked)
                dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(z.x + 1, z.y + 1), rgb(0xFFFFFF), 0, 0, 2.5F);
            if (hovered && m.x >= a.x && m.x < a.x + c.cw && m.y >= a.y && m.y < a.y + c.ch) {
                hover.unit = u;
                hover.block = b;
                dl->AddRect(a, z, rgb(colors::kCompute), 0, 0, 2.5F);
            }
        }
    }
    // Column labels: the block id, every few columns when they are narrow.
    const float label_every = std::max(1.0F, ImGui::CalcTextSize("000").x / c.cw);
    for (std::int64_t col = 0; col < c.cols; col += static_cast<std::int64_t>(label_every + 0.999F)) {
        dl->AddText(f.small, f.small->FontSize, ImVec2(c.origin.x + c.cw * static_cast<float>(col), p0.y),
                    rgb(colors::kMuted), std::to_string(col * c.blocks_per_cell).c_str());
    }
    // Merged cells (more blocks than fit): the corner says how many a cell stands for.
    if (c.blocks_per_cell > 1 || c.units_per_cell > 1) {
        const std::string per =
            "cell = " + std::to_string(c.blocks_per_cell) + " x " + std::to_string(c.units_per_cell);
        draw_text_fit(dl, f.small, p0, c.label_w - 4, rgb(colors::kCompute), per);
        if (hovered && m.x < c.origin.x && m.y < c.origin.y)
            ImGui::SetTooltip(
                "Each cell stands for %lld blocks of %lld units, coloured by the wave of its first.",
                static_cast<long long>(c.blocks_per_cell), static_cast<long long>(c.units_per_cell));
    }
    if (hover.block >= 0 && ImGui::IsMouseClicked(ImGuiMouseButton_Left)) ui.thread_selected = hover;
    return hover;
}

// Swatches "wave 1 (blocks 0-215)" ..., wrapped over as many lines as they need.
void wave_legend(const ThreadGrid& g) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float line = ImGui::GetTextLineHeight();
    const float right = ImGui::GetCursorScreenPos().x + ImGui::GetContentRegionAvail().x;
    // Eight entries, fewer when the font is large (a projector's scale): the grid needs the height.
    const std::int64_t shown = std::min<std::int64_t>(
        g.waves, ImGui::GetContentRegionAvail().x >= 60 * ImGui::GetFontSize() ? 8 : 4);
    for (std::int64_t w = 0; w < shown; ++w) {
        const std::int64_t first = w * g.slots, last = std::min(g.total_blocks, first + g.slots) - 1;
        char text[96];
        std::snprintf(text, sizeof text, "wave %lld: blocks %lld-%lld%s", static_cast<long long>(w + 1),
                      static_cast<long long>(first), static_cast<long long>(last),
                      w == g.waves - 1 && g.tail_blocks < g.slots ? " (tail, hatched)" : "");
        const float tw = line + 4 + ImGui::CalcTextSize(text).x;
        // Beside the previous entry when it fits (decided before SameLine: a NewLine after it would
        // still count the gap as content).
        if (w > 0 && ImGui::GetItemRectMax().x + line + tw <= right) ImGui::SameLine(0, line);
        const ImVec2 at = ImGui::GetCursorScreenPos();
        dl->AddRectFilled(ImVec2(at.x, at.y + 2), ImVec2(at.x + line - 4, at.y + line - 2), wave_color(w));
        ImGui::Dummy(ImVec2(line, line));
        ImGui::SameLine(0, 2);
        ImGui::TextUnformatted(text);
    }
    if (g.waves > shown) {
        if (ImGui::GetItemRectMax().x + line + ImGui::CalcTextSize("... 00000 waves in all").x <= right)
            ImGui::SameLine(0, line);
        ImGui::Text("... %lld waves in all", static_cast<long long>(g.waves));
    }
}

}  // namespace

void outline_block_tiles(ImDrawList* dl, const std::vector<MatrixBox>& boxes,
                         const std::vector<BlockTile>& tiles) {
    for (const auto& t : tiles) {
        for (const auto& b : boxes) {
            if (b.tensor->decl.tensor != t.tensor) continue;
            const auto [q0, q1] = sub_rect(b, t.tile);
            const ImVec2 a(q0.x - 1, q0.y - 1), z(std::max(q1.x, q0.x + 3) + 1, std::max(q1.y, q0.y + 3) + 1);
            // Its own tiles in bold white, those it shares with other blocks dashed.
            if (t.owned) {
                dl->AddRect(a, z, rgb(0xFFFFFF), 0, 0, 3.0F);
            } else {
                draw_dashed_rect(dl, a, z, rgb(0xFFFFFF, 170), 1.5F);
            }
        }
    }
}

namespace {

// The block's HBM tiles in the lane's matrices (the memory view's widgets), outlined.
void hbm_strip(ImDrawList* dl, const Lane& lane, const ThreadGrid& g, const ThreadPick& pick, ImVec2 p0,
               ImVec2 p1, sim::Dtype dtype) {
    dl->PushClipRect(p0, p1, true);
    // A little inside the clip: the matrices' names are centred over them and may reach left.
    const float inset = ImGui::GetTextLineHeight() * 0.5F;
    const auto boxes =
        layout_matrices(lane.replay.heat(), ImVec2(p0.x + inset, p0.y), ImVec2(p1.x - 2 * inset, p1.y));
    for (const auto& b : boxes) draw_matrix(dl, b, dtype);
    if (pick.block >= 0 && static_cast<std::size_t>(pick.block) < g.block_tiles.size())
        outline_block_tiles(dl, boxes, g.block_tiles[static_cast<std::size_t>(pick.block)]);
    dl->PopClipRect();
}

// Inside one block: its warp groups and warps, and the rows of Q_i and S_ij each warp computes.
void block_inside(ImDrawList* dl, const ThreadGrid& g, ImVec2 p0, ImVec2 p1) {
    const Fonts& f = fonts();
    const float line = ImGui::GetTextLineHeight();
    const float gap = line * 0.5F;
    // Left half: warp groups as boxes of warps; right half: Q_i and S_ij cut into the warps' rows.
    const float mid = p0.x + (p1.x - p0.x) * 0.55F;
    const auto groups = static_cast<float>(g.warp_groups);
    const float gh = std::min((p1.y - p0.y) / groups, line * 3.6F);
    for (std::int64_t k = 0; k < g.warp_groups; ++k) {
        const ImVec2 a(p0.x, p0.y + gh * static_cast<float>(k)), z(mid - gap, a.y + gh - 4);
        dl->AddRect(a, z, rgb(colors::kMuted), 4.0F);
        const bool prod = g.producer && k == 0;
        const std::string title = "warp group " + std::to_string(k) + (prod ? " (producer: copies)" : "");
        dl->AddText(f.small, f.small->FontSize, ImVec2(a.x + 4, a.y + 1), rgb(colors::kMuted), title.c_str());
        const float ww = (z.x - a.x - 8) / 4.0F;
        for (std::int64_t w = 0; w < 4 && k * 4 + w < g.warps; ++w) {
            const WarpRows& r = g.warp_rows[static_cast<std::size_t>(k * 4 + w)];
            const ImVec2 b0(a.x + 4 + ww * static_cast<float>(w), a.y + f.small->FontSize + 3),
                b1(b0.x + ww - 3, z.y - 3);
            dl->AddRectFilled(b0, b1, r.producer ? rgb(0x3A4048) : rgb(kWarpHex[r.warp % 4]), 3.0F);
            char text[48];
            if (r.producer) {
                std::snprintf(text, sizeof text, "warp %d\nTMA", r.warp);
            } else if (r.rows == 0) {
                std::snprintf(text, sizeof text, "warp %d\nno rows", r.warp);
            } else {
                std::snprintf(text, sizeof text, "warp %d\nrows %lld-%lld", r.warp,
                              static_cast<long long>(r.row0), static_cast<long long>(r.row0 + r.rows - 1));
            }
            dl->PushClipRect(b0, b1, true);
            dl->AddText(f.small, f.small->FontSize, ImVec2(b0.x + 3, b0.y + 1), rgb(0x101010), text);
            dl->PopClipRect();
        }
    }
    // Q_i (B_r x d) and S_ij (B_r x B_c), each split into the consumer warps' row bands.
    const float th = p1.y - p0.y - f.small->FontSize - 4;
    const float rows = static_cast<float>(std::max<std::int64_t>(1, g.tile_rows));
    const float unit = std::min(th / rows, (p1.x - mid - 3 * gap) / static_cast<float>(g.d + g.tile_cols));
    float x = mid;
    for (int m = 0; m < 2; ++m) {
        const float w = unit * static_cast<float>(m == 0 ? g.d : g.tile_cols), h = unit * rows;
        const ImVec2 a(x, p0.y + f.small->FontSize + 2);
        for (const auto& r : g.warp_rows) {
            if (r.producer || r.rows == 0) continue;
            const ImVec2 b0(a.x, a.y + unit * static_cast<float>(r.row0)),
                b1(a.x + w, a.y + unit * static_cast<float>(r.row0 + r.rows));
            dl->AddRectFilled(b0, b1, rgb(kWarpHex[r.warp % 4]));
        }
        dl->AddRect(a, ImVec2(a.x + w, a.y + h),
                    m == 0 ? tensor_color(sim::Tensor::Q) : tensor_color(sim::Tensor::S), 0, 0, 2.0F);
        const char* name = m == 0 ? "Q_i (B_r x d)" : "S_ij (B_r x B_c)";
        dl->AddText(f.small, f.small->FontSize, ImVec2(a.x, p0.y), rgb(colors::kMuted), name);
        x += std::max(w, f.small->CalcTextSizeA(f.small->FontSize, FLT_MAX, 0, name).x) + gap;
    }
}

}  // namespace

void draw_threads_panel(Session& s, UiState& ui) {
    // From --scale 1.75 on, the view's many sentences and labels take the small font (still larger
    // than the regular one at scale 1), so the grid, the tiles and the warps fit a 1080-line screen.
    struct FontGuard {
        bool pushed = false;
        FontGuard() {
            if (ImGui::GetFontSize() >= 15.0F * 1.75F) {
                ImGui::PushFont(fonts().small);
                pushed = true;
            }
        }
        ~FontGuard() {
            if (pushed) ImGui::PopFont();
        }
        FontGuard(const FontGuard&) = delete;
        FontGuard& operator=(const FontGuard&) = delete;
    } font_guard;
    ui.thread_hover = {};
    const ImVec2 avail0 = ImGui::GetContentRegionAvail();
    if (s.model() == nullptr || !s.model()->result || s.lanes().empty()) {
        ImGui::TextDisabled("Running the model...");
        return;
    }
    const Lane& lane = s.lanes()[0];
    const ThreadGrid* g = lane_thread_grid(s, 0);
    if (g == nullptr) {
        ImGui::TextWrapped("%s has no trace to show at these settings (see the memory view).",
                           display_name(lane.key).c_str());
        return;
    }
    const auto& sc = s.model()->result->scenario;
    const float line = ImGui::GetTextLineHeight();
    const float top_y = ImGui::GetCursorScreenPos().y;
    header(*g, lane, sc);
    wave_legend(*g);
    ImDrawList* dl = ImGui::GetWindowDrawList();

    // What is left: the grid (left) beside the HBM tiles (right), then the inside of one block below.
    const float used = ImGui::GetCursorScreenPos().y - top_y;
    const float rest = avail0.y - used;
    const float inside_h = std::clamp(rest * 0.34F, line * 4.5F, line * 9.0F);
    // The two sentences under the grid, measured for the block picked now (one line of slack for a
    // hovered block's longer tile list), so the grid takes exactly the rest.
    auto block_text = [&](const ThreadPick& pk, bool hovering) {
        const auto b = static_cast<std::size_t>(std::max<std::int64_t>(0, pk.block));
        const bool known = b < g->block_tiles.size();
        const std::string mine = known ? tiles_text(g->block_tiles[b], true, *lane.trace(), g->phase) : "?";
        const std::string shared =
            known ? tiles_text(g->block_tiles[b], false, *lane.trace(), g->phase) : "?";
        char buf[1024];
        std::snprintf(buf, sizeof buf,
                      "Block %lld of %s (wave %lld%s): moves alone %s; shares with other blocks %s.%s",
                      static_cast<long long>(pk.block), unit_text(*g, pk.unit).c_str(),
                      static_cast<long long>(g->wave_of(pk.unit, pk.block) + 1),
                      hovering ? "" : ", click a block to pick another", mine.c_str(), shared.c_str(),
                      g->trace_complete ? "" : " (trace capped: tiles of the first events only)");
        return std::string(buf);
    };
    char warps[512];
    std::snprintf(warps, sizeof warps,
                  "%lld threads = %lld warps in %lld warp group%s (the model's block shape). Assumed: the "
                  "consumer warps split the B_r = %lld rows of S_ij and Q_i evenly, as FlashAttention-2's "
                  "kernels do; each warp's rows span all B_c = %lld columns of S_ij.",
                  static_cast<long long>(g->threads), static_cast<long long>(g->warps),
                  static_cast<long long>(g->warp_groups), g->warp_groups == 1 ? "" : "s",
                  static_cast<long long>(g->tile_rows), static_cast<long long>(g->tile_cols));
    const ThreadPick kept = ui.thread_selected.phase == g->phase && ui.thread_selected.block >= 0
                                ? ui.thread_selected
                                : ThreadPick{g->phase, 0, 0};
    auto wrapped_h = [&](const std::string& t) {
        return ImGui::CalcTextSize(t.c_str(), nullptr, false, avail0.x).y;
    };
    const float info_h =
        wrapped_h(block_text(kept, false)) + wrapped_h(warps) + line + 3 * ImGui::GetStyle().ItemSpacing.y;
    const float grid_h = std::max(line * 3, rest - inside_h - info_h);
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    const float grid_w = avail0.x * 0.5F;
    ImGui::PushID("threads");
    const ThreadPick hover = draw_grid(dl, *g, p0, ImVec2(grid_w, grid_h), ui);
    ImGui::PopID();
    ui.thread_hover = hover;
    const ThreadPick pick = hover.block >= 0 ? hover : kept;
    hbm_strip(dl, lane, *g, pick, ImVec2(p0.x + grid_w + line, p0.y), ImVec2(p0.x + avail0.x, p0.y + grid_h),
              sc.problem.dtype);

    // The picked block: the tiles it moves alone and those it shares, then its warps.
    ImGui::TextWrapped("%s", block_text(pick, hover.block >= 0).c_str());
    ImGui::TextWrapped("%s", warps);
    const ImVec2 q0 = ImGui::GetCursorScreenPos();
    const float left = avail0.y - (q0.y - top_y);
    const float h = std::max(line * 2, std::min(inside_h, left - 4));
    block_inside(dl, *g, q0, ImVec2(q0.x + avail0.x, q0.y + h));
    ImGui::Dummy(ImVec2(avail0.x, h - ImGui::GetStyle().ItemSpacing.y));
}

}  // namespace tilesim::viz
