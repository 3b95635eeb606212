#pragma once
// The panels. Each draws the body of one dashboard window (the App places the windows; see
// layout.h) and lives in its own file. They read the Session and change it only through its
// methods, so everything they do is also reachable from tests without a window.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "viz/session.h"

namespace tilesim::viz {

enum class MainTab { memory, plots, softmax, threads, timeline, roofline };

// A thread block picked in the threads view (hovered this frame, or clicked), shared with the
// memory view, which outlines the tiles it moves. `phase` is its pass in the watched lane's trace.
struct ThreadPick {
    std::int32_t phase = -1;
    std::int64_t unit = 0;    // (batch, head) unit
    std::int64_t block = -1;  // block id within the unit's pass; -1: none
};

// UI state that is not the model's: which tab is open, text being typed, the status line.
struct UiState {
    MainTab tab = MainTab::memory;
    bool select_tab = true;  // force the tab bar to `tab` on the next frame (keys, --panel)
    bool show_help = false;
    std::string status;  // one line at the bottom of the controls ("Saved tilesim.png")
    bool status_is_error = false;
    bool want_screenshot = false;             // the main loop saves the next frame
    bool want_sweep_csv = false;              // export the N sweep (true) ...
    bool want_side_csv = false;               // ... or the SRAM / block-size sweep
    std::map<std::string, std::string> edit;  // text being typed per key, until applied
    std::string toml_path;
    // Command-line requests that could not be applied ("--set hardware=nope: ..."), one line each.
    std::vector<std::string> set_errors;
    bool counters_in_elements = false;  // the counters table's unit: bytes (false) or elements
    ThreadPick thread_hover;            // reset every frame by the threads view
    ThreadPick thread_selected;         // kept until another block is clicked
    // Heights the right column's panels needed last frame: the App splits the column by them, so the
    // counters never scroll at a projector's scale (the online softmax shows fewer rows instead).
    float counters_need = 0;
};

void draw_controls_panel(Session& s, UiState& ui);
void draw_memory_panel(Session& s, UiState& ui);
void draw_counters_panel(Session& s, UiState& ui);
void draw_softmax_panel(Session& s, bool large);
// For a deferred online softmax (FlashAttention-2): the first event after `after` (the block's last
// update) that touches O_i of rows [r0, r0 + rows) again, the division by l_i or the store; from it
// on the softmax panel calls O_i final. -1 when the trace has none.
std::int64_t deferred_division_step(const sim::Trace& trace, std::int64_t after, std::int64_t r0,
                                    std::int64_t rows);
void draw_plots_panel(Session& s, UiState& ui);
void draw_timeline_panel(Session& s, UiState& ui);
void draw_schedule_view(Session& s, UiState& ui);  // the scheduled timeline's agents (schedule_view.cpp)
void draw_roofline_view(Session& s, UiState& ui);  // roofline_view.cpp
void draw_threads_panel(Session& s, UiState& ui);

}  // namespace tilesim::viz
