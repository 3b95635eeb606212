// The timeline's JSON: the scenario keys it adds, and per run the three traffics, the achieved
// TFLOP/s and the timeline (agents, bound, passes); and its section of the terminal table.
#include <fmt/format.h>

#include <algorithm>

#include "scenarios/report.h"

namespace tilesim::scenarios {

using nlohmann::json;

void add_timeline_keys(json& j, const Scenario& s) {
    j["schedule"] = s.schedule ? std::string(sim::schedule_name(*s.schedule)) : std::string("auto");
    j["pipeline_stages"] = s.pipeline_stages;
    j["grid_order"] = std::string(sim::grid_order_name(s.grid_order));
    j["l2"] = s.l2;
    j["mma"] = s.mma ? std::string(sim::mma_name(*s.mma)) : std::string("auto");
}

json traffic_json(const sim::BoundaryTraffic& t) {
    return {{"sm_load_bytes", t.sm_load_bytes},         {"sm_store_bytes", t.sm_store_bytes},
            {"l2_read_bytes", t.l2_read_bytes},         {"l2_write_bytes", t.l2_write_bytes},
            {"l2_read_hit_bytes", t.l2_read_hit_bytes}, {"dram_read_bytes", t.dram_read_bytes},
            {"dram_write_bytes", t.dram_write_bytes}};
}

namespace {

json agents_json(const std::array<double, sim::kAgentCount>& busy) {
    json a = json::object();
    for (std::size_t k = 0; k < sim::kAgentCount; ++k)
        a[std::string(sim::agent_name(static_cast<sim::Agent>(k)))] = busy[k];
    return a;
}

json phase_json(const sim::PhaseTimeline& p, const sim::BoundaryTraffic& t) {
    return {
        {"name", p.name},
        {"predicted_ms", p.time_s * 1e3},
        {"sm_ms", p.sm_time_s * 1e3},
        {"schedule", p.streaming ? std::string("streaming") : std::string(sim::schedule_name(p.schedule))},
        {"mma", std::string(sim::mma_name(p.mma))},
        {"stages", p.stages},
        {"blocks", p.blocks},
        {"blocks_per_sm", p.blocks_per_sm},
        {"occupancy_limit", p.occupancy_limit},
        {"smem_per_block_bytes", p.smem_per_block_bytes},
        {"active_sms", p.active_sms},
        {"waves", p.waves},
        {"copy_gbps_per_sm", p.copy_bytes_per_s / 1e9},
        {"agents", agents_json(p.busy)},
        {"bound", std::string(sim::agent_name(p.bound))},
        {"note", p.note},
        {"traffic", traffic_json(t)}};
}

}  // namespace

void add_timeline_run(json& j, const AlgorithmRun& r) {
    j["traffic"] = traffic_json(r.traffic);
    j["traffic"]["dram_from"] = r.l2_model ? "l2 model" : "dram estimate";
    j["tflops"] = r.tflops();
    j["paper_predicted_ms"] = r.paper_cost.total_s * 1e3;
    json t{{"schedule", std::string(sim::schedule_name(r.schedule))}, {"note", r.schedule_note}};
    if (r.schedule == sim::Schedule::paper) {
        // The roofline's terms as the agents they stand for (fractions of its predicted time).
        std::array<double, sim::kAgentCount> busy{};
        const double total = r.paper_cost.total_s;
        for (const auto& ph : r.paper_cost.phases) {
            if (total <= 0) break;
            busy[static_cast<std::size_t>(sim::Agent::dram)] += ph.hbm_s / total;
            busy[static_cast<std::size_t>(sim::Agent::l2)] += ph.l2_s / total;
            busy[static_cast<std::size_t>(sim::Agent::smem)] += ph.sram_s / total;
            busy[static_cast<std::size_t>(sim::Agent::tensor)] += ph.compute_s / total;
        }
        t["agents"] = agents_json(busy);
        const auto best = std::max_element(busy.begin(), busy.end()) - busy.begin();
        t["bound"] = std::string(sim::agent_name(static_cast<sim::Agent>(best)));
        t["phases"] = json::array();
    } else {
        t["agents"] = agents_json(r.timeline.busy);
        t["bound"] = std::string(sim::agent_name(r.timeline.bound));
        json phases = json::array();
        for (std::size_t k = 0; k < r.timeline.phases.size(); ++k) {
            phases.push_back(phase_json(r.timeline.phases[k], r.phase_traffic.at(k)));
        }
        t["phases"] = phases;
    }
    j["timeline"] = t;
}

std::string timeline_table(const ScenarioResult& r) {
    std::string out = fmt::format(
        "\ntimeline (docs/timeline.md): predicted time from the schedule; traffic into the SMs, the L2's "
        "hits, DRAM "
        "({})\n",
        r.scenario.l2 && r.scenario.hardware.l2_bytes > 0 ? "L2 model" : "DRAM estimate");
    out += fmt::format("{:<28} {:<20} {:>16} {:>8} {:>10} {:>10} {:>10} {:>10} {:>8} {:>7}\n",
                       "algorithm, pass", "schedule", "blocks/SM", "waves", "into SMs", "L2 hits", "DRAM",
                       "predicted", "TFLOP/s", "bound");
    for (const auto& run : r.runs) {
        if (!run.fit.ok) continue;
        const std::string who = fmt::format("{} {}", run.key(), kernels::pass_name(run.pass()));
        std::string occupancy = "-", waves = "-";
        std::string sched(sim::schedule_name(run.schedule));
        if (!run.timeline.phases.empty()) {
            // The pass with the most work stands for the run (its longest).
            const auto& ph =
                *std::max_element(run.timeline.phases.begin(), run.timeline.phases.end(),
                                  [](const auto& a, const auto& b) { return a.time_s < b.time_s; });
            occupancy = fmt::format("{} ({})", ph.blocks_per_sm, ph.occupancy_limit);
            waves = fmt::format("{:.1f}", ph.waves);
            // The instruction of the passes with tensor-core work (streaming passes issue none).
            for (const auto& p : run.timeline.phases) {
                if (p.streaming) continue;
                sched += fmt::format(" {}", sim::mma_name(p.mma));
                break;
            }
        }
        const auto& t = run.traffic;
        const std::string bound = run.schedule == sim::Schedule::paper
                                      ? std::string("-")
                                      : std::string(sim::agent_name(run.timeline.bound));
        out += fmt::format("{:<28} {:<20} {:>16} {:>8} {:>10} {:>10} {:>10} {:>10} {:>8.0f} {:>7}\n", who,
                           sched, occupancy, waves,
                           human_bytes(static_cast<double>(t.sm_load_bytes + t.sm_store_bytes)),
                           human_bytes(static_cast<double>(t.l2_read_hit_bytes)),
                           human_bytes(static_cast<double>(t.dram_read_bytes + t.dram_write_bytes)),
                           human_seconds(run.cost.total_s), run.tflops(), bound);
        if (!run.schedule_note.empty()) out += fmt::format("  {}: {}\n", who, run.schedule_note);
        for (const auto& ph : run.timeline.phases) {
            if (!ph.note.empty()) out += fmt::format("  {} ({}): {}\n", who, ph.name, ph.note);
        }
    }
    return out;
}

}  // namespace tilesim::scenarios
