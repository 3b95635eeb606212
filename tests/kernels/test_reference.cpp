// kernels/reference.h: the fp64 oracle, including the causal / sampled-row form the GPU checks use,
// against a naive triple loop written here from the definition softmax(tau Q K^T) V.
#include <catch2/catch.hpp>
#include <cmath>

#include "kernels/reference.h"

using namespace tilesim;

namespace {

// Query row r (at position pos[r]) attends to keys 0..last; naive, no max subtraction needed at
// these magnitudes (|tau q.k| < 10).
kernels::MatD naive(const kernels::Inputs& in, bool causal, const std::vector<std::int64_t>& pos) {
    const auto rows = in.Q.rows(), N = in.K.rows(), d = in.Q.cols();
    const double tau = 1.0 / std::sqrt(static_cast<double>(d));
    kernels::MatD O = kernels::MatD::Zero(rows, d);
    for (Eigen::Index r = 0; r < rows; ++r) {
        const Eigen::Index q = pos.empty() ? r : static_cast<Eigen::Index>(pos[static_cast<std::size_t>(r)]);
        const Eigen::Index last = causal ? std::min(q, N - 1) : N - 1;
        double sum = 0;
        std::vector<double> w(static_cast<std::size_t>(last + 1));
        for (Eigen::Index k = 0; k <= last; ++k) {
            double dot = 0;
            for (Eigen::Index c = 0; c < d; ++c) dot += static_cast<double>(in.Q(r, c)) * in.K(k, c);
            w[static_cast<std::size_t>(k)] = std::exp(tau * dot);
            sum += w[static_cast<std::size_t>(k)];
        }
        for (Eigen::Index k = 0; k <= last; ++k) {
            for (Eigen::Index c = 0; c < d; ++c) O(r, c) += w[static_cast<std::size_t>(k)] / sum * in.V(k, c);
        }
    }
    return O;
}

}  // namespace

TEST_CASE("reference: plain, causal and sampled-row forms match the definition", "[kernels][reference]") {
    const auto in = kernels::inputs_of(kernels::random_inputs(kernels::Problem::square(37, 8), 5));
    // Plain: every query sees every key.
    CHECK((kernels::reference_attention(in) - naive(in, false, {})).cwiseAbs().maxCoeff() < 1e-12);
    // Causal: query r sees keys 0..r. Row 0 is exactly V's first row.
    const auto causal = kernels::reference_attention(in, {true, {}});
    CHECK((causal - naive(in, true, {})).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((causal.row(0) - in.V.row(0).cast<double>()).cwiseAbs().maxCoeff() < 1e-12);
    // The last query sees all keys: causal and plain agree there.
    CHECK((causal.row(36) - kernels::reference_attention(in).row(36)).cwiseAbs().maxCoeff() < 1e-12);

    // Sampled rows: Q holds queries at positions 0, 10, 36 only.
    const std::vector<std::int64_t> pos = {0, 10, 36};
    kernels::Inputs sampled = in;
    sampled.Q.resize(3, 8);
    for (int k = 0; k < 3; ++k) sampled.Q.row(k) = in.Q.row(pos[static_cast<std::size_t>(k)]);
    const auto s = kernels::reference_attention(sampled, {true, pos});
    for (int k = 0; k < 3; ++k) {
        CHECK((s.row(k) - causal.row(pos[static_cast<std::size_t>(k)])).cwiseAbs().maxCoeff() < 1e-12);
    }
    CHECK((s - naive(sampled, true, pos)).cwiseAbs().maxCoeff() < 1e-12);
}
