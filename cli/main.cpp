// tilesim: the command-line front end. A thin consumer of the scenarios library: it parses flags,
// runs, and prints a table, JSON or CSV. Every error is one line on stderr and a non-zero exit.
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "cli/plot_command.h"
#include "cli/usage.h"
#include "kernels/registry.h"
#include "scenarios/limits.h"
#include "scenarios/precision_table.h"
#include "scenarios/report.h"
#include "scenarios/runner.h"
#include "scenarios/sweep.h"
#include "scenarios/trace_export.h"
#include "scenarios/work.h"

namespace ts = tilesim::scenarios;

namespace {

ts::Scenario load(const std::string& id_or_path, const std::vector<std::string>& sets) {
    ts::Scenario s = id_or_path.empty() ? ts::default_scenario() : ts::resolve_scenario(id_or_path);
    ts::apply_settings(s, sets);
    return s;
}

// A progress bar on stderr for long sweeps, only when stderr is a terminal and the work takes a while.
class Progress {
  public:
    void operator()(std::int64_t done, std::int64_t total) {
        if (!tty_) return;
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        if (elapsed < 0.3 && done < total) return;
        const int width = 30;
        const int filled = static_cast<int>(width * done / std::max<std::int64_t>(1, total));
        std::cerr << fmt::format("\r[{}{}] {}/{} points", std::string(filled, '#'),
                                 std::string(width - filled, '.'), done, total)
                  << (done == total ? "\n" : "") << std::flush;
        shown_ = true;
    }

    // A long single run: its events so far against the estimate (rough, so capped below 100%).
    void steps(std::int64_t done, std::int64_t estimated) {
        if (!tty_) return;
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        if (elapsed < 1.0 || elapsed < last_draw_ + 0.25) return;  // a few redraws a second
        last_draw_ = elapsed;
        const double ratio =
            static_cast<double>(done) / static_cast<double>(std::max<std::int64_t>(1, estimated));
        const double f = std::min(0.99, ratio);
        std::cerr << fmt::format("\rsimulating: {:.0f}% (estimated), {:.3g} events, {:.0f} s", 100 * f,
                                 static_cast<double>(done), elapsed)
                  << std::flush;
        shown_ = true;
    }
    // Clears a progress line still showing, before the results are printed.
    void finish() {
        if (shown_ && tty_) std::cerr << "\r\033[K" << std::flush;
        shown_ = false;
    }
    ~Progress() { finish(); }

  private:
    bool tty_ = isatty(STDERR_FILENO) != 0;
    bool shown_ = false;
    double last_draw_ = 0;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// One line on stderr: control characters from the input (a file name, a scenario name) are shown
// escaped, so an error cannot move the terminal's cursor or span lines.
void print_error(std::string_view msg) {
    std::string out = "error: ";
    for (const char ch : msg) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\n') {
            out += ' ';
        } else if (c < 0x20 || c == 0x7F) {
            out += fmt::format("\\x{:02X}", c);
        } else {
            out += ch;
        }
    }
    std::cerr << out << "\n";
}

// What a capped trace lost, for the report and the trace file: the cap and how to raise it.
std::string trace_note(const ts::AlgorithmRun& r) {
    return fmt::format(
        "the trace of {} {} stopped at its cap of {} events ({} more not recorded); raise the cap with "
        "--trace-cap N (up to {})",
        r.key(), tilesim::kernels::pass_name(r.pass()), r.trace->max_events(), r.trace->dropped_events(),
        ts::limits::kMaxTraceEvents);
}

}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{"tilesim: why FlashAttention is fast, counted byte by byte on a model of HBM and SRAM"};
    app.require_subcommand(1);

    std::string scenario, format = "table", output, trace_out, over, trace_format = "csv", din_granularity;
    std::vector<std::string> sets;
    bool numerics = false, allow_long = false;
    std::int64_t trace_cap = ts::RunControls{}.max_trace_events;
    const std::vector<std::string> formats = {"table", "json", "csv"};
    const char* scenario_help =
        "Built-in scenario id (see `tilesim list`) or a .toml file; default: gpt2-medium";

    auto* run = app.add_subcommand("run", "Run a scenario: standard vs FlashAttention, counts, time, errors");
    run->add_option("scenario", scenario, scenario_help);
    run->add_option("--set", sets, "Override a scenario key, e.g. --set seq_len=4096 (repeatable)");
    run->add_option("--format", format, "Output format")->check(CLI::IsMember(formats));
    run->add_option("-o,--output", output, "Write to this file instead of stdout (replaced atomically)");
    auto* trace_opt = run->add_option("--trace", trace_out,
                                      "Also write every algorithm's event trace (head 0) to this file");
    run->add_option("--trace-format", trace_format,
                    "Trace file format: csv (one table), perfetto (ui.perfetto.dev), "
                    "dinero (Dinero IV din address trace); see docs/exports.md")
        ->check(CLI::IsMember({"csv", "perfetto", "dinero"}))
        ->needs(trace_opt);
    run->add_option(
           "--din-granularity", din_granularity,
           "dinero: one access per `element` (default) or per aligned chunk of this many bytes (32, 128)")
        ->needs(trace_opt);
    run->add_option("--trace-cap", trace_cap,
                    "Events recorded per algorithm and pass in --trace (default 1000000)")
        ->check(CLI::Range(std::int64_t{1}, ts::limits::kMaxTraceEvents));
    const char* allow_help = "Run even when the estimated work is above the limit (10 minutes)";
    run->add_flag("--allow-long", allow_long, allow_help);

    auto* sweep = app.add_subcommand("sweep", "Sweep one key; fit log-log slopes of HBM traffic");
    sweep->add_option("scenario", scenario, scenario_help);
    sweep->add_option("--over", over, "key=v1,v2,... or key=lo..hi (powers of two), e.g. seq_len=128..65536")
        ->required();
    sweep->add_option("--set", sets, "Override a scenario key (repeatable)");
    sweep->add_option("--format", format, "Output format")->check(CLI::IsMember(formats));
    sweep->add_option("-o,--output", output, "Write to this file instead of stdout (replaced atomically)");
    sweep->add_flag("--numerics", numerics,
                    "Also compute O and check it at every point (slow); default count-only");
    sweep->add_flag("--allow-long", allow_long, allow_help);

    auto* precision = app.add_subcommand(
        "precision", "Error table of the storage formats and fp8 recipes (FlashAttention-3's Table 3), numerics on");
    precision->add_option("scenario", scenario, scenario_help);
    precision->add_option("--set", sets, "Override a scenario key (repeatable)");
    const std::vector<std::string> precision_formats = {"table", "json"};
    precision->add_option("--format", format, "Output format")->check(CLI::IsMember(precision_formats));
    precision->add_option("-o,--output", output, "Write to this file instead of stdout (replaced atomically)");
    tilesim::cli::PlotArgs plot_args;
    auto* plot = tilesim::cli::add_plot_command(app, plot_args);

    auto* list = app.add_subcommand("list", "List built-in scenarios, hardware presets and algorithms");
    auto* keys =
        app.add_subcommand("keys", "List scenario keys (TOML files, --set and --over use the same names)");

    if (const std::string unknown = tilesim::cli::unknown_subcommand(app, argc, argv); !unknown.empty()) {
        std::cerr << "error: " << unknown << " (run `tilesim --help`)\n";
        return tilesim::cli::kUsageError;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);  // --help: the usage text, exit 0
    } catch (const CLI::ParseError& e) {
        // CLI11's own message, as one line like every other error, with the way to the usage text;
        // every usage error exits 2.
        print_error(std::string(e.what()) + " (run `tilesim --help` or `tilesim SUBCOMMAND --help`)");
        return tilesim::cli::kUsageError;
    }
    // Two outputs to one file: the trace would silently replace the report. Refused before any work.
    if (!trace_out.empty()) {
        if (const std::string same = tilesim::cli::same_output(output, trace_out); !same.empty()) {
            print_error("-o and --trace name the same file (" + same + "); give --trace a path of its own");
            return tilesim::cli::kUsageError;
        }
    }

    try {
        if (list->parsed()) {
            std::string out = "scenarios:\n";
            for (const auto& b : ts::builtin_scenarios())
                out += fmt::format("  {:<18} {}\n", b.id, b.summary);
            out += "hardware presets:\n";
            for (const auto& h : tilesim::sim::hardware_presets())
                out += fmt::format("  {:<18} {}\n", h.name, h.description);
            out += "algorithms (key, pass: name: what it does):\n";
            std::size_t width = 9;  // the longest key ("flash-decoding") sets the column
            for (const auto* a : tilesim::kernels::definitions()) width = std::max(width, a->key.size());
            for (const auto* a : tilesim::kernels::definitions()) {
                out += fmt::format("  {:<{}} {:<9} {}: {}\n", a->key, width, tilesim::kernels::pass_name(a->pass),
                                   a->name, a->description);
            }
            tilesim::cli::write_output("", out);
            return 0;
        }
        if (keys->parsed()) {
            std::string out;
            for (const auto& k : ts::key_docs())
                out += fmt::format("  {:<17} {:<16} {}\n", k.key, k.type, k.doc);
            tilesim::cli::write_output("", out);
            return 0;
        }
        if (run->parsed()) {
            const auto trace_fmt = ts::parse_trace_format(trace_format).value_or(ts::TraceFormat::csv);
            if (!din_granularity.empty() && trace_fmt != ts::TraceFormat::dinero)
                throw ts::ScenarioError("--din-granularity applies to --trace-format dinero only");
            const ts::DinOptions din =
                ts::parse_din_granularity(din_granularity.empty() ? "element" : din_granularity);
            const ts::Scenario s = load(scenario, sets);
            ts::RunControls controls;
            controls.trace = !trace_out.empty();
            controls.max_trace_events = trace_cap;
            if (allow_long) controls.max_work_seconds = 0;
            Progress progress;
            controls.step_progress = [&progress](std::int64_t d, std::int64_t e) { progress.steps(d, e); };
            const ts::ScenarioResult result = ts::run_scenario(s, controls);
            progress.finish();
            // A tile that cannot fit is a status in the model, but for `run` it is bad input: say
            // what and how to fix it, write nothing.
            int misfits = 0;
            for (const auto& r : result.runs) {
                if (r.fit.ok) continue;
                print_error(std::string(r.key()) + " " + std::string(tilesim::kernels::pass_name(r.pass())) +
                            ": " + r.fit.reason + "; fix: " + r.fit.fix);
                ++misfits;
            }
            if (misfits > 0) return 2;
            // A trace that reached its cap says so in the trace file and in the report.
            std::vector<std::string> notes;
            nlohmann::json trace_json = nlohmann::json::array();
            std::string trace_head;
            if (!trace_out.empty()) {
                for (const auto& r : result.runs) {
                    if (!r.trace) continue;
                    if (r.trace->truncated()) {
                        notes.push_back(trace_note(r));
                        trace_head += "# truncated: " + notes.back() + "\n";
                    }
                    trace_json.push_back({{"algorithm", r.key()},
                                          {"pass", tilesim::kernels::pass_name(r.pass())},
                                          {"events", r.trace->events().size()},
                                          {"cap", r.trace->max_events()},
                                          {"dropped_events", r.trace->dropped_events()}});
                }
            }
            std::string text;
            if (format == "json") {
                nlohmann::json j = ts::to_json(result);
                if (!trace_out.empty()) j["trace"] = trace_json;
                text = j.dump(2) + "\n";
            } else if (format == "csv") {
                text = ts::to_csv(result);
                // A CSV row has no room for it.
                for (const auto& n : notes) std::cerr << "note: " << n << "\n";
            } else {
                text = ts::to_table(result);
                for (const auto& n : notes) text += "note: " + n + "\n";
            }
            // Built before anything is written. The CSV trace names its truncated runs above the
            // table; Perfetto's carries them in its metadata; dinero refuses a truncated trace.
            std::string trace_text;
            if (!trace_out.empty()) {
                trace_text = ts::export_trace(result, trace_fmt, din);
                if (trace_fmt == ts::TraceFormat::csv) trace_text = trace_head + trace_text;
            }
            // The report and the trace are committed together: a failing trace leaves no report.
            tilesim::cli::Outputs outputs;
            outputs.add(output, std::move(text));
            if (!trace_out.empty()) outputs.add(trace_out, std::move(trace_text));
            outputs.commit();
            return 0;
        }
        if (precision->parsed()) {
            const ts::Scenario s = load(scenario, sets);
            const ts::PrecisionTable t = ts::run_precision_table(s);
            tilesim::cli::write_output(output, format == "json" ? ts::to_json(t).dump(2) + "\n" : ts::to_table(t));
            return 0;
        }
        if (plot->parsed()) {
            tilesim::cli::run_plot_command(plot_args);
            return 0;
        }
        if (sweep->parsed()) {
            const ts::Scenario s = load(scenario, sets);
            auto [key, values] = ts::parse_over(over);
            Progress progress;
            ts::RunControls controls;
            controls.progress = [&progress](std::int64_t d, std::int64_t t) { progress(d, t); };
            if (allow_long) controls.max_work_seconds = 0;
            const ts::SweepResult result = ts::run_sweep(s, key, values, numerics, controls);
            std::string text = format == "json"  ? ts::to_json(result).dump(2) + "\n"
                               : format == "csv" ? ts::to_csv(result)
                                                 : ts::to_table(result);
            tilesim::cli::write_output(output, text);
            return 0;
        }
    } catch (const ts::ScenarioError& e) {
        print_error(e.what());
        return 2;
    } catch (const std::bad_alloc&) {
        print_error(
            "out of host memory; reduce seq_len, numerics_heads or --trace-cap, or set numerics=false");
        return 1;
    } catch (const std::exception& e) {
        print_error(e.what());
        return 1;
    }
    return 0;
}

int main(int argc, char** argv) {
    // Whatever escapes (an allocation failure while building the app, say) is still one line and a
    // non-zero exit, never an abort with a core dump.
    tilesim::cli::init_process_io();
    try {
        return run_cli(argc, argv);
    } catch (const std::exception& e) {
        print_error(e.what());
    } catch (...) {
        print_error("unexpected failure");
    }
    return 1;
}
