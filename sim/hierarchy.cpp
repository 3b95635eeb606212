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
                                            const std::string& what, FitStatus* status,
                                            std::optional<Tensor> alias) {
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
    const Tensor other = alias.value_or(tensor);
    buffers_.push_back({tensor, other, elements, bytes, true});
    sram_used_bytes_ += bytes;
    for (Tensor t : {tensor, other}) {
        auto& largest = largest_buffer_[static_cast<std::size_t>(t)];
        largest = std::max(largest, elements);
    }
    total_.sram_peak_bytes = std::max(total_.sram_peak_bytes, sram_used_bytes_);
    if (!phases_.empty()) {
        auto& peak = phases_.back().counters.sram_peak_bytes;
        peak = std::max(peak, sram_used_bytes_);
    }
    const auto id = static_cast<BufferId>(buffers_.size() - 1);
    phase_buffers_.push_back(id);
    if (trace_) {
        const std::int32_t decl = trace_->add_buffer({tensor, other, rows, cols, bytes, what});
        Event e;
        e.op = Op::Allocate;
        e.tensor = tensor;
        e.buffer = decl;
        e.tile = {0, 0, rows, cols};
        e.bytes = bytes;
        record(e);
    }
    return id;
}

void Hierarchy::release(BufferId id) {
    auto& b = buffers_.at(static_cast<std::size_t>(id));
    if (!b.live) throw std::logic_error("SRAM buffer released twice");
    b.live = false;
    sram_used_bytes_ -= b.bytes;
    // Recompute the largest live buffer of the tensors it held (few buffers are live at once).
    for (Tensor t : {b.tensor, b.alias}) {
        std::int64_t largest = 0;
        for (const auto& o : buffers_) {
            if (o.live && (o.tensor == t || o.alias == t)) largest = std::max(largest, o.elements);
        }
        largest_buffer_[static_cast<std::size_t>(t)] = largest;
    }
    if (trace_) {
        Event e;
        e.op = Op::Release;
        e.tensor = b.tensor;
        // Buffers are declared in the trace in allocation order, so the ids agree.
        e.buffer = id;
        e.bytes = b.bytes;
        record(e);
    }
}

BufferId Hierarchy::buffer_of(Tensor t) const {
    BufferId alias = -1;
    for (std::size_t k = buffers_.size(); k-- > 0;) {
        const Buffer& b = buffers_[k];
        if (!b.live) continue;
        if (b.tensor == t) return static_cast<BufferId>(k);
        if (b.alias == t && alias < 0) alias = static_cast<BufferId>(k);
    }
    return alias;
}

void Hierarchy::record(Event e) {
    e.step = next_step_++;
    e.phase = trace_phase_;
    e.block = block_;
    e.sram_used_bytes = sram_used_bytes_;
    trace_->add(e);
}

void Hierarchy::finish() {
    if (!work_open_) return;
    Phase& ph = phases_.back();
    ph.work = work_.finish();
    for (BufferId id : phase_buffers_) {
        const Buffer& b = buffers_[static_cast<std::size_t>(id)];
        const bool loaded = ((phase_loaded_ >> static_cast<unsigned>(b.tensor)) & 1U) != 0 ||
                            ((phase_loaded_ >> static_cast<unsigned>(b.alias)) & 1U) != 0;
        (loaded ? ph.smem_bytes : ph.register_bytes) += b.bytes;
    }
    work_open_ = false;
}

void Hierarchy::begin_phase(std::string name, std::int64_t parallel_units, std::int64_t sync_warps) {
    const std::int64_t units = std::max<std::int64_t>(1, parallel_units);
    finish();
    phases_.push_back({name, units, {}, {}, {}, 0, 0, {}, {}, std::max<std::int64_t>(0, sync_warps)});
    phase_loaded_ = 0;
    phase_buffers_.clear();
    for (std::size_t k = 0; k < buffers_.size(); ++k) {
        if (buffers_[k].live) phase_buffers_.push_back(static_cast<BufferId>(k));
    }
    work_.begin_phase(units);
    work_open_ = true;
    if (record_accesses_) {
        phases_.back().accesses.recorded = true;
        phases_.back().accesses.blocks.resize(static_cast<std::size_t>(units));
        access_body_.assign(static_cast<std::size_t>(units), 0);
    }
    phase_tiles_seen_.clear();
    block_ = 0;
    phases_.back().counters.sram_peak_bytes = sram_used_bytes_;
    if (trace_) {
        trace_phase_ = trace_->add_phase({std::move(name), units});
        Event e;
        e.op = Op::Phase;
        record(e);
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
                         std::int32_t j, const char* label, std::uint8_t flags) {
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
    tick();
    // The boundary of the SMs: a move into SRAM is a load, out of it a store (HBM -> L2 is neither).
    if (to == Level::SRAM || from == Level::SRAM) {
        const bool load = to == Level::SRAM;
        const bool atomic = (flags & sim::flags::kAtomic) != 0;
        SmTraffic& sm = phase().sm;
        (load ? sm.load_bytes : sm.store_bytes) += bytes;
        if (load) phase_loaded_ |= 1U << static_cast<unsigned>(tensor);
        if (atomic) sm.atomic_bytes += bytes;
        work_.add(load ? WorkKind::load : WorkKind::store, tensor, flags, bytes, 0, 0, 0, 0);
        if (record_accesses_)
            log_access(tensor, tile,
                       load     ? AccessKind::read
                       : atomic ? AccessKind::atomic
                                : AccessKind::write);
    }
    if (trace_) {
        Event e;
        e.op = to == Level::SRAM ? Op::Load : Op::Store;
        e.tensor = tensor;
        e.flags = flags;
        e.buffer = buffer_of(tensor);
        e.tile = tile;
        e.from = from;
        e.to = to;
        e.bytes = bytes;
        e.i = i;
        e.j = j;
        e.label = label;
        record(e);
    }
}

void Hierarchy::log_access(Tensor t, const Rect& tile, AccessKind kind) {
    Phase& ph = phase();
    if (block_ >= static_cast<std::int64_t>(ph.accesses.blocks.size())) {
        ph.accesses.blocks.resize(static_cast<std::size_t>(block_ + 1));
        access_body_.resize(static_cast<std::size_t>(block_ + 1), 0);
    }
    BlockAccesses& b = ph.accesses.blocks[static_cast<std::size_t>(block_)];
    auto& body = access_body_[static_cast<std::size_t>(block_)];
    // A load after the block's arithmetic or stores starts its next step (as in the work summary).
    if (b.list.empty() || (kind == AccessKind::read && body != 0)) {
        b.step_begin.push_back(static_cast<std::uint32_t>(b.list.size()));
        body = 0;
    }
    if (kind != AccessKind::read) body = 1;
    b.list.push_back({t, kind, tile});
}

void Hierarchy::atomic_add(Tensor tensor, const Rect& tile, std::int32_t i, std::int32_t j,
                           const char* label) {
    // The read half of the read-modify-write happens at the memory side; the distinct-tile count
    // sees it as a read of the tile, like any other.
    const std::int64_t elements = tile.elements();
    const std::int64_t bytes = bytes_of(tensor, elements);
    count(Level::HBM, tensor, elements, bytes, false);
    count_unique_hbm(tensor, tile, bytes, false);
    transfer(tensor, tile, Level::SRAM, Level::HBM, i, j, label, flags::kAtomic);
}

void Hierarchy::compute(Tensor produced, const Rect& tile, std::int64_t matmul_flops,
                        std::int64_t other_flops, std::int64_t sram_read_elements,
                        std::int64_t sram_write_elements, std::int32_t i, std::int32_t j, const char* label,
                        std::uint8_t flags, std::int64_t exp_flops) {
    tick();
    const auto el = static_cast<std::int64_t>(dtype_bytes(dtype_));
    const auto s = static_cast<std::size_t>(Level::SRAM);
    phase();  // a compute before any begin_phase opens the "main" pass first
    work_.add(WorkKind::compute, produced, flags, 0, matmul_flops, exp_flops, other_flops - exp_flops,
              (sram_read_elements + sram_write_elements) * el);
    if (record_accesses_ && block_ < static_cast<std::int64_t>(access_body_.size())) {
        access_body_[static_cast<std::size_t>(block_)] = 1;
    }
    for (Counters* c : {&total_, &phase().counters}) {
        c->matmul_flops += matmul_flops;
        c->other_flops += other_flops;
        c->exp_flops += exp_flops;
        c->level[s].read_elements += sram_read_elements;
        c->level[s].read_bytes += sram_read_elements * el;
        c->level[s].write_elements += sram_write_elements;
        c->level[s].write_bytes += sram_write_elements * el;
    }
    if (trace_) {
        Event e;
        e.op = Op::Compute;
        e.tensor = produced;
        e.flags = flags;
        e.buffer = buffer_of(produced);
        e.tile = tile;
        e.from = Level::SRAM;
        e.to = Level::SRAM;
        e.flops = matmul_flops + other_flops;
        e.sram_bytes = (sram_read_elements + sram_write_elements) * el;
        e.mma_flops = matmul_flops;
        e.exp_flops = exp_flops;
        e.i = i;
        e.j = j;
        e.label = label;
        record(e);
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
        case Op::Allocate:
            return "allocate";
        case Op::Release:
            return "release";
    }
    return "?";
}

void Trace::append(const Trace& later) {
    const auto step0 = events_.empty() ? std::int64_t{0} : events_.back().step + 1;
    const auto phase0 = static_cast<std::int32_t>(phases_.size());
    const auto buffer0 = static_cast<std::int32_t>(buffers_.size());
    for (const auto& p : later.phases_) phases_.push_back(p);
    for (const auto& b : later.buffers_) buffers_.push_back(b);
    for (TensorDecl t : later.tensors_) {
        t.first_phase += phase0;
        tensors_.push_back(t);
    }
    for (Event e : later.events_) {
        e.step += step0;
        if (e.phase >= 0) e.phase += phase0;
        if (e.buffer >= 0) e.buffer += buffer0;
        add(e);
    }
    truncated_ = truncated_ || later.truncated_;
    dropped_ += later.dropped_;
}

}  // namespace tilesim::sim
