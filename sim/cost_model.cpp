#include "sim/cost_model.h"

#include <algorithm>
#include <cmath>

namespace tilesim::sim {

namespace {
double safe_div(double a, double b) {
    return b > 0 ? a / b : 0.0;
}
}  // namespace

CostBreakdown predict(const HardwareSpec& hw, const std::vector<Phase>& phases, std::int64_t heads,
                      const HeadGroups& groups) {
    CostBreakdown out;
    const DramEstimate dram = estimate_dram(hw, phases, heads, groups);
    for (std::size_t k = 0; k < phases.size(); ++k) {
        const Phase& ph = phases[k];
        const Counters c = ph.counters.scaled(heads);
        PhaseCost pc;
        pc.name = ph.name;
        // Wave quantisation: units thread blocks on sm_count SMs take ceil(units / SMs) waves.
        const double units = static_cast<double>(ph.parallel_units) * static_cast<double>(heads);
        const double sms = static_cast<double>(std::max<std::int64_t>(1, hw.sm_count));
        pc.occupancy = units / (std::ceil(units / sms) * sms);
        // An SM draws at most its share of the HBM bandwidth: fewer thread blocks than SMs (a decode
        // step, one thread block per head) cannot reach the peak. More blocks than SMs do: the next
        // ones start as earlier ones finish, and the memory system stays busy.
        pc.thread_blocks = ph.parallel_units * heads;
        pc.hbm_occupancy = std::min(1.0, units / sms);
        // DRAM moves what the L2 does not absorb (estimate_dram; all of the model's HBM traffic when
        // there is no L2). With an L2, every off-chip request of the SMs passes through it: the
        // model's HBM <-> SRAM moves and its L2 -> SRAM loads.
        pc.hbm_s = safe_div(static_cast<double>(dram.phases[k].read_bytes + dram.phases[k].write_bytes),
                            hw.hbm_bytes_per_s * pc.hbm_occupancy);
        if (hw.l2_bytes > 0) {
            pc.l2_s =
                safe_div(static_cast<double>(c.at(Level::HBM).total_bytes() + c.at(Level::L2).total_bytes()),
                         hw.l2_bytes_per_s);
        }
        // On-chip resources scale with the SMs in use; HBM bandwidth is shared by all of them.
        pc.sram_s = safe_div(static_cast<double>(c.at(Level::SRAM).total_bytes()), hw.sram_bytes_per_s) /
                    pc.occupancy;
        pc.compute_s = (safe_div(static_cast<double>(c.matmul_flops), hw.matmul_flops_per_s) +
                        safe_div(static_cast<double>(c.other_flops), hw.vector_flops_per_s)) /
                       pc.occupancy;
        pc.time_s = pc.hbm_s;
        pc.bound = "HBM";
        for (auto [t, name] : {std::pair{pc.l2_s, "L2"}, {pc.sram_s, "SRAM"}, {pc.compute_s, "compute"}}) {
            if (t > pc.time_s) {
                pc.time_s = t;
                pc.bound = name;
            }
        }
        out.total_s += pc.time_s;
        out.phases.push_back(pc);
    }
    return out;
}

DramEstimate estimate_dram(const HardwareSpec& hw, const std::vector<Phase>& phases, std::int64_t heads,
                           const HeadGroups& groups) {
    DramEstimate out;
    const std::int64_t g = groups.size > 1 && heads % groups.size == 0 ? groups.size : 1;
    for (const auto& ph : phases) {
        const auto hbm = static_cast<std::size_t>(Level::HBM);
        const std::int64_t sms = std::max<std::int64_t>(1, hw.sm_count);
        PhaseDram pd;
        pd.heads_in_flight = std::min(heads, (sms + ph.parallel_units - 1) / ph.parallel_units);
        // A KV group's heads in flight together fetch its shared tiles once; a group wider than the
        // heads in flight fetches them once per wave of its heads.
        pd.group_fetches = (g + std::min(g, pd.heads_in_flight) - 1) / std::min(g, pd.heads_in_flight);
        const std::int64_t groups_in_flight = (pd.heads_in_flight + g - 1) / g;
        std::int64_t footprint = 0;
        for (std::size_t t = 0; t < kTensorCount; ++t) {
            const Traffic& all = ph.counters.by_tensor[hbm][t];
            const Traffic& u = ph.hbm_unique[t];
            if (all.read_bytes > u.read_bytes || all.write_bytes > u.write_bytes) {
                // Reads and writes of a tensor overlap; a shared tensor is held once per group.
                const std::int64_t bytes = std::max(u.read_bytes, u.write_bytes);
                footprint += bytes * (g > 1 && groups.shared[t] ? groups_in_flight : pd.heads_in_flight);
            }
        }
        pd.reuse_footprint_bytes = footprint;
        pd.reuse_fits_l2 = hw.l2_bytes > 0 && pd.reuse_footprint_bytes <= hw.l2_bytes;
        for (std::size_t t = 0; t < kTensorCount; ++t) {
            const Traffic& all = ph.counters.by_tensor[hbm][t];
            const Traffic& u = ph.hbm_unique[t];
            const std::int64_t r = pd.reuse_fits_l2 ? u.read_bytes : all.read_bytes;
            const std::int64_t w = pd.reuse_fits_l2 ? u.write_bytes : all.write_bytes;
            pd.read_bytes += g > 1 && groups.shared[t] ? r * pd.group_fetches * (heads / g) : r * heads;
            pd.write_bytes += w * heads;
        }
        out.read_bytes += pd.read_bytes;
        out.write_bytes += pd.write_bytes;
        out.phases.push_back(pd);
    }
    return out;
}

double event_seconds(const HardwareSpec& hw, const Event& e) {
    switch (e.op) {
        case Op::Load:
        case Op::Store: {
            const Level off_chip = e.op == Op::Load ? e.from : e.to;
            const double bw = off_chip == Level::L2 ? hw.l2_bytes_per_s : hw.hbm_bytes_per_s;
            return safe_div(static_cast<double>(e.bytes), bw);
        }
        case Op::Compute:
            return safe_div(static_cast<double>(e.flops), hw.matmul_flops_per_s);
        case Op::Phase:
        case Op::Allocate:
        case Op::Release:
            return 0.0;
    }
    return 0.0;
}

}  // namespace tilesim::sim
