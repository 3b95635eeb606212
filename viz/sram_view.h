#pragma once
// What is in SRAM at a step of the trace, read from the trace alone.
//
// A kernel reserves SRAM buffers the way it declares shared memory; each reservation is an Allocate
// event naming a buffer of Trace::buffers() ("K_j (B_c x d)", its bytes), each Release frees one. The
// live buffers at step k are those allocated at or before k and not yet released: the capacity bar
// is them, one segment per buffer. Which tile a buffer holds is the latest event at or before k that
// put one in it (a load into it, a compute in it: the `buffer` id on the event).
#include <cstdint>
#include <string>
#include <vector>

#include "sim/trace.h"
#include "viz/replay.h"

namespace tilesim::viz {

struct SramSlot {
    std::int32_t buffer = -1;             // id in Trace::buffers()
    sim::Tensor tensor = sim::Tensor::Q;  // the buffer's tensor
    sim::Tensor alias = sim::Tensor::Q;   // a tensor it may hold in place (P_ij in S_ij's buffer)
    std::string what;                     // "K_j (B_c x d)"
    std::int64_t bytes = 0;               // reserved bytes
    std::int64_t allocated_step = -1;     // the Allocate event
    bool filled = false;                  // a tile has arrived since the buffer was reserved
    sim::Tensor held = sim::Tensor::Q;    // the tensor of the tile it holds now (P in S's buffer)
    sim::Rect tile{};
    std::int64_t since_step = -1;  // event that put the tile there
    bool computed = false;         // produced by a compute step (not loaded)
    bool recomputed = false;       // ... one the forward pass had computed too (flags::kRecompute)
};

struct SramSnapshot {
    std::int64_t capacity_bytes = 0;  // the paper's M, in bytes
    std::int64_t used_bytes = 0;      // from the trace event (the model's own figure)
    std::int32_t phase = -1;          // id in Trace::phases(), -1 before the first pass
    std::vector<SramSlot> slots;      // live buffers, in allocation order
    // The live buffers add up to the model's occupancy; false would mean the trace's Allocate and
    // Release events disagree with its occupancy figures (the panel then shows only the figure).
    bool consistent = true;
    std::int64_t slot_bytes() const;
    // The slot of trace buffer `id`, or -1 when it is not live.
    int slot_of(std::int32_t id) const;
};

// SRAM after event k of `trace` (k clamped; an empty snapshot when the trace has no events).
// `index` is the trace's TraceIndex (buffer lifetimes and arrivals).
SramSnapshot sram_at(const sim::Trace& trace, const TraceIndex& index, std::int64_t k,
                     std::int64_t capacity_bytes);

}  // namespace tilesim::viz
