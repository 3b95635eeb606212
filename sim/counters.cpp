#include "sim/counters.h"

#include <algorithm>

namespace tilesim::sim {

Traffic& Traffic::operator+=(const Traffic& o) {
    read_bytes += o.read_bytes;
    write_bytes += o.write_bytes;
    read_elements += o.read_elements;
    write_elements += o.write_elements;
    return *this;
}

Traffic& Traffic::operator*=(std::int64_t factor) {
    read_bytes *= factor;
    write_bytes *= factor;
    read_elements *= factor;
    write_elements *= factor;
    return *this;
}

Counters& Counters::operator+=(const Counters& o) {
    for (std::size_t lv = 0; lv < kLevelCount; ++lv) {
        level[lv] += o.level[lv];
        for (std::size_t t = 0; t < kTensorCount; ++t) by_tensor[lv][t] += o.by_tensor[lv][t];
    }
    matmul_flops += o.matmul_flops;
    other_flops += o.other_flops;
    exp_flops += o.exp_flops;
    sram_peak_bytes = std::max(sram_peak_bytes, o.sram_peak_bytes);
    transfers += o.transfers;
    return *this;
}

Counters Counters::scaled(std::int64_t factor) const {
    Counters c = *this;
    for (std::size_t lv = 0; lv < kLevelCount; ++lv) {
        c.level[lv] *= factor;
        for (auto& t : c.by_tensor[lv]) t *= factor;
    }
    c.matmul_flops *= factor;
    c.other_flops *= factor;
    c.exp_flops *= factor;
    c.transfers *= factor;
    return c;
}

}  // namespace tilesim::sim
