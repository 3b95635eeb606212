#include "viz/sram_view.h"

#include <algorithm>

namespace tilesim::viz {

using sim::Op;

std::int64_t SramSnapshot::slot_bytes() const {
    std::int64_t b = 0;
    for (const auto& s : slots) b += s.bytes;
    return b;
}

int SramSnapshot::slot_of(std::int32_t id) const {
    for (std::size_t s = 0; s < slots.size(); ++s) {
        if (slots[s].buffer == id) return static_cast<int>(s);
    }
    return -1;
}

SramSnapshot sram_at(const sim::Trace& trace, const TraceIndex& index, std::int64_t k,
                     std::int64_t capacity_bytes) {
    SramSnapshot snap;
    snap.capacity_bytes = capacity_bytes;
    const auto& ev = trace.events();
    if (ev.empty()) return snap;
    k = std::clamp<std::int64_t>(k, 0, static_cast<std::int64_t>(ev.size()) - 1);
    const sim::Event& now = ev[static_cast<std::size_t>(k)];
    snap.used_bytes = now.sram_used_bytes;
    snap.phase = now.phase;

    const auto& decls = trace.buffers();
    // Buffer ids are handed out in allocation order, so allocation steps ascend with the id: stop at
    // the first buffer reserved after k.
    for (std::size_t b = 0; b < index.buffers.size() && b < decls.size(); ++b) {
        const auto& life = index.buffers[b];
        if (life.allocated < 0) continue;  // its Allocate event was not recorded (capped trace)
        if (life.allocated > k) break;
        if (life.released <= k) continue;
        const sim::BufferDecl& d = decls[b];
        SramSlot slot;
        slot.buffer = static_cast<std::int32_t>(b);
        slot.tensor = d.tensor;
        slot.alias = d.alias;
        slot.held = d.tensor;
        slot.what = d.what;
        slot.bytes = d.bytes;
        slot.allocated_step = life.allocated;
        // The newest arrival at or before k (arrivals ascend).
        const auto& arr = index.arrivals[b];
        const auto it = std::upper_bound(arr.begin(), arr.end(), k);
        if (it != arr.begin()) {
            const std::int64_t e = *(it - 1);
            const sim::Event& a = ev[static_cast<std::size_t>(e)];
            slot.filled = true;
            slot.held = a.tensor;
            slot.tile = a.tile;
            slot.since_step = e;
            slot.computed = a.op == Op::Compute;
            slot.recomputed = slot.computed && a.has(sim::flags::kRecompute);
        }
        snap.slots.push_back(std::move(slot));
    }
    snap.consistent = snap.slot_bytes() == snap.used_bytes;
    return snap;
}

}  // namespace tilesim::viz
