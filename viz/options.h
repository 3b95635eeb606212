#pragma once
// tilesim-gui's command line. Parsing is separate from main() so that tests can check every bad
// flag gets one clear line.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tilesim::viz {

struct Options {
    std::string scenario = "classroom";    // built-in id or a .toml path
    std::string screenshot;                // non-empty: render headless, save this PNG, exit
    int frames = 3;                        // frames rendered before the capture
    std::vector<std::string> sets;         // "key=value", applied in order like the CLI's --set
    std::optional<std::string> algorithm;  // the watched algorithm (registry key)
    std::optional<std::string> rival;      // the one it races ("none" for a single lane)
    std::optional<std::int64_t> step;      // play head on this event of the watched algorithm (1-based)
    std::optional<double> progress;        // ... or at this fraction of the whole animation
    std::string panel = "memory";          // memory | plots | softmax | threads | timeline | roofline
    std::string side = "sram";             // the second plot: sram | block
    std::optional<int> watch_block;        // Q block of the online-softmax panel
    int width = 1600;
    int height = 900;
    float scale = 1.0F;     // fonts and widgets, for a projector
    bool numerics = false;  // compute O even above N = 256
    bool palette = false;   // screenshot with a 256-colour palette (the docs' images)
    bool bench = false;     // print frame time and update latency, then exit
    bool help = false;
};

struct ParsedOptions {
    Options options;
    std::string error;  // one line; empty when parsing succeeded
};

ParsedOptions parse_options(const std::vector<std::string>& args);  // args without argv[0]
std::string usage();

}  // namespace tilesim::viz
