#pragma once
// The CUDA backend: standard attention (Algorithm 0, as frameworks run it: cuBLAS GEMMs, a softmax
// kernel, S and P in device memory) and its backward (Algorithm 3: dP and dS materialised), a fused
// FlashAttention forward kernel (FA2 loop order) and backward (FA2: K/V outer, dQ by fp32 atomics),
// the Hopper forward progression (TMA, wgmma, warp specialisation, ...), and split-KV decoding over a
// contiguous or paged KV cache, on a real GPU, for the same kernels::Problem the model runs.
//
// This header compiles without nvcc and names no CUDA type: the device state sits behind a pimpl.
// Every CUDA and cuBLAS call is checked; a failure throws CudaError with the call, file:line and the
// library's error string. Layout of every tensor: [batch, heads, N, d] row-major, fp16 or bf16 (the
// problem's dtype; O and the gradients likewise), so one head is a contiguous N x d matrix, as in the
// model's HBM.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/problem.h"

namespace tilesim::kernels::cuda {

// Any CUDA/cuBLAS failure, missing device, or a problem the backend cannot run (one line, with the fix).
class CudaError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct DeviceInfo {
    std::string name;  // "NVIDIA H100 80GB HBM3"
    int ordinal = 0;
    int cc_major = 0, cc_minor = 0;  // compute capability
    int sm_count = 0;
    std::int64_t l2_bytes = 0;
    std::int64_t global_bytes = 0;
    std::int64_t smem_per_block_optin_bytes = 0;
    int driver_version = 0;   // e.g. 13000
    int runtime_version = 0;  // the cudart this program was built with
};

// Device 0 (or `ordinal`). Throws CudaError("no CUDA device: ...") when none is usable.
DeviceInfo query_device(int ordinal = 0);

// standard: Algorithm 0 / 3 (cuBLAS + row kernels). flash: the mma.sync FlashAttention kernels (forward
// flash_fwd.cuh, backward flash_bwd.cuh; sm_80 and sm_90). hopper: one step of the Hopper forward
// progression (LaunchOptions::hopper; sm_90a only, forward only).
enum class Kernel : std::uint8_t { standard, flash, hopper };
const char* kernel_name(Kernel k);

// The Hopper forward progression, one kernel file per step, each adding one FlashAttention-3 idea
// (the mma.sync kernel `Kernel::flash` is the baseline (a)).
enum class HopperKernel : std::uint8_t {
    tma_wgmma,   // (b) hopper_fwd_1_tma_wgmma.cuh: TMA loads, wgmma MMAs, synchronous
    warpspec,    // (c) hopper_fwd_2_warpspec.cuh: producer warpgroup + 2 consumer warpgroups, mbarrier ring
    pingpong,    // (d) hopper_fwd_3_pingpong.cuh: the consumers take turns on the tensor cores
    intrawg,     // (e) hopper_fwd_4_intrawg.cuh: softmax of S_j overlaps the PV GEMM of block j - 1
    fp8,         // (f) hopper_fwd_5_fp8.cuh: e4m3 inputs (quantised by a pre-pass), d = 128 only
};
const char* hopper_kernel_name(HopperKernel k);
// The steps compiled in this build (empty when sm_90a code was not built).
std::vector<HopperKernel> hopper_kernels();
// Whether step k is compiled for head dimension d (fp8: d = 128 only).
bool hopper_supports(HopperKernel k, std::int64_t d);

// Unit checks of the Hopper building blocks on one tile (hopper_probe.cu): the TMA's swizzled layout
// in shared memory, S = A B^T by wgmma from two K-major descriptors, O = P V by wgmma with P from
// registers and V MN-major. Exact small-integer data: any error is a layout error. Needs sm_90.
struct ProbeResult {
    std::string name;
    double max_abs_err = 0;
    bool ok = false;
};
std::vector<ProbeResult> hopper_probe();

// Forward only, backward only (needs the forward's O and L, or for standard its P, from a launch of
// the same kernel before), or both in sequence.
enum class Pass : std::uint8_t { forward, backward, forward_backward };

// One compiled FlashAttention instantiation: block sizes are template parameters of the kernel.
struct FlashBlock {
    int d = 0;
    int B_r = 0;    // rows of a Q block (resident in shared memory / registers)
    int B_c = 0;    // rows of a K/V block (streamed, double-buffered)
    int warps = 0;  // B_r / warps rows of Q per warp
};
// One compiled FlashAttention backward instantiation (flash_bwd.cuh): each warp owns 16 keys of K_j.
struct FlashBwdBlock {
    int d = 0;
    int B_c = 0;    // rows of a K/V block (resident; dK_j, dV_j accumulated in registers)
    int B_r = 0;    // rows of a Q block (streamed, double-buffered)
    int warps = 0;  // B_c / 16
};
std::vector<FlashBwdBlock> flash_bwd_blocks();
FlashBwdBlock find_flash_bwd_block(std::int64_t d);  // the default (first) one for d

std::vector<FlashBlock> flash_blocks();  // every instantiation in this build
// The instantiation for (d, B_r, B_c); B_r = B_c = 0 picks the default for d (the fastest measured).
// Throws CudaError listing the available ones when there is none.
FlashBlock find_flash_block(std::int64_t d, std::int64_t B_r = 0, std::int64_t B_c = 0);

struct LaunchOptions {
    bool causal = false;
    // Standard attention only: eager-mode element-wise passes over S between the GEMM and the
    // softmax, as the model's RunOptions::standard_extra_passes counts them (0..3):
    // 1 = scale by tau (the GEMM then writes unscaled S), 2 = + mask, 3 = + dropout (p = 0).
    std::int64_t extra_passes = 0;
    FlashBlock block{};  // flash only; d = 0 means find_flash_block(problem.d)
    Pass pass = Pass::forward;
    FlashBwdBlock bwd_block{};  // flash backward; d = 0 means find_flash_bwd_block(problem.d)
    HopperKernel hopper = HopperKernel::tma_wgmma;  // Kernel::hopper only
};

// One kernel's (or one stage's) time over repeated runs, milliseconds.
struct StageTiming {
    std::string name;
    double median_ms = 0;
};
struct Timing {
    double median_ms = 0, min_ms = 0, max_ms = 0;
    int runs = 0;
    std::vector<StageTiming> stages;  // standard: QK^T, passes, softmax, PV; flash: one
};

enum class Buffer : std::uint8_t { Q, K, V, O, dO, dQ, dK, dV };

// Owns the device buffers of one problem: Q, K, V (random normal, generated on the device from `seed`
// in the problem's dtype, fp16 or bf16), O, the logsumexp L, S and P when `with_standard` is true
// (2 * B*H*N^2 elements; the standard backward reuses S for dP and then dS), and with `with_backward`
// dO (random normal too), dQ, dK, dV, and the flash backward's fp32 dQaccum [B*H, N, d] and D [B*H, N].
class AttentionRunner {
  public:
    AttentionRunner(const Problem& p, std::uint64_t seed, bool with_standard, bool with_backward = false);
    ~AttentionRunner();
    AttentionRunner(AttentionRunner&&) noexcept;
    AttentionRunner& operator=(AttentionRunner&&) noexcept;
    AttentionRunner(const AttentionRunner&) = delete;
    AttentionRunner& operator=(const AttentionRunner&) = delete;

    const Problem& problem() const;
    const DeviceInfo& device() const;

    // New random Q, K, V (never zeros: normal(0, 1) rounded to fp16).
    void regenerate(std::uint64_t seed);
    // One head (index b * heads + h) of a buffer, widened to float, row-major N x d.
    std::vector<float> head(Buffer which, std::int64_t bh) const;
    // Fills O with NaN so that an element a kernel fails to write cannot pass a check.
    void poison_output();
    // Fills dQ, dK, dV with NaN (a backward must write every element).
    void poison_gradients();

    // Enqueues o.pass (forward, backward or both) of kernel k; checked; returns before the GPU
    // finishes. A backward alone uses what the last forward of the same kernel left in O, L (flash) or
    // P (standard); launch the forward first.
    void launch(Kernel k, const LaunchOptions& o);
    void synchronize();

    // `warmup` untimed passes, then `runs` timed ones with CUDA events; before each timed run the L2
    // is flushed by writing a buffer twice its size. Median, min and max over the runs.
    Timing time(Kernel k, const LaunchOptions& o, int warmup, int runs);

    // For Nsight Compute with --profile-from-start off: one launch between cudaProfilerStart/Stop.
    void profile(Kernel k, const LaunchOptions& o);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// FLOPs of the forward pass as the FlashAttention papers count them: 4 B H N^2 d (halved for causal).
double attention_flops(const Problem& p, bool causal);
// FLOPs of the backward as FlashAttention counts them: 2.5 x the forward (5 matmuls instead of 2).
double attention_backward_flops(const Problem& p, bool causal);

// ---- Split-KV decoding (decode_fwd.cuh) ----

// One decode step: L_q queries per head (the last L_q positions of the sequence) against a KV cache of
// N tokens. heads / kv_heads query heads share a KV head (grouped-query attention; 1 = multi-head);
// (heads / kv_heads) * q_len <= 16. Cache layout: contiguous [B, kv_heads, N, d], or, with page_size > 0,
// pages [B * ceil(N / page_size), page_size, kv_heads, d] addressed through a page table
// [B, ceil(N / page_size)] whose order is the natural one or a random permutation (shuffled_pages).
struct DecodeProblem {
    std::int64_t batch = 1;
    std::int64_t heads = 32;
    std::int64_t kv_heads = 32;
    std::int64_t q_len = 1;
    std::int64_t N = 32768;  // cache length L_k
    std::int64_t d = 128;
    sim::Dtype dtype = sim::Dtype::fp16;
    std::int64_t page_size = 0;  // 0: contiguous cache
    bool shuffled_pages = false;
    bool causal = false;  // q_len > 1: query l sees keys <= N - q_len + l
};

struct DecodeOptions {
    int splits = 0;  // 0: num_splits_heuristic (kernels/split_heuristic.h); 1: no split (no combine kernel)
};

class DecodeRunner {
  public:
    DecodeRunner(const DecodeProblem& p, std::uint64_t seed);
    ~DecodeRunner();
    DecodeRunner(DecodeRunner&&) noexcept;
    DecodeRunner& operator=(DecodeRunner&&) noexcept;
    DecodeRunner(const DecodeRunner&) = delete;
    DecodeRunner& operator=(const DecodeRunner&) = delete;

    const DecodeProblem& problem() const;
    // The split count a launch with `o` uses (the heuristic's when o.splits == 0).
    int splits(const DecodeOptions& o) const;
    // Bytes the launch must read at least: K and V once (plus Q), and write O.
    double min_bytes() const;

    void poison_output();
    void launch(const DecodeOptions& o);
    void synchronize();
    // As AttentionRunner::time; stages: the split kernel and (splits > 1) the combine.
    Timing time(const DecodeOptions& o, int warmup, int runs);

    // Host copies, widened to float: the q_len x d queries of head (b, h); the N x d keys or values of
    // KV head (b, h_kv) in sequence order (gathered through the page table when paged); the output.
    std::vector<float> queries(std::int64_t b, std::int64_t h) const;
    std::vector<float> keys(std::int64_t b, std::int64_t h_kv) const;
    std::vector<float> values(std::int64_t b, std::int64_t h_kv) const;
    std::vector<float> output(std::int64_t b, std::int64_t h) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The device-to-device copy bandwidth (bytes read + written per second) of a `bytes` buffer, median of
// `runs` cudaMemcpyAsync calls: the achievable HBM ceiling the decode kernel is compared with.
double measure_copy_bandwidth(std::int64_t bytes, int runs);

}  // namespace tilesim::kernels::cuda
