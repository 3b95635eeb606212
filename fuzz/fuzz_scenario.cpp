// The fuzz target: scenario parsing (TOML), mask-file parsing (FlexAttention BlockMask JSON) and a
// bounded run of whatever parses, with its reports. Bad input must end in a ScenarioError, the one
// clean way a scenario is refused; anything else (a crash, a sanitizer report, another exception, a
// run that does not stop) is a bug.
//
// Input: TOML text, or, when it starts with '{', the JSON of a mask file (then run on a classroom
// problem of the mask's sizes). Built with libFuzzer (cmake/fuzz.cmake, scripts/fuzz.sh) and, for the
// regressions and the seed corpus, as a plain program that replays files (fuzz/replay_main.cpp).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "scenarios/keys_internal.h"
#include "scenarios/report.h"
#include "scenarios/runner.h"
#include "scenarios/work.h"

namespace ts = tilesim::scenarios;

#ifdef TILESIM_FUZZ_TOML_ASSERT
namespace tilesim::fuzz {
void toml_assertion_failed(const char* expr, const char* file, int line) {
    throw TomlAssertion{expr, file, line};
}
}  // namespace tilesim::fuzz
#endif

namespace {

// A run small enough for thousands per second: count-only unless tiny, capped work and trace.
void bounded_run(ts::Scenario s) {
    const auto& p = s.problem;
    const double nnd = static_cast<double>(p.N_q) * static_cast<double>(p.N_kv) * static_cast<double>(p.d);
    s.numerics = s.numerics && nnd <= 65536 && s.numerics_heads <= 2;
    ts::RunControls c;
    c.max_work_seconds =
        0.02;  // about 4e4 tile steps; above it the run is refused (the estimate is fuzzed too)
    c.trace = (p.N_q + p.N_kv + p.d) % 2 == 0;
    c.max_trace_events = 2000;
    c.watch_block = 0;
    const ts::ScenarioResult r = ts::run_scenario(s, c);
    // The reports read every run: the table's mask grid, JSON and CSV, the trace.
    std::size_t bytes = ts::to_table(r).size() + ts::to_json(r).dump().size() + ts::to_csv(r).size();
    for (const auto& run : r.runs) {
        if (run.trace) bytes += ts::trace_csv(*run.trace).size();
    }
    if (bytes == 0) std::abort();  // a report is never empty
}

void mask_case(std::string_view text) {
    ts::MaskSpec spec;
    spec.rule = "file";
    ts::parse_mask_json(spec, text, "fuzz.json");
    ts::Scenario s = ts::resolve_scenario("classroom");
    const auto& b = *spec.file_blocks;
    // The sizes the file states, or those its grid implies; problem_of checks they agree.
    const std::int64_t N_q = spec.file_N_q > 0 ? spec.file_N_q : b.rows * b.block_q;
    const std::int64_t N_kv = spec.file_N_kv > 0 ? spec.file_N_kv : b.cols * b.block_kv;
    ts::apply_settings(
        s, {"seq_len=" + std::to_string(N_kv), "seq_len_q=" + std::to_string(N_q), "numerics=false"});
    s.mask = spec;
    bounded_run(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto first = text.find_first_not_of(" \t\r\n");
    try {
        if (first != std::string_view::npos && text[first] == '{') {
            mask_case(text);
        } else {
            bounded_run(ts::parse_scenario_toml(text, "fuzz.toml"));
        }
    } catch (const ts::ScenarioError&) {
        // The clean refusal.
#ifdef TILESIM_FUZZ_TOML_ASSERT
    } catch (const tilesim::fuzz::TomlAssertion& a) {
        // toml++'s own assertion (its bug, not ours): said once per place, then counted silently;
        // TILESIM_FUZZ_TOML_ABORT=1 makes it a crash, to find and minimise the input.
        if (std::getenv("TILESIM_FUZZ_TOML_ABORT") != nullptr) std::abort();
        static std::set<std::pair<std::string, int>> seen;
        if (seen.insert({a.file, a.line}).second) {
            std::fprintf(stderr, "toml++ assertion (upstream bug, not counted as a crash): %s at %s:%d\n",
                         a.expr, a.file, a.line);
        }
#endif
    }
    return 0;
}
