// sim::annotate_trace: the timeline's times on a trace's events, for a GUI that plays a run back in
// time rather than in program order.
#include <algorithm>
#include <cmath>
#include <map>

#include "sim/program.h"
#include "sim/timeline.h"

namespace tilesim::sim {

namespace {

bool placed(Op op) {
    return op == Op::Load || op == Op::Store || op == Op::Compute;
}

// The events of one block as the work summary sees them (the same conversion as the hierarchy's).
BlockWork block_work(const Trace& trace, const std::vector<std::size_t>& events) {
    WorkRecorder rec;
    rec.begin_phase(1);
    rec.begin_block(0);
    for (std::size_t i : events) {
        const Event& e = trace.events()[i];
        if (e.op == Op::Compute) {
            rec.add(WorkKind::compute, e.tensor, e.flags, 0, e.mma_flops, e.exp_flops,
                    e.flops - e.mma_flops - e.exp_flops, e.sram_bytes);
        } else {
            rec.add(e.op == Op::Load ? WorkKind::load : WorkKind::store, e.tensor, e.flags, e.bytes, 0, 0, 0,
                    0);
        }
    }
    PhaseWork w = rec.finish();
    return w.classes.empty() ? BlockWork{} : std::move(w.classes[0]);
}

// Each event's (step, position in step), by the work summary's rule: a load after arithmetic or a
// store starts the next step.
std::vector<std::pair<std::int32_t, std::int32_t>> positions(const Trace& trace,
                                                             const std::vector<std::size_t>& events) {
    std::vector<std::pair<std::int32_t, std::int32_t>> out;
    std::int32_t step = 0, at = 0;
    bool body = false;
    for (std::size_t i : events) {
        const Op op = trace.events()[i].op;
        if (op == Op::Load && body) {
            ++step;
            at = 0;
            body = false;
        }
        if (op != Op::Load) body = true;
        out.emplace_back(step, at++);
    }
    return out;
}

// Places one block's events, the block starting at `t0`.
void place_block(Trace& trace, const std::vector<std::size_t>& events, const PhaseLaunch& L, const SmRates& r,
                 double t0) {
    const BlockWork block = block_work(trace, events);
    if (block.runs.empty()) return;
    const Program p =
        build_program(block, L.shape, 1, L.stages, shared_by(r, L.blocks_per_sm), block.steps() + 1);
    const SimResult s = run_program(p);
    const auto pos = positions(trace, events);
    // (step, position) -> event; every op lends its times to the events it stands for.
    std::map<std::pair<std::int32_t, std::int32_t>, std::size_t> at;
    for (std::size_t k = 0; k < events.size(); ++k) at[pos[k]] = events[k];
    // An event's own work per agent (at full rates): its agent is its largest part, and an op that
    // stands for several events (a softmax's max, exp and sum) is shared out in proportion to them.
    auto own = [&](const Event& e) {
        std::array<double, kSmAgentCount> w{};
        if (e.op == Op::Compute) {
            w[1] = static_cast<double>(e.mma_flops) / r.tensor_flops;
            w[2] = static_cast<double>(e.exp_flops) / r.sfu_ops;
            w[3] = static_cast<double>(e.flops - e.mma_flops - e.exp_flops) / r.fma_ops;
            if (e.mma_flops > 0) w[4] = static_cast<double>(e.sram_bytes) / r.smem_bytes;
        } else {
            w[0] = static_cast<double>(e.bytes) / r.copy_bytes;
        }
        return w;
    };
    for (std::size_t i = 0; i < p.ops.size(); ++i) {
        const SimOp& op = p.ops[i];
        std::vector<std::size_t> mine;
        std::vector<double> length;
        double total = 0;
        for (std::int32_t k = op.source; k < op.source + op.sources; ++k) {
            const auto it = at.find({op.step, k});
            if (it == at.end()) continue;
            const auto w = own(trace.events()[it->second]);
            mine.push_back(it->second);
            length.push_back(*std::max_element(w.begin(), w.end()));
            total += length.back();
        }
        double from = t0 + s.op_start[i];
        const double span = s.op_done[i] - s.op_start[i];
        for (std::size_t m = 0; m < mine.size(); ++m) {
            const double share =
                total > 0 ? span * length[m] / total : span / static_cast<double>(mine.size());
            Event& e = trace.event(mine[m]);
            // Split between warp groups (ping-pong): the event spans all of its ops.
            e.start_s = e.start_s < 0 ? from : std::min(e.start_s, from);
            e.end_s = std::max(e.end_s, from + share);
            const auto w = own(e);
            e.agent = static_cast<std::int8_t>(std::max_element(w.begin(), w.end()) - w.begin());
            from += share;
        }
    }
}

}  // namespace

void annotate_trace(Trace& trace, const HardwareSpec& hw, const std::vector<Phase>& phases,
                    const TimelineResult& t, const TimelineOptions& o) {
    // The trace's events of each (pass, block), in program order.
    std::vector<std::map<std::int64_t, std::vector<std::size_t>>> blocks(phases.size());
    for (std::size_t i = 0; i < trace.events().size(); ++i) {
        const Event& e = trace.events()[i];
        if (!placed(e.op) || e.phase < 0 || static_cast<std::size_t>(e.phase) >= phases.size()) continue;
        blocks[static_cast<std::size_t>(e.phase)][e.block].push_back(i);
    }
    double offset = 0;
    const std::int64_t heads = std::max<std::int64_t>(1, o.heads);
    for (std::size_t k = 0; k < phases.size() && k < t.phases.size(); ++k) {
        const PhaseTimeline& pt = t.phases[k];
        const PhaseLaunch L = plan_launch(hw, phases[k], o);
        SmRates r = sm_rates(hw, L.mma, o.dtype, phases[k].work.has_tensor_work());
        if (pt.copy_bytes_per_s > 0) r.copy_bytes = pt.copy_bytes_per_s;
        r.latency_s = pt.load_latency_s;
        // The wave a block runs in: its place in the grid over the slots, each wave the pass's
        // makespan over its number of waves.
        const double waves =
            std::max(1.0, std::ceil(static_cast<double>(L.blocks) / static_cast<double>(L.slots)));
        const double wave = pt.sm_time_s / waves;
        std::int64_t rank = 0;
        for (const auto& [block, events] : blocks[k]) {
            const std::int64_t place = o.order == GridOrder::head_major ? rank : rank * heads;
            place_block(trace, events, L, r, offset + static_cast<double>(place / L.slots) * wave);
            ++rank;
        }
        offset += pt.time_s;
    }
}

}  // namespace tilesim::sim
