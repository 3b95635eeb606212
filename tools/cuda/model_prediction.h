#pragma once
// What the model predicts for the run the GPU makes: per kernel pass (phase), the HBM and L2 bytes and
// the predicted time, for the whole problem (B*H heads). It runs the scenario through the same runner as
// `tilesim run` (scenarios::run_scenario: the hardware preset first, then the overrides; the one place
// that scales one head's counts by B*H), count-only. Host-only; no CUDA.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/problem.h"
#include "scenarios/scenario.h"

namespace tilesim::kernels::cuda {

struct PhasePrediction {
    std::string name;  // the model's phase name, e.g. "standard: P = softmax(S)"
    double hbm_read_bytes = 0, hbm_write_bytes = 0;
    double l2_bytes = 0;    // L2 <-> SRAM traffic the model counts (GEMM operand re-reads)
    double dram_bytes = 0;  // sim::estimate_dram: what DRAM sees when the L2 serves re-reads
    bool reuse_fits_l2 = false;
    double time_s = 0;
    std::string bound;  // "HBM", "L2", "SRAM" or "compute"
};

struct ModelPrediction {
    std::string algorithm;  // the model's algorithm key ("standard", "flash2")
    kernels::Pass pass = kernels::Pass::forward;
    Tiling tiling;
    double hbm_bytes = 0;   // HBM reads + writes, all heads
    double l2_bytes = 0;    // L2 -> SRAM loads (standard's GEMM re-reads); hbm + l2 = all off-chip traffic
    double dram_bytes = 0;  // the DRAM estimate, all heads
    double time_s = 0;      // the predicted time, all heads
    std::vector<PhasePrediction> phases;
};

// The model's prediction for algorithm `key`, pass `pass`, on scenario `s` with the block sizes
// `tiling` (the GPU kernel's: 0 = the algorithm's rule). Throws scenarios::ScenarioError with the
// model's reason and fix when the tiles do not fit.
ModelPrediction predict(std::string_view key, const scenarios::Scenario& s, const TilingRequest& tiling,
                        kernels::Pass pass = kernels::Pass::forward);

// How the model runs one of the GPU's kernels: the algorithm, the scenario settings that give it the
// kernel's timeline schedule, instruction, block sizes, ring depth and dtype (`--set` assignments, applied
// after the scenario's own), and a short label for the table. docs/cuda.md ("model vs measured") and
// scripts/cuda/model_vs_measured.py use the same mapping.
struct KernelModel {
    std::string algorithm;
    std::vector<std::string> settings;
    std::string schedule;  // e.g. "sync, mma.sync, 128x64"
    kernels::Pass pass = kernels::Pass::forward;
};

// The Hopper forward progression: step 'a' (the mma.sync kernel flash_fwd.cuh, B_r x B_c given) to 'f'
// (fp8). (a), (b): sync (mma.sync, wgmma); (c) producer-consumer; (d) pingpong; (e) pingpong+pipelined;
// (f) fp8e4m3 with pingpong+pipelined. Ring depth as the kernels: 4 stages at d 64 and for fp8, else 3.
KernelModel hopper_step_model(char step, std::int64_t d, bool causal, std::int64_t B_r = 128, std::int64_t B_c = 64);
// The backward: flash2's backward with the kernel's B_r, B_c (sync), or standard's Algorithm 3.
KernelModel backward_model(bool flash, bool causal, std::int64_t B_r = 0, std::int64_t B_c = 0);
// The forward of standard attention (cuBLAS GEMMs and the softmax kernel).
KernelModel standard_forward_model(bool causal);

// The prediction for `km` on the scenario `s` (its settings applied to a copy of `s`).
ModelPrediction predict(const KernelModel& km, const scenarios::Scenario& s);

// Decode: the scenario of a decode problem (the H200 preset; GQA, paging, causal, q_len) and the model of
// the split-KV kernel with `splits` splits (1: the model's packed-GQA `decode` kernel, no combine; more:
// `flash-decoding` with kv_splits, which reads K/V once per query head).
struct DecodeShape {
    std::int64_t batch = 1, heads = 1, kv_heads = 1, q_len = 1, N = 1, d = 128;
    bool bf16 = false, causal = false, shuffled_pages = false;
    std::int64_t page_size = 0;
};
ModelPrediction predict_decode(const DecodeShape& shape, int splits, std::string* schedule_label = nullptr);

}  // namespace tilesim::kernels::cuda
