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

// Every tensor a kernel may move. Statistics (l, m, L) are kept in fp32 whatever the input dtype,
// as real kernels do; see element_bytes().
enum class Tensor : std::uint8_t { Q = 0, K, V, S, P, O, l, m, L, dO, dQ, dK, dV, dS, dP };
inline constexpr std::size_t kTensorCount = 15;

enum class Dtype : std::uint8_t { fp16, bf16, fp32, fp64 };

std::string_view level_name(Level level);
std::string_view tensor_name(Tensor tensor);
std::string_view dtype_name(Dtype dtype);
std::optional<Dtype> parse_dtype(std::string_view text);
std::optional<Tensor> parse_tensor(std::string_view text);

// Bytes of one element of `dtype`.
std::size_t dtype_bytes(Dtype dtype);

// True for the per-row softmax statistics, which are stored in fp32.
constexpr bool is_statistic(Tensor t) {
    return t == Tensor::l || t == Tensor::m || t == Tensor::L;
}

// Bytes of one element of `tensor` when the problem's inputs are `dtype`.
inline std::size_t element_bytes(Tensor tensor, Dtype dtype) {
    return is_statistic(tensor) ? 4 : dtype_bytes(dtype);
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
