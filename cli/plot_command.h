#pragma once
// `tilesim plot KIND [SCENARIO] [--set ...] [--over ...] -o FILE.svg|FILE.png`: the figures of
// scenarios/plot_figures.h, written as SVG or PNG (atomically, through write_output).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace tilesim::cli {

struct PlotArgs {
    std::string kind, scenario, output, over, size = "1280x720";
    std::vector<std::string> sets;
    double scale = 1;
};

CLI::App* add_plot_command(CLI::App& app, PlotArgs& args);

// Makes and writes the figure. Bad input: scenarios::ScenarioError (a usage error, exit 2); a missing
// font for PNG text or an unwritable file: std::runtime_error (exit 1).
void run_plot_command(const PlotArgs& args);

}  // namespace tilesim::cli
