#include "scenarios/runner.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "kernels/precision.h"
#include "kernels/reference.h"
#include "kernels/registry.h"
#include "scenarios/work.h"
#include "kernels/tiling.h"
#include "scenarios/timing.h"

namespace tilesim::scenarios {

bool AlgorithmRun::counts_match_closed_form() const {
    if (!fit.ok) return false;
    for (std::size_t t = 0; t < sim::kTensorCount; ++t) {
        const auto& hbm = per_head.by_tensor[static_cast<std::size_t>(sim::Level::HBM)][t];
        if (hbm.read_elements != closed_form.hbm_read_by_tensor[t] ||
            hbm.write_elements != closed_form.hbm_write_by_tensor[t]) {
            return false;
        }
    }
    return per_head.at(sim::Level::L2).read_elements == closed_form.l2_read_elements &&
           per_head.matmul_flops == closed_form.matmul_flops && per_head.other_flops == closed_form.other_flops &&
           per_head.exp_flops == closed_form.exp_flops;
}

const AlgorithmRun* ScenarioResult::find(std::string_view key, kernels::Pass pass) const {
    for (const auto& r : runs) {
        if (r.key() == key && r.pass() == pass) return &r;
    }
    return nullptr;
}

const AlgorithmRun* baseline_run(const std::vector<AlgorithmRun>& runs, kernels::Pass pass) {
    for (const auto& r : runs) {
        if (r.def->baseline && r.pass() == pass && r.fit.ok) return &r;
    }
    return nullptr;
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

// Host bytes the numerics need at once: the largest algorithm's HBM state (its forward and backward
// tensors live together when the backward runs) and the fp64 reference (P, and dP, dS for gradients).
std::int64_t numerics_need(const Scenario& s) {
    const auto& p = s.problem;
    const bool backward = kernels::includes(p.passes, kernels::Pass::backward);
    std::int64_t need = 0;
    for (const auto& key : s.algorithms) {
        std::int64_t k = 0;
        for (auto pass : {kernels::Pass::forward, kernels::Pass::backward}) {
            if (pass == kernels::Pass::backward && !backward) continue;
            const auto* def = kernels::find_definition(key, pass);
            if (def == nullptr) continue;
            const kernels::Problem up = kernels::unit_problem(*def, p);
            k += def->numerics_bytes(up);
            // A packed KV group has its own inputs and reference (g N_q query rows).
            if (up.N_q != p.N_q) k += up.N_q * (p.N_kv * 8 + 3 * p.d * 4) + 2 * p.N_kv * p.d * 4;
        }
        need = std::max(need, k);
    }
    const std::int64_t inputs = (2 * p.N_q + 2 * p.N_kv) * p.d * static_cast<std::int64_t>(sizeof(float));
    const std::int64_t reference =
        (backward ? 4 : 1) * p.N_q * p.N_kv * 8 + 6 * (p.N_q + p.N_kv) * p.d * 8;
    return need + 2 * inputs + reference;
}

// Folds one head's error on `out` (against `ref`) into the run's worst.
void record_error(AlgorithmRun& run, const kernels::Mat& out, const kernels::MatD& ref, double* slot) {
    const auto err = kernels::compare(out, ref);
    run.max_abs_error = std::max(run.max_abs_error.value_or(0.0), err.max_abs);
    run.rel_error = std::max(run.rel_error.value_or(0.0), err.rel_fro);
    const auto n = static_cast<std::int64_t>(out.size());
    run.squared_error_sum += err.rmse * err.rmse * static_cast<double>(n);
    run.error_count += n;
    run.rmse = std::sqrt(run.squared_error_sum / static_cast<double>(run.error_count));
    if (slot != nullptr) *slot = std::max(*slot, err.max_abs);
}

// The fp64 reference of one head: O, and the gradients when a backward runs.
struct Reference {
    kernels::MatD O;
    std::optional<kernels::ReferenceGradients> grads;
};

// The shared tensors of a KV group (grouped-query attention): K and V belong to the KV head, and the
// page table to the sequence; the DRAM estimate sees them once per group of heads in flight together.
sim::HeadGroups kv_groups(const kernels::Problem& unit) {
    sim::HeadGroups g;
    g.size = unit.kv_heads >= 1 && unit.heads % unit.kv_heads == 0 ? unit.heads / unit.kv_heads : 1;
    for (sim::Tensor t : {sim::Tensor::K, sim::Tensor::V, sim::Tensor::PT})
        g.shared[static_cast<std::size_t>(t)] = true;
    return g;
}

Reference make_reference(const kernels::HbmState& inputs, bool gradients, const kernels::Mask& mask) {
    Reference ref;
    const kernels::Inputs in = kernels::inputs_of(inputs);
    kernels::ReferenceOptions ro;
    if (mask.active()) ro.mask = &mask;
    ref.O = kernels::reference_attention(in, ro);
    if (gradients) ref.grads = kernels::reference_gradients(in, inputs[sim::Tensor::dO], ro);
    return ref;
}

class Runner {
  public:
    Runner(const Scenario& s, const RunControls& c, double estimated_events)
        : s_(s),
          c_(c),
          passes_(passes_of(s)),
          estimated_events_(static_cast<std::int64_t>(estimated_events)) {
        // Inside a run, every 65536 events: cancel (the GUI's, reaching into a long kernel loop) and
        // the progress of a long run.
        tick_ = [this](std::int64_t) {
            check_cancel(c_);
            events_ += sim::Hierarchy::kTickEvents;
            if (c_.step_progress) c_.step_progress(events_, estimated_events_);
        };
    }

    ScenarioResult run() {
        ScenarioResult result;
        result.scenario = s_;
        for (const auto& key : s_.algorithms) {
            for (auto pass : passes_) {
                AlgorithmRun r;
                r.def = kernels::find_definition(key, pass);
                result.runs.push_back(std::move(r));
            }
        }
        const std::int64_t heads = s_.numerics ? s_.numerics_heads : 1;
        total_ = static_cast<std::int64_t>(result.runs.size()) * heads;
        // Head 0 gives the counts (every head has the same schedule); further heads only check numerics.
        for (std::int64_t head = 0; head < heads; ++head) {
            check_cancel(c_);
            std::optional<kernels::HbmState> inputs;
            std::optional<Reference> ref;
            if (s_.numerics) {
                inputs = kernels::random_inputs(s_.problem, s_.seed + static_cast<std::uint64_t>(head), s_.inputs);
                ref = make_reference(*inputs, kernels::includes(s_.problem.passes, kernels::Pass::backward),
                                     s_.problem.mask);
            }
            for (std::size_t k = 0; k < s_.algorithms.size(); ++k) {
                run_algorithm(result, k * passes_.size(), head, inputs ? &*inputs : nullptr, ref ? &*ref : nullptr);
            }
        }
        return result;
    }

  private:
    // The passes of one algorithm on one head; `first` is its first run's index in result.runs.
    void run_algorithm(ScenarioResult& result, std::size_t first, std::int64_t head,
                       const kernels::HbmState* inputs, const Reference* ref) {
        const bool backward = kernels::includes(s_.problem.passes, kernels::Pass::backward);
        const std::string& key = s_.algorithms[first / passes_.size()];
        // A definition that packs a KV group solves a problem of its own shape (g N_q query rows against
        // one K/V head): it gets inputs and a reference of that shape, drawn from the same seed.
        const kernels::Problem up = kernels::unit_problem(*result.runs[first].def, s_.problem);
        std::optional<kernels::HbmState> own_inputs;
        std::optional<Reference> own_ref;
        if (inputs != nullptr && up.N_q != s_.problem.N_q) {
            own_inputs = kernels::random_inputs(up, s_.seed + static_cast<std::uint64_t>(head), s_.inputs);
            own_ref = make_reference(*own_inputs, backward, up.mask);
            inputs = &*own_inputs;
            ref = &*own_ref;
        }
        std::optional<kernels::HbmState> hbm;
        if (inputs != nullptr) hbm = *inputs;
        // The inputs in their storage formats (fp8 block scales at the algorithm's first pass's tiles);
        // the reference saw them exact, so the error includes storing them.
        if (hbm && s_.rounding) {
            const auto* def = result.runs[first].def;
            sim::FitStatus fit;
            const kernels::Tiling t = kernels::resolve_tiling(*def, up, s_.tiling, s_.hardware, &fit);
            if (fit.ok) {
                kernels::Quantisation q = s_.quant;
                q.seed = s_.seed;
                const auto rep = kernels::store_inputs(up, t, q, *hbm);
                if (head == 0) {
                    for (std::size_t k = first; k < first + passes_.size(); ++k) result.runs[k].quantisation = rep;
                }
            }
        }
        bool forward_ok = true;
        std::size_t slot = first;
        if (kernels::includes(s_.problem.passes, kernels::Pass::forward)) {
            check_cancel(c_);
            AlgorithmRun& run = result.runs[slot++];
            forward_ok = execute(run, head, hbm ? &*hbm : nullptr);
            if (forward_ok && hbm && ref) {
                record_error(run, (*hbm)[sim::Tensor::O], ref->O, nullptr);
                ++run.heads_checked;
            }
        } else if (backward && hbm) {
            // A backward alone still needs the forward's outputs (O and its statistics): run the
            // algorithm's forward for its numbers only, uncounted.
            const kernels::RunOptions o = options(true);
            const auto* fwd = kernels::find_definition(key, kernels::Pass::forward);
            forward_ok = fwd != nullptr && kernels::run(*fwd, kernels::unit_problem(*fwd, s_.problem),
                                                        s_.tiling, s_.hardware, &*hbm, o)
                                               .fit.ok;
        }
        if (!backward) return;
        check_cancel(c_);
        AlgorithmRun& run = result.runs[slot];
        if (!forward_ok && hbm) {
            run.numerics_note = "the forward pass does not fit in SRAM, so the backward has no O to start from";
            hbm.reset();
        }
        if (execute(run, head, hbm ? &*hbm : nullptr) && hbm && ref && ref->grads) {
            if (s_.rounding) {
                kernels::Quantisation q = s_.quant;
                q.seed = s_.seed;
                kernels::restore_gradients(q, *hbm);  // out of the rotated basis of incoherent processing
            }
            GradientErrors g = run.gradient_errors.value_or(GradientErrors{});
            record_error(run, (*hbm)[sim::Tensor::dQ], ref->grads->dQ, &g.dQ);
            record_error(run, (*hbm)[sim::Tensor::dK], ref->grads->dK, &g.dK);
            record_error(run, (*hbm)[sim::Tensor::dV], ref->grads->dV, &g.dV);
            run.gradient_errors = g;
            ++run.heads_checked;
        }
    }

    kernels::RunOptions options(bool numerics) const {
        kernels::RunOptions o;
        o.numerics = numerics;
        o.max_trace_events = c_.max_trace_events;
        o.extra_passes = s_.extra_passes;
        o.tick = &tick_;
        o.rounding = s_.rounding;
        return o;
    }

    // Runs `run.def` on one head; head 0 fills in the counts. Returns whether it fit.
    bool execute(AlgorithmRun& run, std::int64_t head, kernels::HbmState* hbm) {
        if (head > 0 && !run.fit.ok) return false;
        kernels::RunOptions o = options(hbm != nullptr);
        o.trace = c_.trace && head == 0;
        o.watch_block = head == 0 ? c_.watch_block : -1;
        o.record_accesses = head == 0 && l2_model_runs(s_);
        kernels::RunResult r = kernels::run(*run.def, kernels::unit_problem(*run.def, s_.problem), s_.tiling,
                                            s_.hardware, hbm, o);
        if (head == 0) fill_counts(run, r);
        ++done_;
        if (c_.progress) c_.progress(done_, total_);
        return r.fit.ok;
    }

    void fill_counts(AlgorithmRun& run, kernels::RunResult& r) const {
        // Counts are per unit (a head, or a packed KV group) and scale by the units: B*H or B*H_kv.
        const kernels::Problem p = kernels::unit_problem(*run.def, s_.problem);
        run.tiling = r.tiling;
        run.fit = r.fit;
        run.units = p.bh();
        run.query_heads_per_unit = kernels::query_heads_per_unit(*run.def, s_.problem);
        if (!r.fit.ok) return;
        if (!scaled_fits(r.counters, p.bh())) {
            throw ScenarioError("keys 'batch' x 'heads' = " + std::to_string(p.bh()) + ": the totals of " +
                                std::string(run.key()) +
                                " for that many heads overflow 64-bit counters; reduce batch, heads, "
                                "seq_len or head_dim");
        }
        run.per_head = r.counters;
        run.total = r.counters.scaled(p.bh());
        run.dram = sim::estimate_dram(s_.hardware, r.phases, p.bh(), kv_groups(p));
        time_run(run, r, s_, p, kv_groups(p));  // traffic, timeline and predicted time; drops the access logs
        run.phases = std::move(r.phases);
        run.closed_form = run.def->closed_form(p, r.tiling, s_.hardware, options(false));
        run.paper_total_elements = run.def->paper_elements(p, r.tiling);
        run.trace = std::shared_ptr<const sim::Trace>(std::move(r.trace));
        run.probe = std::move(r.probe);
    }

    const Scenario& s_;
    const RunControls& c_;
    std::vector<kernels::Pass> passes_;
    std::int64_t done_ = 0, total_ = 0;
    std::int64_t estimated_events_ = 0, events_ = 0;
    std::function<void(std::int64_t)> tick_;
};

}  // namespace

ScenarioResult run_scenario(const Scenario& given, const RunControls& controls) {
    validate(given);
    // The problem the kernels see: the mask built for the final sizes.
    Scenario s = given;
    s.problem = problem_of(given);
    const WorkEstimate work = estimate_work(s, controls);
    const std::int64_t avail = host_memory_available();
    if (s.numerics) {
        const std::int64_t need = numerics_need(s);
        if (avail >= 0 && need > avail * 8 / 10) {
            throw ScenarioError("numerics for seq_len = " + std::to_string(s.problem.N_kv) + " need about " +
                                gib(need) + " of host memory but " + gib(avail) +
                                " is available; set numerics=false (count-only: identical counts) or a "
                                "smaller seq_len");
        }
    }
    // Then time (the estimate and its override), then the model's own bookkeeping, which only a run
    // allowed to be long can make large.
    check_work(work, controls.max_work_seconds);
    if (avail >= 0 && work.host_bytes > static_cast<double>(avail) * 0.8) {
        const std::string trace = controls.trace ? ", or record fewer events (--trace-cap)" : "";
        throw ScenarioError("the model's bookkeeping for this run (distinct tiles per pass" +
                            std::string(controls.trace ? ", the trace" : "") + ") needs about " +
                            gib(static_cast<std::int64_t>(work.host_bytes)) + " of host memory but " +
                            gib(avail) +
                            " is available; reduce seq_len or give the tiles more room (sram_bytes, "
                            "block_rows, block_cols)" +
                            trace);
    }
    return Runner(s, controls, work.tile_steps * kEventsPerTileStep).run();
}

}  // namespace tilesim::scenarios
