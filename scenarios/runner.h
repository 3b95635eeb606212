#pragma once
// Runs a scenario: each algorithm's passes on the machine model, counts for all B*H heads, numerics
// on a sample of heads checked against the fp64 reference, closed forms and predicted time beside them.
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "kernels/algorithm.h"
#include "scenarios/scenario.h"
#include "sim/cost_model.h"
#include "sim/timeline.h"
#include "sim/traffic.h"

namespace tilesim::scenarios {

// A backward run's error on each gradient (max |x - ref| over the sampled heads).
struct GradientErrors {
    double dQ = 0, dK = 0, dV = 0;
};

// One definition run: an algorithm's forward or its backward.
struct AlgorithmRun {
    const kernels::AlgorithmDef* def = nullptr;
    kernels::Tiling tiling;
    sim::FitStatus fit;               // !fit.ok: the pass did not run; reason and fix say why
    sim::Counters per_head;           // one (batch, head): one unit of the run (see `units`)
    sim::Counters total;              // all B*H heads (per_head scaled; SRAM peak stays per block)
    // Units the run simulated one of and scaled by: B*H heads, or B*H_kv KV groups for a definition
    // that runs a group's query heads together (AlgorithmDef::packs_gqa: then per_head, phases and
    // closed_form are per group, and query_heads_per_unit = H / H_kv).
    std::int64_t units = 0;
    std::int64_t query_heads_per_unit = 1;
    std::vector<sim::Phase> phases;   // per head
    sim::CostBreakdown cost;          // predicted time, all heads: the timeline's (paper mode: the roofline's)
    sim::DramEstimate dram;           // what a DRAM counter would see with the hardware's L2 (all heads)
    kernels::ClosedForm closed_form;  // per head
    std::int64_t paper_total_elements = 0;  // the paper's headline formula, per head
    std::optional<double> max_abs_error;    // over the sampled heads and outputs; empty in count-only mode
    std::optional<double> rel_error;        // ||x - ref||_F / ||ref||_F, worst sampled head and output
    std::optional<double> rmse;             // root-mean-square error over every sampled head and output
    double squared_error_sum = 0;           // (accumulates rmse: sum of squared errors, and their count)
    std::int64_t error_count = 0;
    kernels::QuantisationReport quantisation;  // how the inputs were stored (head 0; numerics with rounding)
    std::optional<GradientErrors> gradient_errors;  // backward runs with numerics
    std::string numerics_note;                      // why numerics did not run when asked for
    std::int64_t heads_checked = 0;
    std::shared_ptr<const sim::Trace> trace;      // when requested (head 0)
    std::vector<kernels::SoftmaxSnapshot> probe;  // when requested (head 0)
    // The timeline (scenarios/timing.h): the schedule that ran (the scenario's, or the definition's own
    // when it does not support that one, as `schedule_note` says), its per-pass result (empty in paper
    // mode), the two-level roofline beside it, and the three traffics, all heads.
    sim::Schedule schedule = sim::Schedule::sync;
    std::string schedule_note;
    sim::TimelineResult timeline;
    sim::CostBreakdown paper_cost;
    sim::BoundaryTraffic traffic;
    std::vector<sim::BoundaryTraffic> phase_traffic;
    bool l2_model = false;  // DRAM and L2 hits from the L2 model (else from the DRAM estimate)
    // Matmul TFLOP/s at the predicted time (4 B H N^2 d forward: the papers' convention).
    double tflops() const;

    std::string_view key() const { return def->key; }
    kernels::Pass pass() const { return def->pass; }
    bool counts_match_closed_form() const;
};

struct ScenarioResult {
    Scenario scenario;
    std::vector<AlgorithmRun> runs;  // per algorithm (scenario order), its passes in order
    // The run of `key` for `pass`, or null.
    const AlgorithmRun* find(std::string_view key, kernels::Pass pass) const;
};

// The default limit on a run's estimated work (scenarios/work.h): every built-in scenario and test
// is far below it; `tilesim run --allow-long` lifts it.
inline constexpr double kDefaultMaxWorkSeconds = 600;

struct RunControls {
    bool trace = false;
    std::int64_t max_trace_events = 1'000'000;
    std::int32_t watch_block = -1;
    // Called with (done, total) work units; may be called from the running thread.
    std::function<void(std::int64_t, std::int64_t)> progress;
    // Called every 65536 events inside a run with (events so far, events estimated): the progress of
    // one long run. The estimate is rough; `done` may pass it.
    std::function<void(std::int64_t, std::int64_t)> step_progress;
    // Checked between algorithms and heads, and every 65536 events inside a run.
    const std::atomic<bool>* cancel = nullptr;
    // Runs whose estimated work (scenarios/work.h) exceeds this many seconds are refused; <= 0: no limit.
    double max_work_seconds = kDefaultMaxWorkSeconds;
};

// Bytes of host memory available for numerics (MemAvailable), or -1 when unknown.
std::int64_t host_memory_available();

// Throws ScenarioError when numerics or the model's bookkeeping would need more host memory than is
// free, when the estimated work is above controls.max_work_seconds, or when cancelled.
ScenarioResult run_scenario(const Scenario& s, const RunControls& controls = {});

// The definition that the scenario's baseline comparisons use for `pass` (the table's baseline
// algorithm, when the scenario runs it), or null.
const AlgorithmRun* baseline_run(const std::vector<AlgorithmRun>& runs, kernels::Pass pass);

}  // namespace tilesim::scenarios
