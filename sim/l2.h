#pragma once
// The L2 between the SMs and DRAM: a set-associative cache with LRU replacement, kept line by line
// (never element by element), and the replay that feeds it the tile moves of the thread blocks that
// run at the same time.
//
// Policy, stated once: `l2_bytes` of capacity in lines of `l2_line_bytes` (128 B on NVIDIA GPUs), each
// line a set of sectors of `l2_sector_bytes` (32 B) with their own valid and dirty bits; `l2_ways`-way
// sets (16) with least-recently-used replacement inside a set; the set of a line is a hash of its
// address, taken in groups of 64 consecutive lines, as real L2s hash addresses to spread strided
// tiles over the slices. Reads of missing sectors come from DRAM (sector granularity); writes allocate
// without fetching (a tile write covers whole sectors) and mark their sectors dirty; a dirty line is
// written back when it is evicted, and everything still dirty when the run ends. Atomics are a read
// and a write at the L2. The L2's contents carry over from one kernel pass of a run to the next (what
// a sequence of launches sees; ncu's --cache-control all would flush between them).
//
// Partitions: the capacity is one of the L2's `partitions` halves, because data every SM reads is held
// in each (an SM's misses fill the half it is attached to). A tensor that is updated by atomics is not:
// an atomic is performed in the line's home slice, so such a tensor (FA2's fp32 dQ accumulator) lives
// once in the whole L2. The model keeps, of such a tensor, only the lines homed in its partition (a
// hash of the line's address picks the home), each standing for `partitions` lines of the GPU, and
// counts their traffic that many times: the other partitions see the same pattern with theirs.
//
// The replay: the model simulates one head, whose thread blocks are the same for every head, and
// the hierarchy logs each block's tile moves (Phase::accesses). The replay runs all B*H heads, each
// head's tensors at its own addresses ([B, H, N, d] layout per tensor; K and V shared by the query
// heads of a group), in the grid order of the launch: `head-major` gives every block of head 0,
// then of head 1 (FlashAttention-2's grid, Q blocks fastest), `sequence-major` block 0 of every head,
// then block 1 (heads fastest). `slots` blocks run at once (SMs x blocks per SM); their steps are
// interleaved round-robin, and when a block ends the next one of the grid takes its slot.
#include <cstdint>
#include <vector>

#include "sim/trace.h"
#include "sim/types.h"

namespace tilesim::sim {

enum class AccessKind : std::uint8_t { read, write, atomic };

// One tile move of a block: `tile` of `tensor` read into SRAM, written from it, or added atomically.
struct Access {
    Tensor tensor = Tensor::Q;
    AccessKind kind = AccessKind::read;
    Rect tile{};
};

struct BlockAccesses {
    std::vector<Access> list;
    std::vector<std::uint32_t> step_begin;  // index in `list` where each step starts
};

// Per block of one head (block id = index); empty unless the hierarchy recorded accesses.
struct PhaseAccesses {
    std::vector<BlockAccesses> blocks;
    bool recorded = false;
};

struct L2Config {
    std::int64_t capacity_bytes = 0;  // what the model holds (HardwareSpec: l2_bytes / l2_partitions)
    std::int64_t line_bytes = 128;
    std::int64_t sector_bytes = 32;
    std::int64_t ways = 16;
    std::int64_t partitions = 1;  // the L2's halves (HardwareSpec::l2_partitions): see "Partitions" above
};

// Bytes, all heads. Requests are counted in sectors, as the profiler's lts__t_sectors counters do.
struct L2Stats {
    std::int64_t read_request_bytes = 0;   // reads the SMs (and atomics) ask of the L2
    std::int64_t read_hit_bytes = 0;       // of those, sectors the L2 held
    std::int64_t write_request_bytes = 0;  // writes the SMs (and atomics) send to the L2
    std::int64_t dram_read_bytes = 0;      // sectors fetched from DRAM on misses
    std::int64_t dram_write_bytes = 0;     // dirty sectors written back (evictions, and the final flush)
    std::int64_t flush_write_bytes = 0;    // of dram_write_bytes, the write-back at the end of the run
    L2Stats& operator+=(const L2Stats& o);
    L2Stats operator-(const L2Stats& o) const;
};

class L2Cache {
  public:
    // Addresses must stay below this (2^32 groups of 64 lines); replay_l2 checks it.
    static std::uint64_t address_limit(std::int64_t line_bytes) {
        return (std::uint64_t{1} << 32) * 64 * static_cast<std::uint64_t>(line_bytes);
    }
    explicit L2Cache(const L2Config& c);
    void read(std::uint64_t addr, std::int64_t bytes);
    void write(std::uint64_t addr, std::int64_t bytes);
    // The same for a tensor that lives in its home slices only: lines homed elsewhere are skipped, the
    // others count `partitions` times (their evictions too).
    void read_home(std::uint64_t addr, std::int64_t bytes);
    void write_home(std::uint64_t addr, std::int64_t bytes);
    // Writes every dirty sector back to DRAM.
    void flush();
    const L2Stats& stats() const { return stats_; }
    std::int64_t sets() const { return sets_; }
    std::int64_t ways() const { return ways_; }
    // Whether the line holding `addr` is resident (for tests; no LRU update).
    bool holds(std::uint64_t addr) const;

  private:
    // Finds the line (installing it on a miss, evicting the least recently used) and moves it to the
    // front of its set; returns the index of the front way.
    template <std::size_t W>
    std::size_t touch(std::uint64_t line, std::size_t set);
    std::size_t touch_any(std::uint64_t line, std::size_t set);
    std::size_t set_of(std::uint64_t line) const;
    template <bool Write, bool Home>
    void access(std::uint64_t addr, std::int64_t bytes);

    std::int64_t line_bytes_, sector_bytes_, ways_, sets_;
    std::int32_t sectors_per_line_;
    // Each set's ways in recency order, most recent first (so LRU needs no clock). The tag is the
    // line's group (line / 64) + 1, 0 = empty: the line within its group is the set's own.
    std::vector<std::uint32_t> tag_;
    std::vector<std::uint8_t> valid_, dirty_;
    std::vector<std::uint8_t> weight_;  // lines of the GPU each way stands for (1, or partitions: home lines)
    std::int64_t partitions_ = 1;
    L2Stats stats_;
};

enum class GridOrder : std::uint8_t { head_major, sequence_major };
std::string_view grid_order_name(GridOrder g);

struct L2ReplayInput {
    std::vector<const PhaseAccesses*> phases;  // in launch order
    std::vector<std::int64_t> slots;           // per phase: thread blocks running at once
    std::vector<TensorDecl> tensors;           // shapes of one head's tensors
    Dtype dtype = Dtype::fp16;
    std::int64_t heads = 1;     // B*H query heads
    std::int64_t kv_group = 1;  // query heads per K/V head (H / H_kv)
    GridOrder order = GridOrder::head_major;
    L2Config config;
};

// Per phase, what the L2 and DRAM saw (all heads); the final write-back is counted in the last phase.
std::vector<L2Stats> replay_l2(const L2ReplayInput& in);

}  // namespace tilesim::sim
