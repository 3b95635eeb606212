#pragma once
// The whole dashboard for one frame: places the panels (layout.h), routes keyboard shortcuts,
// writes CSV exports. Needs an ImGui context and a frame in progress, nothing else: the window,
// OpenGL and screenshots belong to gui_main.cpp, so tests drive App headless.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "viz/options.h"
#include "viz/panels.h"
#include "viz/session.h"

namespace tilesim::viz {

// Key codes of keys ImGui 1.86 has no name for. GLFW's values (the backend stores GLFW codes in
// io.KeysDown), written here so the panels need no GLFW header.
inline constexpr int kKeyF1 = 290;
inline constexpr int kKeyF12 = 301;

class App {
  public:
    // Loads the scenario, applies the --set overrides the way typing them would (a bad value shows
    // its message in the controls and is listed in refused()), and remembers where to put the play
    // head.
    explicit App(const Options& o, SessionOptions so = {});

    // Builds every window for this frame; call between ImGui::NewFrame() and ImGui::Render().
    // `dt`: wall seconds since the last frame (drives the animation when playing).
    void frame(float dt);

    Session& session() { return session_; }
    UiState& ui() { return ui_; }
    // Command-line requests that could not be applied (a --set value the key table refused, an
    // algorithm that does not run this scenario's passes): one line each, also shown in the window.
    const std::vector<std::string>& refused() const { return ui_.set_errors; }
    // True once a requested --step / --progress has been applied to a model result.
    bool placed() const { return !pending_step_ && !pending_progress_; }

    // The F1 window's rows: {keys, what they do}; the shortcuts do exactly these (a test checks).
    std::vector<std::pair<std::string, std::string>> help_rows() const;

    // Screenshot file name for the interactive button (timestamped, current directory).
    static std::string screenshot_name();

  private:
    void shortcuts();
    void exports();
    void help_window();
    void busy_overlay();
    void apply_pending_seek();

    Session session_;
    UiState ui_;
    std::optional<std::int64_t> pending_step_;
    std::optional<double> pending_progress_;
};

}  // namespace tilesim::viz
