#include "kernels/cuda/checks.h"

#include <cmath>
#include <limits>

namespace tilesim::kernels::cuda {

MatD reference_attention_causal(const Inputs& in) {
    const MatD Q = in.Q.cast<double>();
    const MatD K = in.K.cast<double>();
    const MatD V = in.V.cast<double>();
    const double tau = 1.0 / std::sqrt(static_cast<double>(Q.cols()));
    MatD S = tau * (Q * K.transpose());
    for (Eigen::Index r = 0; r < S.rows(); ++r) {
        const Eigen::Index visible = r + 1;  // keys 0..r
        const double mx = S.row(r).head(visible).maxCoeff();
        S.row(r).head(visible) = (S.row(r).head(visible).array() - mx).exp();
        S.row(r).tail(S.cols() - visible).setZero();
        S.row(r) /= S.row(r).sum();
    }
    return S * V;
}

namespace {
Mat to_mat(const std::vector<float>& v, std::int64_t N, std::int64_t d) {
    Mat m(N, d);
    for (std::int64_t k = 0; k < N * d; ++k) m.data()[k] = v[static_cast<std::size_t>(k)];
    return m;
}
}  // namespace

Inputs device_inputs(const AttentionRunner& r, std::int64_t bh) {
    const Problem& p = r.problem();
    Inputs in;
    in.Q = to_mat(r.head(Buffer::Q, bh), p.N, p.d);
    in.K = to_mat(r.head(Buffer::K, bh), p.N, p.d);
    in.V = to_mat(r.head(Buffer::V, bh), p.N, p.d);
    return in;
}

Mat device_output(const AttentionRunner& r, std::int64_t bh) {
    return to_mat(r.head(Buffer::O, bh), r.problem().N, r.problem().d);
}

std::vector<std::int64_t> sample_heads(std::int64_t bh, std::int64_t count) {
    std::vector<std::int64_t> out;
    count = std::max<std::int64_t>(1, std::min(count, bh));
    for (std::int64_t k = 0; k < count; ++k) {
        const std::int64_t h = count == 1 ? 0 : k * (bh - 1) / (count - 1);
        if (out.empty() || out.back() != h) out.push_back(h);
    }
    return out;
}

ErrorStats check_output(const Mat& O, const MatD& ref) {
    if (!O.allFinite()) {
        return {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
    }
    return compare(O, ref);
}

}  // namespace tilesim::kernels::cuda
