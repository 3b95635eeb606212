#include "viz/widgets.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "viz/theme.h"

namespace tilesim::viz {

float draw_wrapped_text(ImDrawList* dl, ImVec2 at, float width, ImU32 color, const std::string& text,
                        ImFont* font) {
    ImFont* f = font != nullptr ? font : ImGui::GetFont();
    const float size = f->FontSize;
    const ImVec2 sz = f->CalcTextSizeA(size, FLT_MAX, width, text.c_str());
    dl->AddText(f, size, at, color, text.c_str(), nullptr, width);
    return sz.y;
}

void disabled_wrapped(const std::string& text) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped("%s", text.c_str());
    ImGui::PopStyleColor();
}

void same_line_if_fits(float width) {
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    const float x = ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x;
    if (x + width <= right) ImGui::SameLine();
}

float draw_error_box(ImDrawList* dl, ImVec2 p0, ImVec2 p1, const std::string& title,
                     const std::string& reason, const std::string& fix) {
    const float pad = 10;
    const float w = p1.x - p0.x - 2 * pad;
    // Measure first so the box is only as tall as its text (never taller than the room given).
    ImFont* f = ImGui::GetFont();
    float h = pad;
    h += f->CalcTextSizeA(f->FontSize, FLT_MAX, w, title.c_str()).y + 4;
    h += f->CalcTextSizeA(f->FontSize, FLT_MAX, w, reason.c_str()).y + 4;
    if (!fix.empty()) h += f->CalcTextSizeA(f->FontSize, FLT_MAX, w, ("Fix: " + fix).c_str()).y;
    h += pad;
    const ImVec2 q1(p1.x, std::min(p1.y, p0.y + h));
    dl->AddRectFilled(p0, q1, rgb(colors::kErrorBg), 4.0F);
    dl->AddRect(p0, q1, rgb(colors::kError), 4.0F, 0, 2.0F);
    float y = p0.y + pad;
    y += draw_wrapped_text(dl, ImVec2(p0.x + pad, y), w, rgb(colors::kError), title) + 4;
    y += draw_wrapped_text(dl, ImVec2(p0.x + pad, y), w, rgb(0xFFFFFF), reason) + 4;
    if (!fix.empty()) draw_wrapped_text(dl, ImVec2(p0.x + pad, y), w, rgb(colors::kOk), "Fix: " + fix);
    return q1.y - p0.y;
}

void error_text(const std::string& message) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(rgb(colors::kError)));
    ImGui::PushTextWrapPos(0.0F);
    ImGui::TextUnformatted(message.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
}

float draw_tensor_legend(ImDrawList* dl, ImVec2 at, const std::vector<sim::Tensor>& tensors, float right) {
    float x = at.x;
    const float h = ImGui::GetTextLineHeight();
    for (sim::Tensor t : tensors) {
        const std::string name(sim::tensor_name(t));
        if (x + h + 2 + ImGui::CalcTextSize(name.c_str()).x > right) break;
        dl->AddRectFilled(ImVec2(x, at.y + 2), ImVec2(x + h - 2, at.y + h), tensor_color(t));
        dl->AddText(ImVec2(x + h + 2, at.y), ImGui::GetColorU32(ImGuiCol_Text), name.c_str());
        x += h + 8 + ImGui::CalcTextSize(name.c_str()).x;
    }
    return x;
}

float draw_text_fit(ImDrawList* dl, ImFont* font, ImVec2 at, float max_w, ImU32 col,
                    const std::string& text) {
    ImFont* f = font != nullptr ? font : ImGui::GetFont();
    const float full = f->CalcTextSizeA(f->FontSize, FLT_MAX, 0, text.c_str()).x;
    if (full <= max_w) {
        dl->AddText(f, f->FontSize, at, col, text.c_str());
        return full;
    }
    const float size = f->FontSize * std::max(0.7F, max_w / std::max(1.0F, full));
    std::string t = text;
    // Cut a character at a time until it fits at the reduced size, then mark the cut.
    while (!t.empty() && f->CalcTextSizeA(size, FLT_MAX, 0, (t + "...").c_str()).x > max_w &&
           f->CalcTextSizeA(size, FLT_MAX, 0, t.c_str()).x > max_w)
        t.pop_back();
    if (t.size() < text.size()) {
        while (!t.empty() && f->CalcTextSizeA(size, FLT_MAX, 0, (t + "...").c_str()).x > max_w) t.pop_back();
        t += "...";
    }
    dl->AddText(f, size, at, col, t.c_str());
    return f->CalcTextSizeA(size, FLT_MAX, 0, t.c_str()).x;
}

void draw_dashed_rect(ImDrawList* dl, ImVec2 p0, ImVec2 p1, ImU32 col, float thickness) {
    constexpr float kDash = 6, kGap = 4;
    auto dashes = [&](ImVec2 a, ImVec2 b) {
        const float len = std::max(std::abs(b.x - a.x), std::abs(b.y - a.y));
        for (float t = 0; t < len; t += kDash + kGap) {
            const float e = std::min(len, t + kDash);
            dl->AddLine(lerp(a, b, t / len), lerp(a, b, e / len), col, thickness);
        }
    };
    dashes(p0, ImVec2(p1.x, p0.y));
    dashes(ImVec2(p1.x, p0.y), p1);
    dashes(p1, ImVec2(p0.x, p1.y));
    dashes(ImVec2(p0.x, p1.y), p0);
}

}  // namespace tilesim::viz
