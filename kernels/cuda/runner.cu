// AttentionRunner: device buffers, the two attention pipelines, timing and profiling.
//
// Standard attention is run as a framework runs it (Algorithm 0): S = QK^T as one strided-batched
// cuBLAS GEMM over the B*H heads (fp16 in and out, fp32 accumulation), optional eager passes over S,
// the softmax kernel writing P, then O = PV as a second batched GEMM. S and P live in device memory,
// [B*H, N, N] fp16 each. cuBLAS is column-major: a row-major X is a column-major X^T, so
//   S^T = K Q^T   -> gemm(op(A) = K^T stored as d x N, transposed; op(B) = Q^T stored as d x N)
//   O^T = V^T P^T -> gemm(A = V^T stored as d x N; B = P^T stored as N x N), neither transposed.
#include <cuda_profiler_api.h>

#include <algorithm>
#include <cmath>
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
    return k == Kernel::standard ? "standard" : "flash";
}

double attention_flops(const Problem& p, bool causal) {
    const double full = 4.0 * static_cast<double>(p.bh()) * static_cast<double>(p.N_kv) *
                        static_cast<double>(p.N_kv) * static_cast<double>(p.d);
    return causal ? full / 2 : full;
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

}  // namespace

struct AttentionRunner::Impl {
    Problem p;
    DeviceInfo dev;
    bool with_standard = false;
    cudaStream_t stream = nullptr;
    cublasHandle_t cublas = nullptr;
    __half *Q = nullptr, *K = nullptr, *V = nullptr, *O = nullptr, *S = nullptr, *P = nullptr;
    float* L = nullptr;
    unsigned char* flush = nullptr;  // written between timed runs to evict the L2
    std::int64_t flush_bytes = 0;
    static constexpr int kMaxMarks = 8;
    cudaEvent_t marks[kMaxMarks] = {};

    ~Impl() {
        // Destructors must not throw: release what was acquired, ignoring errors of a dying context.
        for (auto& e : marks) {
            if (e != nullptr) cudaEventDestroy(e);
        }
        for (void* ptr : {static_cast<void*>(Q), static_cast<void*>(K), static_cast<void*>(V),
                          static_cast<void*>(O), static_cast<void*>(S), static_cast<void*>(P),
                          static_cast<void*>(L), static_cast<void*>(flush)}) {
            if (ptr != nullptr) cudaFree(ptr);
        }
        if (cublas != nullptr) cublasDestroy(cublas);
        if (stream != nullptr) cudaStreamDestroy(stream);
    }

    std::int64_t head_elems() const { return p.N_kv * p.d; }
    std::int64_t qkv_elems() const { return p.bh() * p.N_kv * p.d; }

    void generate(std::uint64_t seed) {
        // Three independent streams of the hash; never zeros (normal samples rounded to fp16).
        detail::launch_fill_normal(Q, qkv_elems(), seed * 3 + 0, stream);
        detail::launch_fill_normal(K, qkv_elems(), seed * 3 + 1, stream);
        detail::launch_fill_normal(V, qkv_elems(), seed * 3 + 2, stream);
    }

    std::vector<std::string> stage_names(Kernel k, const LaunchOptions& o) const {
        if (k == Kernel::flash) {
            const FlashBlock b = block_for(o);
            return {"flash forward (B_r=" + std::to_string(b.B_r) + ", B_c=" + std::to_string(b.B_c) +
                    ", warps=" + std::to_string(b.warps) + ")"};
        }
        std::vector<std::string> names{"S = QK^T (cuBLAS)"};
        for (std::int64_t x = 0; x < o.extra_passes; ++x) names.emplace_back(pass_name(x));
        names.emplace_back("P = softmax(S)");
        names.emplace_back("O = PV (cuBLAS)");
        return names;
    }

    FlashBlock block_for(const LaunchOptions& o) const {
        return o.block.d == 0 ? find_flash_block(p.d) : o.block;
    }

    // One forward pass; when `marks` is set, an event is recorded after each stage.
    void launch(Kernel k, const LaunchOptions& o, cudaEvent_t* stage_marks) {
        auto mark = [&](int s) {
            if (stage_marks != nullptr) TILESIM_CUDA_CHECK(cudaEventRecord(stage_marks[s], stream));
        };
        const std::int64_t N = p.N_kv, d = p.d, bh = p.bh();
        if (k == Kernel::flash) {
            const FlashBlock b = block_for(o);
            if (b.d != d)
                throw CudaError("flash block for d=" + std::to_string(b.d) +
                                " used with d=" + std::to_string(d));
            detail::launch_flash(b, o.causal, Q, K, V, O, L, bh, N, stream);
            mark(0);
            return;
        }
        if (!with_standard) throw CudaError("standard attention was not allocated for this runner");
        if (o.extra_passes < 0 || o.extra_passes > 3) {
            throw CudaError("extra_passes = " + std::to_string(o.extra_passes) + ": must be 0..3");
        }
        const float tau = 1.0F / std::sqrt(static_cast<float>(d));
        const int n = static_cast<int>(N), dd = static_cast<int>(d), batch = static_cast<int>(bh);
        // Line 1: S = tau Q K^T, or unscaled when an eager pass applies tau (as frameworks do).
        const float alpha_s = o.extra_passes >= 1 ? 1.0F : tau;
        const float one = 1.0F, zero = 0.0F;
        TILESIM_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
            cublas, CUBLAS_OP_T, CUBLAS_OP_N, n, n, dd, &alpha_s, K, CUDA_R_16F, dd, N * d, Q, CUDA_R_16F, dd,
            N * d, &zero, S, CUDA_R_16F, n, N * N, batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        mark(0);
        int stage = 1;
        static const detail::EagerPass kPasses[] = {detail::EagerPass::scale, detail::EagerPass::mask,
                                                    detail::EagerPass::dropout};
        for (std::int64_t x = 0; x < o.extra_passes; ++x) {
            detail::launch_eager_pass(kPasses[x], S, bh, N, tau, o.causal, stream);
            mark(stage++);
        }
        // Line 2: P = softmax(S); the causal mask is fused here unless a mask pass applied it.
        detail::launch_softmax(S, P, bh, N, 1.0F, o.causal && o.extra_passes < 2, stream);
        mark(stage++);
        // Line 3: O = P V.
        TILESIM_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
            cublas, CUBLAS_OP_N, CUBLAS_OP_N, dd, n, n, &one, V, CUDA_R_16F, dd, N * d, P, CUDA_R_16F, n,
            N * N, &zero, O, CUDA_R_16F, dd, N * d, batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        mark(stage);
    }
};

AttentionRunner::AttentionRunner(const Problem& p, std::uint64_t seed, bool with_standard)
    : impl_(std::make_unique<Impl>()) {
    if (p.N_kv < 1 || p.d < 1 || p.batch < 1 || p.heads < 1) throw CudaError("problem sizes must be positive");
    if (p.N_q != p.N_kv || p.kv_heads != p.heads) {
        throw CudaError("the CUDA kernels run square problems with one K/V head per query head: set seq_len_q = "
                        "seq_len and kv_heads = heads");
    }
    if (p.dtype != sim::Dtype::fp16) {
        throw CudaError("dtype " + std::string(sim::dtype_name(p.dtype)) +
                        ": the CUDA backend runs fp16 only (set dtype = \"fp16\")");
    }
    if (p.N_kv > (std::int64_t{1} << 24))
        throw CudaError("seq_len " + std::to_string(p.N_kv) + " is too large for the GPU run");
    Impl& m = *impl_;
    m.p = p;
    m.dev = query_device(0);
    m.with_standard = with_standard;
    TILESIM_CUDA_CHECK(cudaSetDevice(m.dev.ordinal));
    if (with_standard && p.bh() > 65535 * 65535LL) throw CudaError("too many heads");
    // Refuse early, with the numbers, rather than fail on a cudaMalloc halfway.
    std::size_t free_bytes = 0, total_bytes = 0;
    TILESIM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    m.flush_bytes = 2 * std::max<std::int64_t>(m.dev.l2_bytes, 1 << 20);
    const std::int64_t need = 4 * m.qkv_elems() * 2 + p.bh() * p.N_kv * 4 + m.flush_bytes +
                              (with_standard ? 2 * p.bh() * p.N_kv * p.N_kv * 2 : 0);
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

std::vector<float> AttentionRunner::head(Buffer which, std::int64_t bh) const {
    const Impl& m = *impl_;
    if (bh < 0 || bh >= m.p.bh()) throw CudaError("head index " + std::to_string(bh) + " out of range");
    const __half* base = which == Buffer::Q ? m.Q : which == Buffer::K ? m.K : which == Buffer::V ? m.V : m.O;
    std::vector<__half> tmp(static_cast<std::size_t>(m.head_elems()));
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(m.stream));
    TILESIM_CUDA_CHECK(cudaMemcpy(tmp.data(), base + bh * m.head_elems(), tmp.size() * sizeof(__half),
                                  cudaMemcpyDeviceToHost));
    std::vector<float> out(tmp.size());
    std::transform(tmp.begin(), tmp.end(), out.begin(), [](__half h) { return __half2float(h); });
    return out;
}

void AttentionRunner::poison_output() {
    detail::launch_fill_nan(impl_->O, impl_->qkv_elems(), impl_->stream);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(impl_->stream));
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
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        const std::size_t n = v.size();
        return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    };
    Timing t;
    t.runs = runs;
    t.median_ms = median(total);
    t.min_ms = *std::min_element(total.begin(), total.end());
    t.max_ms = *std::max_element(total.begin(), total.end());
    for (int s = 0; s < stages; ++s) {
        t.stages.push_back(
            {names[static_cast<std::size_t>(s)], median(per_stage[static_cast<std::size_t>(s)])});
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
