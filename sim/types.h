#pragma once
// Basic vocabulary of the machine model: memory levels, tensors, element types, tile rectangles.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tilesim::sim {

enum class Level : std::uint8_t { HBM = 0, L2 = 1, SRAM = 2 };
inline constexpr std::size_t kLevelCount = 3;

// Every tensor a kernel may move. Statistics (l, m, L, D) and accumulators (dQacc: FlashAttention-2's
// fp32 dQ; Oacc, Lacc: split-KV partial outputs) are kept in fp32 whatever the input dtype, as real
// kernels do; the page table PT holds int32 page numbers. See element_bytes().
enum class Tensor : std::uint8_t {
    Q = 0, K, V, S, P, O, l, m, L, dO, dQ, dK, dV, dS, dP, D, dQacc, Oacc, Lacc, PT, Mk
};
inline constexpr std::size_t kTensorCount = 21;

// Storage formats. fp8e4m3 / fp8e5m2 (OCP FP8: 4-bit exponent + 3-bit mantissa, max 448; 5 + 2, max
// 57344) apply to the GEMM inputs Q, K, V (and dO); what an fp8 kernel writes is bf16, as in
// FlashAttention-3 (see storage_dtype()).
enum class Dtype : std::uint8_t { fp16, bf16, fp32, fp64, fp8e4m3, fp8e5m2 };
inline constexpr std::array<Dtype, 6> kDtypes = {Dtype::fp16, Dtype::bf16, Dtype::fp32,
                                                 Dtype::fp64, Dtype::fp8e4m3, Dtype::fp8e5m2};
constexpr bool is_fp8(Dtype d) { return d == Dtype::fp8e4m3 || d == Dtype::fp8e5m2; }

std::string_view level_name(Level level);
std::string_view tensor_name(Tensor tensor);
std::string_view dtype_name(Dtype dtype);
std::optional<Dtype> parse_dtype(std::string_view text);
std::optional<Tensor> parse_tensor(std::string_view text);

// Bytes of one element of `dtype`.
std::size_t dtype_bytes(Dtype dtype);

// True for the per-row vectors (one value per query row), stored in fp32: the softmax statistics
// l, m, L, the backward's D = rowsum(dO o O) and split-KV's partial log-sum-exp.
constexpr bool is_statistic(Tensor t) {
    return t == Tensor::l || t == Tensor::m || t == Tensor::L || t == Tensor::D || t == Tensor::Lacc;
}

// True for tensors stored in 4 bytes whatever the input dtype (fp32 statistics and accumulators, the
// int32 page table).
constexpr bool is_four_byte(Tensor t) {
    return is_statistic(t) || t == Tensor::dQacc || t == Tensor::Oacc || t == Tensor::PT;
}

// True for the inputs of the GEMMs that an fp8 kernel reads in fp8: Q, K, V, and dO for a backward.
constexpr bool is_gemm_input(Tensor t) {
    return t == Tensor::Q || t == Tensor::K || t == Tensor::V || t == Tensor::dO;
}

// The format `tensor` is stored in when the problem's inputs are `dtype`: fp32 for the statistics and
// accumulators (the page table is int32 and Mk a byte, both exact), bf16 for everything an fp8 kernel
// computes (S, P, O, the gradients), `dtype` otherwise.
constexpr Dtype storage_dtype(Tensor tensor, Dtype dtype) {
    if (is_four_byte(tensor)) return Dtype::fp32;
    if (is_fp8(dtype) && !is_gemm_input(tensor)) return Dtype::bf16;
    return dtype;
}

// Bytes of one element of `tensor` when the problem's inputs are `dtype`. Mk, a framework's
// materialised boolean mask, is one byte per element.
inline std::size_t element_bytes(Tensor tensor, Dtype dtype) {
    if (tensor == Tensor::Mk) return 1;
    return dtype_bytes(storage_dtype(tensor, dtype));
}

// A tile: rows [row0, row0+rows) x cols [col0, col0+cols) of a tensor's (logical) matrix.
struct Rect {
    std::int64_t row0 = 0;
    std::int64_t col0 = 0;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    std::int64_t elements() const { return rows * cols; }
    bool operator==(const Rect&) const = default;
};

}  // namespace tilesim::sim
