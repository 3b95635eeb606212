// Split-KV decoding: instantiations of decode_fwd.cuh, the split count, and DecodeRunner (the cache,
// the page table, the partial-output scratch, timing).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/decode_fwd.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/split_heuristic.h"

namespace tilesim::kernels::cuda {

namespace {

constexpr int kMaxSplits = 128;  // FA2's cap; the scratch is sized for it

template <class T, int d, bool kPaged, bool kCausal>
void launch_split(const decode::Params& p, int B, cudaStream_t stream) {
    using Sh = decode::Shape<d>;
    auto* kernel = decode::decode_split_kernel<T, d, kPaged, kCausal>;
    TILESIM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Sh::kSmemBytes));
    const dim3 grid(static_cast<unsigned>(p.splits), static_cast<unsigned>(p.H_kv), static_cast<unsigned>(B));
    kernel<<<grid, decode::kThreads, Sh::kSmemBytes, stream>>>(p);
    TILESIM_CUDA_CHECK_LAUNCH();
}

template <class T, int d>
void launch_split_t(const decode::Params& p, int B, bool paged, bool causal, cudaStream_t stream) {
    if (paged) {
        (causal ? launch_split<T, d, true, true> : launch_split<T, d, true, false>)(p, B, stream);
    } else {
        (causal ? launch_split<T, d, false, true> : launch_split<T, d, false, false>)(p, B, stream);
    }
}

template <class T, int d>
void launch_combine_t(const decode::Params& p, std::int64_t rows, cudaStream_t stream) {
    decode::decode_combine_kernel<T, d><<<static_cast<unsigned>((rows + 7) / 8), 256, 0, stream>>>(
        p.O_part, p.lse_part, static_cast<T*>(p.O), p.lse, rows, p.splits);
    TILESIM_CUDA_CHECK_LAUNCH();
}

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

struct DecodeRunner::Impl {
    DecodeProblem p;
    DeviceInfo dev;
    cudaStream_t stream = nullptr;
    void *Q = nullptr, *K = nullptr, *V = nullptr, *O = nullptr;
    float *O_part = nullptr, *lse_part = nullptr, *lse = nullptr;
    int* page_table = nullptr;
    std::vector<int> host_table;
    std::int64_t pages_per_seq = 0, cache_elems = 0;
    unsigned char* flush = nullptr;
    std::int64_t flush_bytes = 0;
    cudaEvent_t marks[3] = {};

    ~Impl() {
        for (auto& e : marks) {
            if (e != nullptr) cudaEventDestroy(e);
        }
        for (void* ptr : {Q, K, V, O, static_cast<void*>(O_part), static_cast<void*>(lse_part),
                          static_cast<void*>(lse), static_cast<void*>(page_table), static_cast<void*>(flush)}) {
            if (ptr != nullptr) cudaFree(ptr);
        }
        if (stream != nullptr) cudaStreamDestroy(stream);
    }

    std::int64_t rows() const { return p.batch * p.heads * p.q_len; }
    std::int64_t kv_blocks() const { return (p.N + decode::B_c - 1) / decode::B_c; }

    int splits(const DecodeOptions& o) const {
        int s = o.splits;
        if (s <= 0) {
            // One thread block per (batch, kv head) and split; the kernel's 96 KB of shared memory
            // (d = 128) fits twice on an SM, hence FA2's 2 * SMs slots.
            s = num_splits_heuristic(p.batch * p.kv_heads, 2 * static_cast<std::int64_t>(dev.sm_count), kv_blocks(),
                                     kMaxSplits);
        }
        s = static_cast<int>(std::min<std::int64_t>({s, kMaxSplits, kv_blocks()}));
        // No empty split: with ceil(T_c / s) blocks each, ceil(T_c / that) splits have work.
        const std::int64_t per = (kv_blocks() + s - 1) / s;
        return static_cast<int>((kv_blocks() + per - 1) / per);
    }

    decode::Params params(int s) const {
        decode::Params q{};
        q.Q = Q;
        q.K = K;
        q.V = V;
        q.page_table = p.page_size > 0 ? page_table : nullptr;
        q.O = O;
        q.O_part = O_part;
        q.lse_part = lse_part;
        q.lse = lse;
        q.N = static_cast<int>(p.N);
        q.H = static_cast<int>(p.heads);
        q.H_kv = static_cast<int>(p.kv_heads);
        q.L_q = static_cast<int>(p.q_len);
        q.page_size = static_cast<int>(p.page_size);
        q.max_pages = static_cast<int>(pages_per_seq);
        q.splits = s;
        q.blocks_per_split = static_cast<int>((kv_blocks() + s - 1) / s);
        q.tau = 1.0F / std::sqrt(static_cast<float>(p.d));
        return q;
    }

    // The split kernel (and the combine when s > 1); `mark(i)` after each.
    template <class Mark>
    void launch(const DecodeOptions& o, Mark&& mark) {
        const int s = splits(o);
        const decode::Params q = params(s);
        const bool bf16 = p.dtype == sim::Dtype::bf16, paged = p.page_size > 0;
        const int B = static_cast<int>(p.batch);
        if (p.d == 128) {
            (bf16 ? launch_split_t<__nv_bfloat16, 128> : launch_split_t<__half, 128>)(q, B, paged, p.causal, stream);
        } else {
            (bf16 ? launch_split_t<__nv_bfloat16, 64> : launch_split_t<__half, 64>)(q, B, paged, p.causal, stream);
        }
        mark(0);
        if (s > 1) {
            if (p.d == 128) {
                (bf16 ? launch_combine_t<__nv_bfloat16, 128> : launch_combine_t<__half, 128>)(q, rows(), stream);
            } else {
                (bf16 ? launch_combine_t<__nv_bfloat16, 64> : launch_combine_t<__half, 64>)(q, rows(), stream);
            }
            mark(1);
        }
    }

    // One N x d matrix of KV head (b, h_kv) in sequence order, from K or V.
    std::vector<float> gather(const void* base, std::int64_t b, std::int64_t h_kv) const {
        const std::int64_t d = p.d;
        std::vector<std::uint16_t> tmp(static_cast<std::size_t>(p.N * d));
        TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
        const auto* src = static_cast<const std::uint16_t*>(base);
        if (p.page_size == 0) {
            TILESIM_CUDA_CHECK(cudaMemcpy(tmp.data(), src + ((b * p.kv_heads + h_kv) * p.N) * d,
                                          tmp.size() * 2, cudaMemcpyDeviceToHost));
        } else {
            for (std::int64_t pg = 0; pg < pages_per_seq; ++pg) {
                const std::int64_t rows_here = std::min(p.page_size, p.N - pg * p.page_size);
                const std::int64_t page = host_table[static_cast<std::size_t>(b * pages_per_seq + pg)];
                // Row r of this page for head h_kv is at ((page * page_size + r) * H_kv + h_kv) * d.
                TILESIM_CUDA_CHECK(cudaMemcpy2D(tmp.data() + pg * p.page_size * d, static_cast<std::size_t>(d * 2),
                                                src + (page * p.page_size * p.kv_heads + h_kv) * d,
                                                static_cast<std::size_t>(p.kv_heads * d * 2),
                                                static_cast<std::size_t>(d * 2), static_cast<std::size_t>(rows_here),
                                                cudaMemcpyDeviceToHost));
            }
        }
        std::vector<float> out(tmp.size());
        std::transform(tmp.begin(), tmp.end(), out.begin(), [&](std::uint16_t v) { return widen(v, p.dtype); });
        return out;
    }

    std::vector<float> rows_of(const void* base, std::int64_t b, std::int64_t h) const {
        std::vector<std::uint16_t> tmp(static_cast<std::size_t>(p.q_len * p.d));
        TILESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
        TILESIM_CUDA_CHECK(cudaMemcpy(tmp.data(),
                                      static_cast<const std::uint16_t*>(base) + (b * p.heads + h) * p.q_len * p.d,
                                      tmp.size() * 2, cudaMemcpyDeviceToHost));
        std::vector<float> out(tmp.size());
        std::transform(tmp.begin(), tmp.end(), out.begin(), [&](std::uint16_t v) { return widen(v, p.dtype); });
        return out;
    }
};

DecodeRunner::DecodeRunner(const DecodeProblem& p, std::uint64_t seed) : impl_(std::make_unique<Impl>()) {
    if (p.batch < 1 || p.heads < 1 || p.kv_heads < 1 || p.q_len < 1 || p.N < 1)
        throw CudaError("decode: sizes must be positive");
    if (p.heads % p.kv_heads != 0) throw CudaError("decode: heads must be a multiple of kv_heads");
    if ((p.heads / p.kv_heads) * p.q_len > 16)
        throw CudaError("decode: (heads / kv_heads) * q_len must be <= 16 (one m16 tile of query rows)");
    if (p.d != 64 && p.d != 128) throw CudaError("decode: d must be 64 or 128");
    if (p.q_len > p.N) throw CudaError("decode: q_len must be <= N");
    if (p.dtype != sim::Dtype::fp16 && p.dtype != sim::Dtype::bf16) throw CudaError("decode: fp16 or bf16");
    if (p.batch > 65535 || p.kv_heads > 65535) throw CudaError("decode: batch and kv_heads must be <= 65535");
    Impl& m = *impl_;
    m.p = p;
    m.dev = query_device(0);
    TILESIM_CUDA_CHECK(cudaSetDevice(m.dev.ordinal));
    TILESIM_CUDA_CHECK(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking));
    for (auto& e : m.marks) TILESIM_CUDA_CHECK(cudaEventCreate(&e));
    if (p.page_size > 0) {
        m.pages_per_seq = (p.N + p.page_size - 1) / p.page_size;
        m.cache_elems = p.batch * m.pages_per_seq * p.page_size * p.kv_heads * p.d;
        // Page table: sequence b's pages in order b * pps .. , or a random permutation of all pages.
        m.host_table.resize(static_cast<std::size_t>(p.batch * m.pages_per_seq));
        std::iota(m.host_table.begin(), m.host_table.end(), 0);
        if (p.shuffled_pages) {
            std::mt19937_64 rng(seed * 7919 + 1);
            std::shuffle(m.host_table.begin(), m.host_table.end(), rng);
        }
        if (m.host_table.size() > static_cast<std::size_t>(1) << 31) throw CudaError("decode: too many pages");
    } else {
        m.pages_per_seq = 0;
        m.cache_elems = p.batch * p.kv_heads * p.N * p.d;
    }
    auto alloc = [](std::size_t bytes, const char* what) {
        void* ptr = nullptr;
        const cudaError_t e = cudaMalloc(&ptr, bytes);
        if (e != cudaSuccess) {
            throw CudaError(std::string("decode: cannot allocate ") + what + " (" + std::to_string(bytes >> 20) +
                            " MiB): " + cudaGetErrorString(e));
        }
        return ptr;
    };
    const std::int64_t q_elems = m.rows() * p.d;
    m.Q = alloc(static_cast<std::size_t>(q_elems) * 2, "Q");
    m.O = alloc(static_cast<std::size_t>(q_elems) * 2, "O");
    m.K = alloc(static_cast<std::size_t>(m.cache_elems) * 2, "the K cache");
    m.V = alloc(static_cast<std::size_t>(m.cache_elems) * 2, "the V cache");
    m.O_part = static_cast<float*>(alloc(static_cast<std::size_t>(m.rows() * kMaxSplits * p.d) * 4, "O_part"));
    m.lse_part = static_cast<float*>(alloc(static_cast<std::size_t>(m.rows() * kMaxSplits) * 4, "lse_part"));
    m.lse = static_cast<float*>(alloc(static_cast<std::size_t>(m.rows()) * 4, "lse"));
    if (p.page_size > 0) {
        m.page_table = static_cast<int*>(alloc(m.host_table.size() * sizeof(int), "the page table"));
        TILESIM_CUDA_CHECK(cudaMemcpy(m.page_table, m.host_table.data(), m.host_table.size() * sizeof(int),
                                      cudaMemcpyHostToDevice));
    }
    m.flush_bytes = 2 * std::max<std::int64_t>(m.dev.l2_bytes, 1 << 20);
    m.flush = static_cast<unsigned char*>(alloc(static_cast<std::size_t>(m.flush_bytes), "the L2 flush buffer"));
    detail::launch_fill_normal(p.dtype, m.Q, q_elems, seed * 3 + 0, m.stream);
    detail::launch_fill_normal(p.dtype, m.K, m.cache_elems, seed * 3 + 1, m.stream);
    detail::launch_fill_normal(p.dtype, m.V, m.cache_elems, seed * 3 + 2, m.stream);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(m.stream));
}

DecodeRunner::~DecodeRunner() = default;
DecodeRunner::DecodeRunner(DecodeRunner&&) noexcept = default;
DecodeRunner& DecodeRunner::operator=(DecodeRunner&&) noexcept = default;

const DecodeProblem& DecodeRunner::problem() const {
    return impl_->p;
}
int DecodeRunner::splits(const DecodeOptions& o) const {
    return impl_->splits(o);
}
double DecodeRunner::min_bytes() const {
    const DecodeProblem& p = impl_->p;
    const double kv = 2.0 * static_cast<double>(p.batch * p.kv_heads * p.N * p.d) * 2;
    return kv + 2.0 * static_cast<double>(impl_->rows() * p.d) * 2;
}
void DecodeRunner::poison_output() {
    detail::launch_fill_nan(impl_->p.dtype, impl_->O, impl_->rows() * impl_->p.d, impl_->stream);
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(impl_->stream));
}
void DecodeRunner::launch(const DecodeOptions& o) {
    impl_->launch(o, [](int) {});
}
void DecodeRunner::synchronize() {
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(impl_->stream));
}

Timing DecodeRunner::time(const DecodeOptions& o, int warmup, int runs) {
    Impl& m = *impl_;
    if (runs < 1) throw CudaError("runs must be >= 1");
    const int s = m.splits(o);
    const int stages = s > 1 ? 2 : 1;
    for (int w = 0; w < warmup; ++w) m.launch(o, [](int) {});
    TILESIM_CUDA_CHECK(cudaStreamSynchronize(m.stream));
    std::vector<double> total(static_cast<std::size_t>(runs)), split_ms(total.size()), comb_ms(total.size());
    for (int r = 0; r < runs; ++r) {
        TILESIM_CUDA_CHECK(cudaMemsetAsync(m.flush, r & 0xFF, static_cast<std::size_t>(m.flush_bytes), m.stream));
        TILESIM_CUDA_CHECK(cudaEventRecord(m.marks[0], m.stream));
        m.launch(o, [&](int i) { TILESIM_CUDA_CHECK(cudaEventRecord(m.marks[i + 1], m.stream)); });
        TILESIM_CUDA_CHECK(cudaEventSynchronize(m.marks[stages]));
        float ms = 0;
        TILESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, m.marks[0], m.marks[stages]));
        total[static_cast<std::size_t>(r)] = ms;
        TILESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, m.marks[0], m.marks[1]));
        split_ms[static_cast<std::size_t>(r)] = ms;
        if (stages == 2) {
            TILESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, m.marks[1], m.marks[2]));
            comb_ms[static_cast<std::size_t>(r)] = ms;
        }
    }
    Timing t = detail::summarize(total);
    t.stages.push_back({"decode: split kernel (" + std::to_string(s) + " splits)", detail::summarize(split_ms).median_ms});
    if (stages == 2) t.stages.push_back({"decode: combine", detail::summarize(comb_ms).median_ms});
    return t;
}

std::vector<float> DecodeRunner::queries(std::int64_t b, std::int64_t h) const {
    return impl_->rows_of(impl_->Q, b, h);
}
std::vector<float> DecodeRunner::output(std::int64_t b, std::int64_t h) const {
    return impl_->rows_of(impl_->O, b, h);
}
std::vector<float> DecodeRunner::keys(std::int64_t b, std::int64_t h_kv) const {
    return impl_->gather(impl_->K, b, h_kv);
}
std::vector<float> DecodeRunner::values(std::int64_t b, std::int64_t h_kv) const {
    return impl_->gather(impl_->V, b, h_kv);
}

double measure_copy_bandwidth(std::int64_t bytes, int runs) {
    void *a = nullptr, *b = nullptr;
    TILESIM_CUDA_CHECK(cudaMalloc(&a, static_cast<std::size_t>(bytes)));
    TILESIM_CUDA_CHECK(cudaMalloc(&b, static_cast<std::size_t>(bytes)));
    TILESIM_CUDA_CHECK(cudaMemset(a, 1, static_cast<std::size_t>(bytes)));
    cudaEvent_t e0 = nullptr, e1 = nullptr;
    TILESIM_CUDA_CHECK(cudaEventCreate(&e0));
    TILESIM_CUDA_CHECK(cudaEventCreate(&e1));
    std::vector<double> ms_runs;
    for (int r = 0; r < runs + 2; ++r) {
        TILESIM_CUDA_CHECK(cudaEventRecord(e0));
        TILESIM_CUDA_CHECK(cudaMemcpyAsync(b, a, static_cast<std::size_t>(bytes), cudaMemcpyDeviceToDevice));
        TILESIM_CUDA_CHECK(cudaEventRecord(e1));
        TILESIM_CUDA_CHECK(cudaEventSynchronize(e1));
        float ms = 0;
        TILESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
        if (r >= 2) ms_runs.push_back(ms);  // two warm-ups
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaFree(a);
    cudaFree(b);
    return 2.0 * static_cast<double>(bytes) / (detail::summarize(ms_runs).median_ms * 1e-3);
}

}  // namespace tilesim::kernels::cuda
