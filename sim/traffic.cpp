#include "sim/traffic.h"

#include <algorithm>

namespace tilesim::sim {

BoundaryTraffic& BoundaryTraffic::operator+=(const BoundaryTraffic& o) {
    sm_load_bytes += o.sm_load_bytes;
    sm_store_bytes += o.sm_store_bytes;
    l2_read_bytes += o.l2_read_bytes;
    l2_write_bytes += o.l2_write_bytes;
    l2_read_hit_bytes += o.l2_read_hit_bytes;
    dram_read_bytes += o.dram_read_bytes;
    dram_write_bytes += o.dram_write_bytes;
    return *this;
}

namespace {
BoundaryTraffic sm_side(const Phase& ph, std::int64_t heads) {
    BoundaryTraffic t;
    t.sm_load_bytes = ph.sm.load_bytes * heads;
    t.sm_store_bytes = ph.sm.store_bytes * heads;
    return t;
}
}  // namespace

std::vector<BoundaryTraffic> traffic_from_estimate(const std::vector<Phase>& phases, const DramEstimate& dram,
                                                   std::int64_t heads) {
    std::vector<BoundaryTraffic> out;
    for (std::size_t k = 0; k < phases.size(); ++k) {
        BoundaryTraffic t = sm_side(phases[k], heads);
        // Every request of the SMs passes the L2; an atomic is a read there too.
        t.l2_read_bytes = t.sm_load_bytes + phases[k].sm.atomic_bytes * heads;
        t.l2_write_bytes = t.sm_store_bytes;
        t.dram_read_bytes = dram.phases.at(k).read_bytes;
        t.dram_write_bytes = dram.phases.at(k).write_bytes;
        t.l2_read_hit_bytes = std::max<std::int64_t>(0, t.l2_read_bytes - t.dram_read_bytes);
        out.push_back(t);
    }
    return out;
}

std::vector<BoundaryTraffic> traffic_from_l2(const std::vector<Phase>& phases, const std::vector<L2Stats>& l2,
                                             std::int64_t heads) {
    std::vector<BoundaryTraffic> out;
    for (std::size_t k = 0; k < phases.size(); ++k) {
        BoundaryTraffic t = sm_side(phases[k], heads);
        const L2Stats& s = l2.at(k);
        t.l2_read_bytes = s.read_request_bytes;
        t.l2_write_bytes = s.write_request_bytes;
        t.l2_read_hit_bytes = s.read_hit_bytes;
        t.dram_read_bytes = s.dram_read_bytes;
        t.dram_write_bytes = s.dram_write_bytes;
        out.push_back(t);
    }
    return out;
}

PhaseMemory memory_of(const BoundaryTraffic& t) {
    PhaseMemory m;
    m.sm_bytes = t.sm_load_bytes + t.sm_store_bytes;
    m.l2_bytes = t.l2_read_bytes + t.l2_write_bytes;
    m.dram_bytes = t.dram_read_bytes + t.dram_write_bytes;
    return m;
}

}  // namespace tilesim::sim
