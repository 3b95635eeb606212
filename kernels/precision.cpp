#include "kernels/precision.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "sim/numeric.h"

namespace tilesim::kernels {

std::string_view distribution_name(InputDistribution d) {
    return d == InputDistribution::normal ? "normal" : "outliers";
}

std::optional<InputDistribution> parse_distribution(std::string_view text) {
    for (auto d : {InputDistribution::normal, InputDistribution::outliers}) {
        if (distribution_name(d) == text) return d;
    }
    return std::nullopt;
}

HbmState random_inputs(const Problem& p, std::uint64_t seed, InputDistribution dist) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<float> normal(0.0F, 1.0F);
    std::uniform_real_distribution<float> uniform(0.0F, 1.0F);
    HbmState hbm;
    auto fill = [&](sim::Tensor t, std::int64_t rows) {
        Mat& m = hbm[t];
        m.resize(rows, p.d);
        for (Eigen::Index k = 0; k < m.size(); ++k) {
            float x = normal(gen);
            // FlashAttention-3, Table 3: N(0, 1) + N(0, 100) * Bernoulli(0.001).
            if (dist == InputDistribution::outliers && uniform(gen) < 0.001F) x += 10.0F * normal(gen);
            m.data()[k] = x;
        }
    };
    // Q, K, V first, in this order, so a forward's inputs do not depend on whether dO is drawn.
    fill(sim::Tensor::Q, p.N_q);
    fill(sim::Tensor::K, p.N_kv);
    fill(sim::Tensor::V, p.N_kv);
    fill(sim::Tensor::dO, p.N_q);
    return hbm;
}

HbmState random_inputs(const Problem& p, std::uint64_t seed) {
    return random_inputs(p, seed, InputDistribution::normal);
}

namespace {

bool power_of_two(std::int64_t d) {
    return d > 0 && (d & (d - 1)) == 0;
}

// The random signs s of M = H diag(s) / sqrt(d).
std::vector<float> signs(std::int64_t d, std::uint64_t seed) {
    std::mt19937_64 gen(seed ^ 0x9e3779b97f4a7c15ULL);
    std::vector<float> s(static_cast<std::size_t>(d));
    for (auto& v : s) v = (gen() & 1U) != 0 ? 1.0F : -1.0F;
    return s;
}

// x <- x H in place (the unnormalised fast Walsh-Hadamard transform, d log2 d additions; H is
// symmetric, so x H = (H x^T)^T).
void walsh_hadamard(float* x, std::int64_t d) {
    for (std::int64_t h = 1; h < d; h *= 2) {
        for (std::int64_t i = 0; i < d; i += 2 * h) {
            for (std::int64_t k = i; k < i + h; ++k) {
                const float a = x[k], b = x[k + h];
                x[k] = a + b;
                x[k + h] = a - b;
            }
        }
    }
}

// Rounds rows [r0, r0 + rows) of X to fp8 with one scale s = amax / max_finite (or `fixed`), in place.
void quantise_fp8(const sim::FloatFormat& f, Mat& X, std::int64_t r0, std::int64_t rows, double s,
                  QuantisationReport& rep) {
    // |x / s| from max + half a spacing on rounds past max: those values saturate.
    const double limit = f.max_finite + std::ldexp(0.5, std::ilogb(f.max_finite) - f.mantissa_bits);
    for (std::int64_t r = r0; r < r0 + rows; ++r) {
        for (Eigen::Index c = 0; c < X.cols(); ++c) {
            const double x = static_cast<double>(X(r, c));
            if (std::fabs(x / s) >= limit) ++rep.saturated;
            X(r, c) = static_cast<float>(s * sim::round_to(f, x / s));
        }
    }
}

double amax_scale(const sim::FloatFormat& f, const Mat& X, std::int64_t r0, std::int64_t rows) {
    const double amax = rows > 0 ? static_cast<double>(X.middleRows(r0, rows).cwiseAbs().maxCoeff()) : 0.0;
    // An all-zero block needs no scale; 1 keeps the arithmetic finite.
    return amax > 0 && std::isfinite(amax) ? amax / f.max_finite : 1.0;
}

}  // namespace

void hadamard_rotate(Mat& X, std::uint64_t seed, bool inverse) {
    const std::int64_t d = X.cols();
    if (!power_of_two(d)) {
        throw std::invalid_argument("incoherent processing needs d a power of two (a d x d Hadamard matrix); d = " +
                                    std::to_string(d));
    }
    const std::vector<float> s = signs(d, seed);
    const float norm = 1.0F / std::sqrt(static_cast<float>(d));
    for (Eigen::Index r = 0; r < X.rows(); ++r) {
        float* x = X.row(r).data();
        // x M = (x H / sqrt(d)) o s;  x M^T = ((x o s) H) / sqrt(d).
        if (inverse) {
            for (std::int64_t k = 0; k < d; ++k) x[k] *= s[static_cast<std::size_t>(k)];
        }
        walsh_hadamard(x, d);
        for (std::int64_t k = 0; k < d; ++k) x[k] *= norm * (inverse ? 1.0F : s[static_cast<std::size_t>(k)]);
    }
}

QuantisationReport store_inputs(const Problem& p, const Tiling& t, const Quantisation& q, HbmState& hbm) {
    if (q.scale == Fp8Scale::fixed && !(q.fixed_scale > 0 && std::isfinite(q.fixed_scale))) {
        throw std::invalid_argument("an fp8 scale must be a positive finite number");
    }
    QuantisationReport rep;
    if (q.incoherent) {
        for (auto tensor : {sim::Tensor::Q, sim::Tensor::K}) {
            if (hbm.has(tensor)) hadamard_rotate(hbm[tensor], q.seed, false);
        }
    }
    for (auto tensor : {sim::Tensor::Q, sim::Tensor::K, sim::Tensor::V, sim::Tensor::dO}) {
        if (!hbm.has(tensor)) continue;
        Mat& X = hbm[tensor];
        rep.values += X.size();
        const sim::Dtype fmt = sim::storage_dtype(tensor, p.dtype);
        if (!sim::has_format(fmt)) continue;
        if (!sim::is_fp8(fmt)) {
            sim::round_span(fmt, X.data(), X.size());
            rep.saturated += (X.array().isInf()).count();
            continue;
        }
        const sim::FloatFormat f = sim::format_of(fmt);
        if (q.scale == Fp8Scale::block) {
            // Q and dO are tiled by B_r rows, K and V by B_c (each block of B rows x d shares a scale).
            const bool q_rows = tensor == sim::Tensor::Q || tensor == sim::Tensor::dO;
            const std::int64_t B = std::max<std::int64_t>(1, q_rows ? t.B_r : t.B_c);
            for (std::int64_t r0 = 0; r0 < X.rows(); r0 += B) {
                const std::int64_t rows = std::min<std::int64_t>(B, X.rows() - r0);
                quantise_fp8(f, X, r0, rows, amax_scale(f, X, r0, rows), rep);
                ++rep.scales;
            }
        } else {
            const double s = q.scale == Fp8Scale::fixed ? q.fixed_scale : amax_scale(f, X, 0, X.rows());
            quantise_fp8(f, X, 0, X.rows(), s, rep);
            ++rep.scales;
        }
    }
    return rep;
}

void restore_gradients(const Quantisation& q, HbmState& hbm) {
    if (!q.incoherent) return;
    for (auto tensor : {sim::Tensor::dQ, sim::Tensor::dK}) {
        if (hbm.has(tensor)) hadamard_rotate(hbm[tensor], q.seed, true);
    }
}

}  // namespace tilesim::kernels
