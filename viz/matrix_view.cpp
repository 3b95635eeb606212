// HBM in the memory view: the matrices a trace declares (sim::TensorDecl: shape, tile grid, whether
// the tensor ever lives in HBM), laid out in the order the algorithm declared them.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>

#include "viz/format.h"
#include "viz/memory_widgets.h"
#include "viz/theme.h"
#include "viz/widgets.h"

namespace tilesim::viz {

namespace {

constexpr float kGap = 12;       // between matrices
constexpr float kStatW = 14;     // a per-row statistic (N x 1)
constexpr float kMinTallW = 26;  // an N x d matrix of a long sequence stays visible
constexpr float kRowGap = 6;     // between rows of matrices

bool two_d(const sim::TensorDecl& d) {
    return d.cols > 1 && d.block_cols < d.cols;
}

float text_w(ImFont* f, const char* s) {
    return f->CalcTextSizeA(f->FontSize, FLT_MAX, 0, s).x;
}

struct RowGeom {
    float name_h, shape_h;
};
RowGeom row_geom() {
    return {ImGui::GetTextLineHeight() + 2, fonts().small->FontSize + 4};
}

// Width and height of one matrix when `R` rows take `H` pixels (columns on the same scale).
ImVec2 box_size(const sim::TensorDecl& d, float H, float R, float W) {
    const float w_raw = H * static_cast<float>(d.cols) / R;
    float w = w_raw;
    if (d.cols == 1) {
        w = kStatW;
    } else if (d.cols < d.rows) {
        w = std::clamp(w_raw, kMinTallW, 0.14F * W);  // tall and thin: N x d
    }
    const float h = std::max(4.0F, H * static_cast<float>(d.rows) / R);
    return {std::max(w, 4.0F), h};
}

struct Packed {
    std::vector<int> row_of;  // row index per matrix
    int rows = 0;
};
// Greedy left-to-right filling gives the fewest rows for contiguous rows; `slot` widths per matrix.
Packed pack(const std::vector<float>& slot, const std::vector<bool>& extra_gap, float W) {
    Packed p;
    float x = 0;
    for (std::size_t k = 0; k < slot.size(); ++k) {
        const float gap = x > 0 ? kGap + (extra_gap[k] ? kGap : 0) : 0;
        if (x > 0 && x + gap + slot[k] > W) {
            ++p.rows;
            x = 0;
        }
        x += (x > 0 ? gap : 0) + slot[k];
        p.row_of.push_back(p.rows);
    }
    p.rows += slot.empty() ? 0 : 1;
    return p;
}

}  // namespace

std::vector<MatrixBox> layout_matrices(const HeatMap& heat, ImVec2 p0, ImVec2 p1) {
    std::vector<MatrixBox> boxes;
    const auto n = heat.tensors.size();
    if (n == 0) return boxes;
    const float W = p1.x - p0.x, Hall = p1.y - p0.y;
    const RowGeom g = row_geom();
    float R = 1;
    for (const auto& t : heat.tensors) R = std::max(R, static_cast<float>(t.decl.rows));
    std::vector<float> name_w(n);
    std::vector<bool> extra(n, false);
    for (std::size_t k = 0; k < n; ++k) {
        const std::string name(sim::tensor_name(heat.tensors[k].decl.tensor));
        name_w[k] = ImGui::CalcTextSize(name.c_str()).x + 6;
        // A wider gap where a 2-D tile grid (S, P) meets row-blocked matrices: the groups read apart.
        extra[k] = k > 0 && two_d(heat.tensors[k].decl) != two_d(heat.tensors[k - 1].decl);
    }
    // Try one to four rows; keep the layout with the largest scale H.
    float best_H = -1;
    Packed best;
    for (int rows = 1; rows <= 4; ++rows) {
        float H =
            (Hall - static_cast<float>(rows - 1) * kRowGap) / static_cast<float>(rows) - g.name_h - g.shape_h;
        for (; H > 12; H *= 0.96F) {
            std::vector<float> slot(n);
            for (std::size_t k = 0; k < n; ++k)
                slot[k] = std::max(box_size(heat.tensors[k].decl, H, R, W).x, name_w[k]);
            Packed p = pack(slot, extra, W);
            if (p.rows <= rows) {
                if (H > best_H) {
                    best_H = H;
                    best = std::move(p);
                }
                break;
            }
        }
    }
    if (best_H < 0) {  // nothing fits: one row at the smallest scale, clipped
        best_H = 12;
        best = pack(std::vector<float>(n, 1.0F), extra, W);
    }
    const float pitch = g.name_h + best_H + g.shape_h + kRowGap;
    for (int r = 0; r < best.rows; ++r) {
        // Centre each row.
        std::vector<std::size_t> members;
        for (std::size_t k = 0; k < n; ++k) {
            if (best.row_of[k] == r) members.push_back(k);
        }
        float total = 0;
        for (std::size_t m = 0; m < members.size(); ++m) {
            const auto k = members[m];
            total += std::max(box_size(heat.tensors[k].decl, best_H, R, W).x, name_w[k]);
            if (m > 0) total += kGap + (extra[k] ? kGap : 0);
        }
        float x = p0.x + std::max(0.0F, (W - total) * 0.5F);
        const float y = p0.y + static_cast<float>(r) * pitch + g.name_h;
        for (std::size_t m = 0; m < members.size(); ++m) {
            const auto k = members[m];
            if (m > 0) x += kGap + (extra[k] ? kGap : 0);
            const ImVec2 sz = box_size(heat.tensors[k].decl, best_H, R, W);
            MatrixBox b;
            b.tensor = &heat.tensors[k];
            b.slot_w = std::max(sz.x, name_w[k]);
            const float bx = x + (b.slot_w - sz.x) * 0.5F;
            b.p0 = ImVec2(bx, y);
            b.p1 = ImVec2(bx + sz.x, y + sz.y);
            boxes.push_back(b);
            x += b.slot_w;
        }
    }
    return boxes;
}

std::pair<ImVec2, ImVec2> sub_rect(const MatrixBox& box, const sim::Rect& r) {
    const TileGrid& g = box.tensor->traffic.grid;
    const float w = box.p1.x - box.p0.x, h = box.p1.y - box.p0.y;
    const auto fx = [&](std::int64_t c) {
        return box.p0.x + w * static_cast<float>(c) / static_cast<float>(std::max<std::int64_t>(1, g.cols));
    };
    const auto fy = [&](std::int64_t v) {
        return box.p0.y + h * static_cast<float>(v) / static_cast<float>(std::max<std::int64_t>(1, g.rows));
    };
    return {ImVec2(fx(r.col0), fy(r.row0)), ImVec2(fx(r.col0 + r.cols), fy(r.row0 + r.rows))};
}

void draw_hatch(ImDrawList* dl, ImVec2 p0, ImVec2 p1, ImU32 col, float spacing) {
    dl->PushClipRect(p0, p1, true);
    const float h = p1.y - p0.y;
    for (float x = p0.x - h; x < p1.x; x += spacing)
        dl->AddLine(ImVec2(x, p1.y), ImVec2(x + h, p0.y), col, 1.0F);
    dl->PopClipRect();
}

namespace {

std::string count_label(double v) {
    char buf[16];
    if (std::abs(v - std::round(v)) < 0.05) {
        std::snprintf(buf, sizeof buf, "%.0f", std::round(v));
    } else {
        std::snprintf(buf, sizeof buf, "%.1f", v);
    }
    return buf;
}

// Hovering a tile gives its exact counts: which tile (or group of tiles), and how many bytes of it
// have crossed the HBM boundary so far.
void cell_tooltip(const HeatTensor& ht, std::int32_t r, std::int32_t c, sim::Dtype dtype) {
    const CellTraffic& ct = ht.traffic;
    const TileGrid& g = ct.grid;
    const sim::Tensor t = ht.decl.tensor;
    const sim::Rect rect = g.cell_rect(r, c);
    const std::int32_t cell = r * g.cells_c + c;
    const auto el_bytes = static_cast<std::int64_t>(sim::element_bytes(t, dtype));
    const std::string name = g.aggregated() ? std::string(sim::tensor_name(t)) : tile_name(t, &ht.decl, rect);
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
    const std::int64_t rc = ht.recomputed_elements[static_cast<std::size_t>(cell)];
    if (rc > 0)
        ImGui::Text("recomputed on chip: %lld elements (the forward had computed them)",
                    static_cast<long long>(rc));
    if (!ht.decl.in_hbm)
        ImGui::TextDisabled("%s lives on chip only: it is never written to HBM",
                            std::string(sim::tensor_name(t)).c_str());
    ImGui::EndTooltip();
}

void draw_labels(ImDrawList* dl, const MatrixBox& b) {
    const Fonts& f = fonts();
    const auto& d = b.tensor->decl;
    const std::string name(sim::tensor_name(d.tensor));
    // Name above in the tensor's colour; the shape below, when it fits under the matrix's slot.
    const float nw = ImGui::CalcTextSize(name.c_str()).x;
    dl->AddText(ImVec2((b.p0.x + b.p1.x - nw) * 0.5F, b.p0.y - ImGui::GetTextLineHeight() - 2),
                tensor_color(d.tensor), name.c_str());
    char shape[48];
    std::snprintf(shape, sizeof shape, "%lldx%lld", static_cast<long long>(d.rows),
                  static_cast<long long>(d.cols));
    const float sw = text_w(f.small, shape);
    if (sw <= b.slot_w + kGap - 2) {
        dl->AddText(f.small, f.small->FontSize, ImVec2((b.p0.x + b.p1.x - sw) * 0.5F, b.p1.y + 2),
                    rgb(colors::kMuted), shape);
    }
}

// One cell's tint, border, hatching and count labels.
void draw_cell(ImDrawList* dl, const MatrixBox& b, std::int32_t r, std::int32_t c, sim::Dtype dtype) {
    const HeatTensor& ht = *b.tensor;
    const CellTraffic& ct = ht.traffic;
    const TileGrid& g = ct.grid;
    const sim::Tensor t = ht.decl.tensor;
    const Fonts& f = fonts();
    const std::int32_t cell = r * g.cells_c + c;
    const auto [q0, q1] = sub_rect(b, g.cell_rect(r, c));
    const double reads = ct.reads(cell), writes = ct.writes(cell);
    const float cw = q1.x - q0.x, ch = q1.y - q0.y;
    if (!b.ghost()) {
        // Present (an input, or written already) gives a base tint; every read brightens it.
        const bool present = ht.decl.input || writes > 0;
        const double a = (present ? 80.0 : 0.0) + std::min(150.0, 40.0 * reads);
        if (a > 0) dl->AddRectFilled(q0, q1, tensor_color(t, static_cast<unsigned>(std::min(235.0, a))));
        // Tile borders only where they stay apart; a dense grid would hide the fill.
        if (cw >= 8 && ch >= 8) dl->AddRect(q0, q1, rgb(colors::kGrid));
    }
    if (ht.recomputed_elements[static_cast<std::size_t>(cell)] > 0) {
        dl->AddRectFilled(q0, q1, tensor_color(t, 70));
        draw_hatch(dl, q0, q1, rgb(colors::kRecompute, 170));
    }
    if (ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(q0, q1)) cell_tooltip(ht, r, c, dtype);
    const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
    // Counts only where they fit the tile (at a projector's scale tiles are small for the font).
    const float fs = f.small->FontSize;
    if (ch >= fs + 2 && reads >= 0.95 &&
        cw >= text_w(f.small, (count_label(reads) + sym_times()).c_str()) + 5) {
        const std::string lab = count_label(reads) + sym_times();
        dl->AddText(f.small, f.small->FontSize, ImVec2(q0.x + 3, q0.y + 1), text, lab.c_str());
    }
    if (ch >= 2 * fs + 4 && writes >= 1.95 &&
        cw >= text_w(f.small, ("w" + count_label(writes)).c_str()) + 5) {
        const std::string lab = "w" + count_label(writes);
        dl->AddText(f.small, f.small->FontSize,
                    ImVec2(q1.x - text_w(f.small, lab.c_str()) - 3, q1.y - f.small->FontSize - 1), text,
                    lab.c_str());
    }
}

}  // namespace

void draw_matrix(ImDrawList* dl, const MatrixBox& b, sim::Dtype dtype) {
    const auto t = b.tensor->decl.tensor;
    draw_labels(dl, b);
    if (b.ghost()) {
        draw_dashed_rect(dl, b.p0, b.p1, tensor_color(t, 150));
    } else {
        dl->AddRectFilled(b.p0, b.p1, rgb(colors::kPanelBg));
    }
    const TileGrid& g = b.tensor->traffic.grid;
    for (std::int32_t r = 0; r < g.cells_r; ++r) {
        for (std::int32_t c = 0; c < g.cells_c; ++c) draw_cell(dl, b, r, c, dtype);
    }
    if (!b.ghost()) {
        dl->AddRect(b.p0, b.p1, tensor_color(t, 200), 0, 0, 1.5F);
    } else if (const Fonts& f = fonts();
               b.p1.x - b.p0.x - 12 >= text_w(f.small, "written") &&
               b.p1.y - b.p0.y - 8 >= f.small
                                          ->CalcTextSizeA(f.small->FontSize, FLT_MAX, b.p1.x - b.p0.x - 12,
                                                          "never written to HBM")
                                          .y) {
        // On a dark plate, so it stays legible over the hatching of recomputed tiles. Only where the
        // words fit whole (a narrow box at a projector's scale would break them mid-word).
        const float w = b.p1.x - b.p0.x - 12;
        const char* text = "never written to HBM";
        const ImVec2 sz = f.small->CalcTextSizeA(f.small->FontSize, FLT_MAX, w, text);
        const ImVec2 at(b.p0.x + 6, (b.p0.y + b.p1.y - sz.y) * 0.5F);
        dl->AddRectFilled(ImVec2(at.x - 2, at.y - 1), ImVec2(at.x + sz.x + 2, at.y + sz.y + 1),
                          rgb(0x14171B, 220));
        draw_wrapped_text(dl, at, w, rgb(colors::kMuted), text, f.small);
    }
}

}  // namespace tilesim::viz
