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

float draw_tensor_legend(ImDrawList* dl, ImVec2 at, const std::vector<sim::Tensor>& tensors) {
    float x = at.x;
    const float h = ImGui::GetTextLineHeight();
    for (sim::Tensor t : tensors) {
        dl->AddRectFilled(ImVec2(x, at.y + 2), ImVec2(x + h - 2, at.y + h), tensor_color(t));
        const std::string name(sim::tensor_name(t));
        dl->AddText(ImVec2(x + h + 2, at.y), ImGui::GetColorU32(ImGuiCol_Text), name.c_str());
        x += h + 8 + ImGui::CalcTextSize(name.c_str()).x;
    }
    return x;
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
