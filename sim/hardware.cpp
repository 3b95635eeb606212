#include "sim/hardware.h"

namespace tilesim::sim {

namespace {
constexpr double kKiB = 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kTB = 1e12;

// SRAM bandwidth where no datasheet gives it: SMs x 128 bytes/clock x boost clock (the per-SM
// shared-memory width of Ampere/Ada/Hopper). L2 bandwidth: about 2.5x HBM, a rough estimate (no
// vendor figure exists); it only matters for the GEMM operand re-reads of standard attention.
std::vector<HardwareSpec> make_presets() {
    std::vector<HardwareSpec> p;
    p.push_back(
        {"A100-40GB",
         "NVIDIA A100 40GB with the FlashAttention paper's figures (1.5 TB/s HBM, 192 KB SRAM x 108 SMs, "
         "19 TB/s SRAM)",
         1.5 * kTB, static_cast<std::int64_t>(192 * kKiB), 19.0 * kTB, 108,
         static_cast<std::int64_t>(40 * kMiB), 3.8 * kTB, 312e12, 19.5e12});
    p.push_back({"A100-80GB",
                 "NVIDIA A100 80GB SXM datasheet: 2,039 GB/s, 164 KB shared memory per block, 108 SMs",
                 2.039 * kTB, static_cast<std::int64_t>(164 * kKiB), 19.5 * kTB, 108,
                 static_cast<std::int64_t>(40 * kMiB), 5.1 * kTB, 312e12, 19.5e12});
    p.push_back({"H100-SXM",
                 "NVIDIA H100 SXM 80GB datasheet: 3.35 TB/s, 227 KB shared memory per block, 132 SMs",
                 3.35 * kTB, static_cast<std::int64_t>(227 * kKiB), 33.4 * kTB, 132,
                 static_cast<std::int64_t>(50 * kMiB), 8.4 * kTB, 989e12, 67e12});
    p.push_back({"H200", "NVIDIA H200 datasheet: 4.8 TB/s, 227 KB shared memory per block, 132 SMs",
                 4.8 * kTB, static_cast<std::int64_t>(227 * kKiB), 33.4 * kTB, 132,
                 static_cast<std::int64_t>(60 * kMiB), 12.0 * kTB, 989e12, 67e12});
    p.push_back({"RTX-4090",
                 "NVIDIA RTX 4090 datasheet: 1,008 GB/s GDDR6X, 100 KB shared memory per SM, 128 SMs",
                 1.008 * kTB, static_cast<std::int64_t>(100 * kKiB), 41.3 * kTB, 128,
                 static_cast<std::int64_t>(72 * kMiB), 2.5 * kTB, 165e12, 82.6e12});
    p.push_back({"T4", "NVIDIA T4 datasheet: 320 GB/s GDDR6, 64 KB shared memory per SM, 40 SMs", 0.32 * kTB,
                 static_cast<std::int64_t>(64 * kKiB), 8.1 * kTB, 40, static_cast<std::int64_t>(4 * kMiB),
                 0.8 * kTB, 65e12, 8.1e12});
    // A toy machine for the classroom: 384 bytes of SRAM (96 fp32 elements) and no L2, so a
    // 16x4 problem needs many visible tile moves. Rates are round numbers chosen for readable times.
    p.push_back({"classroom",
                 "Toy machine: 384 B SRAM (96 fp32 elements), no L2, 1 SM; every tile move is visible", 1e9,
                 384, 1e10, 1, 0, 0, 1e10, 1e9});
    return p;
}
}  // namespace

const std::vector<HardwareSpec>& hardware_presets() {
    static const std::vector<HardwareSpec> presets = make_presets();
    return presets;
}

std::optional<HardwareSpec> find_preset(std::string_view name) {
    for (const auto& spec : hardware_presets()) {
        if (spec.name == name) return spec;
    }
    return std::nullopt;
}

std::string preset_names() {
    std::string out;
    for (const auto& spec : hardware_presets()) {
        if (!out.empty()) out += ", ";
        out += spec.name;
    }
    return out;
}

}  // namespace tilesim::sim
