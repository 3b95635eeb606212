#include "sim/timeline.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <stdexcept>

#include "sim/program.h"

namespace tilesim::sim {

namespace {

constexpr std::size_t kCopy = 0;
// Steps of a run simulated before the rest is extrapolated from the last two periods: enough for a
// ring of up to 8 stages to reach its steady state.
constexpr std::int64_t kKeepSteps = 12;
constexpr std::size_t kMaxSpans = 4096;

double safe_div(double a, double b) {
    return b > 0 ? a / b : 0.0;
}

// Bytes one step of the block's ring holds: the largest step of a repeated run (the streamed tiles;
// a step done once, such as the first that loads Q_i, stays resident and is in the working set).
std::int64_t stage_bytes(const PhaseWork& w) {
    std::int64_t best = 0;
    for (std::size_t c = 0; c < w.classes.size(); ++c) {
        if (w.class_blocks[c] <= 0) continue;
        for (const auto& run : w.classes[c].runs) {
            if (run.repeat < 2) continue;
            std::int64_t b = 0;
            for (const auto& op : run.step.ops) b += op.kind == WorkKind::load ? op.bytes : 0;
            best = std::max(best, b);
        }
    }
    return best;
}

struct ClassTime {
    double duration = 0;                       // for `copies` blocks together on one SM
    std::array<double, kSmAgentCount> busy{};  // agent-seconds, all copies
};

// A block whose runs repeat as a group (FA1's: step (j, 0), then T_r - 1 steps (j, i), for every j),
// after a few runs of its own (a prologue): three copies of the group are simulated and the others
// take the steady period of the third.
struct Periodic {
    BlockWork kept;
    std::size_t start = 0;   // runs before the first group
    std::size_t length = 0;  // runs per group (0: no repeated group)
    std::int64_t extra = 0;  // groups left out
};

Periodic find_period(const BlockWork& w) {
    constexpr std::size_t kKeptGroups = 3;
    Periodic out;
    const std::size_t R = w.runs.size();
    for (std::size_t start = 0; start <= 8; ++start) {
        for (std::size_t len = 2; len <= 8; ++len) {
            if (R < start + (kKeptGroups + 1) * len) break;
            const auto first = w.runs.begin() + static_cast<std::ptrdiff_t>(start);
            std::size_t groups = 1;
            while (start + (groups + 1) * len <= R &&
                   std::equal(first, first + static_cast<std::ptrdiff_t>(len),
                              first + static_cast<std::ptrdiff_t>(groups * len))) {
                ++groups;
            }
            if (groups <= kKeptGroups) continue;
            out.start = start;
            out.length = len;
            out.extra = static_cast<std::int64_t>(groups - kKeptGroups);
            out.kept.runs.assign(w.runs.begin(), first + static_cast<std::ptrdiff_t>(kKeptGroups * len));
            out.kept.runs.insert(out.kept.runs.end(), first + static_cast<std::ptrdiff_t>(groups * len),
                                 w.runs.end());
            return out;
        }
    }
    out.kept = w;
    return out;
}

// One SM's lanes for a GUI: every op's part on every agent it uses, capped at kMaxSpans.
void fill_sample(const Program& p, const SimResult& s, std::int64_t copies, double duration,
                 SmSample* sample) {
    sample->lanes = p.lanes;
    sample->blocks = static_cast<std::int32_t>(copies);
    sample->simulated_s = s.makespan;
    sample->duration_s = duration;
    sample->spans.clear();
    for (std::size_t i = 0; i < p.ops.size() && sample->spans.size() < kMaxSpans; ++i) {
        for (std::size_t a = 0; a < kSmAgentCount; ++a) {
            if (p.ops[i].work[a] <= 0) continue;
            Span sp;
            sp.lane = p.ops[i].lane;
            sp.agent = static_cast<Agent>(a);
            sp.kind = p.ops[i].kind;
            sp.tensor = p.ops[i].tensor;
            sp.block = p.ops[i].copy;
            sp.step = p.ops[i].step;
            sp.issue_s = s.op_issue[i];
            sp.start_s = s.op_start[i];
            sp.end_s = s.part_end[i][a] > 0 ? s.part_end[i][a] : s.op_done[i];
            sample->spans.push_back(sp);
        }
    }
}

ClassTime simulate_class(const BlockWork& whole, const BlockShape& sh, std::int64_t copies,
                         std::int64_t stages, const SmRates& r, SmSample* sample) {
    const Periodic per = find_period(whole);
    const BlockWork& w = per.kept;
    const Program p = build_program(w, sh, 1, stages, shared_by(r, copies), kKeepSteps);
    const SimResult s = run_program(p);
    ClassTime t;
    t.duration = s.makespan;
    t.busy = s.busy;
    // Each step's end (its last op, any lane or copy) and one step's work per agent.
    std::vector<double> step_done(p.step_run.size(), 0);
    std::vector<std::array<double, kSmAgentCount>> step_work(p.step_run.size());
    for (std::size_t i = 0; i < p.ops.size(); ++i) {
        const auto k = static_cast<std::size_t>(p.ops[i].step);
        step_done[k] = std::max(step_done[k], s.op_done[i]);
        for (std::size_t a = 0; a < kSmAgentCount; ++a) step_work[k][a] += p.ops[i].work[a];
    }
    // A run cut to `kept` steps: the steps left out take the steady period of the last kept ones.
    std::vector<double> run_extra(p.run_repeat.size(), 0);
    std::vector<std::array<double, kSmAgentCount>> run_extra_busy(p.run_repeat.size());
    std::vector<std::size_t> run_last(p.run_repeat.size(), 0);
    std::size_t first = 0;
    for (std::size_t run = 0; run < p.run_repeat.size(); ++run) {
        const auto kept = static_cast<std::size_t>(p.run_kept[run]);
        const std::int64_t extra = p.run_repeat[run] - p.run_kept[run];
        run_last[run] = first + kept - 1;
        if (extra > 0 && kept >= 3) {
            const std::size_t last = first + kept - 1;
            const double period = std::max(0.0, (step_done[last] - step_done[last - 2]) / 2);
            run_extra[run] = static_cast<double>(extra) * period;
            for (std::size_t a = 0; a < kSmAgentCount; ++a)
                run_extra_busy[run][a] = static_cast<double>(extra) * step_work[last][a];
        }
        t.duration += run_extra[run];
        for (std::size_t a = 0; a < kSmAgentCount; ++a) t.busy[a] += run_extra_busy[run][a];
        first += kept;
    }
    // Groups of runs left out take the third group's length (its runs' own extrapolation included).
    if (per.extra > 0) {
        const std::size_t g2 = per.start + 2 * per.length, g3 = per.start + 3 * per.length;  // groups 3, 4
        double period = step_done[run_last[g3 - 1]] - step_done[run_last[g2 - 1]];
        std::array<double, kSmAgentCount> busy{};
        for (std::size_t run = g2; run < g3; ++run) {
            period += run_extra[run];
            for (std::size_t a = 0; a < kSmAgentCount; ++a) busy[a] += run_extra_busy[run][a];
        }
        for (std::size_t k = run_last[g2 - 1] + 1; k <= run_last[g3 - 1]; ++k) {
            for (std::size_t a = 0; a < kSmAgentCount; ++a) busy[a] += step_work[k][a];
        }
        t.duration += static_cast<double>(per.extra) * std::max(0.0, period);
        for (std::size_t a = 0; a < kSmAgentCount; ++a) t.busy[a] += static_cast<double>(per.extra) * busy[a];
    }
    if (sample != nullptr) fill_sample(p, s, copies, t.duration, sample);
    return t;
}

// The makespan of the blocks of all heads in grid order on `slots` slots, each block taking a free
// slot as the hardware's block scheduler hands them out. `per_head` holds the duration of each launched
// block of one head. A grid of many waves is scheduled exactly only for its last 4 to 5 waves: the
// whole waves before them fill the slots evenly (a greedy schedule keeps the slots within one block
// of each other), so the error is at most one block, and none when the blocks are equal.
double grid_time(const std::vector<double>& per_head, std::int64_t heads, GridOrder order,
                 std::int64_t slots) {
    const auto P = static_cast<std::int64_t>(per_head.size());
    const std::int64_t n = P * heads;
    if (n == 0) return 0;
    // prefix[b] = sum of the first b blocks of a head.
    std::vector<double> prefix(per_head.size() + 1, 0);
    for (std::size_t b = 0; b < per_head.size(); ++b) prefix[b + 1] = prefix[b] + per_head[b];
    // Sum of the durations of grid positions [0, x).
    auto upto = [&](std::int64_t x) {
        if (order == GridOrder::head_major) {
            return static_cast<double>(x / P) * prefix.back() + prefix[static_cast<std::size_t>(x % P)];
        }
        const std::int64_t b = x / heads;  // every head's block b, then block b + 1
        const double partial =
            b < P ? static_cast<double>(x % heads) * per_head[static_cast<std::size_t>(b)] : 0.0;
        return static_cast<double>(heads) * prefix[static_cast<std::size_t>(std::min(b, P))] + partial;
    };
    // The bulk is whole waves, so that equal blocks keep their wave quantisation exactly.
    const std::int64_t S = std::max<std::int64_t>(1, slots);
    const std::int64_t bulk = std::max<std::int64_t>(0, (n - 4 * S) / S * S);
    std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
    const double start = bulk > 0 ? upto(bulk) / static_cast<double>(S) : 0.0;
    for (std::int64_t s = 0; s < S; ++s) free_at.push(start);
    double end = start;
    for (std::int64_t x = bulk; x < n; ++x) {
        const double t = free_at.top() + (upto(x + 1) - upto(x));
        free_at.pop();
        free_at.push(t);
        end = std::max(end, t);
    }
    return end;
}

// The pass's stages (SRAM slots) and shared memory per block: the shared-memory part of the working
// set (the tiles loads fill; the accumulators live in registers), plus one streamed step per extra
// stage of a ring; stages are cut until that fits the SRAM a block may use. Ping-pong and pipelining
// need two (the next K_j arrives while V_j is still in use), even where that overflows: a note says so.
std::int64_t fit_stages(const HardwareSpec& hw, const Phase& ph, const BlockShape& sh, std::int64_t want,
                        std::int64_t* smem, std::string* note) {
    const std::int64_t base =
        ph.smem_bytes + ph.register_bytes > 0 ? ph.smem_bytes : ph.counters.sram_peak_bytes;
    const bool ring = sh.ring || sh.pipelined;
    const std::int64_t least = sh.pingpong || sh.pipelined ? 2 : 1;
    std::int64_t s = ring ? std::max(least, want) : 1;
    const std::int64_t step = stage_bytes(ph.work);
    while (s > least && base + (s - 1) * step > hw.sram_bytes) --s;
    *smem = base + (s - 1) * step;
    if (ring && s < want) {
        *note = "stages cut from " + std::to_string(want) + " to " + std::to_string(s) + " to fit " +
                std::to_string(hw.sram_bytes) + " B of SRAM";
    }
    if (*smem > hw.sram_bytes) {
        *note = std::to_string(s) + " stages need " + std::to_string(*smem) +
                " B of shared memory, more than the " + std::to_string(hw.sram_bytes) + " B a block may use";
    }
    return s;
}

}  // namespace

std::string_view agent_name(Agent a) {
    switch (a) {
        case Agent::copy:
            return "copy";
        case Agent::tensor:
            return "tensor";
        case Agent::sfu:
            return "sfu";
        case Agent::fma:
            return "fma";
        case Agent::smem:
            return "smem";
        case Agent::l2:
            return "l2";
        case Agent::dram:
            return "dram";
    }
    return "?";
}

Occupancy occupancy(const HardwareSpec& hw, std::int64_t smem_bytes, std::int64_t threads,
                    std::int64_t registers) {
    Occupancy o;
    o.blocks_per_sm = std::max<std::int64_t>(1, hw.max_blocks_per_sm);
    o.limit = "blocks per SM";
    auto limit = [&](std::int64_t capacity, std::int64_t need, const char* what) {
        if (need <= 0) return;
        const std::int64_t fit = capacity / need;
        if (fit < o.blocks_per_sm) {
            o.blocks_per_sm = fit;
            o.limit = what;
        }
    };
    limit(hw.smem_per_sm_bytes > 0 ? hw.smem_per_sm_bytes : hw.sram_bytes, smem_bytes, "shared memory");
    limit(hw.regs_per_sm, registers, "registers");
    limit(hw.max_threads_per_sm, threads, "threads");
    o.blocks_per_sm = std::max<std::int64_t>(1, o.blocks_per_sm);  // a block that fits SRAM always runs
    return o;
}

PhaseLaunch plan_launch(const HardwareSpec& hw, const Phase& ph, const TimelineOptions& o) {
    PhaseLaunch L;
    const PhaseWork& w = ph.work;
    L.shape = block_shape(o.schedule, w.has_tensor_work(), ph.sync_warps);
    L.mma = o.force_mma || !schedule_uses_wgmma(o.schedule) || hw.wgmma_flops_per_s <= 0 ? o.sync_mma
                                                                                         : MmaKind::wgmma;
    L.stages = fit_stages(hw, ph, L.shape, o.stages, &L.smem_per_block_bytes, &L.note);
    std::int64_t per_head = 0;
    for (std::size_t c = 0; c < w.classes.size(); ++c)
        per_head += std::max<std::int64_t>(0, w.class_blocks[c]);
    L.blocks = per_head * std::max<std::int64_t>(1, o.heads);
    const Occupancy occ = occupancy(hw, L.smem_per_block_bytes, L.shape.threads, L.shape.registers);
    const std::int64_t sms = std::max<std::int64_t>(1, hw.sm_count);
    L.blocks_per_sm = occ.blocks_per_sm;
    L.occupancy_limit = occ.limit;
    if (L.blocks < sms * L.blocks_per_sm) {  // a small grid: fewer blocks per SM, or idle SMs
        L.blocks_per_sm = std::max<std::int64_t>(1, (L.blocks + sms - 1) / sms);
        L.occupancy_limit = "grid";
    }
    L.active_sms = std::min(sms, L.blocks);
    L.slots = sms * L.blocks_per_sm;
    return L;
}

double grid_makespan(const std::vector<double>& durations, std::int64_t slots) {
    std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
    for (std::int64_t s = 0; s < std::max<std::int64_t>(1, slots); ++s) free_at.push(0.0);
    double end = 0;
    for (double d : durations) {
        const double t = free_at.top() + d;
        free_at.pop();
        free_at.push(t);
        end = std::max(end, t);
    }
    return end;
}

namespace {

// Simulates each class of block and the grid, iterating each copy engine's share of the device's
// bandwidth for the SMs' traffic (`device`) on the fraction of the time the copy engines are busy.
// Sets pt.sm_time_s, pt.copy_bytes_per_s and the sample; returns the classes' times.
std::vector<ClassTime> schedule_classes(const PhaseWork& w, const BlockShape& sh, const TimelineOptions& o,
                                        double device, double port, SmRates r, PhaseTimeline& pt) {
    const std::int64_t heads = std::max<std::int64_t>(1, o.heads);
    // The most common class is the sample SM's.
    std::size_t typical = 0;
    for (std::size_t c = 0; c < w.classes.size(); ++c) {
        if (w.class_blocks[c] > w.class_blocks[typical]) typical = c;
    }
    std::vector<ClassTime> times(w.classes.size());
    double duty = 1.0;
    for (int iter = 0; iter < 3; ++iter) {
        // Each copy engine's share of the device's bandwidth, when the SMs copy `duty` of the time.
        r.copy_bytes = std::min(port, device / (static_cast<double>(pt.active_sms) * std::max(duty, 0.05)));
        for (std::size_t c = 0; c < w.classes.size(); ++c) {
            if (w.class_blocks[c] <= 0) continue;
            times[c] = simulate_class(w.classes[c], sh, pt.blocks_per_sm, pt.stages, r,
                                      o.keep_sample && c == typical ? &pt.sample : nullptr);
        }
        std::vector<double> per_block;
        for (std::int32_t c : w.block_class) {
            if (c >= 0 && w.class_blocks[static_cast<std::size_t>(c)] > 0)
                per_block.push_back(times[static_cast<std::size_t>(c)].duration);
        }
        pt.sm_time_s = grid_time(per_block, heads, o.order, pt.slots);
        double copy_busy = 0;
        for (std::size_t c = 0; c < w.classes.size(); ++c) {
            if (w.class_blocks[c] <= 0) continue;
            copy_busy += static_cast<double>(w.class_blocks[c] * heads) * times[c].busy[kCopy] /
                         static_cast<double>(pt.blocks_per_sm);
        }
        const double new_duty =
            std::min(1.0, safe_div(copy_busy, static_cast<double>(pt.active_sms) * pt.sm_time_s));
        // Once the port, not the device's share, sets the rate, the duty no longer matters.
        if (r.copy_bytes >= port || std::abs(new_duty - duty) < 0.02) break;
        duty = new_duty;
    }
    pt.copy_bytes_per_s = r.copy_bytes;
    return times;
}

PhaseTimeline simulate_phase(const HardwareSpec& hw, const Phase& ph, const PhaseMemory& mem,
                             const TimelineOptions& o) {
    PhaseTimeline pt;
    pt.name = ph.name;
    const PhaseWork& w = ph.work;
    const PhaseLaunch L = plan_launch(hw, ph, o);
    const BlockShape& sh = L.shape;
    const std::int64_t heads = std::max<std::int64_t>(1, o.heads);
    const std::int64_t sms = std::max<std::int64_t>(1, hw.sm_count);
    pt.schedule = o.schedule;
    pt.streaming = sh.streaming;
    pt.mma = L.mma;
    pt.stages = L.stages;
    pt.smem_per_block_bytes = L.smem_per_block_bytes;
    pt.note = L.note;
    pt.blocks = L.blocks;
    if (pt.blocks == 0) return pt;
    pt.blocks_per_sm = L.blocks_per_sm;
    pt.occupancy_limit = L.occupancy_limit;
    pt.active_sms = L.active_sms;
    pt.slots = L.slots;
    pt.waves = static_cast<double>(pt.blocks) / static_cast<double>(pt.slots);

    SmRates r = sm_rates(hw, pt.mma, o.dtype, w.has_tensor_work());
    // A load waits the L2's latency when it hits and DRAM's when it misses: the pass's mix.
    const double miss =
        std::min(1.0, safe_div(static_cast<double>(mem.dram_bytes), static_cast<double>(mem.sm_bytes)));
    if (hw.l2_bytes > 0 && mem.sm_bytes > 0) {
        r.latency_s = hw.l2_latency_s + miss * (hw.memory_latency_s - hw.l2_latency_s);
    }
    pt.load_latency_s = r.latency_s;
    const double port = r.copy_bytes;
    const double dram_rate = hw.hbm_bytes_per_s * hw.dram_achieved;
    const double l2_rate = hw.l2_bytes > 0 ? hw.l2_bytes_per_s * hw.l2_achieved : 0.0;
    // The device's rate for the SMs' traffic: the L2's, or DRAM's over the share of it that misses.
    const double dram_frac = safe_div(static_cast<double>(mem.dram_bytes), static_cast<double>(mem.sm_bytes));
    double device = dram_frac > 0 ? dram_rate / dram_frac : 1e30;
    if (l2_rate > 0) device = std::min(device, l2_rate);

    const std::vector<ClassTime> times = schedule_classes(w, sh, o, device, port, r, pt);

    const double dram_s = safe_div(static_cast<double>(mem.dram_bytes), dram_rate);
    const double l2_s = safe_div(static_cast<double>(mem.l2_bytes), l2_rate);
    pt.time_s = std::max({pt.sm_time_s, dram_s, l2_s});
    for (std::size_t c = 0; c < w.classes.size(); ++c) {
        if (w.class_blocks[c] <= 0) continue;
        for (std::size_t a = 0; a < kSmAgentCount; ++a) {
            pt.busy[a] += static_cast<double>(w.class_blocks[c] * heads) * times[c].busy[a] /
                          static_cast<double>(pt.blocks_per_sm);
        }
    }
    for (std::size_t a = 0; a < kSmAgentCount; ++a)
        pt.busy[a] = safe_div(pt.busy[a], static_cast<double>(sms) * pt.time_s);
    pt.busy[static_cast<std::size_t>(Agent::l2)] = safe_div(l2_s, pt.time_s);
    pt.busy[static_cast<std::size_t>(Agent::dram)] = safe_div(dram_s, pt.time_s);
    pt.bound = static_cast<Agent>(std::max_element(pt.busy.begin(), pt.busy.end()) - pt.busy.begin());
    return pt;
}

}  // namespace

TimelineResult simulate_timeline(const HardwareSpec& hw, const std::vector<Phase>& phases,
                                 const std::vector<PhaseMemory>& memory, const TimelineOptions& o) {
    if (memory.size() != phases.size())
        throw std::invalid_argument("simulate_timeline: one PhaseMemory per phase");
    TimelineResult out;
    for (std::size_t k = 0; k < phases.size(); ++k) {
        out.phases.push_back(simulate_phase(hw, phases[k], memory[k], o));
        out.total_s += out.phases.back().time_s;
    }
    for (const auto& p : out.phases) {
        for (std::size_t a = 0; a < kAgentCount; ++a)
            out.busy[a] += safe_div(p.busy[a] * p.time_s, out.total_s);
    }
    out.bound = static_cast<Agent>(std::max_element(out.busy.begin(), out.busy.end()) - out.busy.begin());
    return out;
}

}  // namespace tilesim::sim
