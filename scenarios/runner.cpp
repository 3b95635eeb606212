#include "scenarios/runner.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "kernels/reference.h"
#include "kernels/registry.h"

namespace tilesim::scenarios {

bool AlgorithmRun::counts_match_closed_form() const {
    if (!fit.ok) return false;
    const auto& hbm = per_head.at(sim::Level::HBM);
    return hbm.read_elements == closed_form.hbm_read_elements &&
           hbm.write_elements == closed_form.hbm_write_elements &&
           per_head.at(sim::Level::L2).read_elements == closed_form.l2_read_elements &&
           per_head.matmul_flops == closed_form.matmul_flops &&
           per_head.other_flops == closed_form.other_flops;
}

std::int64_t host_memory_available() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::int64_t kb = 0;
    std::string unit;
    while (in >> key >> kb >> unit) {
        if (key == "MemAvailable:") return kb * 1024;
    }
    return -1;
}

namespace {

std::string gib(std::int64_t bytes) {
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(1);
    os << static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0) << " GiB";
    return os.str();
}

// True when every count of `c` times `factor` (and the FLOP sum) fits in an int64. validate() bounds
// the N^2 byte counts, but FLOPs (4 N^2 d per head) and SRAM traffic also grow with d and with small
// blocks: B*H = 2^20 heads of N = 65536, d = 1024 wrapped matmul_flops around to exactly 0.
bool scaled_fits(const sim::Counters& c, std::int64_t factor) {
    const long double limit = static_cast<long double>(std::numeric_limits<std::int64_t>::max()) / factor;
    auto ok = [&](long double v) { return v <= limit; };
    auto traffic_ok = [&](const sim::Traffic& t) {
        return ok(t.read_bytes) && ok(t.write_bytes) &&
               ok(static_cast<long double>(t.read_bytes) + t.write_bytes);
    };
    for (std::size_t lv = 0; lv < sim::kLevelCount; ++lv) {
        if (!traffic_ok(c.level[lv])) return false;  // bytes >= elements, per level >= per tensor
    }
    return ok(static_cast<long double>(c.matmul_flops) + c.other_flops) && ok(c.transfers);
}

void check_cancel(const RunControls& c) {
    if (c.cancel != nullptr && c.cancel->load()) throw ScenarioError("cancelled");
}

}  // namespace

ScenarioResult run_scenario(const Scenario& s, const RunControls& controls) {
    validate(s);
    ScenarioResult result;
    result.scenario = s;
    const auto& p = s.problem;
    const std::int64_t heads_numerics = s.numerics ? s.numerics_heads : 0;

    if (s.numerics) {
        std::int64_t need = 0;
        for (auto alg : s.algorithms) need = std::max(need, kernels::numerics_bytes(alg, p));
        const std::int64_t avail = host_memory_available();
        if (avail >= 0 && need > avail * 8 / 10) {
            throw ScenarioError(
                "numerics for seq_len = " + std::to_string(p.N) + " need about " + gib(need) +
                " of host memory but " + gib(avail) +
                " is available; set numerics=false (count-only: identical counts) or a smaller "
                "seq_len");
        }
    }

    const std::int64_t total_units =
        static_cast<std::int64_t>(s.algorithms.size()) * std::max<std::int64_t>(1, heads_numerics);
    std::int64_t done = 0;
    for (auto alg : s.algorithms) {
        AlgorithmRun run;
        run.algorithm = alg;
        result.runs.push_back(std::move(run));
    }

    // Head 0 gives the counts (every head has the same schedule); further heads only check numerics.
    for (std::int64_t head = 0; head < std::max<std::int64_t>(1, heads_numerics); ++head) {
        check_cancel(controls);
        std::optional<kernels::Inputs> inputs;
        std::optional<kernels::MatD> ref;
        if (s.numerics) {
            inputs = kernels::random_inputs(p.N, p.d, s.seed + static_cast<std::uint64_t>(head));
            ref = kernels::reference_attention(*inputs);
        }
        for (std::size_t a = 0; a < s.algorithms.size(); ++a) {
            check_cancel(controls);
            AlgorithmRun& run = result.runs[a];
            if (head > 0 && !run.fit.ok) continue;
            kernels::RunOptions opt;
            opt.numerics = s.numerics;
            opt.trace = controls.trace && head == 0;
            opt.max_trace_events = controls.max_trace_events;
            opt.standard_extra_passes = s.extra_passes;
            opt.watch_block = head == 0 ? controls.watch_block : -1;
            kernels::RunResult r =
                kernels::run(run.algorithm, p, s.tiling, s.hardware, inputs ? &*inputs : nullptr, opt);
            if (head == 0) {
                run.tiling = r.tiling;
                run.fit = r.fit;
                if (r.fit.ok && !scaled_fits(r.counters, p.bh())) {
                    throw ScenarioError("keys 'batch' x 'heads' = " + std::to_string(p.bh()) +
                                        ": the totals of " + std::string(kernels::info(run.algorithm).key) +
                                        " for that many heads overflow 64-bit counters; reduce batch, heads, "
                                        "seq_len or head_dim");
                }
                if (r.fit.ok) {
                    run.per_head = r.counters;
                    run.total = r.counters.scaled(p.bh());
                    run.phases = r.phases;
                    run.cost = sim::predict(s.hardware, r.phases, p.bh());
                    run.dram = sim::estimate_dram(s.hardware, r.phases, p.bh());
                    run.closed_form = kernels::closed_form(run.algorithm, p, r.tiling.B_r, r.tiling.B_c,
                                                           s.hardware, s.extra_passes);
                    run.paper_total_elements =
                        kernels::paper_total_elements(run.algorithm, p, r.tiling.B_r, r.tiling.B_c);
                    run.trace = std::shared_ptr<const sim::Trace>(std::move(r.trace));
                    run.probe = std::move(r.probe);
                }
            }
            if (r.fit.ok && r.O && ref) {
                const auto err = kernels::compare(*r.O, *ref);
                run.max_abs_error = std::max(run.max_abs_error.value_or(0.0), err.max_abs);
                run.rel_error = std::max(run.rel_error.value_or(0.0), err.rel_fro);
                ++run.heads_checked;
            }
            ++done;
            if (controls.progress) controls.progress(done, total_units);
        }
    }
    return result;
}

}  // namespace tilesim::scenarios
