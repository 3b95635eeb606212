#include "viz/options.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>

#include "kernels/registry.h"
#include "scenarios/scenario.h"

namespace tilesim::viz {

namespace {

template <class T>
bool parse_number(const std::string& text, T& out) {
    const char* b = text.data();
    const char* e = b + text.size();
    const auto r = std::from_chars(b, e, out);
    return r.ec == std::errc{} && r.ptr == e;
}

// A --set assignment whose key is not in the table is a typo in the command line: an error now.
// A known key with a bad value is checked against the rest of the scenario when the App applies it:
// shown in the window as if typed, reported on stderr, and fatal for a headless run (gui_main.cpp).
std::string check_assignment(const std::string& a) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) return "needs key=value, got '" + a + "'";
    const std::string key = a.substr(0, eq);
    for (const auto& k : scenarios::key_docs()) {
        if (k.key == key) return {};
    }
    try {
        scenarios::Scenario probe;
        scenarios::apply_setting(probe, key, a.substr(eq + 1));
    } catch (const std::exception& e) {
        return e.what();
    }
    return "unknown key '" + key + "'";
}

}  // namespace

std::string usage() {
    return "usage: tilesim-gui [SCENARIO] [options]\n"
           "  SCENARIO               built-in id (classroom, classroom-ragged, gpt2-medium, ...) or a .toml "
           "file\n"
           "  --set KEY=VALUE        override a scenario key, as `tilesim run --set` (repeatable)\n"
           "  --algorithm KEY        the algorithm to watch: " +
           kernels::algorithm_keys() +
           "\n"
           "  --rival KEY|none       the algorithm it races (default: standard, or flash when watching "
           "standard)\n"
           "  --panel NAME           main view: memory, plots, softmax, threads, timeline or roofline\n"
           "  --side sram|block      the second plot: traffic against SRAM size or K/V block size\n"
           "  --watch-block I        Q block shown in the online-softmax panel\n"
           "  --numerics             compute O (and the online-softmax numbers) even above N = 256\n"
           "  --step K | --progress F  put the play head on step K of the watched algorithm (1-based),\n"
           "                         or at fraction F (0..1) of the whole animation\n"
           "  --screenshot FILE.png  render without a person, save the window as PNG and exit\n"
           "  --frames N             frames to render before the screenshot (default 3)\n"
           "  --palette              write the screenshot with a 256-colour palette (half the bytes)\n"
           "  --size WxH             window size (default 1600x900)\n"
           "  --scale S              enlarge text and widgets (projectors; default 1)\n"
           "  --bench                measure frame time and update latency, print them, exit\n"
           "  -h, --help             this text\n";
}

namespace {

// A CLI11 check from a function that reads the option's text (into Options, as it goes) and returns
// "" or what is wrong; CLI11 reports it as one line, "--frames: 'abc' is not ...".
CLI::Validator check(const char* what, std::function<std::string(const std::string&)> f) {
    return CLI::Validator([f = std::move(f)](std::string& v) { return f(v); }, what);
}

void add_value_options(CLI::App& app, Options& o) {
    app.add_option("--screenshot", o.screenshot)
        ->check(check("FILE.png", [](const std::string& v) -> std::string {
            if (v.size() < 5 || v.substr(v.size() - 4) != ".png") return "'" + v + "' must end in .png";
            const auto dir = std::filesystem::path(v).parent_path();
            std::error_code ec;
            if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
                return "directory '" + dir.string() + "' does not exist";
            return {};
        }));
    app.add_option("--frames")->check(check("N", [&o](const std::string& v) -> std::string {
        if (!parse_number(v, o.frames) || o.frames < 1 || o.frames > 10000)
            return "'" + v + "' is not a frame count from 1 to 10000";
        return {};
    }));
    // One assignment per --set (repeatable), so "--set a=1 scenario" leaves the scenario alone.
    app.add_option("--set", o.sets)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->check(check("KEY=VALUE", check_assignment));
    app.add_option("--algorithm", o.algorithm)->check(check("KEY", [](const std::string& v) -> std::string {
        if (kernels::is_algorithm_key(v)) return {};
        return "unknown '" + v + "'; choose one of " + kernels::algorithm_keys();
    }));
    app.add_option("--rival", o.rival)->check(check("KEY|none", [](const std::string& v) -> std::string {
        if (v == "none" || kernels::is_algorithm_key(v)) return {};
        return "unknown '" + v + "'; choose none or one of " + kernels::algorithm_keys();
    }));
    app.add_option("--step")->check(check("K", [&o](const std::string& v) -> std::string {
        std::int64_t k = 0;
        if (!parse_number(v, k) || k < 1) return "'" + v + "' is not a step number (1, 2, ...)";
        o.step = k;
        return {};
    }));
    app.add_option("--progress")->check(check("F", [&o](const std::string& v) -> std::string {
        double f = 0;
        if (!parse_number(v, f) || !(f >= 0.0 && f <= 1.0))
            return "'" + v + "' is not a fraction from 0 to 1";
        o.progress = f;
        return {};
    }));
    app.add_option("--panel", o.panel)->check(check("NAME", [](const std::string& v) -> std::string {
        if (v == "memory" || v == "plots" || v == "softmax" || v == "threads") return {};
        if (v == "timeline" || v == "roofline") return {};
        return "unknown '" + v + "'; choose memory, plots, softmax, threads, timeline or roofline";
    }));
    app.add_option("--side", o.side)->check(check("sram|block", [](const std::string& v) -> std::string {
        return v == "sram" || v == "block" ? "" : "unknown '" + v + "'; choose sram or block";
    }));
    app.add_option("--watch-block")->check(check("I", [&o](const std::string& v) -> std::string {
        int i = 0;
        if (!parse_number(v, i) || i < 0) return "'" + v + "' is not a block index (0, 1, ...)";
        o.watch_block = i;
        return {};
    }));
    app.add_option("--size")->check(check("WxH", [&o](const std::string& v) -> std::string {
        const auto x = v.find('x');
        if (x == std::string::npos || !parse_number(v.substr(0, x), o.width) ||
            !parse_number(v.substr(x + 1), o.height) || o.width < 640 || o.height < 400 || o.width > 7680 ||
            o.height > 4320) {
            return "'" + v + "' is not WIDTHxHEIGHT from 640x400 to 7680x4320";
        }
        return {};
    }));
    app.add_option("--scale")->check(check("S", [&o](const std::string& v) -> std::string {
        if (!parse_number(v, o.scale) || !(o.scale >= 0.5F && o.scale <= 4.0F))
            return "'" + v + "' is not a factor from 0.5 to 4";
        return {};
    }));
}

// CLI11's message as one line, reworded where ours said more ("needs a value").
std::string one_line(const CLI::ParseError& e) {
    std::string msg = e.what();
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr &&
        msg.find("missing") != std::string::npos) {
        msg = "option " + msg.substr(0, msg.find(':')) + " needs a value";
    }
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    return msg + " (see --help)";
}

}  // namespace

ParsedOptions parse_options(const std::vector<std::string>& args) {
    ParsedOptions r;
    Options& o = r.options;
    CLI::App app{"tilesim-gui"};
    app.set_help_flag();  // -h and --help print usage() (main), not CLI11's own text
    // As the old hand-written parser did: a repeated option means its last value.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_flag("-h,--help", o.help);
    app.add_flag("--bench", o.bench);
    app.add_flag("--numerics", o.numerics);
    app.add_flag("--palette", o.palette);
    std::vector<std::string> scenario;
    app.add_option("scenario", scenario)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    add_value_options(app, o);
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last-first
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        r.error = one_line(e);
        return r;
    }
    if (scenario.size() > 1) {
        r.error = "one scenario only: got '" + scenario[0] + "' and '" + scenario[1] + "'";
    } else if (scenario.size() == 1) {
        o.scenario = scenario[0];
    }
    if (r.error.empty() && o.step && o.progress)
        r.error = "--step and --progress both place the play head: give one";
    return r;
}

}  // namespace tilesim::viz
