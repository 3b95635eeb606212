// tilesim-gui: the window, the OpenGL context and the main loop (GLFW + OpenGL 3 + Dear ImGui 1.86,
// following the shape of ImGui's example_glfw_opengl3). Everything drawn comes from App; this file
// adds what needs a real framebuffer: screenshots (glReadPixels + stb_image_write), the headless
// --screenshot mode and the --bench measurements.
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "scenarios/scenario.h"
#include "viz/app.h"
#include "viz/export.h"
#include "viz/theme.h"

namespace {

using tilesim::viz::App;
using Clock = std::chrono::steady_clock;

std::string g_glfw_error;

void on_glfw_error(int code, const char* what) {
    g_glfw_error = std::to_string(code) + ": " + what;
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Window {
    GLFWwindow* handle = nullptr;
    ~Window() {
        if (handle != nullptr) {
            ImGui_ImplOpenGL3_Shutdown();
            ImGui_ImplGlfw_Shutdown();
            ImGui::DestroyContext();
            glfwDestroyWindow(handle);
        }
        glfwTerminate();
    }
};

// One frame: build the UI, render it. Returns the milliseconds it took, GPU work included
// (glFinish), so the figure is the real cost of a frame and not just the CPU's share; `ui_ms` gets
// the part spent building the UI (App::frame and ImGui::Render, no OpenGL).
double render_frame(Window& w, App& app, float dt, bool finish, double* ui_ms = nullptr) {
    const auto t0 = Clock::now();
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    app.frame(dt);
    ImGui::Render();
    if (ui_ms != nullptr) *ui_ms = ms_since(t0);
    int fw = 0, fh = 0;
    glfwGetFramebufferSize(w.handle, &fw, &fh);
    glViewport(0, 0, fw, fh);
    glClearColor(0.06F, 0.07F, 0.08F, 1.0F);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    if (finish) glFinish();
    return ms_since(t0);
}

// Reads the back buffer (what was just rendered) and writes it as PNG, atomically.
std::string save_screenshot(Window& w, const std::string& path, bool palette = false) {
    int fw = 0, fh = 0;
    glfwGetFramebufferSize(w.handle, &fw, &fh);
    std::vector<std::uint8_t> px(static_cast<std::size_t>(fw) * static_cast<std::size_t>(fh) * 4);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadBuffer(GL_BACK);
    glReadPixels(0, 0, fw, fh, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
    if (glGetError() != GL_NO_ERROR) return "glReadPixels failed";
    tilesim::viz::flip_rows(px, fw, fh);
    return tilesim::viz::write_png_atomic(path, fw, fh, px, palette);
}

// Renders until the model has answered and the requested state is in place, then a few frames
// more so ImGui's layout (tab switches, auto-sized tables) has settled.
bool settle(Window& w, App& app, int frames) {
    for (int guard = 0; guard < 50; ++guard) {
        if (!app.session().wait_idle(120.0)) return false;
        render_frame(w, app, 0.0F, false);
        if (!app.session().busy() && app.placed()) break;
    }
    for (int i = 0; i < frames; ++i) render_frame(w, app, 0.0F, false);
    return true;
}

struct Stats {
    double mean = 0, p50 = 0, p95 = 0, max = 0;
};
Stats stats(std::vector<double> v) {
    Stats s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    for (double x : v) s.mean += x;
    s.mean /= static_cast<double>(v.size());
    s.p50 = v[v.size() / 2];
    s.p95 = v[std::min(v.size() - 1, v.size() * 95 / 100)];
    s.max = v.back();
    return s;
}

// --bench: frame time while animating, and the latency from a parameter change to the first frame
// that shows the new result in every view.
int run_bench(Window& w, App& app, const tilesim::viz::Options& o) {
    const auto* renderer = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
    std::printf("tilesim-gui --bench: window %dx%d, OpenGL renderer %s\n", o.width, o.height,
                renderer != nullptr ? renderer : "?");
    std::printf("  frame = build the UI + draw it + glFinish; 'ui' = building the UI alone (CPU)\n");
    auto animate = [&](const char* what, tilesim::viz::MainTab tab) {
        app.ui().tab = tab;
        app.ui().select_tab = true;
        settle(w, app, 3);
        auto& pb = app.session().playback();
        pb.to_start();
        pb.set_speed(30);
        pb.set_playing(true);
        std::vector<double> ms, ui;
        for (int i = 0; i < 600; ++i) {
            double u = 0;
            ms.push_back(render_frame(w, app, 1.0F / 60.0F, true, &u));
            ui.push_back(u);
            glfwSwapBuffers(w.handle);
            if (!pb.playing()) pb.set_playing(true);  // loop the animation
        }
        const Stats s = stats(ms), u = stats(ui);
        std::printf(
            "  frame, %-40s mean %6.2f ms  p50 %6.2f  p95 %6.2f  max %6.2f | ui mean %5.2f p95 %5.2f ms\n",
            what, s.mean, s.p50, s.p95, s.max, u.mean, u.p95);
    };
    animate("classroom, memory view, 2 lanes playing", tilesim::viz::MainTab::memory);
    animate("classroom, plots", tilesim::viz::MainTab::plots);
    animate("classroom, online softmax", tilesim::viz::MainTab::softmax);
    animate("classroom, timeline view (agents)", tilesim::viz::MainTab::timeline);
    animate("classroom, roofline view", tilesim::viz::MainTab::roofline);

    // Latency of one edit: 'data' when the model run and both sweeps have answered (off the UI
    // thread), 'on screen' when the first frame drawing all of them has been rendered.
    auto change = [&](const std::string& key, const std::string& value) {
        const auto t0 = Clock::now();
        app.session().set_value(key, value);
        double worst_frame = 0, worst_ui = 0, data_ms = 0;
        int frames = 0;
        // Frames at 60 Hz, as vsync paces them in the window, so the model's threads get the CPU
        // time between frames that they get in real use.
        auto frame = [&] {
            const auto f0 = Clock::now();
            double ui = 0;
            worst_frame = std::max(worst_frame, render_frame(w, app, 1.0F / 60.0F, true, &ui));
            worst_ui = std::max(worst_ui, ui);
            glfwSwapBuffers(w.handle);
            const double left = 1000.0 / 60.0 - ms_since(f0);
            if (left > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(left));
        };
        while (app.session().busy() || frames == 0) {
            frame();
            ++frames;
        }
        frame();
        data_ms = app.session().last_update_latency() * 1000.0;  // set by the frame that took the results
        const double latency = ms_since(t0);
        std::printf(
            "  update, %-10s = %-8s data %7.1f ms, on screen %7.1f ms (%3d frames meanwhile, slowest %5.1f "
            "ms,"
            " ui %4.1f ms)\n",
            key.c_str(), value.c_str(), data_ms, latency, frames + 1, worst_frame, worst_ui);
    };
    app.ui().tab = tilesim::viz::MainTab::memory;
    app.ui().select_tab = true;
    change("head_dim", "8");
    change("block_cols", "2");
    change("head_dim", "4");
    change("block_cols", "0");
    app.session().load_scenario("gpt2-medium");
    settle(w, app, 3);
    animate("gpt2-medium N = 1024, memory view", tilesim::viz::MainTab::memory);
    for (const char* n : {"256", "512", "1024", "2048", "4096"}) change("seq_len", n);
    change("sram_bytes", "98304");
    change("hardware", "H100-SXM");
    std::printf("  beyond N = 4096 the model runs off the UI thread; frames keep coming while it works:\n");
    for (const char* n : {"16384", "65536"}) change("seq_len", n);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const auto parsed = tilesim::viz::parse_options(std::vector<std::string>(argv + 1, argv + argc));
    if (!parsed.error.empty()) {
        std::fprintf(stderr, "tilesim-gui: error: %s\n", parsed.error.c_str());
        return 2;
    }
    const auto& opt = parsed.options;
    if (opt.help) {
        std::fputs(tilesim::viz::usage().c_str(), stdout);
        return 0;
    }
    try {
        tilesim::scenarios::validate(tilesim::scenarios::resolve_scenario(opt.scenario));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tilesim-gui: error: %s\n", e.what());
        return 2;
    }

    glfwSetErrorCallback(on_glfw_error);
    Window w;
    if (glfwInit() == GLFW_FALSE) {
        std::fprintf(stderr, "tilesim-gui: cannot open a display (%s); headless, run it under xvfb-run -a\n",
                     g_glfw_error.c_str());
        return 1;
    }
    const bool headless = !opt.screenshot.empty() || opt.bench;
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    if (headless) glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
    w.handle =
        glfwCreateWindow(opt.width, opt.height, "tilesim: why FlashAttention is fast", nullptr, nullptr);
    if (w.handle == nullptr) {
        std::fprintf(stderr, "tilesim-gui: cannot create an OpenGL 3 window (%s)\n", g_glfw_error.c_str());
        glfwTerminate();
        return 1;
    }
    glfwMakeContextCurrent(w.handle);
    glfwSwapInterval(opt.bench ? 0 : 1);  // vsync caps the animation at the display's rate

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGui::GetIO().IniFilename = nullptr;  // the layout is fixed; nothing to remember
    tilesim::viz::load_fonts(opt.scale);
    tilesim::viz::apply_style(opt.scale);
    ImGui_ImplGlfw_InitForOpenGL(w.handle, true);
    ImGui_ImplOpenGL3_Init("#version 130");

    App app(opt);
    // A --set value the key table refused is said on stderr as well as in the window; a run without
    // a person to read the window (a screenshot, the bench) then fails, so a script notices.
    for (const auto& r : app.refused()) std::fprintf(stderr, "tilesim-gui: error: %s\n", r.c_str());
    const int refused = app.refused().empty() ? 0 : 2;
    if (opt.bench) return refused != 0 ? refused : run_bench(w, app, opt);

    if (!opt.screenshot.empty()) {
        if (!settle(w, app, opt.frames)) {
            std::fprintf(stderr,
                         "tilesim-gui: the model did not finish within 120 s; no screenshot written\n");
            return 1;
        }
        // The picture is still written: it shows the refused value where the person would see it.
        const std::string err = save_screenshot(w, opt.screenshot, opt.palette);
        if (!err.empty()) {
            std::fprintf(stderr, "tilesim-gui: %s\n", err.c_str());
            return 1;
        }
        return refused;
    }

    auto last = Clock::now();
    while (glfwWindowShouldClose(w.handle) == GLFW_FALSE) {
        // Sleep while nothing moves (a laptop on battery in a lecture), poll while animating.
        if (app.session().playback().playing() || app.session().busy()) {
            glfwPollEvents();
        } else {
            glfwWaitEventsTimeout(0.25);
        }
        const auto now = Clock::now();
        const float dt = std::min(0.1F, std::chrono::duration<float>(now - last).count());
        last = now;
        render_frame(w, app, dt, false);
        if (app.ui().want_screenshot) {
            app.ui().want_screenshot = false;
            const std::string name = App::screenshot_name();
            const std::string err = save_screenshot(w, name);
            app.ui().status = err.empty() ? "saved " + name : err;
            app.ui().status_is_error = !err.empty();
        }
        glfwSwapBuffers(w.handle);
    }
    return 0;
}
