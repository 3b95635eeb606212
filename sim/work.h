#pragma once
// What each thread block of a kernel pass does, as the timeline (sim/timeline.h) needs it: a compact
// summary the hierarchy accumulates as the run goes, with or without a trace.
//
// A block's work is a list of steps; a step is the copies into SRAM that start it, the arithmetic on
// what is resident, and the copies out (FlashAttention-2's step j: load K_j, V_j; S_ij, softmax,
// O_i += P_ij V_j). Runs of identical steps are stored once with a repeat count, and identical blocks
// once per class, so a count-only sweep of millions of tile moves stays small: FA2's block is three
// runs (the first step, T_c - 1 identical steps, the last), and a head's blocks are two classes (the
// full Q blocks and the ragged last one). Nothing here names an algorithm: the summary is built from
// the hierarchy's transfer() and compute() calls alone.
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "sim/types.h"

namespace tilesim::sim {

enum class WorkKind : std::uint8_t { load, compute, store };

// One load, store or arithmetic step of a block.
struct WorkOp {
    WorkKind kind = WorkKind::compute;
    Tensor tensor = Tensor::Q;    // loaded, stored or produced
    std::uint8_t flags = 0;       // sim::flags of the event (atomic, recompute, init)
    std::int64_t bytes = 0;       // load/store: bytes moved between SRAM and off-chip
    std::int64_t mma_flops = 0;   // compute: tensor-core FLOPs
    std::int64_t exp_flops = 0;   // compute: exponentials and logarithms (special-function unit)
    std::int64_t fma_flops = 0;   // compute: the other non-matmul FLOPs (FP32 lanes)
    std::int64_t sram_bytes = 0;  // compute: operands read from and results written to SRAM
    bool operator==(const WorkOp&) const = default;
};

struct WorkStep {
    std::vector<WorkOp> ops;  // in program order
    bool operator==(const WorkStep&) const = default;
};

// `repeat` identical steps in a row.
struct WorkRun {
    WorkStep step;
    std::int64_t repeat = 1;
    bool operator==(const WorkRun&) const = default;
};

struct BlockWork {
    std::vector<WorkRun> runs;
    std::int64_t steps() const;
    // Sums over every step (repeats included).
    std::int64_t load_bytes() const;
    std::int64_t store_bytes() const;
    std::int64_t mma_flops() const;
    bool operator==(const BlockWork&) const = default;
};

// The blocks of one kernel pass for one (batch, head): each block's class, and one work per class.
struct PhaseWork {
    std::vector<BlockWork> classes;
    std::vector<std::int32_t>
        block_class;  // per block id 0 .. parallel_units - 1 (-1: the block did nothing)
    std::vector<std::int64_t> class_blocks;  // how many blocks of one head are of each class
    std::int64_t blocks() const { return static_cast<std::int64_t>(block_class.size()); }
    bool has_tensor_work() const;  // any block does matmul FLOPs
};

// Builds a PhaseWork from the events of one pass. Blocks may be left and re-entered (a block id seen
// again continues where it stopped). The open block is kept flat (reused buffers, no allocation per
// block), and becomes a BlockWork only when it is a new class: a sweep's millions of blocks are a few
// classes.
class WorkRecorder {
  public:
    void begin_phase(std::int64_t blocks);
    void begin_block(std::int64_t block);
    void add(const WorkOp& op) {
        add(op.kind, op.tensor, op.flags, op.bytes, op.mma_flops, op.exp_flops, op.fma_flops, op.sram_bytes);
    }
    // The same, built in place (the hierarchy calls it for every tile move and arithmetic step).
    void add(WorkKind kind, Tensor tensor, std::uint8_t flags, std::int64_t bytes, std::int64_t mma,
             std::int64_t exp, std::int64_t fma, std::int64_t sram) {
        if (!open_) open_block();
        if (kind == WorkKind::load && step_has_body_) close_step();
        WorkOp& op = step_.emplace_back();
        op.kind = kind;
        op.tensor = tensor;
        op.flags = flags;
        op.bytes = bytes;
        op.mma_flops = mma;
        op.exp_flops = exp;
        op.fma_flops = fma;
        op.sram_bytes = sram;
        if (kind != WorkKind::load) step_has_body_ = true;
    }
    // Closes the open block and returns the pass's work (the recorder is then empty).
    PhaseWork finish();

  private:
    struct FlatRun {
        std::size_t begin, count;
        std::int64_t repeat;
    };
    void open_block();
    void close_step();
    void close_block();
    std::uint64_t flat_hash() const;
    bool flat_equals(const BlockWork& w) const;

    PhaseWork work_;
    std::unordered_multimap<std::uint64_t, std::int32_t> by_hash_;
    std::int64_t block_ = -1;
    bool open_ = false;
    std::vector<WorkOp> step_;      // the open step
    std::vector<WorkOp> flat_ops_;  // the open block's runs' steps, one after another
    std::vector<FlatRun> flat_runs_;
    bool step_has_body_ = false;  // a compute or store since the step's loads: the next load starts a step
};

}  // namespace tilesim::sim
