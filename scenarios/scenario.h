#pragma once
// A scenario is pure data: the hardware, the problem, the tiling and the run options.
// Scenarios come from TOML files (scenarios/*.toml), from the built-ins (embedded), and from
// `--set key=value` overrides; all three go through the same key table (keys.cpp), so a key means
// the same thing everywhere and every bad value gets the same one-line error.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/precision.h"
#include "kernels/problem.h"
#include "sim/hardware.h"
#include "sim/l2.h"
#include "sim/schedule.h"

namespace tilesim::scenarios {

// One clear line: what is wrong (naming the key) and how to fix it.
class ScenarioError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A published figure to set beside the model's: "KEY: metric=value ..." in a scenario file (the
// paper's Figure 2, say). Metrics: hbm_gb (HBM reads + writes, GB), runtime_ms, gflops; for the sum of
// the passes the scenario runs.
struct PublishedFigure {
    std::string algorithm;  // an algorithm key
    std::vector<std::pair<std::string, double>> metrics;
};

// The mask as the scenario gives it (keys `mask`, `mask_pattern`, `mask_density`, `mask_block`); the
// problem's kernels::Mask is built from it once the sizes are final (problem_of).
struct MaskSpec {
    std::string rule = "none";  // "none", "causal", "sliding:W", or "file:PATH"
    std::int64_t window = 0;    // sliding:W
    std::string file;           // file:PATH
    std::shared_ptr<const kernels::BlockMask> file_blocks;  // the file's block mask, at its own block size
    std::string file_rule;                                   // the file's mask_mod ("", "causal", "sliding:W")
    std::int64_t file_window = 0;
    std::int64_t file_N_q = 0, file_N_kv = 0;  // the sequence lengths the file states (0: not stated)
    std::string pattern;                       // "" or a block-sparse pattern, or "document"
    double density = 0.25;
    std::int64_t block = 128;
};

struct Scenario {
    std::string name = "custom";
    std::string description;
    kernels::Problem problem;
    bool seq_len_q_set = false;     // N_q given by `seq_len_q`; otherwise it follows `seq_len`
    bool kv_heads_set = false;      // H_kv given by `kv_heads`; otherwise it follows `heads`
    std::string hardware_name;      // the preset the hardware started from
    sim::HardwareSpec hardware;     // preset plus any overrides
    kernels::TilingRequest tiling;  // 0 = the algorithm's rule
    std::vector<std::string> algorithms;  // keys of the definition table (kernels/registry.h)
    bool numerics = true;             // compute the outputs and compare with the fp64 reference
    std::int64_t numerics_heads = 1;  // heads on which numerics run (counts always cover all B*H)
    std::uint64_t seed = 1;
    std::int64_t extra_passes = 0;  // standard attention: eager-mode passes over S (0..3)
    // Numerics in low precision (kernels/precision.h): the inputs' distribution, the storage formats'
    // rounding emulated (or plain fp32 throughout), fp8's scales and incoherent processing.
    kernels::InputDistribution inputs = kernels::InputDistribution::normal;
    bool rounding = true;
    kernels::Quantisation quant;
    MaskSpec mask;
    std::vector<PublishedFigure> published;
    std::string published_source;  // where the published figures come from
    std::string published_note;    // why the model and the publication may differ
    // The timeline (sim/timeline.h): the schedule (empty: each definition's own kernel's; paper: the
    // two-level roofline sum), the ring's SRAM stages, the grid order, the L2 model on or off (off:
    // DRAM from the estimate), and the tensor-core instruction (empty: the schedule's).
    std::optional<sim::Schedule> schedule;
    std::int64_t pipeline_stages = 2;
    sim::GridOrder grid_order = sim::GridOrder::head_major;
    bool l2 = false;
    std::optional<sim::MmaKind> mma;
};

// Key documentation, for `tilesim keys` and docs/scenarios.md.
struct KeyDoc {
    std::string_view key;
    std::string_view type;
    std::string_view doc;
};
const std::vector<KeyDoc>& key_docs();

// Applies one `key=value` (the value as text, as on the command line). Throws ScenarioError.
void apply_setting(Scenario& s, std::string_view key, std::string_view value);
// Parses "key=value" and applies it.
void apply_assignment(Scenario& s, std::string_view assignment);

// Applies "key=value" assignments (as --set does): `hardware` first, as in files, then the rest in
// order; then validates. Throws ScenarioError.
void apply_settings(Scenario& s, const std::vector<std::string>& assignments);

// Reads a TOML scenario: built-in defaults, then the file's keys in order. Throws ScenarioError
// naming the file, line, key and fix (malformed TOML, unknown keys, wrong types, bad values).
Scenario load_scenario_file(const std::string& path);
Scenario parse_scenario_toml(std::string_view text, const std::string& source_name);

// Checks the whole scenario (sizes positive, ranges, overflow limits, every algorithm defined for
// every pass asked for). Throws ScenarioError.
void validate(const Scenario& s);

// The passes a scenario runs, in order.
std::vector<kernels::Pass> passes_of(const Scenario& s);

// The scenario's problem with its mask built for its sizes (a block-sparse pattern depends on N; a
// mask file must match N). Throws ScenarioError naming the key.
kernels::Problem problem_of(const Scenario& s);

// Reads a FlexAttention-style BlockMask file (JSON, docs/masks.md) into `spec`. Throws ScenarioError
// naming the file and the problem.
void load_mask_file(MaskSpec& spec, const std::string& path);

// The paper's Figure 2 workload: GPT-2 medium attention, batch 64, 16 heads, N = 1024, d = 64,
// fp16, A100-40GB.
Scenario default_scenario();

struct BuiltinScenario {
    std::string_view id;
    std::string_view summary;
    std::string_view toml;  // embedded file text
};
const std::vector<BuiltinScenario>& builtin_scenarios();
// A built-in by id, or a TOML file path. Throws ScenarioError when neither.
Scenario resolve_scenario(const std::string& id_or_path);

}  // namespace tilesim::scenarios
