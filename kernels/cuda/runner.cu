// AttentionRunner: device buffers, the two attention pipelines, timing and profiling.
//
// Standard attention is run as a framework runs it (Algorithm 0): S = QK^T as one strided-batched
// cuBLAS GEMM over the B*H heads (fp16 in and out, fp32 accumulation), optional eager passes over S,
// the softmax kernel writing P, then O = PV as a second batched GEMM. S and P live in device memory,
// [B*H, N, N] fp16 each. cuBLAS is column-major: a row-major X is a column-major X^T, so
//   S^T = K Q^T   -> gemm(op(A) = K^T stored as d x N, transposed; op(B) = Q^T stored as d x N)
//   O^T = V^T P^T -> gemm(A = V^T stored as d x N; B = P^T stored as N x N), neither transposed.
#include <cuda_bf16.h>
#include <cuda_profiler_api.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/launch.cuh"

namespace tilesim::kernels::cuda {

DeviceInfo query_device(int ordinal) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        throw CudaError(std::string("no CUDA device: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
                        ")");
    }
    if (count == 0) throw CudaError("no CUDA device: the driver reports 0 devices");
    if (ordinal < 0 || ordinal >= count) {
        throw CudaError("no CUDA device " + std::to_string(ordinal) + ": " + std::to_string(count) +
                        " present");
    }
    cudaDeviceProp prop{};
    TILESIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, ordinal));
    DeviceInfo info;
    info.name = prop.name;
    info.ordinal = ordinal;
    info.cc_major = prop.major;
    info.cc_minor = prop.minor;
    info.sm_count = prop.multiProcessorCount;
    info.l2_bytes = prop.l2CacheSize;
    info.global_bytes = static_cast<std::int64_t>(prop.totalGlobalMem);
    info.smem_per_block_optin_bytes = static_cast<std::int64_t>(prop.sharedMemPerBlockOptin);
    TILESIM_CUDA_CHECK(cudaDriverGetVersion(&info.driver_version));
    TILESIM_CUDA_CHECK(cudaRuntimeGetVersion(&info.runtime_version));
    if (info.cc_major < 8) {
        throw CudaError("CUDA device " + info.name + " has compute capability " +
                        std::to_string(info.cc_major) + "." + std::to_string(info.cc_minor) +
                        "; the FlashAttention kernel needs 8.0 or newer "
                        "(mma.sync m16n8k16, ldmatrix, cp.async)");
    }
    return info;
}

const char* kernel_name(Kernel k) {
    switch (k) {
        case Kernel::standard:
            return "standard";
        case Kernel::flash:
            return "flash";
        case Kernel::hopper:
            return "hopper";
    }
    return "?";
}

double attention_flops(const Problem& p, bool causal) {
    const double full = 4.0 * static_cast<double>(p.bh()) * static_cast<double>(p.N_kv) *
                        static_cast<double>(p.N_kv) * static_cast<double>(p.d);
    return causal ? full / 2 : full;
}

double attention_backward_flops(const Problem& p, bool causal) {
    return 2.5 * attention_flops(p, causal);
}

namespace {

template <class T>
T* device_alloc(std::int64_t count, const char* what) {
    void* ptr = nullptr;
    const auto bytes = static_cast<std::size_t>(count) * sizeof(T);
    const cudaError_t e = cudaMalloc(&ptr, bytes);
    if (e != cudaSuccess) {
        throw CudaError(std::string("cannot allocate ") + what + " (" + std::to_string(bytes >> 20) +
                        " MiB) on the device: " + cudaGetErrorString(e) +
                        "; choose a smaller batch, heads or seq_len");
    }
    return static_cast<T*>(ptr);
}

const char* pass_name(std::int64_t k) {
    static const char* const kNames[] = {"eager: scale S", "eager: mask S", "eager: dropout S"};
    return kNames[k];
}

cudaDataType_t cublas_type(sim::Dtype dtype) {
    return dtype == sim::Dtype::bf16 ? CUDA_R_16BF : CUDA_R_16F;
}

// Strided-batched GEMM over the B*H heads, fp32 accumulation (column-major, as cuBLAS sees it).
void gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, std::int64_t m, std::int64_t n,
          std::int64_t k, float alpha, const void* A, std::int64_t lda, std::int64_t sa, const void* B,
          std::int64_t ldb, std::int64_t sb, void* C, std::int64_t ldc, std::int64_t sc, std::int64_t batch,
          cudaDataType_t t) {
    const float zero = 0.0F;
    TILESIM_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        h, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &alpha, A, t,
        static_cast<int>(lda), sa, B, t, static_cast<int>(ldb), sb, &zero, C, t, static_cast<int>(ldc), sc,
        static_cast<int>(batch), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace

namespace detail {
Timing summarize(std::vector<double> v) {
    Timing t;
    t.runs = static_cast<int>(v.size());
    t.min_ms = *std::min_element(v.begin(), v.end());
    t.max_ms = *std::max_element(v.begin(), v.end());
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    t.median_ms = n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return t;
}
}  // namespace detail

struct AttentionRunner::Impl {
    Problem p;
    DeviceInfo dev;
    bool with_standard = false;
    bool with_backward = false;
    cudaStream_t stream = nullptr;
    cublasHandle_t cublas = nullptr;
    // 2-byte elements of the problem's dtype (fp16 or bf16).
    void *Q = nullptr, *K = nullptr, *V = nullptr, *O = nullptr, *S = nullptr, *P = nullptr;
    void *dO = nullptr, *dQ = nullptr, *dK = nullptr, *dV = nullptr;
    float *L = nullptr, *D = nullptr, *dQaccum = nullptr;
    unsigned char* flush = nullptr;  // written between timed runs to evict the L2
    std::int64_t flush_bytes = 0;
    static constexpr int kMaxMarks = 16;
    cudaEvent_t marks[kMaxMarks] = {};

    ~Impl() {
        // Destructors must not throw: release what was acquired, ignoring errors of a dying context.
        for (auto& e : marks) {
            if (e != nullptr) cudaEventDestroy(e);
        }
        for (void* ptr : {Q, K, V, O, S, P, dO, dQ, dK, dV, static_cast<void*>(L), static_cast<void*>(D),
                          static_cast<void*>(dQaccum), static_cast<void*>(flush)}) {
            if (ptr != nullptr) cudaFree(ptr);
        }
        if (cublas != nullptr) cublasDestroy(cublas);
        if (stream != nullptr) cudaStreamDestroy(stream);
    }

    std::int64_t head_elems() const { return p.N_kv * p.d; }
    std::int64_t qkv_elems() const { return p.bh() * p.N_kv * p.d; }

    void generate(std::uint64_t seed) {
        // Independent streams of the hash; never zeros (normal samples rounded to the dtype).
        detail::launch_fill_normal(p.dtype, Q, qkv_elems(), seed * 4 + 0, stream);
        detail::launch_fill_normal(p.dtype, K, qkv_elems(), seed * 4 + 1, stream);
        detail::launch_fill_normal(p.dtype, V, qkv_elems(), seed * 4 + 2, stream);
        if (dO != nullptr) detail::launch_fill_normal(p.dtype, dO, qkv_elems(), seed * 4 + 3, stream);
    }

    FlashBlock block_for(const LaunchOptions& o) const {
        return o.block.d == 0 ? find_flash_block(p.d) : o.block;
    }
    FlashBwdBlock bwd_block_for(const LaunchOptions& o) const {
        return o.bwd_block.d == 0 ? find_flash_bwd_block(p.d) : o.bwd_block;
    }

    std::vector<std::string> forward_names(Kernel k, const LaunchOptions& o) const {
        if (k == Kernel::flash) {
            const FlashBlock b = block_for(o);
            return {"flash forward (B_r=" + std::to_string(b.B_r) + ", B_c=" + std::to_string(b.B_c) +
                    ", warps=" + std::to_string(b.warps) + ")"};
        }
        if (k == Kernel::hopper) {
            if (o.hopper == HopperKernel::fp8) return {"fp8: quantise Q, K, V^T (pre-pass)", "hopper forward (f) fp8"};
            return {std::string("hopper forward ") + hopper_kernel_name(o.hopper)};
        }
        std::vector<std::string> names{"S = QK^T (cuBLAS)"};
        for (std::int64_t x = 0; x < o.extra_passes; ++x) names.emplace_back(pass_name(x));
        names.emplace_back("P = softmax(S)");
        names.emplace_back("O = PV (cuBLAS)");
        return names;
    }

    std::vector<std::string> backward_names(Kernel k, const LaunchOptions& o) const {
        if (k == Kernel::flash) {
            const FlashBwdBlock b = bwd_block_for(o);
            return {"bwd: D = rowsum(dO o O), dQacc = 0",
                    "bwd: dK, dV, dQacc (B_c=" + std::to_string(b.B_c) + ", B_r=" + std::to_string(b.B_r) +
                        ", warps=" + std::to_string(b.warps) + ")",
                    "bwd: dQ = tau dQacc"};
        }
        if (k == Kernel::hopper) throw CudaError("the Hopper kernels have no backward pass");
        return {"bwd: dV = P^T dO (cuBLAS)", "bwd: dP = dO V^T (cuBLAS)", "bwd: dS = P o (dP - rowsum(P o dP))",
                "bwd: dQ = tau dS K (cuBLAS)", "bwd: dK = tau dS^T Q (cuBLAS)"};
    }

    std::vector<std::string> stage_names(Kernel k, const LaunchOptions& o) const {
        std::vector<std::string> names;
        if (o.pass != Pass::backward) names = forward_names(k, o);
        if (o.pass != Pass::forward) {
            for (auto& n : backward_names(k, o)) names.push_back(n);
        }
        return names;
    }

    // One forward pass; `mark(s)` records an event after stage s.
    template <class Mark>
    void forward(Kernel k, const LaunchOptions& o, Mark&& mark) {
        const std::int64_t N = p.N_kv, d = p.d, bh = p.bh();
        if (k == Kernel::flash) {
            const FlashBlock b = block_for(o);
            if (b.d != d)
                throw CudaError("flash block for d=" + std::to_string(b.d) + " used with d=" + std::to_string(d));
            detail::launch_flash(b, o.causal, p.dtype, Q, K, V, O, L, bh, N, stream);
            mark();
            return;
        }
        if (k == Kernel::hopper) {
            if (dev.cc_major != 9) throw CudaError("the Hopper kernels need a compute capability 9.0 GPU");
            if (o.hopper == HopperKernel::fp8) {
                detail::launch_hopper_fp8_quantize(p.dtype, Q, K, V, bh, N, d, stream);
                mark();
            }
            detail::launch_hopper(o.hopper, o.causal, p.dtype, Q, K, V, O, L, bh, N, d, stream);
            mark();
            return;
        }
        if (!with_standard) throw CudaError("standard attention was not allocated for this runner");
        if (o.extra_passes < 0 || o.extra_passes > 3) {
            throw CudaError("extra_passes = " + std::to_string(o.extra_passes) + ": must be 0..3");
        }
        const float tau = 1.0F / std::sqrt(static_cast<float>(d));
        const cudaDataType_t t = cublas_type(p.dtype);
        // Line 1: S = tau Q K^T (S^T = K Q^T), or unscaled when an eager pass applies tau (as frameworks do).
        gemm(cublas, CUBLAS_OP_T, CUBLAS_OP_N, N, N, d, o.extra_passes >= 1 ? 1.0F : tau, K, d, N * d, Q, d,
             N * d, S, N, N * N, bh, t);
        mark();
        static const detail::EagerPass kPasses[] = {detail::EagerPass::scale, detail::EagerPass::mask,
                                                    detail::EagerPass::dropout};
        for (std::int64_t x = 0; x < o.extra_passes; ++x) {
            detail::launch_eager_pass(kPasses[x], p.dtype, S, bh, N, tau, o.causal, stream);
            mark();
        }
        // Line 2: P = softmax(S); the causal mask is fused here unless a mask pass applied it.
        detail::launch_softmax(p.dtype, S, P, bh, N, 1.0F, o.causal && o.extra_passes < 2, stream);
        mark();
        // Line 3: O = P V (O^T = V^T P^T).
        gemm(cublas, CUBLAS_OP_N, CUBLAS_OP_N, d, N, N, 1.0F, V, d, N * d, P, N, N * N, O, d, N * d, bh, t);
        mark();
    }

    // One backward pass, from dO and what the forward left (flash: O, L; standard: P).
    template <class Mark>
    void backward(Kernel k, const LaunchOptions& o, Mark&& mark) {
        if (!with_backward) throw CudaError("the backward buffers were not allocated for this runner");
        const std::int64_t N = p.N_kv, d = p.d, bh = p.bh();
        if (k == Kernel::flash) {
            const FlashBwdBlock b = bwd_block_for(o);
            if (b.d != d) throw CudaError("backward block for d=" + std::to_string(b.d) + " used with d=" +
                                          std::to_string(d));
            const detail::BwdPointers ptrs{Q, K, V, O, dO, L, D, dQaccum, dQ, dK, dV};
            for (auto st : {detail::BwdStage::preprocess, detail::BwdStage::main, detail::BwdStage::convert}) {
                detail::launch_flash_bwd(b, st, o.causal, p.dtype, ptrs, bh, N, stream);
                mark();
            }
            return;
        }
        if (k == Kernel::hopper) throw CudaError("the Hopper kernels have no backward pass");
        if (!with_standard) throw CudaError("standard attention was not allocated for this runner");
        // Algorithm 3 with every intermediate in device memory; dP and then dS take S's buffer.
        const float tau = 1.0F / std::sqrt(static_cast<float>(d));
        const cudaDataType_t t = cublas_type(p.dtype);
        // Line 1: dV = P^T dO  (dV^T = dO^T P).
        gemm(cublas, CUBLAS_OP_N, CUBLAS_OP_T, d, N, N, 1.0F, dO, d, N * d, P, N, N * N, dV, d, N * d, bh, t);
        mark();
        // Line 2: dP = dO V^T  (dP^T = V dO^T).
        gemm(cublas, CUBLAS_OP_T, CUBLAS_OP_N, N, N, d, 1.0F, V, d, N * d, dO, d, N * d, S, N, N * N, bh, t);
        mark();
        // Line 3: dS = P o (dP - rowsum(P o dP)), over dP.
        detail::launch_dsoftmax(p.dtype, P, S, bh, N, stream);
        mark();
        // Line 4: dQ = tau dS K  (dQ^T = tau K^T dS^T).
        gemm(cublas, CUBLAS_OP_N, CUBLAS_OP_N, d, N, N, tau, K, d, N * d, S, N, N * N, dQ, d, N * d, bh, t);
        mark();
        // Line 5: dK = tau dS^T Q  (dK^T = tau Q^T dS).
        gemm(cublas, CUBLAS_OP_N, CUBLAS_OP_T, d, N, N, tau, Q, d, N * d, S, N, N * N, dK, d, N * d, bh, t);
        mark();
    }

    // o.pass of kernel k; with `stage_marks`, an event is recorded after each stage.
    void launch(Kernel k, const LaunchOptions& o, cudaEvent_t* stage_marks) {
        int s = 0;
        auto mark = [&]() {
            if (stage_marks != nullptr) TILESIM_CUDA_CHECK(cudaEventRecord(stage_marks[s], stream));
            ++s;
        };
        if (o.pass != Pass::backward) forward(k, o, mark);
        if (o.pass != Pass::forward) backward(k, o, mark);
    }
};

AttentionRunner::AttentionRunner(const Problem& p, std::uint64_t seed, bool with_standard, bool with_backward)
    : impl_(std::make_unique<Impl>()) {
    if (p.N_kv < 1 || p.d < 1 || p.batch < 1 || p.heads < 1) throw CudaError("problem sizes must be positive");
    if (p.dtype != sim::Dtype::fp16 && p.dtype != sim::Dtype::bf16) {
        throw CudaError("dtype " + std::string(sim::dtype_name(p.dtype)) +
                        ": the CUDA backend runs fp16 and bf16 (set dtype = \"fp16\" or \"bf16\")");
    }
    if (p.N_kv > (std::int64_t{1} << 24))
        throw CudaError("seq_len " + std::to_string(p.N_kv) + " is too large for the GPU run");
    Impl& m = *impl_;
    m.p = p;
    m.dev = query_device(0);
    m.with_standard = with_standard;
    m.with_backward = with_backward;
    TILESIM_CUDA_CHECK(cudaSetDevice(m.dev.ordinal));
    // Refuse early, with the numbers, rather than fail on a cudaMalloc halfway.
    std::size_t free_bytes = 0, total_bytes = 0;
    TILESIM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    m.flush_bytes = 2 * std::max<std::int64_t>(m.dev.l2_bytes, 1 << 20);
    const std::int64_t need = 4 * m.qkv_elems() * 2 + p.bh() * p.N_kv * 4 + m.flush_bytes +
                              (with_standard ? 2 * p.bh() * p.N_kv * p.N_kv * 2 : 0) +
                              (with_backward ? 4 * m.qkv_elems() * 2 + m.qkv_elems() * 4 + p.bh() * p.N_kv * 4 : 0);
    if (need > static_cast<std::int64_t>(free_bytes)) {
        throw CudaError("the problem needs " + std::to_string(need >> 20) +
                        " MiB of device memory (S and P alone: " +
                        std::to_string(with_standard ? (4 * p.bh() * p.N_kv * p.N_kv) >> 20 : 0) + " MiB), " +
                        std::to_string(free_bytes >> 20) + " MiB are free; lower batch, heads or seq_len");
    }
    TILESIM_CUDA_CHECK(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking));
    TILESIM_CUBLAS_CHECK(cublasCreate(&m.cublas));
    TILESIM_CUBLAS_CHECK(cublasSetStream(m.cublas, m.stream));
    for (auto& e : m.marks) TILESIM_CUDA_CHECK(cudaEventCreate(&e));
    m.Q = device_alloc<__half>(m.qkv_elems(), "Q");
    m.K = device_alloc<__half>(m.qkv_elems(), "K");
    m.V = device_alloc<__half>(m.qkv_elems(), "V");
    m.O = device_alloc<__half>(m.qkv_elems(), "O");
    m.L = device_alloc<float>(p.bh() * p.N_kv, "L");
    m.flush = device_alloc<unsigned char>(m.flush_bytes, "the L2 flush buffer");
    if (with_standard) {
        m.S = device_alloc<__half>(p.bh() * p.N_kv * p.N_kv, "S");
        m.P = device_alloc<__half>(p.bh() * p.N_kv * p.N_kv, "P");
    }
    if (with_backward) {
        m.dO = device_alloc<__half>(m.qkv_elems(), "dO");
        m.dQ = device_alloc<__half>(m.qkv_elems(), "dQ");
        m.dK = device_alloc<__half>(m.qkv_elems(), "dK");
        m.dV = device_alloc<__half>(m.qkv_elems(), "dV");
        m.dQaccum = device_alloc<float>(m.qkv_elems(), "dQaccum");
        m.D = device_alloc<float>(p.bh() * p.N_kv, "D");
    }
    m.generate(seed);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(m.stream));
}

AttentionRunner::~AttentionRunner() = default;
AttentionRunner::AttentionRunner(AttentionRunner&&) noexcept = default;
AttentionRunner& AttentionRunner::operator=(AttentionRunner&&) noexcept = default;

const Problem& AttentionRunner::problem() const {
    return impl_->p;
}
const DeviceInfo& AttentionRunner::device() const {
    return impl_->dev;
}

void AttentionRunner::regenerate(std::uint64_t seed) {
    impl_->generate(seed);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(impl_->stream));
}

namespace {
// 2-byte elements of `dtype` -> float (host side; no CUDA device code).
float widen(std::uint16_t bits, sim::Dtype dtype) {
    if (dtype == sim::Dtype::bf16) {
        const std::uint32_t w = static_cast<std::uint32_t>(bits) << 16;
        float f;
        std::memcpy(&f, &w, sizeof f);
        return f;
    }
    __half_raw raw{};
    raw.x = bits;
    return __half2float(__half(raw));
}
}  // namespace

std::vector<float> AttentionRunner::head(Buffer which, std::int64_t bh) const {
    const Impl& m = *impl_;
    if (bh < 0 || bh >= m.p.bh()) throw CudaError("head index " + std::to_string(bh) + " out of range");
    const void* base = nullptr;
    switch (which) {
        case Buffer::Q: base = m.Q; break;
        case Buffer::K: base = m.K; break;
        case Buffer::V: base = m.V; break;
        case Buffer::O: base = m.O; break;
        case Buffer::dO: base = m.dO; break;
        case Buffer::dQ: base = m.dQ; break;
        case Buffer::dK: base = m.dK; break;
        case Buffer::dV: base = m.dV; break;
    }
    if (base == nullptr) throw CudaError("that buffer was not allocated (construct with with_backward)");
    std::vector<std::uint16_t> tmp(static_cast<std::size_t>(m.head_elems()));
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(m.stream));
    TILESIM_CUDA_CHECK(cudaMemcpy(tmp.data(), static_cast<const std::uint16_t*>(base) + bh * m.head_elems(),
                                  tmp.size() * sizeof(std::uint16_t), cudaMemcpyDeviceToHost));
    std::vector<float> out(tmp.size());
    std::transform(tmp.begin(), tmp.end(), out.begin(), [&](std::uint16_t b) { return widen(b, m.p.dtype); });
    return out;
}

void AttentionRunner::poison_output() {
    detail::launch_fill_nan(impl_->p.dtype, impl_->O, impl_->qkv_elems(), impl_->stream);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(impl_->stream));
}

void AttentionRunner::poison_gradients() {
    Impl& m = *impl_;
    if (!m.with_backward) throw CudaError("the backward buffers were not allocated for this runner");
    for (void* g : {m.dQ, m.dK, m.dV}) detail::launch_fill_nan(m.p.dtype, g, m.qkv_elems(), m.stream);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(m.stream));
}

void AttentionRunner::launch(Kernel k, const LaunchOptions& o) {
    impl_->launch(k, o, nullptr);
}

void AttentionRunner::synchronize() {
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(impl_->stream));
}

Timing AttentionRunner::time(Kernel k, const LaunchOptions& o, int warmup, int runs) {
    Impl& m = *impl_;
    if (runs < 1) throw CudaError("runs must be >= 1");
    const auto names = m.stage_names(k, o);
    const int stages = static_cast<int>(names.size());
    if (stages + 1 > Impl::kMaxMarks) throw CudaError("too many stages to time");
    // A backward alone needs the forward's O, L / P once: run a forward first (untimed).
    if (o.pass == Pass::backward) {
        LaunchOptions f = o;
        f.pass = Pass::forward;
        m.launch(k, f, nullptr);
    }
    for (int w = 0; w < warmup; ++w) m.launch(k, o, nullptr);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(m.stream));

    std::vector<double> total(static_cast<std::size_t>(runs));
    std::vector<std::vector<double>> per_stage(static_cast<std::size_t>(stages),
                                               std::vector<double>(total.size()));
    for (int r = 0; r < runs; ++r) {
        // Evict the L2 (write twice its size), so that each run starts from DRAM as the model assumes.
        TILESIM_CUDA_CHECK(
            cudaMemsetAsync(m.flush, r & 0xFF, static_cast<std::size_t>(m.flush_bytes), m.stream));
        TILESIM_CUDA_CHECK(cudaEventRecord(m.marks[0], m.stream));
        m.launch(k, o, m.marks + 1);
        TILESIM_CUDA_CHECK(cudaEventSynchronize(m.marks[stages]));
        float ms = 0;
        TILESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, m.marks[0], m.marks[stages]));
        total[static_cast<std::size_t>(r)] = ms;
        for (int s = 0; s < stages; ++s) {
            TILESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, m.marks[s], m.marks[s + 1]));
            per_stage[static_cast<std::size_t>(s)][static_cast<std::size_t>(r)] = ms;
        }
    }
    Timing t = detail::summarize(total);
    for (int s = 0; s < stages; ++s) {
        t.stages.push_back({names[static_cast<std::size_t>(s)],
                            detail::summarize(per_stage[static_cast<std::size_t>(s)]).median_ms});
    }
    return t;
}

void AttentionRunner::profile(Kernel k, const LaunchOptions& o) {
    Impl& m = *impl_;
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(m.stream));
    TILESIM_CUDA_CHECK(cudaProfilerStart());
    m.launch(k, o, nullptr);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(m.stream));
    TILESIM_CUDA_CHECK(cudaProfilerStop());
}

}  // namespace tilesim::kernels::cuda
