#include "scenarios/timing.h"

#include <algorithm>

namespace tilesim::scenarios {

bool l2_model_runs(const Scenario& s) {
    return s.l2 && s.hardware.l2_bytes > 0;
}

sim::TimelineOptions timeline_options(const Scenario& s, const kernels::AlgorithmDef& def, std::string* note,
                                      std::int64_t units) {
    const kernels::ScheduleSupport& sup = def.schedules;
    sim::Schedule want = s.schedule.value_or(sup.preferred);
    if (!sup.supports(want)) {
        if (note != nullptr) {
            *note = "schedule " + std::string(sim::schedule_name(want)) + " is not one of " +
                    std::string(def.key) + " " + std::string(kernels::pass_name(def.pass)) + "'s (" +
                    sim::schedule_names(sup.supported) + "); ran " +
                    std::string(sim::schedule_name(sup.preferred));
        }
        want = sup.preferred;
    }
    sim::TimelineOptions o;
    o.schedule = want;
    o.sync_mma = s.mma.value_or(sup.sync_mma);
    o.force_mma = s.mma.has_value();
    o.stages = s.pipeline_stages;
    o.dtype = s.problem.dtype;
    o.heads = units;
    o.order = s.grid_order;
    return o;
}

double AlgorithmRun::tflops() const {
    return cost.total_s > 0 ? static_cast<double>(total.matmul_flops) / cost.total_s / 1e12 : 0.0;
}

sim::CostBreakdown cost_of(const sim::TimelineResult& t) {
    sim::CostBreakdown out;
    for (const auto& p : t.phases) {
        sim::PhaseCost c;
        c.name = p.name;
        auto busy = [&](sim::Agent a) { return p.busy[static_cast<std::size_t>(a)] * p.time_s; };
        c.hbm_s = busy(sim::Agent::dram);
        c.l2_s = busy(sim::Agent::l2);
        c.sram_s = busy(sim::Agent::smem);
        c.compute_s = busy(sim::Agent::tensor);
        c.occupancy = p.waves > 0 ? p.waves / std::ceil(p.waves) : 1.0;
        // The pass's thread blocks (all units), and how much of the HBM bandwidth it reaches: DRAM's
        // busy fraction (a decode pass with fewer blocks than SMs leaves most of it idle).
        c.thread_blocks = p.blocks;
        c.hbm_occupancy = std::min(1.0, p.busy[static_cast<std::size_t>(sim::Agent::dram)]);
        c.time_s = p.time_s;
        c.bound = std::string(sim::agent_name(p.bound));
        out.total_s += c.time_s;
        out.phases.push_back(c);
    }
    return out;
}

void time_run(AlgorithmRun& run, kernels::RunResult& r, const Scenario& s, const kernels::Problem& unit,
              const sim::HeadGroups& groups) {
    const auto& hw = s.hardware;
    const std::int64_t bh = unit.bh();
    sim::TimelineOptions o = timeline_options(s, *run.def, &run.schedule_note, bh);
    run.schedule = o.schedule;
    run.paper_cost = sim::predict(hw, r.phases, bh, groups);
    // Paper mode still needs a launch shape for the L2 replay: the definition's own kernel's.
    sim::TimelineOptions launch = o;
    if (launch.schedule == sim::Schedule::paper) launch.schedule = run.def->schedules.preferred;
    if (l2_model_runs(s)) {
        sim::L2ReplayInput in;
        for (const auto& ph : r.phases) {
            in.phases.push_back(&ph.accesses);
            in.slots.push_back(sim::plan_launch(hw, ph, launch).slots);
        }
        in.tensors = r.declared;
        in.dtype = s.problem.dtype;
        in.heads = bh;
        in.kv_group = unit.heads / std::max<std::int64_t>(1, unit.kv_heads);
        in.order = s.grid_order;
        in.config = {hw.l2_bytes / std::max<std::int64_t>(1, hw.l2_partitions), hw.l2_line_bytes,
                     hw.l2_sector_bytes, hw.l2_ways, std::max<std::int64_t>(1, hw.l2_partitions)};
        run.phase_traffic = sim::traffic_from_l2(r.phases, sim::replay_l2(in), bh);
        run.l2_model = true;
    } else {
        run.phase_traffic = sim::traffic_from_estimate(r.phases, run.dram, bh);
    }
    run.traffic = {};
    for (const auto& t : run.phase_traffic) run.traffic += t;
    for (auto& ph : r.phases) ph.accesses = {};  // the logs can be large; nothing reads them later
    if (o.schedule == sim::Schedule::paper) {
        run.timeline = {};
        run.cost = run.paper_cost;
        return;
    }
    std::vector<sim::PhaseMemory> memory;
    for (const auto& t : run.phase_traffic) memory.push_back(sim::memory_of(t));
    run.timeline = sim::simulate_timeline(hw, r.phases, memory, o);
    run.cost = cost_of(run.timeline);
    if (r.trace) sim::annotate_trace(*r.trace, hw, r.phases, run.timeline, o);
}

}  // namespace tilesim::scenarios
