#pragma once
// Traffic and work statistics. Units are in the field names: bytes, elements, flops.
#include <array>
#include <cstdint>

#include "sim/types.h"

namespace tilesim::sim {

struct Traffic {
    std::int64_t read_bytes = 0;
    std::int64_t write_bytes = 0;
    std::int64_t read_elements = 0;
    std::int64_t write_elements = 0;

    std::int64_t total_bytes() const { return read_bytes + write_bytes; }
    std::int64_t total_elements() const { return read_elements + write_elements; }
    Traffic& operator+=(const Traffic& o);
    Traffic& operator*=(std::int64_t factor);
    bool operator==(const Traffic&) const = default;
};

// Reads and writes are counted at the level where they happen: a load HBM -> SRAM is an HBM read and
// an SRAM write; a store SRAM -> HBM is an SRAM read and an HBM write. Compute on SRAM-resident tiles
// adds SRAM reads/writes (operands in, results out) but moves nothing between levels.
struct Counters {
    std::array<Traffic, kLevelCount> level{};
    std::array<std::array<Traffic, kTensorCount>, kLevelCount> by_tensor{};
    std::int64_t matmul_flops = 0;
    std::int64_t other_flops = 0;  // exp, max, sum, rescale: the non-tensor-core work
    std::int64_t exp_flops = 0;    // of other_flops, the exponentials and logarithms (the special-function unit)
    std::int64_t sram_peak_bytes = 0;
    std::int64_t transfers = 0;  // number of tile moves between levels

    const Traffic& at(Level l) const { return level[static_cast<std::size_t>(l)]; }
    const Traffic& at(Level l, Tensor t) const {
        return by_tensor[static_cast<std::size_t>(l)][static_cast<std::size_t>(t)];
    }
    std::int64_t flops() const { return matmul_flops + other_flops; }

    // Adds traffic and flops; the peak becomes the larger of the two (phases do not overlap).
    Counters& operator+=(const Counters& o);
    // Scales traffic and flops (not the SRAM peak, which is per thread block): B*H identical heads.
    Counters scaled(std::int64_t factor) const;
};

}  // namespace tilesim::sim
