#pragma once
// What is in SRAM at a step of the trace.
//
// A kernel reserves its SRAM buffers when a pass begins (kernels::working_sets lists them, the same
// list the fit check uses), so the capacity bar is that list: one segment per buffer, sized in bytes.
// Which tile each buffer holds is read from the trace: the latest load into it, or the latest compute
// that produced it, since the pass began.
#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/runner.h"
#include "sim/trace.h"

namespace tilesim::viz {

struct SramSlot {
    sim::Tensor tensor = sim::Tensor::Q;  // the buffer's tensor (S's buffer also holds P in place)
    std::string what;                     // "K_j (B_c x d)"
    std::int64_t bytes = 0;               // reserved bytes
    bool filled = false;                  // a tile has arrived since the pass began
    sim::Tensor held = sim::Tensor::Q;    // the tensor of the tile it holds now (P in S's buffer)
    sim::Rect tile{};
    std::int32_t i = -1;
    std::int32_t j = -1;
    std::int64_t since_step = -1;  // event that put the tile there
    bool computed = false;         // produced by a compute step (not loaded)
};

struct SramSnapshot {
    std::int64_t capacity_bytes = 0;  // the paper's M, in bytes
    std::int64_t used_bytes = 0;      // from the trace event (the model's own figure)
    std::int32_t phase = -1;          // index into run.phases
    std::vector<SramSlot> slots;
    // The buffers add up to the model's occupancy; false would mean working_sets() and the kernel
    // disagree, and the panel then shows only the model's figure.
    bool consistent = true;
    std::int64_t slot_bytes() const;
};

// SRAM after event k of `run`'s trace (k clamped; an empty snapshot when there is no trace).
// `phase_events`: indices of the trace's Phase events, ascending (TraceIndex::phase_events).
SramSnapshot sram_at(const scenarios::AlgorithmRun& run, const scenarios::Scenario& s, std::int64_t k,
                     const std::vector<std::int64_t>& phase_events);

// Which of working_sets()'s passes a kernel pass uses: standard attention reserves set 0 for
// S = QK^T, set 1 for the softmax (and any eager pass over S), set 2 for O = PV.
std::size_t working_set_of_phase(kernels::AlgorithmId alg, std::int32_t phase, std::size_t phases);

}  // namespace tilesim::viz
