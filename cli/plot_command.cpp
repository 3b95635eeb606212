#include "cli/plot_command.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>

#include "cli/output.h"
#include "plot/font.h"
#include "plot/raster.h"
#include "plot/svg.h"
#include "scenarios/plot_figures.h"
#include "scenarios/scenario.h"

namespace tilesim::cli {

namespace ts = tilesim::scenarios;

CLI::App* add_plot_command(CLI::App& app, PlotArgs& a) {
    auto* p = app.add_subcommand("plot",
                                 "Draw a figure for slides as SVG or PNG (io-vs-n, io-vs-block, io-vs-sram, "
                                 "roofline, timeline)");
    p->add_option("kind", a.kind, std::string("Figure: ") + ts::kPlotKinds)->required();
    p->add_option("scenario", a.scenario,
                  "Built-in scenario id (see `tilesim list`) or a .toml file; default: gpt2-medium");
    p->add_option("--set", a.sets, "Override a scenario key, e.g. --set head_dim=128 (repeatable)");
    p->add_option("--over", a.over,
                  "The io-vs-* sweep: key=v1,v2,... or key=lo..hi (powers of two), e.g. seq_len=128..65536");
    p->add_option("-o,--output", a.output, "FILE.svg or FILE.png (replaced atomically)")->required();
    p->add_option("--size", a.size, "Canvas size WIDTHxHEIGHT in px (default 1280x720, a 16:9 slide)");
    p->add_option("--scale", a.scale, "PNG pixels per canvas px, e.g. 2 for a 2560x1440 image (1..4)");
    return p;
}

namespace {

std::string extension_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    const auto dot = path.find_last_of('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {};
    std::string e = path.substr(dot + 1);
    std::transform(e.begin(), e.end(), e.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return e;
}

}  // namespace

void run_plot_command(const PlotArgs& a) {
    const auto kind = ts::parse_plot_kind(a.kind);
    if (!kind) {
        throw ts::ScenarioError("unknown plot kind '" + a.kind + "'; choose one of: " + ts::kPlotKinds);
    }
    const std::string ext = extension_of(a.output);
    if (ext != "svg" && ext != "png") {
        throw ts::ScenarioError("-o '" + a.output +
                                "': the file name must end in .svg or .png (the format follows it)");
    }
    ts::PlotOptions o;
    o.over = a.over;
    int w = 0, h = 0;
    char tail = 0;
    if (std::sscanf(a.size.c_str(), "%dx%d%c", &w, &h, &tail) != 2 || w < 320 || h < 240 || w > 7680 ||
        h > 4320) {
        throw ts::ScenarioError("--size '" + a.size +
                                "': expected WIDTHxHEIGHT from 320x240 to 7680x4320, e.g. 1280x720");
    }
    if (!(a.scale >= 1 && a.scale <= 4)) {
        throw ts::ScenarioError("--scale " + std::to_string(a.scale) +
                                ": expected 1 to 4 (PNG pixels per canvas px)");
    }
    o.width = w;
    o.height = h;
    ts::Scenario s = a.scenario.empty() ? ts::default_scenario() : ts::resolve_scenario(a.scenario);
    ts::apply_settings(s, a.sets);

    // The layout measures text with the font the PNG draws it in (and the SVG asks for); without the
    // font an SVG is still possible, measured by DejaVu Sans's average advance.
    std::string font_error;
    const plot::FontSet fonts = plot::find_fonts(&font_error);
    if (ext == "png" && !fonts.ok()) throw std::runtime_error(font_error);
    const plot::Canvas canvas = ts::make_plot(*kind, s, o, plot::text_measure(fonts));
    write_output(a.output, ext == "svg" ? plot::to_svg(canvas)
                                        : plot::encode_png(plot::rasterise(canvas, fonts, a.scale)));
}

}  // namespace tilesim::cli
