#pragma once
// The CUDA backend: standard attention (Algorithm 0, as frameworks run it: cuBLAS GEMMs, a softmax
// kernel, S and P in device memory) and a fused FlashAttention forward kernel (FA2 loop order) on a
// real GPU, for the same kernels::Problem the model runs.
//
// This header compiles without nvcc and names no CUDA type: the device state sits behind a pimpl.
// Every CUDA and cuBLAS call is checked; a failure throws CudaError with the call, file:line and the
// library's error string. Layout of every tensor: [batch, heads, N, d] row-major, fp16 (O likewise),
// so one head is a contiguous N x d matrix, as in the model's HBM.
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

enum class Kernel : std::uint8_t { standard, flash };
const char* kernel_name(Kernel k);

// One compiled FlashAttention instantiation: block sizes are template parameters of the kernel.
struct FlashBlock {
    int d = 0;
    int B_r = 0;    // rows of a Q block (resident in shared memory / registers)
    int B_c = 0;    // rows of a K/V block (streamed, double-buffered)
    int warps = 0;  // B_r / warps rows of Q per warp
};
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

enum class Buffer : std::uint8_t { Q, K, V, O };

// Owns the device buffers of one problem: Q, K, V (random normal fp16, generated on the device from
// `seed`), O, the logsumexp L, and S and P when `with_standard` is true (2 * B*H*N^2 fp16).
class AttentionRunner {
  public:
    AttentionRunner(const Problem& p, std::uint64_t seed, bool with_standard);
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

    // Enqueues one forward pass; checked; returns before the GPU finishes.
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

}  // namespace tilesim::kernels::cuda
