#include "viz/options.h"

#include <algorithm>
#include <charconv>
#include <filesystem>

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
// A known key with a bad value is the GUI's business: it shows the message inline, as if typed.
std::string check_assignment(const std::string& a) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) return "--set needs key=value, got '" + a + "'";
    const std::string key = a.substr(0, eq);
    for (const auto& k : scenarios::key_docs()) {
        if (k.key == key) return {};
    }
    try {
        scenarios::Scenario probe;
        scenarios::apply_setting(probe, key, a.substr(eq + 1));
    } catch (const std::exception& e) {
        return std::string("--set: ") + e.what();
    }
    return "--set: unknown key '" + key + "'";
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
           "  --panel NAME           main view: memory, plots or softmax\n"
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

ParsedOptions parse_options(const std::vector<std::string>& args) {
    ParsedOptions r;
    Options& o = r.options;
    bool have_scenario = false;
    auto fail = [&](std::string msg) {
        r.error = std::move(msg);
        return r;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= args.size()) return false;
            out = args[++i];
            return true;
        };
        std::string v;
        if (a == "-h" || a == "--help") {
            o.help = true;
        } else if (a == "--bench") {
            o.bench = true;
        } else if (a == "--numerics") {
            o.numerics = true;
        } else if (a == "--palette") {
            o.palette = true;
        } else if (a == "--screenshot" || a == "--frames" || a == "--set" || a == "--algorithm" ||
                   a == "--rival" || a == "--step" || a == "--progress" || a == "--panel" || a == "--size" ||
                   a == "--scale" || a == "--watch-block" || a == "--side") {
            if (!value(v)) return fail("option " + a + " needs a value (see --help)");
            if (a == "--screenshot") {
                if (v.size() < 5 || v.substr(v.size() - 4) != ".png")
                    return fail("--screenshot: '" + v + "' must end in .png");
                const auto dir = std::filesystem::path(v).parent_path();
                std::error_code ec;
                if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
                    return fail("--screenshot: directory '" + dir.string() + "' does not exist");
                }
                o.screenshot = v;
            } else if (a == "--frames") {
                if (!parse_number(v, o.frames) || o.frames < 1 || o.frames > 10000) {
                    return fail("--frames: '" + v + "' is not a frame count from 1 to 10000");
                }
            } else if (a == "--set") {
                const std::string err = check_assignment(v);
                if (!err.empty()) return fail(err);
                o.sets.push_back(v);
            } else if (a == "--algorithm") {
                if (!kernels::find_algorithm(v)) {
                    return fail("--algorithm: unknown '" + v + "'; choose one of " +
                                kernels::algorithm_keys());
                }
                o.algorithm = v;
            } else if (a == "--rival") {
                if (v != "none" && !kernels::find_algorithm(v)) {
                    return fail("--rival: unknown '" + v + "'; choose none or one of " +
                                kernels::algorithm_keys());
                }
                o.rival = v;
            } else if (a == "--step") {
                std::int64_t k = 0;
                if (!parse_number(v, k) || k < 1)
                    return fail("--step: '" + v + "' is not a step number (1, 2, ...)");
                o.step = k;
            } else if (a == "--progress") {
                double f = 0;
                if (!parse_number(v, f) || !(f >= 0.0 && f <= 1.0)) {
                    return fail("--progress: '" + v + "' is not a fraction from 0 to 1");
                }
                o.progress = f;
            } else if (a == "--panel") {
                if (v != "memory" && v != "plots" && v != "softmax") {
                    return fail("--panel: unknown '" + v + "'; choose memory, plots or softmax");
                }
                o.panel = v;
            } else if (a == "--side") {
                if (v != "sram" && v != "block")
                    return fail("--side: unknown '" + v + "'; choose sram or block");
                o.side = v;
            } else if (a == "--watch-block") {
                if (!parse_number(v, *(o.watch_block = 0)) || *o.watch_block < 0) {
                    return fail("--watch-block: '" + v + "' is not a block index (0, 1, ...)");
                }
            } else if (a == "--size") {
                const auto x = v.find('x');
                if (x == std::string::npos || !parse_number(v.substr(0, x), o.width) ||
                    !parse_number(v.substr(x + 1), o.height) || o.width < 640 || o.height < 400 ||
                    o.width > 7680 || o.height > 4320) {
                    return fail("--size: '" + v + "' is not WIDTHxHEIGHT from 640x400 to 7680x4320");
                }
            } else if (a == "--scale") {
                if (!parse_number(v, o.scale) || !(o.scale >= 0.5F && o.scale <= 4.0F)) {
                    return fail("--scale: '" + v + "' is not a factor from 0.5 to 4");
                }
            }
        } else if (!a.empty() && a[0] == '-') {
            return fail("unknown option '" + a + "' (see --help)");
        } else {
            if (have_scenario) return fail("one scenario only: got '" + o.scenario + "' and '" + a + "'");
            o.scenario = a;
            have_scenario = true;
        }
    }
    if (o.step && o.progress) return fail("--step and --progress both place the play head: give one");
    return r;
}

}  // namespace tilesim::viz
