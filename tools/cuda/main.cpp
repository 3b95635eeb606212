// tilesim-cuda: runs the model's attention problems on a real GPU and sets the two side by side.
// A consumer of the model like `tilesim`: scenarios through the same key table and runner, flags
// through CLI11, every error one line on stderr.
//
//   tilesim-cuda validate [SCENARIO] [--set key=value]... [--csv FILE] [--runs N] [--warmup N]
//                         [--causal] [--all-blocks] [--check-heads N]
//   tilesim-cuda selftest [--only forward|backward|decode|hopper]
//   tilesim-cuda profile [SCENARIO] [--set key=value]... [--model-csv FILE] [--causal] [--kernels LIST]
//   tilesim-cuda blocks
//   tilesim-cuda backward [SCENARIO] [--set key=value]... [--causal] [--all-blocks] [--csv FILE]
//   tilesim-cuda hopper [SCENARIO] [--set key=value]... [--causal] [--csv FILE]
//   tilesim-cuda decode [--set key=value]... [--causal] [--csv FILE]
//   tilesim-cuda bandwidth
//
// Exit status: 0 success, 1 a check failed, 2 bad input or a CUDA error (message on stderr).
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli/output.h"
#include "cli/usage.h"
#include "kernels/cuda/cuda_backend.h"
#include "tools/cuda/commands.h"

namespace {

using tilesim::kernels::cuda::CommandOptions;

// The options a scenario-driven subcommand takes.
void scenario_options(CLI::App* c, CommandOptions& o, bool with_scenario) {
    if (with_scenario) {
        c->add_option("scenario", o.scenario,
                      "Built-in scenario id or a .toml file; default: gpt2-medium's problem on the H200 preset");
    }
    c->add_option("--set", o.settings, "Override a scenario key, e.g. --set seq_len=4096 (repeatable)");
    c->add_flag("--causal", o.causal, "Causal attention on the GPU (the model is given mask = causal too)");
    c->add_option("--csv", o.csv, "Append one row per kernel and stage to this CSV file");
}

// The timing options of the commands that time kernels (as validate's).
void timing_options(CLI::App* c, CommandOptions& o) {
    c->add_option("--runs", o.runs, "Timed runs (the median is reported)")->check(CLI::Range(20, 100000));
    c->add_option("--warmup", o.warmup, "Untimed runs first")->check(CLI::Range(1, 100000));
    c->add_option("--check-heads", o.check_heads, "Heads checked against the fp64 reference (0: none)")
        ->check(CLI::Range(0, 1 << 20));
}

int run(int argc, char** argv) {
    CLI::App app{"tilesim-cuda: the model's attention problems on a real GPU, checked against the fp64 oracle and timed"};
    app.require_subcommand(1);
    CommandOptions o;
    auto* validate = app.add_subcommand("validate", "Check the forward kernels against the fp64 oracle, time them, "
                                                    "set the model's prediction beside them");
    scenario_options(validate, o, true);
    validate->add_option("--runs", o.runs, "Timed runs (the median is reported)")->check(CLI::Range(20, 100000));
    validate->add_option("--warmup", o.warmup, "Untimed runs first")->check(CLI::Range(1, 100000));
    validate->add_option("--check-heads", o.check_heads, "Heads checked against the oracle (default numerics_heads)")
        ->check(CLI::Range(0, 1 << 20));
    validate->add_flag("--all-blocks", o.all_blocks, "Also every other compiled B_r x B_c for this d");
    auto* selftest = app.add_subcommand("selftest", "Every kernel, dtype, mask and ragged size against the fp64 reference");
    selftest->add_option("--only", o.only, "One part only")->check(CLI::IsMember({"forward", "backward", "decode", "hopper"}));
    auto* profile = app.add_subcommand("profile", "One launch of each kernel between cudaProfilerStart/Stop (for ncu)");
    scenario_options(profile, o, true);
    profile->add_option("--model-csv", o.model_csv, "Write the model's per-phase prediction here");
    profile->add_option("--kernels", o.kernels,
                        "Launches to profile, comma-separated: standard, flash, b, c, d, e, f, flash-bwd, "
                        "standard-bwd (default standard,flash); always run in that order")
        ->delimiter(',');
    auto* blocks = app.add_subcommand("blocks", "The compiled FlashAttention block sizes");
    auto* backward = app.add_subcommand("backward", "Standard and flash backward: checked, then fwd / bwd / fwd+bwd timed");
    scenario_options(backward, o, true);
    timing_options(backward, o);
    backward->add_flag("--all-blocks", o.all_blocks, "Every compiled backward block for this d");
    auto* hopper = app.add_subcommand("hopper", "The Hopper forward progression (b)-(f) next to the mma.sync kernel");
    scenario_options(hopper, o, true);
    timing_options(hopper, o);
    auto* decode = app.add_subcommand("decode", "Split-KV decoding: --set batch, heads, kv_heads, q_len, seq_len, "
                                                "head_dim, dtype, page_size, shuffled, splits, check_heads");
    scenario_options(decode, o, false);
    decode->add_option("--runs", o.runs, "Timed runs (the median is reported)")->check(CLI::Range(20, 100000));
    decode->add_option("--warmup", o.warmup, "Untimed runs first")->check(CLI::Range(1, 100000));
    auto* bandwidth = app.add_subcommand("bandwidth", "The device-to-device copy rate (the HBM ceiling)");
    if (const std::string unknown = tilesim::cli::unknown_subcommand(app, argc, argv); !unknown.empty()) {
        std::fprintf(stderr, "tilesim-cuda: error: %s (run `tilesim-cuda --help`)\n", unknown.c_str());
        return tilesim::cli::kUsageError;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "tilesim-cuda: error: %s (run `tilesim-cuda --help`)\n", e.what());
        return 2;
    }
    using namespace tilesim::kernels::cuda;
    if (validate->parsed()) return run_validate(o);
    if (selftest->parsed()) return run_selftest(o);
    if (profile->parsed()) return run_profile(o);
    if (backward->parsed()) return run_backward(o);
    if (hopper->parsed()) return run_hopper(o);
    if (decode->parsed()) return run_decode(o);
    if (bandwidth->parsed()) return run_bandwidth();
    if (blocks->parsed()) return run_blocks();
    return 2;
}

}  // namespace

// Standard output is an output like the files: a full disk or a closed pipe is an error, not exit 0.
int checked_stdout(int status) {
    if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
        std::fprintf(stderr, "tilesim-cuda: error: writing standard output failed: %s\n",
                     std::strerror(errno));
        return status == 0 ? 2 : status;
    }
    return status;
}

int main(int argc, char** argv) {
    // Line-buffered even into a file: a run killed by a timeout keeps every line it printed.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    tilesim::cli::init_process_io();  // write errors come back as errors (SIGPIPE, SIGXFSZ ignored)
    try {
        return checked_stdout(run(argc, argv));
    } catch (const tilesim::scenarios::ScenarioError& e) {
        std::fprintf(stderr, "tilesim-cuda: error: %s\n", e.what());
    } catch (const tilesim::kernels::cuda::CudaError& e) {
        std::fprintf(stderr, "tilesim-cuda: error: %s\n", e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tilesim-cuda: error: %s\n", e.what());
    }
    return 2;
}
