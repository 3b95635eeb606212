#include "kernels/reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tilesim::kernels {

namespace {

// P = softmax(tau Q K^T) row by row over the visible keys (stable: subtract the row max before exp).
MatD reference_probabilities(const MatD& Q, const MatD& K, const ReferenceOptions& options) {
    const double tau = 1.0 / std::sqrt(static_cast<double>(Q.cols()));
    MatD S = tau * (Q * K.transpose());
    const double neg_inf = -std::numeric_limits<double>::infinity();
    const std::int64_t N_q = options.mask_N_q > 0 ? options.mask_N_q : S.rows();
    for (Eigen::Index r = 0; r < S.rows(); ++r) {
        const Eigen::Index q =
            options.query_index.empty()
                ? r
                : static_cast<Eigen::Index>(options.query_index[static_cast<std::size_t>(r)]);
        const Eigen::Index visible = options.causal ? std::min<Eigen::Index>(q + 1, S.cols()) : S.cols();
        S.row(r).tail(S.cols() - visible).setConstant(neg_inf);
        if (options.mask != nullptr) {
            for (Eigen::Index k = 0; k < S.cols(); ++k) {
                if (!allowed(*options.mask, N_q, S.cols(), q, k)) S(r, k) = neg_inf;
            }
        }
        auto row = S.row(r);
        const double mx = row.maxCoeff();
        if (mx == neg_inf) {  // no key visible: the output row is 0
            row.setZero();
            continue;
        }
        row = (row.array() - mx).exp();
        row /= row.sum();
    }
    return S;
}

}  // namespace

MatD reference_attention(const Inputs& in, const ReferenceOptions& options) {
    const MatD P = reference_probabilities(in.Q.cast<double>(), in.K.cast<double>(), options);
    return P * in.V.cast<double>();
}

ReferenceGradients reference_gradients(const Inputs& in, const Mat& dO, const ReferenceOptions& options) {
    const MatD Q = in.Q.cast<double>(), K = in.K.cast<double>(), V = in.V.cast<double>();
    const MatD G = dO.cast<double>();
    const double tau = 1.0 / std::sqrt(static_cast<double>(Q.cols()));
    const MatD P = reference_probabilities(Q, K, options);
    ReferenceGradients g;
    g.dV = P.transpose() * G;
    const MatD dP = G * V.transpose();
    // Softmax backward: dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik).
    const Eigen::VectorXd D = (P.array() * dP.array()).rowwise().sum();
    const MatD dS = P.array() * (dP.colwise() - D).array();
    g.dQ = tau * (dS * K);
    g.dK = tau * (dS.transpose() * Q);
    return g;
}

ErrorStats compare(const Mat& O, const MatD& ref) {
    const MatD diff = O.cast<double>() - ref;
    ErrorStats e;
    e.max_abs = diff.size() > 0 ? diff.cwiseAbs().maxCoeff() : 0.0;
    const double denom = ref.norm();
    e.rel_fro = denom > 0 ? diff.norm() / denom : diff.norm();
    e.rmse = diff.size() > 0 ? diff.norm() / std::sqrt(static_cast<double>(diff.size())) : 0.0;
    return e;
}

}  // namespace tilesim::kernels
