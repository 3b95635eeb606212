#pragma once
// What the GUI tests share: a headless ImGui context (no window; fonts and style at `scale`, the keys
// mapped to slots as a backend would map them), and a frame of the App drawn into it.
#include <imgui.h>
#include <imgui_internal.h>

#include "viz/app.h"
#include "viz/theme.h"

namespace tilesim::viz::test {

class HeadlessContext {
  public:
    explicit HeadlessContext(ImVec2 display = ImVec2(1600, 900), float scale = 1.0F) {
        ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.IniFilename = nullptr;
        io.DisplaySize = display;
        io.DeltaTime = 1.0F / 60.0F;
        for (int k = 0; k < ImGuiKey_COUNT; ++k) io.KeyMap[k] = 400 + k;
        load_fonts(scale);
        apply_style(scale);
        unsigned char* px = nullptr;
        int w = 0, h = 0;
        io.Fonts->GetTexDataAsRGBA32(&px, &w, &h);
    }
    ~HeadlessContext() { ImGui::DestroyContext(); }
    HeadlessContext(const HeadlessContext&) = delete;
    HeadlessContext& operator=(const HeadlessContext&) = delete;
};

inline void frame(App& app) {
    ImGui::NewFrame();
    app.frame(1.0F / 60.0F);
    ImGui::Render();
}

// Vertices a window drew this frame (0 when it does not exist).
inline int vertices(const char* window) {
    ImGuiWindow* w = ImGui::FindWindowByName(window);
    return w != nullptr && w->DrawList != nullptr ? w->DrawList->VtxBuffer.Size : 0;
}

}  // namespace tilesim::viz::test
