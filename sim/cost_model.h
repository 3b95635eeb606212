#pragma once
// Roofline cost model. Each kernel pass (Phase) takes as long as its slowest resource: DRAM traffic
// (the DRAM estimate below: the model's HBM traffic less what the L2 absorbs), L2 traffic (all of the
// SMs' off-chip requests, when there is an L2), SRAM traffic, or arithmetic (tensor-core matmul plus
// fp32 non-matmul work, which share the SMs and so add). Passes run one after another, so their times add.
// Counts are per (batch, head) and scaled by B*H; the SMs are filled in waves, so a pass with few thread
// blocks runs at a fraction of the device's rates.
#include <array>
#include <string>
#include <vector>

#include "sim/hardware.h"
#include "sim/hierarchy.h"

namespace tilesim::sim {

struct PhaseCost {
    std::string name;
    double hbm_s = 0, l2_s = 0, sram_s = 0, compute_s = 0;
    double occupancy = 1;  // fraction of SM-waves doing work
    // Thread blocks of the pass (all heads), and the fraction of the HBM bandwidth they can draw: an
    // SM pulls at most its share (bandwidth / SMs), so a pass with fewer thread blocks than SMs (a
    // decode step without split-KV) leaves the rest unused: min(1, thread blocks / SMs).
    std::int64_t thread_blocks = 0;
    double hbm_occupancy = 1;
    double time_s = 0;
    std::string bound;  // "HBM", "L2", "SRAM" or "compute"
};

struct CostBreakdown {
    std::vector<PhaseCost> phases;
    double total_s = 0;
};

// Grouped-query attention: `size` query heads read the same K/V head, and `shared` marks the tensors
// they share (K, V, the page table). 1 = no sharing (also when a definition already runs a group in one
// thread block, so that its counts read K/V once per group).
struct HeadGroups {
    std::int64_t size = 1;
    std::array<bool, kTensorCount> shared{};
};

// `heads` = B*H: the per-head phases are scaled by it (the units a run simulated: heads, or KV groups).
CostBreakdown predict(const HardwareSpec& hw, const std::vector<Phase>& phases, std::int64_t heads,
                      const HeadGroups& groups = {});

// DRAM traffic on a GPU with an L2, as a profiler's dram__bytes would show it. The paper's model
// (and the Counters) charge every HBM <-> SRAM move to HBM; a real L2 serves re-reads of a tile, and
// absorbs re-writes, while the tiles being re-used by the thread blocks running at once fit in it.
// Per phase: the re-used footprint of one head is the distinct bytes of every tensor moved more
// than once; the heads in flight at once are ceil(SMs / thread blocks per head), at most B*H. When
// footprint x heads in flight fits in the L2, DRAM sees each distinct tile once per direction;
// otherwise it sees the model's HBM traffic. Nothing carries over between phases (launches).
// Grouped-query attention (`groups`): the query heads of a KV group read the same K/V tiles at about the
// same time when they are in flight together (a launch order with the heads of a group next to each
// other, as FA2's split-KV grid has), so DRAM sees a shared tensor once per group, or once per wave of
// the group when fewer than its heads fit on the SMs at once: ceil(g / min(g, heads in flight)) times.
struct PhaseDram {
    std::int64_t read_bytes = 0, write_bytes = 0;  // all heads
    std::int64_t reuse_footprint_bytes = 0;        // heads in flight x re-used bytes per head
    bool reuse_fits_l2 = false;
    std::int64_t heads_in_flight = 0;  // heads whose thread blocks run at once
    std::int64_t group_fetches = 1;    // times DRAM serves a KV group's shared tiles (1: once per group)
};
struct DramEstimate {
    std::vector<PhaseDram> phases;
    std::int64_t read_bytes = 0, write_bytes = 0;
    std::int64_t total_bytes() const { return read_bytes + write_bytes; }
};
DramEstimate estimate_dram(const HardwareSpec& hw, const std::vector<Phase>& phases, std::int64_t heads,
                           const HeadGroups& groups = {});

// Time one event would take alone on a whole device (for the animation's clock).
double event_seconds(const HardwareSpec& hw, const Event& e);

}  // namespace tilesim::sim
