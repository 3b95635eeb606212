#pragma once
// Low precision, numerics only: what the inputs look like (normal, or normal with rare outliers as in
// FlashAttention-3's accuracy test), how they are put in their storage format before a run (fp16/bf16
// by rounding; fp8 with a scale per tensor, per tile block, or fixed, and optionally after
// FlashAttention-3's incoherent processing), and how the gradients come back from the rotated basis.
// Counts never depend on any of this.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kernels/algorithm.h"

namespace tilesim::kernels {

// normal: every entry N(0, 1). outliers: N(0, 1) + N(0, 100) * Bernoulli(0.001), the inputs of
// FlashAttention-3's Table 3 (a few entries 10x larger, as in real activations).
enum class InputDistribution : std::uint8_t { normal, outliers };
std::string_view distribution_name(InputDistribution d);
std::optional<InputDistribution> parse_distribution(std::string_view text);

// Deterministic random inputs for one head: Q (N_q x d), K, V (N_kv x d), dO (N_q x d).
HbmState random_inputs(const Problem& p, std::uint64_t seed, InputDistribution dist);

// How an fp8 tensor's values are scaled into the format's range: x_fp8 = round(x / s), read back as
// s * x_fp8. tensor: s = amax(X) / max_finite; block: one s per tile block (B_r x d of Q and dO, B_c x d
// of K and V: FlashAttention-3's block quantisation); fixed: one given s for everything (values past
// s * max_finite saturate).
enum class Fp8Scale : std::uint8_t { tensor, block, fixed };

struct Quantisation {
    Fp8Scale scale = Fp8Scale::block;
    double fixed_scale = 1.0;  // with Fp8Scale::fixed; > 0
    // FlashAttention-3's incoherent processing: Q and K times M = H diag(s) / sqrt(d) (H the d x d
    // Hadamard matrix, s random signs), which leaves Q K^T unchanged (M is orthogonal) but spreads an
    // outlier over all d entries of its row before quantisation. d must be a power of two.
    bool incoherent = false;
    std::uint64_t seed = 0;  // the random signs
};

// What store_inputs did, for the report.
struct QuantisationReport {
    std::int64_t scales = 0;     // fp8 scale factors in use (per head): 4 bytes each, kernel arguments
    std::int64_t saturated = 0;  // input values clamped to +-s * max_finite (fp8), or to inf (fp16/bf16)
    std::int64_t values = 0;     // input values stored
};

// Puts the GEMM inputs present in `hbm` (Q, K, V, dO) in their storage formats for problem `p`,
// with tile blocks from `t` for block scales; rotates Q and K first when q.incoherent. Throws
// std::invalid_argument for incoherent processing with d not a power of two, or a fixed scale <= 0.
QuantisationReport store_inputs(const Problem& p, const Tiling& t, const Quantisation& q, HbmState& hbm);

// After a backward on rotated inputs: dQ and dK back to the original basis (times M^T).
void restore_gradients(const Quantisation& q, HbmState& hbm);

// x M for every row x of X (inverse: x M^T), M = H diag(s) / sqrt(d) with the signs from `seed`.
void hadamard_rotate(Mat& X, std::uint64_t seed, bool inverse);

}  // namespace tilesim::kernels
