#pragma once
// Hardware specifications (datasheet figures) and the built-in presets.
// A spec is pure data; statistics live in Counters (timeloop's separation of spec and stats).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tilesim::sim {

struct HardwareSpec {
    std::string name;               // preset id, e.g. "A100-40GB"
    std::string description;        // one line, with the source of the figures
    double hbm_bytes_per_s = 0;     // off-chip DRAM bandwidth, whole device
    std::int64_t sram_bytes = 0;    // on-chip SRAM one thread block may use: the paper's M, in bytes
    double sram_bytes_per_s = 0;    // aggregate shared-memory bandwidth, all SMs
    std::int64_t sm_count = 1;      // streaming multiprocessors: how many tiles run at once
    std::int64_t l2_bytes = 0;      // 0 = no L2 level
    double l2_bytes_per_s = 0;      // aggregate L2 bandwidth (an estimate: vendors do not publish it)
    double matmul_flops_per_s = 0;  // dense fp16/bf16 tensor-core rate
    double vector_flops_per_s = 0;  // fp32 non-matmul rate (exp, max, sum, rescale)
};

// The built-in presets, in display order.
const std::vector<HardwareSpec>& hardware_presets();
// Case-sensitive lookup by preset id; nullopt when unknown.
std::optional<HardwareSpec> find_preset(std::string_view name);
// "A100-40GB, A100-80GB, ..." for error messages.
std::string preset_names();

}  // namespace tilesim::sim
