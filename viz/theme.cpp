#include "viz/theme.h"

#include <array>
#include <filesystem>

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
        default:
            return colors::kStat;  // l, m, L (and the backward tensors, never moved forward)
    }
}

ImU32 tensor_color(sim::Tensor t, unsigned alpha) {
    return rgb(tensor_hex(t), alpha);
}

unsigned algorithm_hex(kernels::AlgorithmId a) {
    switch (a) {
        case kernels::AlgorithmId::standard:
            return colors::kAlgStandard;
        case kernels::AlgorithmId::flash:
            return colors::kAlgFlash;
        case kernels::AlgorithmId::flash2:
            return colors::kAlgFlash2;
    }
    return colors::kTheory;
}

ImU32 algorithm_color(kernels::AlgorithmId a, unsigned alpha) {
    return rgb(algorithm_hex(a), alpha);
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

void apply_style(float scale) {
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

std::string tile_name(sim::Tensor t, std::int32_t i, std::int32_t j) {
    using sim::Tensor;
    std::string n(sim::tensor_name(t));
    switch (t) {
        case Tensor::K:
        case Tensor::V:
            if (j >= 0) n += "_" + std::to_string(j);
            break;
        case Tensor::S:
        case Tensor::P:
            if (i >= 0 && j >= 0) n += "_" + std::to_string(i) + "," + std::to_string(j);
            break;
        default:
            if (i >= 0) n += "_" + std::to_string(i);
            break;
    }
    return n;
}

}  // namespace tilesim::viz
