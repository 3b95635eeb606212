#pragma once
// The memory hierarchy of one thread block's view of the GPU: HBM, an optional L2, and on-chip SRAM
// of capacity M. Every tile move passes through transfer(); SRAM space is reserved with allocate()
// the way a kernel declares shared memory. Counting is cheap (array adds) so count-only sweeps of
// millions of moves stay fast; the trace is optional.
//
// Ownership: the Hierarchy owns its Counters, phases and Trace. It holds no tensor data: kernels keep
// the numbers (HBM matrices, SRAM tiles) and peek at them without counting.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/counters.h"
#include "sim/hardware.h"
#include "sim/l2.h"
#include "sim/tile_set.h"
#include "sim/trace.h"
#include "sim/types.h"
#include "sim/work.h"

namespace tilesim::sim {

// "Does it fit?" as a value, never an abort: what was asked, what is available, what to change.
struct FitStatus {
    bool ok = true;
    std::string reason;  // one sentence: what does not fit and by how much
    std::string fix;     // one sentence: what to change
    std::int64_t needed_bytes = 0;
    std::int64_t capacity_bytes = 0;
    static FitStatus fits() { return {}; }
    static FitStatus fails(std::string reason, std::string fix, std::int64_t needed, std::int64_t capacity) {
        return {false, std::move(reason), std::move(fix), needed, capacity};
    }
};

// What crosses the boundary between the SMs and the memory system (the L2), per head: what a
// profiler's L1/TEX global-load (or cp.async / TMA) counters show. The paper's HBM <-> SRAM count is
// this plus the memory-side reads of atomics.
struct SmTraffic {
    std::int64_t load_bytes = 0;    // tiles moved into SRAM (from HBM or the L2 level)
    std::int64_t store_bytes = 0;   // tiles moved out of SRAM (atomics included)
    std::int64_t atomic_bytes = 0;  // of the stores, atomic read-modify-writes (the L2 reads them too)
};

// One kernel pass (a launch): its own counters, so the cost model can apply a roofline per pass.
struct Phase {
    std::string name;
    std::int64_t parallel_units = 1;  // independent thread blocks per (batch, head) in this pass
    Counters counters;
    // HBM traffic counting each distinct tile once per direction: what DRAM would see if every
    // re-read and re-write inside this pass hit the L2 (see estimate_dram in cost_model.h).
    std::array<Traffic, kTensorCount> hbm_unique{};
    SmTraffic sm;  // into and out of the SMs, per head
    // The working set split as a GPU kernel holds it: the buffers a load fills are shared memory (the
    // copy engine's destinations: Q_i, K_j, V_j); the ones only arithmetic writes are registers (the
    // accumulators S_ij, O_i, m_i, l_i). Per block, bytes of the buffers live during the pass.
    std::int64_t smem_bytes = 0;
    std::int64_t register_bytes = 0;
    PhaseWork work;          // what each thread block does, for the timeline (sim/timeline.h)
    PhaseAccesses accesses;  // per block, the tiles it moves (only with record_accesses, for the L2 model)
    // Warps per thread block the definition's synchronous kernel launches for this pass (0: the sync
    // schedule's own, FA2's forward: 4); it sets occupancy and, in the L2 model, how many blocks run at once.
    std::int64_t sync_warps = 0;
};

using BufferId = std::int32_t;

class Hierarchy {
  public:
    // `dtype` sets element sizes of the data tensors; statistics (l, m, L) are always fp32.
    Hierarchy(HardwareSpec spec, Dtype dtype, bool record_trace, std::int64_t max_trace_events = 1'000'000);

    const HardwareSpec& spec() const { return spec_; }
    Dtype dtype() const { return dtype_; }
    std::int64_t bytes_of(Tensor t, std::int64_t elements) const {
        return elements * static_cast<std::int64_t>(element_bytes(t, dtype_));
    }

    // Reserve SRAM for a rows x cols tile of `tensor` (and of `alias`, a tensor the buffer may hold in
    // its place: P_ij overwriting S_ij). Fails (no change) when it would exceed capacity. `what` names
    // the buffer in the failure message and the trace (e.g. "K_j (B_c x d)").
    std::optional<BufferId> allocate(Tensor tensor, std::int64_t rows, std::int64_t cols,
                                     const std::string& what, FitStatus* status,
                                     std::optional<Tensor> alias = std::nullopt);
    void release(BufferId id);

    // Declares a tensor of the run (its shape and tile grid) in the trace, for consumers that draw it,
    // and for the L2 model (which lays the tensors out in memory).
    void declare(const TensorDecl& t) {
        declared_.push_back(t);
        if (trace_) trace_->declare(t);
    }
    const std::vector<TensorDecl>& declared() const { return declared_; }
    // Keep, per thread block, the tiles it moves (the L2 model replays them); off by default.
    void record_accesses(bool on) { record_accesses_ = on; }
    std::int64_t sram_used_bytes() const { return sram_used_bytes_; }

    // Starts a new kernel pass; later moves count towards it. `sync_warps`: Phase::sync_warps.
    void begin_phase(std::string name, std::int64_t parallel_units, std::int64_t sync_warps = 0);
    // The thread block (0 .. parallel_units - 1 of the pass) whose work the next events are; it
    // changes no count, it tells the timeline which events one block runs in order.
    void begin_block(std::int64_t block) {
        block_ = block;
        work_.begin_block(block);
    }

    // Moves `tile` of `tensor` between two levels, counting a read at `from` and a write at `to`.
    // One of the two must be SRAM, or HBM -> L2. Tiles moved into SRAM must fit in an allocated buffer
    // of that tensor (a kernel bug otherwise: std::logic_error).
    // `flags` (sim::flags) mark what kind of move it is in the trace; they change no count.
    void transfer(Tensor tensor, const Rect& tile, Level from, Level to, std::int32_t i, std::int32_t j,
                  const char* label, std::uint8_t flags = 0);
    void load(Tensor tensor, const Rect& tile, std::int32_t i, std::int32_t j, const char* label,
              std::uint8_t flags = 0) {
        transfer(tensor, tile, Level::HBM, Level::SRAM, i, j, label, flags);
    }
    void store(Tensor tensor, const Rect& tile, std::int32_t i, std::int32_t j, const char* label,
               std::uint8_t flags = 0) {
        transfer(tensor, tile, Level::SRAM, Level::HBM, i, j, label, flags);
    }
    // An atomic add of an SRAM tile into HBM (FlashAttention-2's dQ accumulation): the memory side
    // reads the old value and writes the sum, so it counts as a store plus an HBM read of the tile.
    void atomic_add(Tensor tensor, const Rect& tile, std::int32_t i, std::int32_t j, const char* label);

    // Arithmetic on SRAM-resident data producing `tile` of `produced`: counts flops and the SRAM
    // traffic of reading operands and writing results (in elements of the input dtype). `exp_flops`
    // says how many of the other flops are exponentials or logarithms (they run on the GPU's
    // special-function unit, far slower than its FMA units).
    void compute(Tensor produced, const Rect& tile, std::int64_t matmul_flops, std::int64_t other_flops,
                 std::int64_t sram_read_elements, std::int64_t sram_write_elements, std::int32_t i,
                 std::int32_t j, const char* label, std::uint8_t flags = 0, std::int64_t exp_flops = 0);

    // Called every kTickEvents moves and compute steps (with the count so far) while set: the
    // progress of a long run, and the place to stop one (the callee may throw).
    static constexpr std::int64_t kTickEvents = 65536;
    void set_tick(const std::function<void(std::int64_t)>* tick) { tick_ = tick; }

    const Counters& counters() const { return total_; }
    // The passes so far; call finish() first for the last pass's work summary.
    const std::vector<Phase>& phases() const { return phases_; }
    // Closes the last pass (its work summary and access log); counting after it is a new pass.
    void finish();
    std::vector<Phase> take_phases() {
        finish();
        return std::move(phases_);
    }
    const Trace* trace() const { return trace_.get(); }
    std::unique_ptr<Trace> take_trace() { return std::move(trace_); }

  private:
    struct Buffer {
        Tensor tensor;
        Tensor alias;
        std::int64_t elements;
        std::int64_t bytes;
        bool live;
    };
    void count(Level lv, Tensor t, std::int64_t elements, std::int64_t bytes, bool write);
    // The live buffer holding `t` (its own first, else one that takes it in place), or -1.
    BufferId buffer_of(Tensor t) const;
    void record(Event e);
    void count_unique_hbm(Tensor t, const Rect& tile, std::int64_t bytes, bool write);
    void log_access(Tensor t, const Rect& tile, AccessKind kind);
    Phase& phase();
    void tick() {
        if (tick_ != nullptr && (++steps_ & (kTickEvents - 1)) == 0) (*tick_)(steps_);
    }

    HardwareSpec spec_;
    Dtype dtype_;
    Counters total_;
    std::vector<Phase> phases_;
    std::unique_ptr<Trace> trace_;
    std::vector<Buffer> buffers_;
    std::array<std::int64_t, kTensorCount> largest_buffer_{};  // per tensor, elements, live buffers only
    std::int32_t trace_phase_ = -1;                            // the current phase's id in the trace
    std::int64_t block_ = 0;                                   // the current thread block
    std::int64_t sram_used_bytes_ = 0;
    std::int64_t next_step_ = 0;
    // Tiles of the current phase already moved to/from HBM, keyed by direction, tensor and origin
    // (kernels use one tile grid per tensor within a pass, so the origin identifies the tile).
    TileSet phase_tiles_seen_;
    const std::function<void(std::int64_t)>* tick_ = nullptr;
    std::int64_t steps_ = 0;
    WorkRecorder work_;
    bool work_open_ = false;  // work_ holds the current phase's summary
    bool record_accesses_ = false;
    std::vector<std::uint8_t> access_body_;  // per block: a compute or store since its last load
    std::uint32_t phase_loaded_ = 0;         // bit per tensor loaded into SRAM during the current pass
    std::vector<BufferId> phase_buffers_;    // buffers live during the current pass
    std::vector<TensorDecl> declared_;
};

}  // namespace tilesim::sim
