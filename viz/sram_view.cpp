#include "viz/sram_view.h"

#include <algorithm>

#include "kernels/tiling.h"

namespace tilesim::viz {

using sim::Op;
using sim::Tensor;

std::int64_t SramSnapshot::slot_bytes() const {
    std::int64_t b = 0;
    for (const auto& s : slots) b += s.bytes;
    return b;
}

std::size_t working_set_of_phase(kernels::AlgorithmId alg, std::int32_t phase, std::size_t phases) {
    if (alg != kernels::AlgorithmId::standard || phase <= 0) return 0;
    return static_cast<std::size_t>(phase) + 1 >= phases ? 2 : 1;
}

namespace {
// The slot a tile of `t` lands in: its own buffer, else S's (P_ij overwrites S_ij in place).
int slot_for(const std::vector<SramSlot>& slots, Tensor t) {
    for (std::size_t s = 0; s < slots.size(); ++s) {
        if (slots[s].tensor == t) return static_cast<int>(s);
    }
    if (t == Tensor::P) return slot_for(slots, Tensor::S);
    return -1;
}
}  // namespace

SramSnapshot sram_at(const scenarios::AlgorithmRun& run, const scenarios::Scenario& s, std::int64_t k,
                     const std::vector<std::int64_t>& phase_events) {
    SramSnapshot snap;
    snap.capacity_bytes = s.hardware.sram_bytes;
    if (!run.trace || run.trace->events().empty() || !run.fit.ok) return snap;
    const auto& ev = run.trace->events();
    k = std::clamp<std::int64_t>(k, 0, static_cast<std::int64_t>(ev.size()) - 1);
    snap.used_bytes = ev[static_cast<std::size_t>(k)].sram_used_bytes;

    // The pass: the last Phase event at or before k.
    const auto it = std::upper_bound(phase_events.begin(), phase_events.end(), k);
    const std::int64_t phase_start = it == phase_events.begin() ? 0 : *(it - 1);
    snap.phase = it == phase_events.begin() ? 0 : ev[static_cast<std::size_t>(phase_start)].i;

    const auto sets =
        kernels::working_sets(run.algorithm, s.problem, run.tiling.B_r, run.tiling.B_c, s.hardware);
    const std::size_t set = working_set_of_phase(run.algorithm, snap.phase, run.phases.size());
    if (set < sets.size()) {
        for (const auto& b : sets[set]) {
            SramSlot slot;
            slot.tensor = b.tensor;
            slot.held = b.tensor;
            slot.what = b.what;
            slot.bytes =
                b.rows * b.cols * static_cast<std::int64_t>(sim::element_bytes(b.tensor, s.problem.dtype));
            snap.slots.push_back(std::move(slot));
        }
    }
    const bool at_phase_event = ev[static_cast<std::size_t>(k)].op == Op::Phase;
    snap.consistent = at_phase_event || snap.slot_bytes() == snap.used_bytes;

    // Walk back to the pass start, filling each slot with the newest tile that reached it.
    // Bounded: a buffer the kernel never loads into (FA2 keeps l_i, m_i in registers) would
    // otherwise make every frame walk the whole pass.
    constexpr std::int64_t kMaxWalk = 50'000;
    std::size_t missing = snap.slots.size();
    for (std::int64_t e = k; e > phase_start && e > k - kMaxWalk && missing > 0; --e) {
        const auto& event = ev[static_cast<std::size_t>(e)];
        const bool arrives =
            (event.op == Op::Load && event.to == sim::Level::SRAM) || event.op == Op::Compute;
        if (!arrives) continue;
        const int slot = slot_for(snap.slots, event.tensor);
        if (slot < 0 || snap.slots[static_cast<std::size_t>(slot)].filled) continue;
        auto& sl = snap.slots[static_cast<std::size_t>(slot)];
        sl.filled = true;
        sl.held = event.tensor;
        sl.tile = event.tile;
        sl.i = event.i;
        sl.j = event.j;
        sl.since_step = e;
        sl.computed = event.op == Op::Compute;
        --missing;
    }
    return snap;
}

}  // namespace tilesim::viz
