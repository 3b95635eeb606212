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
    Q = 0, K, V, S, P, O, l, m, L, dO, dQ, dK, dV, dS, dP, D, dQacc, Oacc, Lacc, PT
};
inline constexpr std::size_t kTensorCount = 20;

// fp8 (e4m3): one byte an element; the model's arithmetic stays fp32, only bytes and tensor rates change.
enum class Dtype : std::uint8_t { fp16, bf16, fp32, fp64, fp8 };

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

// Bytes of one element of `tensor` when the problem's inputs are `dtype`.
inline std::size_t element_bytes(Tensor tensor, Dtype dtype) {
    return is_four_byte(tensor) ? 4 : dtype_bytes(dtype);
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
