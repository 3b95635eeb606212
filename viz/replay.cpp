#include "viz/replay.h"

#include <algorithm>

#include "sim/cost_model.h"

namespace tilesim::viz {

using sim::Level;
using sim::Op;
using sim::Tensor;

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
    }
    idx.anim_start.push_back(anim);
    idx.model_start.push_back(model);
    idx.steps = decimate(ev, max_steps);
    idx.decimated = idx.steps.size() < ev.size();
    return idx;
}

void HeatMap::add(const sim::Event& e) {
    if (e.op == Op::Load && e.from == Level::HBM) {
        auto& t = tensors[static_cast<std::size_t>(e.tensor)];
        t.grid.for_each_overlap(e.tile, [&](std::int32_t cell, std::int64_t el) {
            t.read_elements[static_cast<std::size_t>(cell)] += el;
        });
    } else if (is_hbm_write(e)) {
        auto& t = tensors[static_cast<std::size_t>(e.tensor)];
        t.grid.for_each_overlap(e.tile, [&](std::int32_t cell, std::int64_t el) {
            t.write_elements[static_cast<std::size_t>(cell)] += el;
        });
    }
}

void HeatMap::reset() {
    for (auto& t : tensors) t.reset();
}

HeatMap make_heat_map(const kernels::Problem& p, const kernels::Tiling& t, const sim::Trace* trace) {
    HeatMap h;
    const std::int64_t N = p.N, d = p.d;
    auto set = [&](Tensor x, std::int64_t rows, std::int64_t cols, std::int64_t br, std::int64_t bc) {
        auto& c = h.tensors[static_cast<std::size_t>(x)];
        c.grid = make_grid(rows, cols, br, bc);
        c.reset();
    };
    // Q and O are cut in B_r-row blocks, K and V in B_c-row blocks; S and P in B_r x B_c tiles.
    set(Tensor::Q, N, d, t.B_r, d);
    set(Tensor::O, N, d, t.B_r, d);
    set(Tensor::K, N, d, t.B_c, d);
    set(Tensor::V, N, d, t.B_c, d);
    set(Tensor::S, N, N, t.B_r, t.B_c);
    set(Tensor::P, N, N, t.B_r, t.B_c);
    for (Tensor x : {Tensor::l, Tensor::m, Tensor::L}) set(x, N, 1, t.B_r, 1);
    for (Tensor x : {Tensor::Q, Tensor::K, Tensor::V, Tensor::O}) h.used[static_cast<std::size_t>(x)] = true;
    if (trace != nullptr) {
        // A tensor is drawn in HBM only when the algorithm moves it there.
        for (const auto& e : trace->events()) {
            if (e.op == Op::Load || e.op == Op::Store) h.used[static_cast<std::size_t>(e.tensor)] = true;
        }
    }
    return h;
}

Replay::Replay(std::shared_ptr<const sim::Trace> trace, sim::HardwareSpec hw, HeatMap heat)
    : trace_(std::move(trace)), hw_(std::move(hw)), heat_(std::move(heat)) {
    heat_.reset();
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
