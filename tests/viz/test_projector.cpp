// Projector mode: at --scale 1, 1.5 and 2 on a 1920 x 1080 window, every panel's content fits its
// window. Checked from ImGui's own state after real frames (no pixels needed, so no X server):
// (Two views are not there yet at scale 2: docs/gui.md says which.)
//   - no dashboard window needs a scrollbar: its content size is within its inner rectangle;
//   - every vertex a window drew lies inside that window (text or a shape running past the edge is
//     cut off by the clip rectangle on screen, so a vertex outside it is something not seen);
//   - every vertex of a draw command lies inside the clip rectangle it was drawn under, up to a
//     few pixels (a label cut by its own box, e.g. a lane's clip rectangle, is a clipped label).
#include <catch2/catch.hpp>

#include <imgui.h>
#include <imgui_internal.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/viz/imgui_context.h"

using namespace tilesim;

namespace {

// What does not fit, one line each ("Controls: needs 240 px more height").
std::vector<std::string> overflows(float tolerance) {
    std::vector<std::string> out;
    char line[256];
    for (const char* name : {"Controls", "Main", "Timeline", "Counters", "Softmax"}) {
        ImGuiWindow* w = ImGui::FindWindowByName(name);
        if (w == nullptr || !w->Active) continue;
        const ImVec2 inner(w->InnerRect.GetWidth(), w->InnerRect.GetHeight());
        // ContentSize excludes the window padding; the inner rect includes it.
        const ImVec2 pad = w->WindowPadding;
        const float need_x = w->ContentSize.x + 2 * pad.x - inner.x,
                    need_y = w->ContentSize.y + 2 * pad.y - inner.y;
        if (need_x > tolerance || need_y > tolerance) {
            std::snprintf(line, sizeof line, "%s: content %.0f x %.0f in %.0f x %.0f (scroll max %.0f, %.0f)",
                          name, w->ContentSize.x, w->ContentSize.y, inner.x, inner.y, w->ScrollMax.x,
                          w->ScrollMax.y);
            out.emplace_back(line);
        }
        const ImRect r = w->Rect();
        const ImDrawList* dl = w->DrawList;
        int outside = 0, clipped = 0;
        ImRect first_out, first_clip;
        ImVec4 first_clip_rect;
        // Triangle by triangle; thin ones (lines: separators, outlines) are left out, since ImGui
        // draws a separator across the whole window and lets the clip rectangle end it.
        for (const ImDrawCmd& cmd : dl->CmdBuffer) {
            const ImVec4 c = cmd.ClipRect;
            for (unsigned e = 0; e + 2 < cmd.ElemCount; e += 3) {
                ImRect t(ImVec2(FLT_MAX, FLT_MAX), ImVec2(-FLT_MAX, -FLT_MAX));
                ImVec2 p[3];
                for (unsigned v = 0; v < 3; ++v) {
                    p[v] = dl->VtxBuffer[dl->IdxBuffer[static_cast<int>(cmd.IdxOffset + e + v)]].pos;
                    t.Add(p[v]);
                }
                // Thickness: twice the area over the longest side (a line's width, a glyph's height).
                const float area =
                    std::abs((p[1].x - p[0].x) * (p[2].y - p[0].y) - (p[2].x - p[0].x) * (p[1].y - p[0].y));
                float longest = 0;
                for (int v = 0; v < 3; ++v)
                    longest = std::max(
                        longest, ImLengthSqr(ImVec2(p[v].x - p[(v + 1) % 3].x, p[v].y - p[(v + 1) % 3].y)));
                if (longest <= 0 || area / std::sqrt(longest) <= 3.5F) continue;
                if (t.Min.x < r.Min.x - tolerance || t.Max.x > r.Max.x + tolerance ||
                    t.Min.y < r.Min.y - tolerance || t.Max.y > r.Max.y + tolerance) {
                    if (outside++ == 0) first_out = t;
                } else if (t.Min.x < c.x - tolerance || t.Max.x > c.z + tolerance ||
                           t.Min.y < c.y - tolerance || t.Max.y > c.w + tolerance) {
                    if (clipped++ == 0) {
                        first_clip = t;
                        first_clip_rect = c;
                    }
                }
            }
        }
        if (outside > 0) {
            std::snprintf(line, sizeof line,
                          "%s: %d triangles outside the window (first %.0f,%.0f-%.0f,%.0f)", name, outside,
                          first_out.Min.x, first_out.Min.y, first_out.Max.x, first_out.Max.y);
            out.emplace_back(line);
        }
        if (clipped > 0) {
            std::snprintf(line, sizeof line,
                          "%s: %d triangles clipped (first %.0f,%.0f-%.0f,%.0f by clip %.0f,%.0f-%.0f,%.0f)",
                          name, clipped, first_clip.Min.x, first_clip.Min.y, first_clip.Max.x,
                          first_clip.Max.y, first_clip_rect.x, first_clip_rect.y, first_clip_rect.z,
                          first_clip_rect.w);
            out.emplace_back(line);
        }
    }
    // Child windows inside them (the counters' table, the plots' regions): none may need to scroll.
    for (ImGuiWindow* w : GImGui->Windows) {
        if (!w->Active || (w->Flags & ImGuiWindowFlags_ChildWindow) == 0) continue;
        if (w->ScrollMax.x > tolerance || w->ScrollMax.y > tolerance) {
            std::snprintf(line, sizeof line, "%s: scrolls (%.0f, %.0f)", w->Name, w->ScrollMax.x,
                          w->ScrollMax.y);
            out.emplace_back(line);
        }
    }
    return out;
}

}  // namespace

TEST_CASE(
    "projector mode: every panel fits at scales 1, 1.25, 1.5 and 2 on 1920 x 1080",
    "[projector]") {
    struct Case {
        const char* panel;
        std::vector<std::string> args;
        bool at_2;  // also checked at scale 2 (all are now)
    };
    const std::vector<Case> cases = {
        {"memory", {"classroom", "--algorithm", "flash", "--rival", "standard", "--progress", "0.4"}, true},
        {"memory",
         {"classroom", "--set", "pass=forward+backward", "--algorithm", "flash2", "--progress", "0.8"},
         true},
        {"plots", {"classroom", "--panel", "plots"}, true},
        {"softmax", {"classroom", "--algorithm", "flash2", "--panel", "softmax", "--progress", "0.6"}, true},
        {"threads", {"classroom", "--algorithm", "flash2", "--panel", "threads", "--progress", "0.3"}, true},
        {"threads",
         {"gpt2-medium", "--algorithm", "flash2", "--panel", "threads", "--progress", "0.3"},
         true},
        {"timeline",
         {"gpt2-medium", "--set", "hardware=H100-SXM", "--set", "schedule=pingpong", "--algorithm", "flash2",
          "--panel", "timeline"},
         true},
        {"roofline", {"gpt2-medium", "--set", "hardware=H100-SXM", "--panel", "roofline"}, true},
    };
    // Every panel at 1, 1.25, 1.5 and 2 (at 2 the threads view and a forward+backward counters table
    // take the small font: threads_panel.cpp, counters_panel.cpp).
    for (float scale : {1.0F, 1.25F, 1.5F, 2.0F}) {
        for (const auto& c : cases) {
            if (scale == 2.0F && !c.at_2) continue;
            viz::test::HeadlessContext ctx(ImVec2(1920, 1080), scale);
            const auto parsed = viz::parse_options(c.args);
            REQUIRE(parsed.error.empty());
            viz::App app(parsed.options);
            REQUIRE(app.session().wait_idle(120));
            for (int i = 0; i < 4; ++i) {
                ImGui::NewFrame();
                app.frame(0.0F);
                ImGui::Render();
            }
            std::string all;
            for (const auto& a : c.args) all += a + " ";
            CAPTURE(scale, all);
            const auto bad = overflows(2.0F);
            for (const auto& b : bad) UNSCOPED_INFO(b);
            CHECK(bad.empty());
        }
    }
}
