#pragma once
// The widgets of the memory view (memory_panel.cpp): HBM as the matrices a trace declares, cut into
// their tiles (matrix_view.cpp), and SRAM as the box of live buffers (sram_box.cpp).
#include <imgui.h>

#include <string>
#include <utility>
#include <vector>

#include "viz/replay.h"
#include "viz/session.h"
#include "viz/sram_view.h"
#include "viz/thread_grid.h"

namespace tilesim::viz {

// ---- HBM (matrix_view.cpp) ----
struct MatrixBox {
    const HeatTensor* tensor = nullptr;
    ImVec2 p0, p1;     // the matrix itself (its name sits above, its shape below)
    float slot_w = 0;  // room it takes in its row (at least its name's width)
    bool ghost() const { return !tensor->decl.in_hbm; }  // never stored in HBM: a dashed outline
};

// Lays the declared matrices out in declaration (data-flow) order, in as many rows as give them the
// largest scale (up to four: a backward's dozen tensors, four of them N x N, wrap instead of
// shrinking to slivers). Within a row all matrices share one vertical scale, so row block i of Q
// lines up with row block i of S, P and O. [p0, p1] includes the names above and shapes below.
std::vector<MatrixBox> layout_matrices(const HeatMap& heat, ImVec2 p0, ImVec2 p1);

// Screen rectangle of an element rectangle of the matrix drawn in `box`.
std::pair<ImVec2, ImVec2> sub_rect(const MatrixBox& box, const sim::Rect& r);

// One matrix: its tiles tinted by HBM reads (brighter per read, "n×" in the corner), filled once
// written ("wn" when written n times), hatched where recomputed on chip; a ghost is dashed and says
// "never written to HBM". Hovering a tile gives its exact counts.
void draw_matrix(ImDrawList* dl, const MatrixBox& b, sim::Dtype dtype);

// Diagonal hatching over [p0, p1] (a recomputed tile).
void draw_hatch(ImDrawList* dl, ImVec2 p0, ImVec2 p1, ImU32 col, float spacing = 5.0F);

// Outlines a thread block's HBM tiles (threads_panel.cpp): bold those it alone moves, dashed those it
// shares with other blocks of its pass.
void outline_block_tiles(ImDrawList* dl, const std::vector<MatrixBox>& boxes,
                         const std::vector<BlockTile>& tiles);

// ---- SRAM (sram_box.cpp) ----
struct SlotGeom {
    ImVec2 tile0, tile1;  // the mini tile inside the slot row (travelling tiles land here)
};

// "in use 352 B (92%)": the bytes of the capacity bar's segments (the same snapshot), against M.
std::string sram_usage_label(const SramSnapshot& snap);

// The SRAM box: title, capacity bar (one segment per live buffer), one row per buffer showing the
// tile it holds, and the pass at the bottom. `current` (null when finished) is outlined. Returns
// where each slot's mini tile sits.
std::vector<SlotGeom> draw_sram(ImDrawList* dl, ImVec2 p0, ImVec2 p1, const SramSnapshot& snap,
                                const sim::Event* current, const Lane& lane);

}  // namespace tilesim::viz
