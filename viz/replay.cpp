#include "viz/replay.h"

#include <algorithm>

#include "sim/cost_model.h"

namespace tilesim::viz {

using sim::Level;
using sim::Op;

void ReplayTotals::add(const sim::Event& e, const sim::HardwareSpec& hw) {
    if (e.op == Op::Load || e.op == Op::Store) {
        // The model counts a move as a read where it leaves and a write where it arrives.
        const std::int64_t el = e.tile.elements();
        auto& src = by_tensor[static_cast<std::size_t>(e.from)][static_cast<std::size_t>(e.tensor)];
        auto& dst = by_tensor[static_cast<std::size_t>(e.to)][static_cast<std::size_t>(e.tensor)];
        src.read_bytes += e.bytes;
        src.read_elements += el;
        dst.write_bytes += e.bytes;
        dst.write_elements += el;
        auto& lsrc = level[static_cast<std::size_t>(e.from)];
        auto& ldst = level[static_cast<std::size_t>(e.to)];
        lsrc.read_bytes += e.bytes;
        lsrc.read_elements += el;
        ldst.write_bytes += e.bytes;
        ldst.write_elements += el;
        ++transfers;
        if (e.has(sim::flags::kAtomic) && e.to == Level::HBM) {
            // The read half of the read-modify-write (sim::Hierarchy::atomic_add); the SRAM side
            // reads the tile once, counted above.
            auto& hbm = by_tensor[static_cast<std::size_t>(Level::HBM)][static_cast<std::size_t>(e.tensor)];
            hbm.read_bytes += e.bytes;
            hbm.read_elements += el;
            level[static_cast<std::size_t>(Level::HBM)].read_bytes += e.bytes;
            level[static_cast<std::size_t>(Level::HBM)].read_elements += el;
        }
    }
    flops += e.flops;
    sram_used_bytes = e.sram_used_bytes;
    sram_peak_bytes = std::max(sram_peak_bytes, e.sram_used_bytes);
    model_seconds += sim::event_seconds(hw, e);
    ++applied;
}

std::vector<std::int64_t> decimate(const std::vector<sim::Event>& events, std::size_t max_steps) {
    const auto n = static_cast<std::int64_t>(events.size());
    std::vector<std::int64_t> out;
    if (n == 0) return out;
    if (static_cast<std::size_t>(n) <= max_steps) {
        out.resize(events.size());
        for (std::int64_t k = 0; k < n; ++k) out[static_cast<std::size_t>(k)] = k;
        return out;
    }
    // Mandatory: the ends, pass boundaries and HBM writes (what "jump to next HBM write" needs).
    std::vector<bool> keep(events.size(), false);
    keep.front() = true;
    keep.back() = true;
    std::int64_t mandatory = 0;
    for (std::int64_t k = 0; k < n; ++k) {
        const auto& e = events[static_cast<std::size_t>(k)];
        if (e.op == Op::Phase || is_hbm_write(e)) keep[static_cast<std::size_t>(k)] = true;
        mandatory += keep[static_cast<std::size_t>(k)] ? 1 : 0;
    }
    // Fill the rest of the budget with evenly spaced other events.
    const std::int64_t budget = static_cast<std::int64_t>(max_steps) - mandatory;
    const std::int64_t others = n - mandatory;
    if (budget > 0 && others > 0) {
        const std::int64_t stride = std::max<std::int64_t>(1, (others + budget - 1) / budget);
        std::int64_t seen = 0;
        for (std::int64_t k = 0; k < n; ++k) {
            if (keep[static_cast<std::size_t>(k)]) continue;
            if (seen % stride == 0) keep[static_cast<std::size_t>(k)] = true;
            ++seen;
        }
    }
    for (std::int64_t k = 0; k < n; ++k) {
        if (keep[static_cast<std::size_t>(k)]) out.push_back(k);
    }
    return out;
}

std::int64_t TraceIndex::event_at(double t) const {
    const std::int64_t n = size();
    if (n <= 0) return -1;
    const auto it = std::upper_bound(anim_start.begin(), anim_start.end(), t);
    const std::int64_t k = static_cast<std::int64_t>(it - anim_start.begin()) - 1;
    return std::clamp<std::int64_t>(k, 0, n - 1);
}

double mean_event_seconds(const sim::Trace& trace, const sim::HardwareSpec& hw) {
    const auto& ev = trace.events();
    if (ev.empty()) return 0.0;
    double total = 0;
    for (const auto& e : ev) total += sim::event_seconds(hw, e);
    return total / static_cast<double>(ev.size());
}

namespace {
// Lifetimes and arrivals of every SRAM buffer, so the SRAM view at any step is a lookup, not a walk.
void index_buffers(const sim::Trace& trace, TraceIndex& idx) {
    const auto& ev = trace.events();
    const std::size_t nb = trace.buffers().size();
    idx.buffers.assign(nb, {});
    idx.arrivals.assign(nb, {});
    for (std::size_t k = 0; k < ev.size(); ++k) {
        const auto& e = ev[k];
        if (e.buffer < 0 || static_cast<std::size_t>(e.buffer) >= nb) continue;
        const auto b = static_cast<std::size_t>(e.buffer);
        const auto step = static_cast<std::int64_t>(k);
        if (e.op == Op::Allocate) {
            idx.buffers[b].allocated = step;
        } else if (e.op == Op::Release) {
            idx.buffers[b].released = step;
        } else if ((e.op == Op::Load && e.to == Level::SRAM) || e.op == Op::Compute) {
            idx.arrivals[b].push_back(step);
        }
    }
    for (auto& life : idx.buffers) {
        if (life.allocated >= 0 && life.released < 0) life.released = static_cast<std::int64_t>(ev.size());
    }
}
}  // namespace

namespace {
// The loop indices the events carry (Event::i, Event::j): a new value starts a block of the loop.
void index_loop_starts(const std::vector<sim::Event>& ev, TraceIndex& idx) {
    std::int32_t last_i = -1, last_j = -1;
    for (std::size_t k = 0; k < ev.size(); ++k) {
        const auto& e = ev[k];
        if (e.op == Op::Phase) last_i = last_j = -1;
        if (e.i >= 0 && e.i != last_i) idx.q_block_starts.push_back(static_cast<std::int64_t>(k));
        if (e.j >= 0 && e.j != last_j) idx.kv_block_starts.push_back(static_cast<std::int64_t>(k));
        if (e.i >= 0) last_i = e.i;
        if (e.j >= 0) last_j = e.j;
    }
}
}  // namespace

TraceIndex build_trace_index(const sim::Trace& trace, const sim::HardwareSpec& hw, double min_event_seconds,
                             std::size_t max_steps) {
    TraceIndex idx;
    const auto& ev = trace.events();
    idx.anim_start.reserve(ev.size() + 1);
    idx.model_start.reserve(ev.size() + 1);
    double anim = 0, model = 0;
    for (std::size_t k = 0; k < ev.size(); ++k) {
        idx.anim_start.push_back(anim);
        idx.model_start.push_back(model);
        const double s = sim::event_seconds(hw, ev[k]);
        model += s;
        anim += std::max(s, min_event_seconds);
        if (is_hbm_write(ev[k])) idx.hbm_writes.push_back(static_cast<std::int64_t>(k));
        if (ev[k].op == Op::Phase) idx.phase_events.push_back(static_cast<std::int64_t>(k));
        idx.has_recompute = idx.has_recompute || ev[k].has(sim::flags::kRecompute);
        idx.has_atomic = idx.has_atomic || ev[k].has(sim::flags::kAtomic);
    }
    index_buffers(trace, idx);
    index_loop_starts(ev, idx);
    idx.anim_start.push_back(anim);
    idx.model_start.push_back(model);
    idx.steps = decimate(ev, max_steps);
    idx.decimated = idx.steps.size() < ev.size();
    return idx;
}

const HeatTensor* HeatMap::find(sim::Tensor t) const {
    for (const auto& h : tensors) {
        if (h.decl.tensor == t) return &h;
    }
    return nullptr;
}

HeatTensor* HeatMap::find_mut(sim::Tensor t) {
    for (auto& h : tensors) {
        if (h.decl.tensor == t) return &h;
    }
    return nullptr;
}

void HeatMap::add(const sim::Event& e) {
    const bool hbm_read =
        (e.op == Op::Load && e.from == Level::HBM) || (e.has(sim::flags::kAtomic) && is_hbm_write(e));
    const bool hbm_write = is_hbm_write(e);
    const bool recompute = e.op == Op::Compute && e.has(sim::flags::kRecompute);
    if (!hbm_read && !hbm_write && !recompute) return;
    HeatTensor* h = find_mut(e.tensor);
    if (h == nullptr) return;  // an undeclared tensor: nothing to draw it in (a test checks there are none)
    h->traffic.grid.for_each_overlap(e.tile, [&](std::int32_t cell, std::int64_t el) {
        const auto c = static_cast<std::size_t>(cell);
        if (hbm_read) h->traffic.read_elements[c] += el;
        if (hbm_write) h->traffic.write_elements[c] += el;
        if (recompute) h->recomputed_elements[c] += el;
    });
}

void HeatMap::reset() {
    for (auto& h : tensors) {
        h.traffic.reset();
        h.recomputed_elements.assign(static_cast<std::size_t>(h.traffic.grid.cell_count()), 0);
    }
}

HeatMap make_heat_map(const sim::Trace& trace) {
    HeatMap h;
    for (const auto& d : trace.tensors()) {
        // A joined forward + backward declares a tensor once per run: its first grid is drawn.
        if (trace.tensor(d.tensor) != &d) continue;
        HeatTensor t;
        t.decl = d;
        t.traffic.grid = make_grid(d.rows, d.cols, d.block_rows, d.block_cols);
        h.tensors.push_back(std::move(t));
    }
    h.reset();
    return h;
}

Replay::Replay(std::shared_ptr<const sim::Trace> trace, sim::HardwareSpec hw)
    : trace_(std::move(trace)), hw_(std::move(hw)) {
    if (trace_) heat_ = make_heat_map(*trace_);
}

void Replay::seek(std::int64_t k) {
    if (!trace_) return;
    const auto& ev = trace_->events();
    k = std::clamp<std::int64_t>(k, -1, static_cast<std::int64_t>(ev.size()) - 1);
    if (k < position()) {
        totals_ = ReplayTotals{};
        heat_.reset();
    }
    for (std::int64_t e = position() + 1; e <= k; ++e) {
        const auto& event = ev[static_cast<std::size_t>(e)];
        totals_.add(event, hw_);
        heat_.add(event);
    }
}

}  // namespace tilesim::viz
