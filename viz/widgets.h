#pragma once
// Small drawing helpers shared by several panels.
#include <imgui.h>

#include <cfloat>

#include <string>
#include <vector>

#include "sim/types.h"

namespace tilesim::viz {

// Text wrapped to `width` with the draw list (not the layout cursor); returns the height used.
float draw_wrapped_text(ImDrawList* dl, ImVec2 at, float width, ImU32 color, const std::string& text,
                        ImFont* font = nullptr);

// A red box saying what is wrong and how to fix it (a tile that does not fit, a bad value).
// Drawn into [p0, p1]; the text wraps. Returns the height used.
float draw_error_box(ImDrawList* dl, ImVec2 p0, ImVec2 p1, const std::string& title,
                     const std::string& reason, const std::string& fix);

// ImGui::SameLine() when an item `width` wide still fits on the line, else a new line: labels beside
// a title wrap under it at a projector's scale instead of running off the window.
void same_line_if_fits(float width);

// ImGui::TextDisabled, wrapped at the window's edge.
void disabled_wrapped(const std::string& text);

// The same as an ImGui item in the layout flow (for the controls panel).
void error_text(const std::string& message);

// One row of tensor colour swatches with names, for legends. Returns the x where it ended.
// Entries that would pass `right` are left out (a projector's scale).
float draw_tensor_legend(ImDrawList* dl, ImVec2 at, const std::vector<sim::Tensor>& tensors,
                         float right = FLT_MAX);

// Text that must stay within `max_w` (a label in a box of fixed size): drawn at the font's size when
// it fits, else smaller (down to 70%), else cut with "...". Returns the width drawn.
float draw_text_fit(ImDrawList* dl, ImFont* font, ImVec2 at, float max_w, ImU32 col, const std::string& text);

// A filled rectangle with a dashed outline (tensors that never reach HBM).
void draw_dashed_rect(ImDrawList* dl, ImVec2 p0, ImVec2 p1, ImU32 col, float thickness = 1.5F);

// Smoothstep easing for the travelling tiles: starts and stops gently, as the eye expects.
inline float ease(float t) {
    return t * t * (3.0F - 2.0F * t);
}
inline ImVec2 lerp(ImVec2 a, ImVec2 b, float t) {
    return {a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t};
}

}  // namespace tilesim::viz
