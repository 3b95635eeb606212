#pragma once
// Runs a scenario: each algorithm on the machine model, counts for all B*H heads, numerics on a
// sample of heads checked against the fp64 reference, closed forms and predicted time beside them.
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "kernels/attention.h"
#include "kernels/closed_form.h"
#include "scenarios/scenario.h"
#include "sim/cost_model.h"

namespace tilesim::scenarios {

struct AlgorithmRun {
    kernels::AlgorithmId algorithm{};
    kernels::Tiling tiling;
    sim::FitStatus fit;               // !fit.ok: the algorithm did not run; reason and fix say why
    sim::Counters per_head;           // one (batch, head)
    sim::Counters total;              // all B*H heads (per_head scaled; SRAM peak stays per block)
    std::vector<sim::Phase> phases;   // per head
    sim::CostBreakdown cost;          // predicted time for all heads
    sim::DramEstimate dram;           // what a DRAM counter would see with the hardware's L2 (all heads)
    kernels::ClosedForm closed_form;  // per head
    std::int64_t paper_total_elements = 0;  // the paper's headline formula, per head
    std::optional<double> max_abs_error;    // over the sampled heads; empty in count-only mode
    std::optional<double> rel_error;        // ||O - ref||_F / ||ref||_F, worst sampled head
    std::int64_t heads_checked = 0;
    std::shared_ptr<const sim::Trace> trace;      // when requested (head 0)
    std::vector<kernels::SoftmaxSnapshot> probe;  // when requested (head 0)
    bool counts_match_closed_form() const;
};

struct ScenarioResult {
    Scenario scenario;
    std::vector<AlgorithmRun> runs;
};

struct RunControls {
    bool trace = false;
    std::int64_t max_trace_events = 1'000'000;
    std::int32_t watch_block = -1;
    // Called with (done, total) work units; may be called from the running thread.
    std::function<void(std::int64_t, std::int64_t)> progress;
    const std::atomic<bool>* cancel = nullptr;  // checked between algorithms and heads
};

// Bytes of host memory available for numerics (MemAvailable), or -1 when unknown.
std::int64_t host_memory_available();

// Throws ScenarioError when numerics would need more host memory than is free, or when cancelled.
ScenarioResult run_scenario(const Scenario& s, const RunControls& controls = {});

}  // namespace tilesim::scenarios
