#pragma once
// Hardware specifications (datasheet figures) and the built-in presets.
// A spec is pure data; statistics live in Counters (timeloop's separation of spec and stats).
//
// Two groups of figures. The first (up to vector_flops_per_s) is the datasheet view the paper's
// two-level model uses ("paper" mode of sim/cost_model.h). The second feeds the scheduled timeline
// (sim/timeline.h): the rates of each agent an SM has (copy engine, tensor cores per instruction kind,
// special-function unit, FP32 lanes, shared memory), what a kernel actually reaches of the device-wide
// bandwidths, the latency a synchronous load waits, the occupancy limits and the L2's organisation.
// Every figure of the second group says where it comes from in `sources` (one line per field).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tilesim::sim {

struct HardwareSpec {
    std::string name;               // preset id, e.g. "A100-40GB"
    std::string description;        // one line, with the source of the figures
    double hbm_bytes_per_s = 0;     // off-chip DRAM bandwidth, whole device (datasheet)
    std::int64_t sram_bytes = 0;    // on-chip SRAM one thread block may use: the paper's M, in bytes
    double sram_bytes_per_s = 0;    // aggregate shared-memory bandwidth, all SMs
    std::int64_t sm_count = 1;      // streaming multiprocessors: how many tiles run at once
    std::int64_t l2_bytes = 0;      // 0 = no L2 level
    double l2_bytes_per_s = 0;      // aggregate L2 bandwidth (vendors do not publish it; see sources)
    double matmul_flops_per_s = 0;  // dense fp16/bf16 tensor-core peak (the datasheet's)
    double vector_flops_per_s = 0;  // fp32 peak, an FMA counted as 2 flops (the datasheet's)

    // --- the timeline's figures ---
    double clock_hz = 1e9;  // SM clock the per-clock figures are quoted at
    std::int64_t hbm_capacity_bytes = 0;
    double mma_sync_flops_per_s =
        0;  // fp16 rate a kernel reaches with warp-level mma.sync (FA2, Ampere style)
    double wgmma_flops_per_s =
        0;  // fp16 rate a kernel reaches with warp-group wgmma (Hopper); = mma.sync without it
    double fp8_tensor_factor = 1;        // fp8 tensor rate / fp16 (2 on Hopper and Ada; 1: no fp8 path)
    double fp64_tensor_factor = 0.0625;  // fp64 tensor rate / fp16 (fp32 runs as TF32 at half the fp16 rate)
    double sfu_ops_per_s = 0;            // exponentials and logarithms per second, whole device
    double dram_achieved = 1;            // fraction of hbm_bytes_per_s a kernel moves
    double l2_achieved = 1;              // fraction of l2_bytes_per_s a kernel moves
    double sm_port_bytes_per_s = 0;      // most one SM can move to or from the L2 per second
    double memory_latency_s = 0;  // a load's first byte from DRAM (waited by a synchronous step)
    double l2_latency_s = 0;      // a load's first byte when it hits the L2
    // The ping-pong hand-off's cost: inside a warp group's turn on the tensor cores (the other group
    // held at the named barrier), a wgmma it waits for (wgmma.wait_group 0) drains and the next one it
    // issues refills the pipe; the tensor cores idle this long between the two. 0: no wgmma.
    double wgmma_wait_s = 0;
    // A ping-pong consumer group's handshakes with the producer's ring, per step: its mbarrier waits for
    // K_j and V_j-1 and its release of the slot. They sit on the chain of turns (the group's softmax,
    // then its waits, then its GEMM window, then the other group's), so each group's GEMM window of
    // each step starts this much later. Without ping-pong the other group computes meanwhile and hides
    // them (bench/gpu/overlap.cu's "+ring" modes). 0: none; kernels issuing wgmma only.
    double ring_wait_s = 0;
    // How a warp group's softmax runs beside wgmma (bench/gpu/overlap.cu); kernels issuing wgmma only.
    // `warpgroup_serial_softmax`: one warp group's exponentials and FP32 work follow each other in its
    // instruction stream, so its softmax alone takes their sum at the SM's rates, however idle the units
    // are (two groups overlap each other's). `wgmma_softmax_slowdown`: non-matmul arithmetic runs this
    // many times slower while the SM's tensor cores run wgmma (register-file and issue contention).
    bool warpgroup_serial_softmax = false;
    double wgmma_softmax_slowdown = 1;
    // The SM clock while a kernel keeps the tensor cores busy with wgmma (the power limit lowers it);
    // the exponential, FP32 and shared-memory rates of such kernels scale by loaded_clock_hz / clock_hz
    // (the wgmma rate is already a loaded one). 0: clock_hz.
    double loaded_clock_hz = 0;
    std::int64_t smem_per_sm_bytes = 0;  // shared memory of one SM, for occupancy (blocks per SM)
    std::int64_t regs_per_sm = 65536;
    std::int64_t max_threads_per_sm = 2048;
    std::int64_t max_blocks_per_sm = 32;
    std::int64_t l2_line_bytes = 128;   // the L2 model's bookkeeping unit
    std::int64_t l2_sector_bytes = 32;  // what one request moves at least (and DRAM per miss)
    std::int64_t l2_ways = 16;          // associativity of the L2 model (LRU within a set)
    // The L2's halves: an SM's misses fill the half it is attached to, so data every SM reads is held
    // once per half and the L2 holds l2_bytes / l2_partitions of it (the L2 model's capacity).
    std::int64_t l2_partitions = 1;
    // Where each timeline figure comes from: {field name, origin}.
    std::vector<std::pair<std::string, std::string>> sources;

    // FP32 operations per second (one max, add or multiply per lane per clock): half the datasheet's
    // flops, which count a fused multiply-add as two.
    double fma_ops_per_s() const { return vector_flops_per_s / 2; }
    // Where the spec names `field`'s origin, or "".
    std::string_view source_of(std::string_view field) const;
};

// The built-in presets, in display order.
const std::vector<HardwareSpec>& hardware_presets();
// Case-sensitive lookup by preset id; nullopt when unknown.
std::optional<HardwareSpec> find_preset(std::string_view name);
// "A100-40GB, A100-80GB, ..." for error messages.
std::string preset_names();

}  // namespace tilesim::sim
