#pragma once
// The event trace: one event per tile move, compute step, SRAM allocation and pass, in program order.
// The trace describes itself: it carries the shapes and tile grids of the tensors the algorithm
// declared, the name and size of every SRAM buffer it reserved, and the name of every pass, so a
// consumer (the GUI, an exporter) can draw a run from the trace alone, knowing nothing about the
// algorithm. Recording is optional and capped so huge runs stay cheap.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/types.h"

namespace tilesim::sim {

enum class Op : std::uint8_t {
    Load,      // a tile moves towards SRAM (HBM -> SRAM, L2 -> SRAM)
    Store,     // a tile moves SRAM -> HBM
    Compute,   // arithmetic on SRAM-resident tiles
    Phase,     // a new kernel pass begins (`phase` is its id in Trace::phases())
    Allocate,  // an SRAM buffer is reserved (`buffer` is its id in Trace::buffers())
    Release,   // an SRAM buffer is freed
};
std::string_view op_name(Op op);

// Event flags: what kind of move or compute this is, beyond its op.
namespace flags {
inline constexpr std::uint8_t kRecompute = 1;  // a tile the forward pass already computed, computed again
inline constexpr std::uint8_t kAtomic = 2;     // an atomic read-modify-write at the memory side
inline constexpr std::uint8_t kMasked = 4;     // a block that needs the element-wise mask
inline constexpr std::uint8_t kInit = 8;       // an initialisation write (zeros, -inf)
}  // namespace flags

struct Event {
    std::int64_t step = 0;  // position in program order, 0-based, counting every event
    Op op = Op::Load;
    Tensor tensor = Tensor::Q;  // for Compute: the tensor produced; for Allocate/Release: the buffer's
    std::uint8_t flags = 0;
    Level from = Level::HBM;
    Level to = Level::SRAM;
    std::int32_t phase = -1;   // the pass this event belongs to (Trace::phases()), -1 before the first
    std::int32_t buffer = -1;  // the SRAM buffer loaded into, stored from, computed in, allocated or freed
    std::int64_t block = 0;    // the thread block (within its pass, per head) that does this work
    Rect tile{};               // Allocate: {0, 0, rows, cols} of the buffer
    std::int64_t bytes = 0;
    std::int64_t flops = 0;      // all of a compute step's FLOPs: matmul + other
    std::int64_t mma_flops = 0;  // of flops, the matmul (tensor-core) part
    std::int64_t exp_flops = 0;  // of flops, the exponentials and logarithms (special-function unit)
    std::int64_t sram_used_bytes = 0;  // SRAM occupancy after this event
    std::int64_t sram_bytes = 0;       // Compute: operand bytes read from and written to SRAM
    // Where the timeline places this event for head 0 (sim::annotate_trace): the agent doing most of it
    // (a sim::Agent; -1: not placed) and its start and end in seconds from the run's start.
    std::int8_t agent = -1;
    double start_s = -1, end_s = -1;
    std::int32_t i = -1;               // Q (row) block index in the paper's loops, -1 if not applicable
    std::int32_t j = -1;               // K/V (column) block index, -1 if not applicable
    const char* label = "";            // static text: which line of which algorithm ("Alg 1 l.9: load Q_i")
    bool has(std::uint8_t f) const { return (flags & f) != 0; }
};

// A tensor the algorithm keeps in HBM (or, with in_hbm false, one it computes on chip only and never
// stores: S and P for FlashAttention), with its shape and the tile grid the algorithm cuts it in.
struct TensorDecl {
    Tensor tensor = Tensor::Q;
    std::int64_t rows = 0, cols = 0;              // the logical matrix of one head
    std::int64_t block_rows = 1, block_cols = 1;  // tile grid
    bool in_hbm = true;
    bool input = false;  // present in HBM before the run (Q, K, V; dO and the forward's outputs for a backward)
    std::int32_t first_phase = 0;  // the first pass it describes (a later run appended may cut it finer)
};

// An SRAM buffer (like a __shared__ array): the tensor it holds (and one it may hold in place of it:
// P_ij overwrites S_ij), its shape and name.
struct BufferDecl {
    Tensor tensor = Tensor::Q;
    Tensor alias = Tensor::Q;  // == tensor when it holds only one
    std::int64_t rows = 0, cols = 0, bytes = 0;
    std::string what;  // "K_j (B_c x d)"
};

struct PhaseDecl {
    std::string name;
    std::int64_t parallel_units = 1;
};

class Trace {
  public:
    explicit Trace(std::int64_t max_events = 1'000'000) : max_events_(max_events) {}
    void add(const Event& e) {
        if (static_cast<std::int64_t>(events_.size()) < max_events_) {
            events_.push_back(e);
        } else {
            truncated_ = true;
            ++dropped_;
        }
    }
    void declare(const TensorDecl& t) { tensors_.push_back(t); }
    std::int32_t add_buffer(BufferDecl b) {
        buffers_.push_back(std::move(b));
        return static_cast<std::int32_t>(buffers_.size() - 1);
    }
    std::int32_t add_phase(PhaseDecl p) {
        phases_.push_back(std::move(p));
        return static_cast<std::int32_t>(phases_.size() - 1);
    }

    const std::vector<Event>& events() const { return events_; }
    // For annotations that leave the counts alone (the timeline's times: sim::annotate_trace).
    Event& event(std::size_t i) { return events_.at(i); }
    const std::vector<TensorDecl>& tensors() const { return tensors_; }
    const std::vector<BufferDecl>& buffers() const { return buffers_; }
    const std::vector<PhaseDecl>& phases() const { return phases_; }
    // The first declaration of `t` (the one that describes the run's first pass that uses it).
    const TensorDecl* tensor(Tensor t) const {
        for (const auto& d : tensors_) {
            if (d.tensor == t) return &d;
        }
        return nullptr;
    }
    // The declaration of `t` in force at pass `phase`: after append(), a backward may cut a tensor
    // in other tiles than its forward did.
    const TensorDecl* tensor(Tensor t, std::int32_t phase) const {
        const TensorDecl* best = nullptr;
        for (const auto& d : tensors_) {
            if (d.tensor == t && d.first_phase <= phase && (best == nullptr || d.first_phase >= best->first_phase))
                best = &d;
        }
        return best != nullptr ? best : tensor(t);
    }
    bool truncated() const { return truncated_; }
    std::int64_t dropped_events() const { return dropped_; }
    std::int64_t max_events() const { return max_events_; }

    // Appends `later` (a run that follows this one: the backward after the forward) with its steps,
    // phase and buffer ids renumbered; its tensor declarations are kept, starting at its first pass.
    void append(const Trace& later);

  private:
    std::int64_t max_events_;
    bool truncated_ = false;
    std::int64_t dropped_ = 0;
    std::vector<Event> events_;
    std::vector<TensorDecl> tensors_;
    std::vector<BufferDecl> buffers_;
    std::vector<PhaseDecl> phases_;
};

}  // namespace tilesim::sim
