#include "kernels/reference.h"

#include <cmath>

namespace tilesim::kernels {

MatD reference_attention(const Inputs& in) {
    const MatD Q = in.Q.cast<double>();
    const MatD K = in.K.cast<double>();
    const MatD V = in.V.cast<double>();
    const double tau = 1.0 / std::sqrt(static_cast<double>(Q.cols()));
    MatD S = tau * (Q * K.transpose());
    // Row-wise stable softmax: subtract the row max before exp.
    for (Eigen::Index r = 0; r < S.rows(); ++r) {
        const double mx = S.row(r).maxCoeff();
        S.row(r) = (S.row(r).array() - mx).exp();
        S.row(r) /= S.row(r).sum();
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
