#include "kernels/reference.h"

#include <algorithm>
#include <cmath>

namespace tilesim::kernels {

MatD reference_attention(const Inputs& in) {
    return reference_attention(in, ReferenceOptions{});
}

MatD reference_attention(const Inputs& in, const ReferenceOptions& options) {
    const MatD Q = in.Q.cast<double>();
    const MatD K = in.K.cast<double>();
    const MatD V = in.V.cast<double>();
    const double tau = 1.0 / std::sqrt(static_cast<double>(Q.cols()));
    MatD S = tau * (Q * K.transpose());
    // Row-wise stable softmax over the visible keys: subtract the row max before exp.
    for (Eigen::Index r = 0; r < S.rows(); ++r) {
        const Eigen::Index q =
            options.query_index.empty()
                ? r
                : static_cast<Eigen::Index>(options.query_index[static_cast<std::size_t>(r)]);
        const Eigen::Index visible = options.causal ? std::min<Eigen::Index>(q + 1, S.cols()) : S.cols();
        auto row = S.row(r).head(visible);
        const double mx = row.maxCoeff();
        row = (row.array() - mx).exp();
        row /= row.sum();
        S.row(r).tail(S.cols() - visible).setZero();
    }
    return S * V;
}

ErrorStats compare(const Mat& O, const MatD& ref) {
    const MatD diff = O.cast<double>() - ref;
    ErrorStats e;
    e.max_abs = diff.cwiseAbs().maxCoeff();
    const double denom = ref.norm();
    e.rel_fro = denom > 0 ? diff.norm() / denom : diff.norm();
    return e;
}

}  // namespace tilesim::kernels
