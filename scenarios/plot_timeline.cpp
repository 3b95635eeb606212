// `tilesim plot roofline` and `tilesim plot timeline` (plot_figures.h).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "kernels/registry.h"
#include "scenarios/plot_figures.h"
#include "scenarios/plot_text.h"
#include "scenarios/roofline.h"
#include "scenarios/trace_export.h"

namespace tilesim::scenarios {

using plot::Series;

namespace {

// A run on the roofline: a marker at (FLOPs / HBM bytes, FLOPs / predicted time), and a dotted drop
// up to the roof at its intensity (not in the legend).
struct RoofPoint {
    Series marker, drop;
    bool above_roof = false;
};
RoofPoint roof_point(const AlgorithmRun& run, const RooflinePoint& pt, const Roof& roof) {
    const double ai = pt.intensity, achieved = pt.achieved_flops_per_s;
    const int idx = std::max(0, kernels::key_index(run.key()));
    RoofPoint rp;
    Series& p = rp.marker;
    p.label = fmt::format("{}: {} FLOP/B", run_title(run), text::count(ai));
    p.key = run_title(run);
    p.role = "run";
    p.color = plot::palette(idx);
    p.marker = plot::marker_for(idx);
    p.hollow = run.pass() == kernels::Pass::backward;
    p.line = false;
    p.x = {ai};
    p.y = {achieved};
    Series& d = rp.drop;
    d.key = p.key;
    d.role = "attainable";
    d.in_legend = false;
    d.color = p.color;
    d.width = 2;
    d.dash = {2, 4};
    d.x = {ai, ai};
    d.y = {achieved, roof.attainable(ai)};
    rp.above_roof = achieved > roof.attainable(ai) * (1 + 1e-9);
    return rp;
}

// min(rate, intensity x bandwidth) over [lo, hi], bending at rate / bandwidth.
Series roof_series(std::string label, std::string key, double rate, double bw, double lo, double hi) {
    Series r;
    r.label = std::move(label);
    r.key = std::move(key);
    r.role = "roof";
    r.legend_rank = 1;
    const double bend = std::clamp(rate / bw, lo, hi);
    r.x = {lo, bend, hi};
    r.y = {std::min(rate, lo * bw), std::min(rate, bend * bw), rate};
    return r;
}

}  // namespace

plot::LogLogChart roofline_chart(const Scenario& base, const PlotOptions& o) {
    Scenario s = base;
    s.numerics = false;
    const ScenarioResult r = run_scenario(s, {});
    const auto& hw = s.hardware;
    const Roof rf = roof_of(hw, s.hardware_name);
    const double peak = rf.peak_flops_per_s, vec = hw.vector_flops_per_s, bw = rf.hbm_bytes_per_s;
    const double ridge = rf.ridge();

    plot::LogLogChart ch;
    ch.width = o.width;
    ch.height = o.height;
    ch.title = "Roofline on " + s.hardware_name + ": where each algorithm's arithmetic intensity puts it";
    ch.subtitle = text::problem_line(s) + "; count-only runs";
    ch.x_label = "arithmetic intensity (FLOP per HBM byte)";
    ch.y_label = "FLOP/s";
    ch.x_ticks = [](double v) { return text::count(v); };
    ch.y_ticks = [](double v) { return text::si(v, "FLOP/s", true); };

    std::vector<RoofPoint> points;
    double lo = ridge, hi = ridge;
    int misfits = 0;
    bool above_roof = false;
    for (const auto& run : r.runs) {
        misfits += run.fit.ok ? 0 : 1;
        const auto pt = roofline_point(run);
        if (!pt) continue;
        points.push_back(roof_point(run, *pt, rf));
        lo = std::min(lo, points.back().marker.x[0]);
        hi = std::max(hi, points.back().marker.x[0]);
        above_roof = above_roof || points.back().above_roof;
    }
    lo /= 4;
    hi *= 4;
    Series roof =
        roof_series(fmt::format("roof: {}, {}", text::si(peak, "FLOP/s", true), text::si(bw, "B/s", true)),
                    "roof", peak, bw, lo, hi);
    roof.color = plot::hex(plot::kInk);
    roof.width = 3.5;
    ch.series.push_back(roof);
    if (vec > 0) {
        Series v = roof_series(fmt::format("fp32 roof: {} (non-matmul)", text::si(vec, "FLOP/s", true)),
                               "vector-roof", vec, bw, lo, hi);
        v.color = plot::hex(0x888888);
        v.width = 2.5;
        v.dash = {10, 6};
        ch.series.push_back(v);
    }
    for (const auto& p : points) ch.series.push_back(p.drop);
    for (const auto& p : points) ch.series.push_back(p.marker);
    ch.vlines.push_back(
        {ridge, "ridge point " + text::count(ridge) + " FLOP/B", plot::hex(plot::kMuted), {6, 5}});
    ch.notes.push_back(
        "Intensity = the run's FLOPs / its HBM bytes (the paper's model: every tile move between HBM and "
        "SRAM). "
        "Markers: FLOPs / predicted time (the scheduled timeline; with schedule = paper sim::predict, per "
        "kernel pass the slowest of HBM, L2, SRAM and compute); hollow: a backward. Dotted: up to what the "
        "roof allows at that intensity.");
    if (above_roof) {
        ch.notes.push_back(
            "A marker above the roof: the predicted time charges DRAM only what the L2 does not absorb (the "
            "DRAM "
            "estimate), less than the HBM bytes the intensity counts.");
    }
    if (misfits > 0)
        ch.notes.push_back(fmt::format("{} run(s) left out: their blocks do not fit in SRAM.", misfits));
    return ch;
}

namespace {

struct TimeUnit {
    double per_s;
    const char* name;
};
TimeUnit time_unit(double max_s) {
    if (max_s < 2e-6) return {1e9, "ns"};
    if (max_s < 2e-3) return {1e6, "µs"};
    return {1e3, "ms"};
}

// A run's lanes. Serial clock: a track of trace_export.h per lane (memory levels, compute kinds).
// Scheduled clock: one lane per agent (its events' own agents), blocks running at once drawn over one
// another. Lanes are numbered so both kinds sort in one list; only those the run uses are drawn.
constexpr int kAgentLane = 8;  // lane ids from here: kAgentLane + sim::Agent
const std::vector<int>& lane_ids(bool scheduled) {
    static const std::vector<int> serial = {static_cast<int>(Track::hbm), static_cast<int>(Track::l2),
                                            static_cast<int>(Track::matmul), static_cast<int>(Track::vector)};
    static const std::vector<int> agents = [] {
        std::vector<int> a;
        for (std::size_t k = 0; k < sim::kAgentCount; ++k) a.push_back(kAgentLane + static_cast<int>(k));
        return a;
    }();
    return scheduled ? agents : serial;
}
int lane_id(const sim::Event& e, bool scheduled) {
    return scheduled ? kAgentLane + e.agent : static_cast<int>(track_of(e));
}
// Compact lanes, when one lane per track would be too thin to label at slide size: memory and compute.
bool memory_lane(int id) {
    return id == static_cast<int>(Track::hbm) || id == static_cast<int>(Track::l2) ||
           id >= kAgentLane + static_cast<int>(sim::Agent::l2) || id == kAgentLane;
}
std::string lane_label(int id, bool compact) {
    if (compact) return memory_lane(id) ? "memory" : "compute";
    if (id >= kAgentLane) return std::string(sim::agent_name(static_cast<sim::Agent>(id - kAgentLane)));
    switch (static_cast<Track>(id)) {
        case Track::hbm:
            return "HBM";
        case Track::l2:
            return "L2";
        case Track::matmul:
            return "matmul";
        default:
            return "other compute";
    }
}

bool timed_event(const sim::Event& e, bool scheduled) {
    return e.op != sim::Op::Phase && e.op != sim::Op::Allocate && e.op != sim::Op::Release &&
           (!scheduled || e.agent >= 0);
}
bool uses(const sim::Trace& t, int lane, bool scheduled) {
    return std::any_of(t.events().begin(), t.events().end(), [&](const sim::Event& e) {
        return timed_event(e, scheduled) && lane_id(e, scheduled) == lane;
    });
}

// The colour of each kind of event (Okabe & Ito), in legend order.
const std::vector<std::pair<EventKind, unsigned>>& kind_colors() {
    static const std::vector<std::pair<EventKind, unsigned>> k = {
        {EventKind::hbm_load, 0x0072B2}, {EventKind::hbm_store, 0xD55E00}, {EventKind::hbm_atomic, 0xCC79A7},
        {EventKind::l2_load, 0x56B4E9},  {EventKind::matmul, 0x009E73},    {EventKind::vector, 0xE69F00}};
    return k;
}

// One run as a group: its lanes (a track each, or memory and compute when compact), a bar per event
// that takes time (kind = its index in kind_colors()), a band per kernel pass.
void add_run(plot::GanttChart& ch, const AlgorithmRun& run, const TraceClock& clock, const TimeUnit& unit,
             bool compact) {
    const int group = static_cast<int>(ch.group_titles.size());
    ch.group_titles.push_back(fmt::format("{}: {} ({:.3g} {})", run_title(run), run.def->name,
                                          clock.total_s * unit.per_s, unit.name));
    std::vector<int> lane_of(kAgentLane + sim::kAgentCount, -1);
    std::vector<std::pair<std::string, int>> made;  // this run's lanes by label
    for (int id : lane_ids(clock.scheduled)) {
        if (!uses(*run.trace, id, clock.scheduled)) continue;
        const std::string label = lane_label(id, compact);
        auto it = std::find_if(made.begin(), made.end(), [&](const auto& m) { return m.first == label; });
        if (it == made.end()) {
            made.emplace_back(label, static_cast<int>(ch.lane_labels.size()));
            ch.lane_labels.push_back(label);
            ch.lane_group.push_back(group);
            it = made.end() - 1;
        }
        lane_of[static_cast<std::size_t>(id)] = it->second;
    }
    std::vector<int> kind_index(kEventKindCount, -1);
    for (std::size_t k = 0; k < kind_colors().size(); ++k)
        kind_index[static_cast<std::size_t>(kind_colors()[k].first)] = static_cast<int>(k);
    double phase_start = -1;
    std::string phase_label;
    const auto& ev = run.trace->events();
    for (std::size_t k = 0; k < ev.size(); ++k) {
        const auto& e = ev[k];
        const double t0 = clock.spans[k].start_s * unit.per_s, t1 = t0 + clock.spans[k].dur_s * unit.per_s;
        if (e.op == sim::Op::Phase) {
            if (phase_start >= 0) ch.bands.push_back({group, phase_start, t0, phase_label});
            phase_start = t0;
            const auto& phases = run.trace->phases();
            phase_label = e.phase >= 0 && static_cast<std::size_t>(e.phase) < phases.size()
                              ? phases[static_cast<std::size_t>(e.phase)].name
                              : std::string();
            // "standard: S = QK^T" under the run's own title: the key is said already.
            const std::string prefix = std::string(run.key()) + ": ";
            if (phase_label.rfind(prefix, 0) == 0) phase_label.erase(0, prefix.size());
            continue;
        }
        if (!timed_event(e, clock.scheduled)) continue;
        const int lane = lane_of[static_cast<std::size_t>(lane_id(e, clock.scheduled))];
        const int kind = kind_index[static_cast<std::size_t>(kind_of(e))];
        if (lane >= 0 && kind >= 0 && t1 > t0) ch.bars.push_back({lane, t0, t1, kind});
    }
    if (phase_start >= 0) ch.bands.push_back({group, phase_start, clock.total_s * unit.per_s, phase_label});
}

}  // namespace

plot::GanttChart timeline_chart(const ScenarioResult& r, const PlotOptions& o) {
    std::vector<TraceClock> clocks;
    double max_s = 0, full_lanes = 0, groups = 0;
    for (const auto& run : r.runs) {
        clocks.push_back(run.trace ? run_clock(run, r.scenario.hardware) : TraceClock{});
        max_s = std::max(max_s, clocks.back().total_s);
        if (!run.trace) continue;
        ++groups;
        for (int id : lane_ids(clocks.back().scheduled))
            full_lanes += uses(*run.trace, id, clocks.back().scheduled) ? 1 : 0;
    }
    const bool steps =
        std::any_of(clocks.begin(), clocks.end(), [](const TraceClock& c) { return c.step_index; });
    const TimeUnit unit = steps ? TimeUnit{1e6, "steps"} : time_unit(max_s);
    // One lane per track a run uses, unless that leaves lanes under ~22 px (forward+backward of three
    // algorithms): then two per run, the colours still telling the kinds apart.
    const bool compact = full_lanes > 0 && (o.height - 300 - groups * 30) / full_lanes < 22;

    plot::GanttChart ch;
    ch.width = o.width;
    ch.height = o.height;
    ch.title = "Timeline of one head (head 0): " + r.scenario.name;
    ch.subtitle = text::problem_line(r.scenario) + "; shading: kernel passes";
    const bool all_scheduled = std::all_of(r.runs.begin(), r.runs.end(), [&](const AlgorithmRun& run) {
        return !run.trace || clocks[static_cast<std::size_t>(&run - r.runs.data())].scheduled;
    });
    const bool any_scheduled =
        std::any_of(clocks.begin(), clocks.end(), [](const TraceClock& c) { return c.scheduled; });
    ch.x_label = steps ? "step index (no rates on this machine): one unit per move or compute step"
                 : all_scheduled
                     ? std::string("scheduled timeline (") + unit.name + "): events on their agents"
                 : any_scheduled ? std::string("model time (") + unit.name + "): see each run's clock below"
                                 : std::string("serial model clock (") + unit.name + "), events end to end";
    ch.subtitle += all_scheduled ? "; lanes: agents of the SMs" : "";
    ch.x_ticks = [](double v) { return fmt::format("{:g}", v); };
    int truncated = 0;
    std::vector<std::string> clock_texts;  // each distinct clock once
    for (std::size_t ri = 0; ri < r.runs.size(); ++ri) {
        if (!r.runs[ri].trace) continue;
        add_run(ch, r.runs[ri], clocks[ri], unit, compact);
        truncated += r.runs[ri].trace->truncated() ? 1 : 0;
        if (std::find(clock_texts.begin(), clock_texts.end(), clocks[ri].description) == clock_texts.end())
            clock_texts.push_back(clocks[ri].description);
    }
    // Only the kinds that occur in the legend, the bars renumbered to match.
    const auto& kinds = kind_colors();
    std::vector<int> renumber(kinds.size(), -1);
    for (const auto& b : ch.bars) renumber[static_cast<std::size_t>(b.kind)] = 0;
    for (std::size_t k = 0; k < kinds.size(); ++k) {
        if (renumber[k] < 0) continue;
        renumber[k] = static_cast<int>(ch.kinds.size());
        ch.kinds.push_back({std::string(kind_label(kinds[k].first)), plot::hex(kinds[k].second)});
    }
    for (auto& b : ch.bars) b.kind = renumber[static_cast<std::size_t>(b.kind)];

    for (const auto& c : clock_texts) ch.notes.push_back("Clock: " + c + ".");
    if (truncated > 0)
        ch.notes.push_back(fmt::format("{} trace(s) cut at the event cap: the bars stop there.", truncated));
    return ch;
}

}  // namespace tilesim::scenarios
