#pragma once
// The three traffics a profiler shows, per pass and for all heads:
//   into the SMs  what the SMs load into SRAM and store from it (L1/TEX global loads, cp.async or TMA
//                 bytes): the paper's HBM <-> SRAM count, less the memory-side reads of atomics;
//   L2            the requests the L2 serves (the SMs' loads and stores, both halves of an atomic),
//                 and how many of the reads hit;
//   DRAM          what reaches DRAM: from the L2 model (sim/l2.h) when it runs, else from the DRAM
//                 estimate (sim/cost_model.h estimate_dram), whose hits are the reads DRAM did not serve.
#include <cstdint>
#include <vector>

#include "sim/cost_model.h"
#include "sim/l2.h"
#include "sim/timeline.h"

namespace tilesim::sim {

struct BoundaryTraffic {
    std::int64_t sm_load_bytes = 0, sm_store_bytes = 0;
    std::int64_t l2_read_bytes = 0, l2_write_bytes = 0, l2_read_hit_bytes = 0;
    std::int64_t dram_read_bytes = 0, dram_write_bytes = 0;
    BoundaryTraffic& operator+=(const BoundaryTraffic& o);
};

std::vector<BoundaryTraffic> traffic_from_estimate(const std::vector<Phase>& phases, const DramEstimate& dram,
                                                   std::int64_t heads);
// `l2` has one entry per phase (replay_l2's), already for all heads.
std::vector<BoundaryTraffic> traffic_from_l2(const std::vector<Phase>& phases, const std::vector<L2Stats>& l2,
                                             std::int64_t heads);
// What the timeline shares out: bytes across each boundary.
PhaseMemory memory_of(const BoundaryTraffic& t);

}  // namespace tilesim::sim
