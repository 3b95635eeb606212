#include "viz/theme.h"

#include <array>
#include <filesystem>

#include "kernels/registry.h"

namespace tilesim::viz {

ImU32 with_alpha(ImU32 c, unsigned alpha) {
    return (c & 0x00FFFFFFu) | (static_cast<ImU32>(alpha & 0xFFu) << 24);
}

unsigned tensor_hex(sim::Tensor t) {
    using sim::Tensor;
    switch (t) {
        case Tensor::Q:
            return colors::kQ;
        case Tensor::K:
            return colors::kK;
        case Tensor::V:
            return colors::kV;
        case Tensor::S:
            return colors::kS;
        case Tensor::P:
            return colors::kP;
        case Tensor::O:
            return colors::kO;
        // A gradient is its tensor's colour lightened (45 % towards white): dK reads as "K's", and
        // stays apart from K where both are drawn.
        case Tensor::dQ:
            return 0x9DC0FA;
        case Tensor::dK:
            return 0xF9CE86;
        case Tensor::dV:
            return 0x94DBB6;
        case Tensor::dS:
            return 0xF2A19E;
        case Tensor::dP:
            return 0xD3B6F2;
        case Tensor::dO:
            return 0x8CDEDE;
        case Tensor::dQacc:
            return 0x6B9BE0;  // dQ's fp32 accumulator: between Q and dQ
        case Tensor::Oacc:
            return 0x1F9A9A;  // split-KV partial outputs: a darker O
        case Tensor::PT:
            return 0x8A8F98;  // the page table: no data, only addresses
        default:
            return colors::kStat;  // l, m, L, D, Lacc: the per-row statistics
    }
}

ImU32 tensor_color(sim::Tensor t, unsigned alpha) {
    return rgb(tensor_hex(t), alpha);
}

unsigned algorithm_hex(std::string_view key) {
    const int k = kernels::key_index(key);
    if (k < 0) return colors::kTheory;
    constexpr auto n = sizeof(colors::kAlgorithms) / sizeof(colors::kAlgorithms[0]);
    return colors::kAlgorithms[static_cast<std::size_t>(k) % n];
}

ImU32 algorithm_color(std::string_view key, unsigned alpha) {
    return rgb(algorithm_hex(key), alpha);
}

namespace {
Fonts g_fonts;

// Basic Latin + Latin-1 (×, ²), Greek (Θ, τ), general punctuation (–, …), arrows, maths (≤, ∞).
const ImWchar kGlyphRanges[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x2010, 0x205E,
                                0x2190, 0x21FF, 0x2200, 0x22FF, 0};

std::string find_font() {
    // Debian's fonts-dejavu-core; other distributions keep it elsewhere.
    static const std::array<const char*, 4> kPaths = {
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/local/share/fonts/DejaVuSans.ttf"};
    for (const char* p : kPaths) {
        std::error_code ec;
        if (std::filesystem::exists(p, ec)) return p;
    }
    return {};
}
}  // namespace

Fonts& load_fonts(float scale) {
    ImGuiIO& io = ImGui::GetIO();
    g_fonts = Fonts{};
    const std::string path = find_font();
    if (!path.empty()) {
        ImFontConfig cfg;
        cfg.OversampleH = 2;  // crisper text when projected
        g_fonts.regular = io.Fonts->AddFontFromFileTTF(path.c_str(), 15.0F * scale, &cfg, kGlyphRanges);
        g_fonts.large = io.Fonts->AddFontFromFileTTF(path.c_str(), 19.0F * scale, &cfg, kGlyphRanges);
        g_fonts.small = io.Fonts->AddFontFromFileTTF(path.c_str(), 12.5F * scale, &cfg, kGlyphRanges);
    }
    if (g_fonts.regular == nullptr || g_fonts.large == nullptr || g_fonts.small == nullptr) {
        // The built-in bitmap font is 13 px; larger sizes of it stay legible on a projector.
        io.Fonts->Clear();
        ImFontConfig cfg;
        cfg.SizePixels = 13.0F * scale;
        g_fonts.regular = io.Fonts->AddFontDefault(&cfg);
        cfg.SizePixels = 16.0F * scale;
        g_fonts.large = io.Fonts->AddFontDefault(&cfg);
        cfg.SizePixels = 13.0F * scale;
        g_fonts.small = io.Fonts->AddFontDefault(&cfg);
        g_fonts.unicode = false;
    } else {
        g_fonts.unicode = true;
    }
    io.FontDefault = g_fonts.regular;
    return g_fonts;
}

const Fonts& fonts() {
    return g_fonts;
}

const char* sym_theta() {
    return g_fonts.unicode ? "\xCE\x98" : "Theta";
}
const char* sym_tau() {
    return g_fonts.unicode ? "\xCF\x84" : "tau";
}
const char* sym_times() {
    return g_fonts.unicode ? "\xC3\x97" : "x";
}
const char* sym_arrow() {
    return g_fonts.unicode ? "\xE2\x86\x92" : "->";
}
const char* sym_larrow() {
    return g_fonts.unicode ? "\xE2\x86\x90" : "<-";
}
const char* sym_le() {
    return g_fonts.unicode ? "\xE2\x89\xA4" : "<=";
}
const char* sym_sq() {
    return g_fonts.unicode ? "\xC2\xB2" : "^2";
}

namespace {
float g_scale = 1.0F;
}  // namespace

float ui_scale() {
    return g_scale;
}

void apply_style(float scale) {
    g_scale = scale;
    ImGui::StyleColorsDark();
    ImGuiStyle& st = ImGui::GetStyle();
    st.WindowRounding = 0.0F;
    st.FrameRounding = 3.0F;
    st.GrabRounding = 3.0F;
    st.TabRounding = 3.0F;
    st.WindowPadding = ImVec2(10, 8);
    st.FramePadding = ImVec2(6, 4);
    st.ItemSpacing = ImVec2(8, 5);
    st.WindowBorderSize = 1.0F;
    st.Colors[ImGuiCol_WindowBg] = ImVec4(0.085F, 0.095F, 0.11F, 1.0F);
    st.Colors[ImGuiCol_Border] = ImVec4(0.25F, 0.27F, 0.30F, 1.0F);
    st.ScaleAllSizes(scale);
}

namespace {
// True when [a0, a0 + len) is block `a0 / block` of a length-`total` axis cut in `block`s.
bool on_grid(std::int64_t a0, std::int64_t len, std::int64_t block, std::int64_t total) {
    return block > 0 && a0 % block == 0 && (len == block || (a0 + len == total && len < block));
}
std::string range(std::int64_t a0, std::int64_t len) {
    return std::to_string(a0) + "-" + std::to_string(a0 + len - 1);
}
}  // namespace

std::string tile_name(sim::Tensor t, const sim::TensorDecl* decl, const sim::Rect& tile) {
    std::string n(sim::tensor_name(t));
    if (decl == nullptr || tile.rows <= 0 || tile.cols <= 0) return n;
    const bool rows_ok = on_grid(tile.row0, tile.rows, decl->block_rows, decl->rows);
    const bool cols_ok = on_grid(tile.col0, tile.cols, decl->block_cols, decl->cols);
    if (rows_ok && cols_ok) {
        // The block index is the tile's position in the grid: for K that is the paper's j, for Q
        // the paper's i, whichever loop moved it.
        const std::string r = std::to_string(tile.row0 / decl->block_rows);
        if (decl->block_cols >= decl->cols) return n + "_" + r;
        return n + "_" + r + "," + std::to_string(tile.col0 / decl->block_cols);
    }
    n += " rows " + range(tile.row0, tile.rows);
    if (tile.cols < decl->cols) n += ", cols " + range(tile.col0, tile.cols);
    return n;
}

std::string pretty_math(std::string_view ascii) {
    std::string out;
    for (std::size_t k = 0; k < ascii.size();) {
        if (ascii.substr(k, 5) == "Theta") {
            out += sym_theta();
            k += 5;
        } else if (ascii.substr(k, 2) == "^2") {
            out += sym_sq();
            k += 2;
        } else {
            out += ascii[k++];
        }
    }
    return out;
}

}  // namespace tilesim::viz
