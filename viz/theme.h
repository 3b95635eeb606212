#pragma once
// Colours, fonts and symbols shared by every panel.
//
// One colour per tensor, used everywhere a tensor appears (HBM matrices, SRAM slots, travelling
// tiles, counter rows), so a student who learns "K is orange" in one panel reads it in all of them.
// The palette is after Okabe and Ito's colour-blind-safe set, brightened for a dark background and
// a projector. Algorithms get their own colours (plots, race bars, lane titles), picked by their
// position in the definition table, so a new algorithm gets one without touching this file.
#include <imgui.h>

#include <string>
#include <string_view>

#include "sim/trace.h"
#include "sim/types.h"

namespace tilesim::viz {

// Packs 0xRRGGBB plus alpha into ImGui's ABGR ImU32.
constexpr ImU32 rgb(unsigned hex, unsigned alpha = 255) {
    return (static_cast<ImU32>(alpha) << 24) | ((hex & 0xFFu) << 16) | (hex & 0xFF00u) |
           ((hex >> 16) & 0xFFu);
}

// The same colour with another alpha (0..255).
ImU32 with_alpha(ImU32 c, unsigned alpha);

namespace colors {
inline constexpr unsigned kQ = 0x4C8DF6;
inline constexpr unsigned kK = 0xF5A623;
inline constexpr unsigned kV = 0x3DBE7A;
inline constexpr unsigned kS = 0xE8554E;
inline constexpr unsigned kP = 0xB07CE8;
inline constexpr unsigned kO = 0x2EC4C4;
inline constexpr unsigned kStat = 0xC8B273;     // l, m, L: the softmax statistics
inline constexpr unsigned kCompute = 0xFFE14D;  // the tile being computed on
inline constexpr unsigned kError = 0xFF6B6B;    // error text
inline constexpr unsigned kErrorBg = 0x5A1E1E;  // error box
inline constexpr unsigned kOk = 0x7CD992;
inline constexpr unsigned kMuted = 0x9AA3AD;    // secondary text
inline constexpr unsigned kPanelBg = 0x1B1E23;  // matrix / box backgrounds
inline constexpr unsigned kGrid = 0x3A4048;
inline constexpr unsigned kRecompute = 0xF4F4F4;  // hatching of a recomputed tile (white stripes)
// Algorithm colours, in table order (kernels::key_index): pink, light blue, light green, then more.
inline constexpr unsigned kAlgorithms[] = {0xFF4FA3, 0x6FD3FF, 0xB4E35A, 0xFFB454,
                                           0xC9A0FF, 0x5EEBC4, 0xF2E86D};
inline constexpr unsigned kTheory = 0xE0E0E0;  // an unknown key
}  // namespace colors

unsigned tensor_hex(sim::Tensor t);
ImU32 tensor_color(sim::Tensor t, unsigned alpha = 255);
// The colour of an algorithm key (its position in kernels::algorithm_key_list(), cycling).
unsigned algorithm_hex(std::string_view key);
ImU32 algorithm_color(std::string_view key, unsigned alpha = 255);

// Fonts: DejaVu Sans when installed (Greek letters and arrows), else ImGui's built-in font with
// ASCII spellings of the symbols. `scale` enlarges everything for a projector.
struct Fonts {
    ImFont* regular = nullptr;
    ImFont* large = nullptr;  // panel titles, the current step's caption
    ImFont* small = nullptr;  // tile labels, axis ticks
    bool unicode = false;     // false: symbols fall back to ASCII ("Theta", "tau", "x")
};
// Loads the fonts into the current ImGui context's atlas (call before the atlas is built).
Fonts& load_fonts(float scale);
const Fonts& fonts();

// Symbols with ASCII fallbacks, so no "?" box ever appears.
const char* sym_theta();   // Θ
const char* sym_tau();     // τ
const char* sym_times();   // ×
const char* sym_arrow();   // →
const char* sym_larrow();  // ←
const char* sym_le();      // ≤
const char* sym_sq();      // ²

// The style: ImGui's dark theme with rounder, roomier widgets and our background.
void apply_style(float scale);
// The scale last given to apply_style (1 before): the layout widens its side columns with it.
float ui_scale();

// A tile's name in the paper's notation, from the tensor's declared tile grid: "K_2" for block 2 of
// a tensor cut in row blocks, "S_1,2" for a tile of a 2-D grid, "S rows 6-11" for a piece that is
// not one tile (a softmax pass over whole rows). `decl` may be null (the tensor was not declared).
std::string tile_name(sim::Tensor t, const sim::TensorDecl* decl, const sim::Rect& tile);

// The definitions' ASCII formulas for display: "Theta(N^2 d^2 / M)" -> "Θ(N² d² / M)" when the
// font has the symbols (unchanged otherwise).
std::string pretty_math(std::string_view ascii);

}  // namespace tilesim::viz
