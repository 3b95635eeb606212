#include "sim/hardware.h"

namespace tilesim::sim {

namespace {
constexpr double kKiB = 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kTB = 1e12;
constexpr double kGB = 1e9;

// The facts files cited below are ../shared/reference/kernels-hardware-facts.md ("facts") and
// flash-attention-facts.md; "KINDS.md" is the device notes of this workplace (measurements on an
// H200 machine); docs/validation/h100.md holds this project's own H100 measurements. [lead] marks a
// figure with no measurement behind it here: a typical value the fidelity benchmark should check.
constexpr const char* kPortLead =
    "64 B per clock per SM between the L2 and an SM [lead: the usual L1/L2 width]";
constexpr const char* kLatencyLead =
    "600 clocks for a load's first byte from L2/DRAM [lead: Hopper/Ampere microbenchmarks report ~260 (L2 "
    "hit) to ~500-700 (DRAM)]";
constexpr const char* kSfuSource =
    "16 exponentials per clock per SM (FA3 paper footnote 5; facts section 2) x SMs x clock";
constexpr const char* kOccupancySource =
    "CUDA programming guide, compute capability table: registers, threads and blocks per SM";

// The timeline's figures a preset shares with its family; each call states the figures' origins.
void set_timeline(HardwareSpec& h, double clock, double capacity, double mma_sync, double wgmma, double fp8,
                  double fp64, double dram_achieved, std::int64_t smem_per_sm, std::int64_t threads,
                  std::int64_t blocks, const char* tensor_source, const char* dram_source) {
    h.clock_hz = clock;
    h.hbm_capacity_bytes = static_cast<std::int64_t>(capacity);
    h.mma_sync_flops_per_s = mma_sync;
    h.wgmma_flops_per_s = wgmma;
    h.fp8_tensor_factor = fp8;
    h.fp64_tensor_factor = fp64;
    h.sfu_ops_per_s = 16.0 * static_cast<double>(h.sm_count) * clock;
    h.dram_achieved = dram_achieved;
    h.l2_achieved = 1.0;
    h.sm_port_bytes_per_s = 64.0 * clock;
    h.memory_latency_s = 600.0 / clock;
    h.l2_latency_s = 260.0 / clock;
    h.smem_per_sm_bytes = smem_per_sm;
    h.max_threads_per_sm = threads;
    h.max_blocks_per_sm = blocks;
    h.sources = {
        {"clock_hz", "the clock at which matmul_flops_per_s = SMs x tensor FLOPs per clock (datasheet)"},
        {"mma_sync_flops_per_s / wgmma_flops_per_s", tensor_source},
        {"sfu_ops_per_s", kSfuSource},
        {"fma_ops_per_s", "vector_flops_per_s / 2: one FP32 operation per lane per clock (datasheet)"},
        {"dram_achieved", dram_source},
        {"l2_achieved", "1: the L2 bandwidth figure is already an achievable one (see l2_bytes_per_s)"},
        {"sm_port_bytes_per_s", kPortLead},
        {"memory_latency_s", kLatencyLead},
        {"smem_per_sm_bytes / regs_per_sm / max_threads_per_sm / max_blocks_per_sm", kOccupancySource},
        {"l2_line_bytes / l2_sector_bytes / l2_ways",
         "128 B lines of 32 B sectors (NVIDIA L2s); 16 ways [lead: the associativity is not published]"}};
}

// The A100's and H100's L2 is two partitions, each caching for the SMs attached to it (their
// whitepapers); with half the L2 as its capacity, the L2 model reproduces the capacity effect measured
// on an H200 (facts section 6: DRAM +8.6 / +21.7 / +59 % over compulsory at 4.2 / 8.4 / 16.8 MB of
// K+V per head; docs/timeline.md).
// The figures this project measured on an H200 (bench/gpu/agent_rates.cu, 2026-12-01, CUDA 13.0,
// clocks as found): they replace the leads for both GH100 presets (one die; HBM3 and HBM3e differ in
// bandwidth, not in the latency measured here, which is the memory system's [lead for the H100]).
void gh100_measured(HardwareSpec& h) {
    h.clock_hz = 1.98e9;
    h.sfu_ops_per_s = 4.17e12;
    h.sm_port_bytes_per_s = 94e9;
    h.l2_latency_s = 146e-9;
    h.memory_latency_s = 340e-9;
    h.l2_bytes_per_s = 21e12;
    constexpr const char* kWhere = "measured on an H200 by bench/gpu/agent_rates.cu (2026-12-01)";
    for (auto& [field, origin] : h.sources) {
        if (field == "clock_hz") origin = std::string("1.98 GHz under load, ") + kWhere;
        if (field == "sfu_ops_per_s")
            origin = std::string("4.17 T ex2/s = 15.97 per clock per SM, ") + kWhere;
        if (field == "sm_port_bytes_per_s")
            origin = std::string("94 GB/s (47.4 B/clock): one block reading the L2, ") + kWhere;
        if (field == "memory_latency_s") {
            origin = std::string("146 ns (288 clocks) to the L2, 340 ns (673 clocks) over a 1 GiB chase, ") +
                     kWhere;
        }
    }
    h.sources.push_back(
        {"l2_bytes_per_s", std::string("21 TB/s: every SM reading 24 MiB again and again, ") + kWhere});
    h.warpgroup_serial_softmax = true;
    h.wgmma_softmax_slowdown = 1.77;
    h.loaded_clock_hz = 1.75e9;
    h.sources.push_back(
        {"warpgroup_serial_softmax",
         "true: one warp group's 64 x 128 softmax (the Hopper kernels' own code) takes 807 clocks alone, "
         "its 8192 exponentials 512 and its FP32 work about 320 of them: they follow each other; two "
         "groups together take 1109, the exponentials' 1024 (bench/gpu/overlap.cu on an H200, 2026-12-01)"});
    h.sources.push_back(
        {"wgmma_softmax_slowdown",
         "1.77: that softmax runs 1.77x slower while another warp group keeps the tensor cores busy with its "
         "S and PV wgmmas back to back (1.38-1.66 beside one GEMM and its waits), the GEMMs 0.4-8 % "
         "slower (bench/gpu/overlap.cu on an H200, 2026-12-01)"});
    h.sources.push_back(
        {"loaded_clock_hz",
         "1.75 GHz: Nsight Compute's SM frequency over the Hopper kernels (c)-(f) and the backward, "
         "1.67-1.80 GHz at d 64 and 128, N 8192 (scripts/cuda/pipes.sh on an H200, 2026-12-01)"});
    h.wgmma_wait_s = 27e-9;
    h.sources.push_back(
        {"wgmma_wait_s",
         std::string("27 ns = 54 clocks at 1.98 GHz: the tensor cores' idle time when a warp group waits for "
                     "its wgmma (wait_group 0) and then issues the next, against issuing both back to back "
                     "(8 wgmma.m64n128k16 each, one warp group per SM; the ping-pong's other group is held "
                     "at its named barrier meanwhile), measured on an H200 by bench/gpu/wgmma_wait.cu "
                     "(2026-12-01)")});
    h.ring_wait_s = 89e-9;
    h.sources.push_back(
        {"ring_wait_s",
         "89 ns = 177 clocks at 1.98 GHz: what the ring's mbarrier handshakes (waits for K_j and V_j-1, the "
         "release of the slot, a producer that arrives at once) add to a ping-pong step, the mean of 100 / "
         "176 clocks (d 64, ping-pong / with pipelining) and 265 / 168 (d 128) over the same loops without "
         "them; about 0 without ping-pong (-21 / -29) (bench/gpu/overlap.cu's \"+ring\" modes on an H200, "
         "scripts/cuda/sync_run.sh, 2026-12-01)"});
}

void two_partitions(HardwareSpec& h) {
    h.l2_partitions = 2;
    h.sources.push_back(
        {"l2_partitions",
         "2 (A100/H100 whitepapers); calibrated: half the L2 reproduces the H200's L2 capacity "
         "effect of facts section 6 within a few points"});
}

constexpr const char* kAmpereTensor =
    "A100: no wgmma; mma.sync at 0.88 of the 312 TFLOP/s peak [lead: cuBLAS fp16 GEMMs reach 85-90% on A100]";
constexpr const char* kHopperTensor =
    "wgmma 788 TFLOP/s: an 8192^3 bf16 GEMM on an H200 (KINDS.md, 2026-10-28; same GH100 compute as the "
    "H100). mma.sync 520 TFLOP/s: calibrated so that the sync schedule reproduces SDPA's FA2 forward on an H200 at "
    "d 128, N 8k (338 TFLOP/s, facts section 7), d 64 then a check (docs/timeline.md); 83 % of the 627 "
    "TFLOP/s mma.sync peak measured by bench/gpu/agent_rates.cu";
constexpr const char* kHopperFp8 =
    "fp8 at twice the fp16 rate: 8192 FLOP per clock per SM (FA3 section 3.3; "
    "NVIDIA/cudnn-frontend #650)";

// The datasheet group of a preset (the paper's model reads these).
HardwareSpec datasheet(const char* name, const char* description, double hbm, double sram, double sram_bw,
                       std::int64_t sms, double l2, double l2_bw, double matmul, double vector) {
    HardwareSpec h;
    h.name = name;
    h.description = description;
    h.hbm_bytes_per_s = hbm;
    h.sram_bytes = static_cast<std::int64_t>(sram);
    h.sram_bytes_per_s = sram_bw;
    h.sm_count = sms;
    h.l2_bytes = static_cast<std::int64_t>(l2);
    h.l2_bytes_per_s = l2_bw;
    h.matmul_flops_per_s = matmul;
    h.vector_flops_per_s = vector;
    return h;
}

std::vector<HardwareSpec> make_presets() {
    std::vector<HardwareSpec> p;
    p.push_back(datasheet(
        "A100-40GB",
        "NVIDIA A100 40GB with the FlashAttention paper's figures (1.5 TB/s HBM, 192 KB SRAM x 108 SMs, "
        "19 TB/s SRAM)",
        1.5 * kTB, 192 * kKiB, 19.0 * kTB, 108, 40 * kMiB, 3.8 * kTB, 312e12, 19.5e12));
    set_timeline(p.back(), 1.41e9, 40 * kGB, 0.88 * 312e12, 0.88 * 312e12, 1, 19.5 / 312, 0.85,
                 static_cast<std::int64_t>(164 * kKiB), 2048, 32, kAmpereTensor,
                 "0.85 [lead: typical copy efficiency of HBM2e]");
    two_partitions(p.back());
    p.push_back(datasheet(
        "A100-80GB", "NVIDIA A100 80GB SXM datasheet: 2,039 GB/s, 164 KB shared memory per block, 108 SMs",
        2.039 * kTB, 164 * kKiB, 19.5 * kTB, 108, 40 * kMiB, 5.1 * kTB, 312e12, 19.5e12));
    set_timeline(p.back(), 1.41e9, 80 * kGB, 0.88 * 312e12, 0.88 * 312e12, 1, 19.5 / 312, 0.85,
                 static_cast<std::int64_t>(164 * kKiB), 2048, 32, kAmpereTensor,
                 "0.85 [lead: typical copy efficiency of HBM2e]");
    two_partitions(p.back());
    // H100 and H200: one GH100 die, so every compute figure and the L2 bandwidth are the same; they
    // differ in memory only (bandwidth, capacity, L2 size).
    p.push_back(datasheet(
        "H100-SXM",
        "NVIDIA H100 SXM 80GB datasheet: 3.35 TB/s, 227 KB shared memory per block, 132 SMs; L2 21 TB/s "
        "(measured, docs/timeline.md)",
        3.35 * kTB, 227 * kKiB, 33.4 * kTB, 132, 50 * kMiB, 21.0 * kTB, 989e12, 67e12));
    set_timeline(
        p.back(), 1.83e9, 80 * kGB, 520e12, 788e12, 2, 67.0 / 989, 0.825,
        static_cast<std::int64_t>(228 * kKiB), 2048, 32, kHopperTensor,
        "0.825: standard attention's softmax pass moved 2.765 TB/s on an H100 (docs/validation/h100.md, "
        "N 4096: 4.274 GB in 1.546 ms)");
    p.back().sources.push_back({"fp8_tensor_factor", kHopperFp8});
    two_partitions(p.back());
    gh100_measured(p.back());
    p.push_back(
        datasheet("H200",
                  "NVIDIA H200 datasheet: 4.8 TB/s, 227 KB shared memory per block, 132 SMs; compute and L2 "
                  "bandwidth as the H100 (one die)",
                  4.8 * kTB, 227 * kKiB, 33.4 * kTB, 132, 60 * kMiB, 21.0 * kTB, 989e12, 67e12));
    set_timeline(
        p.back(), 1.83e9, 141 * kGB, 520e12, 788e12, 2, 67.0 / 989, 0.896,
        static_cast<std::int64_t>(228 * kKiB), 2048, 32, kHopperTensor,
        "0.896: a device-to-device copy moved 4.3 TB/s on an H200 (KINDS.md, 2026-10-28 and 2026-11-04; "
        "4.28 TB/s again with bench/gpu/agent_rates.cu, which reads at 4.49 TB/s)");
    p.back().sources.push_back({"fp8_tensor_factor", kHopperFp8});
    two_partitions(p.back());
    gh100_measured(p.back());
    p.push_back(datasheet(
        "RTX-4090", "NVIDIA RTX 4090 datasheet: 1,008 GB/s GDDR6X, 100 KB shared memory per SM, 128 SMs",
        1.008 * kTB, 100 * kKiB, 41.3 * kTB, 128, 72 * kMiB, 2.5 * kTB, 165e12, 82.6e12));
    set_timeline(p.back(), 2.52e9, 24 * kGB, 0.85 * 165e12, 0.85 * 165e12, 2, 1.29 / 165, 0.85,
                 static_cast<std::int64_t>(100 * kKiB), 1536, 24,
                 "no wgmma; mma.sync at 0.85 of the datasheet's 165 TFLOP/s [lead]; fp8 at twice (Ada)",
                 "0.85 [lead]");
    p.push_back(datasheet("T4", "NVIDIA T4 datasheet: 320 GB/s GDDR6, 64 KB shared memory per SM, 40 SMs",
                          0.32 * kTB, 64 * kKiB, 8.1 * kTB, 40, 4 * kMiB, 0.8 * kTB, 65e12, 8.1e12));
    set_timeline(p.back(), 1.59e9, 16 * kGB, 0.8 * 65e12, 0.8 * 65e12, 1, 0.25 / 65, 0.85,
                 static_cast<std::int64_t>(64 * kKiB), 1024, 16,
                 "no wgmma; mma.sync at 0.8 of 65 TFLOP/s [lead]", "0.85 [lead]");
    // A toy machine for the classroom: 384 bytes of SRAM (96 fp32 elements) and no L2, so a
    // 16x4 problem needs many visible tile moves. Rates are round numbers chosen for readable times,
    // one block at a time, no latency: every op's time is its work over a round rate.
    p.push_back(datasheet(
        "classroom", "Toy machine: 384 B SRAM (96 fp32 elements), no L2, 1 SM; every tile move is visible",
        1e9, 384, 1e10, 1, 0, 0, 1e10, 1e9));
    HardwareSpec& toy = p.back();
    toy.clock_hz = 1e9;
    toy.hbm_capacity_bytes = static_cast<std::int64_t>(kGB);
    toy.mma_sync_flops_per_s = toy.wgmma_flops_per_s = 1e10;
    toy.sfu_ops_per_s = 2.5e8;
    toy.sm_port_bytes_per_s = 1e9;
    toy.smem_per_sm_bytes = 384;
    toy.max_threads_per_sm = 1024;
    toy.max_blocks_per_sm = 1;
    toy.sources = {{"all",
                    "round numbers for a toy: 1 GB/s copies, 10 GFLOP/s tensor, 0.5 GFLOP/s FP32 "
                    "operations, 0.25 G exponentials per second, no latency, one block at a time"}};
    return p;
}
}  // namespace

std::string_view HardwareSpec::source_of(std::string_view field) const {
    for (const auto& [f, origin] : sources) {
        if (f.find(field) != std::string::npos) return origin;
    }
    return {};
}

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
