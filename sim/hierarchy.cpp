#include "sim/hierarchy.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace tilesim::sim {

Hierarchy::Hierarchy(HardwareSpec spec, Dtype dtype, bool record_trace, std::int64_t max_trace_events)
    : spec_(std::move(spec)), dtype_(dtype) {
    if (record_trace) trace_ = std::make_unique<Trace>(max_trace_events);
}

std::optional<BufferId> Hierarchy::allocate(Tensor tensor, std::int64_t rows, std::int64_t cols,
                                            const std::string& what, FitStatus* status) {
    const std::int64_t elements = rows * cols;
    const std::int64_t bytes = bytes_of(tensor, elements);
    if (sram_used_bytes_ + bytes > spec_.sram_bytes) {
        if (status != nullptr) {
            std::ostringstream reason;
            reason << "SRAM overflow: " << what << " (" << rows << " x " << cols << " = " << bytes
                   << " B) on top of " << sram_used_bytes_ << " B already resident needs "
                   << sram_used_bytes_ + bytes << " B, but SRAM holds " << spec_.sram_bytes << " B";
            *status =
                FitStatus::fails(reason.str(), "use smaller blocks (block_rows, block_cols) or more SRAM",
                                 sram_used_bytes_ + bytes, spec_.sram_bytes);
        }
        return std::nullopt;
    }
    buffers_.push_back({tensor, elements, bytes, true});
    sram_used_bytes_ += bytes;
    auto& largest = largest_buffer_[static_cast<std::size_t>(tensor)];
    largest = std::max(largest, elements);
    total_.sram_peak_bytes = std::max(total_.sram_peak_bytes, sram_used_bytes_);
    if (!phases_.empty()) {
        auto& peak = phases_.back().counters.sram_peak_bytes;
        peak = std::max(peak, sram_used_bytes_);
    }
    return static_cast<BufferId>(buffers_.size() - 1);
}

void Hierarchy::release(BufferId id) {
    auto& b = buffers_.at(static_cast<std::size_t>(id));
    if (!b.live) throw std::logic_error("SRAM buffer released twice");
    b.live = false;
    sram_used_bytes_ -= b.bytes;
    // Recompute the largest live buffer of this tensor (few buffers are live at once).
    std::int64_t largest = 0;
    for (const auto& o : buffers_) {
        if (o.live && o.tensor == b.tensor) largest = std::max(largest, o.elements);
    }
    largest_buffer_[static_cast<std::size_t>(b.tensor)] = largest;
}

void Hierarchy::begin_phase(std::string name, std::int64_t parallel_units) {
    phases_.push_back({std::move(name), std::max<std::int64_t>(1, parallel_units), {}, {}});
    phase_tiles_seen_.clear();
    phases_.back().counters.sram_peak_bytes = sram_used_bytes_;
    if (trace_) {
        Event e;
        e.step = next_step_++;
        e.op = Op::Phase;
        e.sram_used_bytes = sram_used_bytes_;
        e.i = static_cast<std::int32_t>(phases_.size() - 1);  // the phase's index: its name is in phases()
        trace_->add(e);
    }
}

Phase& Hierarchy::phase() {
    if (phases_.empty()) begin_phase("main", 1);
    return phases_.back();
}

void Hierarchy::count(Level lv, Tensor t, std::int64_t elements, std::int64_t bytes, bool write) {
    const auto l = static_cast<std::size_t>(lv);
    const auto ti = static_cast<std::size_t>(t);
    for (Counters* c : {&total_, &phase().counters}) {
        Traffic& a = c->level[l];
        Traffic& b = c->by_tensor[l][ti];
        if (write) {
            a.write_bytes += bytes;
            a.write_elements += elements;
            b.write_bytes += bytes;
            b.write_elements += elements;
        } else {
            a.read_bytes += bytes;
            a.read_elements += elements;
            b.read_bytes += bytes;
            b.read_elements += elements;
        }
    }
}

void Hierarchy::count_unique_hbm(Tensor t, const Rect& tile, std::int64_t bytes, bool write) {
    // row0, col0 < 2^20 (seq_len limit) fit in 28 bits each; tensor in 6 bits; direction in 1.
    const std::uint64_t key =
        (static_cast<std::uint64_t>(write) << 62) | (static_cast<std::uint64_t>(t) << 56) |
        (static_cast<std::uint64_t>(tile.row0) << 28) | static_cast<std::uint64_t>(tile.col0);
    if (!phase_tiles_seen_.insert(key)) return;
    Traffic& u = phase().hbm_unique[static_cast<std::size_t>(t)];
    if (write) {
        u.write_bytes += bytes;
        u.write_elements += tile.elements();
    } else {
        u.read_bytes += bytes;
        u.read_elements += tile.elements();
    }
}

void Hierarchy::transfer(Tensor tensor, const Rect& tile, Level from, Level to, std::int32_t i,
                         std::int32_t j, const char* label) {
    if (from == to ||
        (from != Level::SRAM && to != Level::SRAM && !(from == Level::HBM && to == Level::L2))) {
        throw std::logic_error("transfer: unsupported level pair");
    }
    const std::int64_t elements = tile.elements();
    if (to == Level::SRAM && elements > largest_buffer_[static_cast<std::size_t>(tensor)]) {
        throw std::logic_error(std::string("transfer: tile of ") + std::string(tensor_name(tensor)) +
                               " larger than any live SRAM buffer for it (kernel bug)");
    }
    const std::int64_t bytes = bytes_of(tensor, elements);
    count(from, tensor, elements, bytes, false);
    count(to, tensor, elements, bytes, true);
    if (from == Level::HBM) count_unique_hbm(tensor, tile, bytes, false);
    if (to == Level::HBM) count_unique_hbm(tensor, tile, bytes, true);
    ++total_.transfers;
    ++phase().counters.transfers;
    if (trace_) {
        Event e;
        e.step = next_step_++;
        e.op = to == Level::SRAM ? Op::Load : Op::Store;
        e.tensor = tensor;
        e.tile = tile;
        e.from = from;
        e.to = to;
        e.bytes = bytes;
        e.sram_used_bytes = sram_used_bytes_;
        e.i = i;
        e.j = j;
        e.label = label;
        trace_->add(e);
    }
}

void Hierarchy::compute(Tensor produced, const Rect& tile, std::int64_t matmul_flops,
                        std::int64_t other_flops, std::int64_t sram_read_elements,
                        std::int64_t sram_write_elements, std::int32_t i, std::int32_t j, const char* label) {
    const auto el = static_cast<std::int64_t>(dtype_bytes(dtype_));
    const auto s = static_cast<std::size_t>(Level::SRAM);
    for (Counters* c : {&total_, &phase().counters}) {
        c->matmul_flops += matmul_flops;
        c->other_flops += other_flops;
        c->level[s].read_elements += sram_read_elements;
        c->level[s].read_bytes += sram_read_elements * el;
        c->level[s].write_elements += sram_write_elements;
        c->level[s].write_bytes += sram_write_elements * el;
    }
    if (trace_) {
        Event e;
        e.step = next_step_++;
        e.op = Op::Compute;
        e.tensor = produced;
        e.tile = tile;
        e.from = Level::SRAM;
        e.to = Level::SRAM;
        e.flops = matmul_flops + other_flops;
        e.sram_used_bytes = sram_used_bytes_;
        e.i = i;
        e.j = j;
        e.label = label;
        trace_->add(e);
    }
}

std::string_view op_name(Op op) {
    switch (op) {
        case Op::Load:
            return "load";
        case Op::Store:
            return "store";
        case Op::Compute:
            return "compute";
        case Op::Phase:
            return "phase";
    }
    return "?";
}

}  // namespace tilesim::sim
