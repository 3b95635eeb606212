#pragma once
// The subcommands of tilesim-cuda (validate, selftest, profile, blocks). Host-only.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/scenario.h"

namespace tilesim::kernels::cuda {

struct CommandOptions {
    std::string command;
    std::optional<std::string> scenario;   // TOML file or built-in id
    std::vector<std::string> settings;     // --set key=value, in order
    std::optional<std::string> csv;        // validate: append one row per kernel and stage
    std::optional<std::string> model_csv;  // profile: the model's per-phase prediction
    int warmup = 5;
    int runs = 30;
    bool causal = false;
    bool all_blocks = false;                  // validate: also every other compiled B_r x B_c for this d
    std::optional<std::int64_t> check_heads;  // overrides the scenario's numerics_heads
    std::optional<std::string> only;          // selftest: forward, backward, decode or hopper alone
    std::vector<std::string> kernels;         // profile: which launches (default standard, flash)
};

// The scenario a command runs: the file (or built-in) when given, else the default scenario on the
// H100-SXM preset; then the --set overrides in order. Throws scenarios::ScenarioError.
scenarios::Scenario build_scenario(const CommandOptions& o);

// Each returns the process exit code: 0 all checks passed, 1 a check failed. Errors throw.
int run_validate(const CommandOptions& o);
// backward: standard (Algorithm 3, cuBLAS) and flash backward, checked and timed (fwd, bwd, fwd+bwd).
int run_backward(const CommandOptions& o);
// hopper: the Hopper forward progression (b)-(e) next to the mma.sync kernel, checked and timed.
int run_hopper(const CommandOptions& o);
// decode: split-KV decoding, --set batch=, heads=, kv_heads=, q_len=, seq_len=, head_dim=, dtype=,
// page_size=, shuffled=0|1, splits= (0: heuristic; several values: "splits=1,0"), causal=0|1.
int run_decode(const CommandOptions& o);
// bandwidth: the device-to-device copy rate (the HBM ceiling the decode kernel is measured against).
int run_bandwidth();

// Parts of selftest (commands_kernels.cpp). not_run: the GPU cannot run them (the reason in why).
struct SelftestCount {
    int checks = 0, failures = 0;
    bool not_run = false;
    std::string why;
};
SelftestCount selftest_backward();
SelftestCount selftest_decode();
SelftestCount selftest_hopper();
int run_selftest(const CommandOptions& o);
int run_profile(const CommandOptions& o);
int run_blocks();

}  // namespace tilesim::kernels::cuda
