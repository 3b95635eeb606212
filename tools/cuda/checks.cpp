#include "tools/cuda/checks.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tilesim::kernels::cuda {

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
    in.Q = to_mat(r.head(Buffer::Q, bh), p.N_kv, p.d);
    in.K = to_mat(r.head(Buffer::K, bh), p.N_kv, p.d);
    in.V = to_mat(r.head(Buffer::V, bh), p.N_kv, p.d);
    return in;
}

Mat device_output(const AttentionRunner& r, std::int64_t bh) {
    return to_mat(r.head(Buffer::O, bh), r.problem().N_kv, r.problem().d);
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

HeadReference reference_for_head(const AttentionRunner& r, std::int64_t bh, bool causal) {
    const std::int64_t N = r.problem().N_kv;
    HeadReference ref;
    ref.bh = bh;
    Inputs in = device_inputs(r, bh);
    if (N <= kFullCheckMaxN) {
        for (std::int64_t k = 0; k < N; ++k) ref.rows.push_back(k);
        ref.O = reference_attention(in, ReferenceOptions{causal, {}});
        return ref;
    }
    for (std::int64_t k = 0; k < kSampledRows; ++k) ref.rows.push_back(k * (N - 1) / (kSampledRows - 1));
    Mat Q_rows(kSampledRows, in.Q.cols());
    for (std::int64_t k = 0; k < kSampledRows; ++k)
        Q_rows.row(k) = in.Q.row(ref.rows[static_cast<std::size_t>(k)]);
    in.Q = std::move(Q_rows);
    ref.O = reference_attention(in, ReferenceOptions{causal, ref.rows});
    return ref;
}

ErrorStats check_head(const AttentionRunner& r, const HeadReference& ref) {
    const Mat O = device_output(r, ref.bh);
    if (static_cast<std::int64_t>(ref.rows.size()) == O.rows()) return check_output(O, ref.O);
    Mat O_rows(static_cast<Eigen::Index>(ref.rows.size()), O.cols());
    for (std::size_t k = 0; k < ref.rows.size(); ++k)
        O_rows.row(static_cast<Eigen::Index>(k)) = O.row(ref.rows[k]);
    return check_output(O_rows, ref.O);
}

Gradients reference_gradients(const Mat& Qf, const Mat& Kf, const Mat& Vf, const Mat& dOf, bool causal) {
    const MatD Q = Qf.cast<double>(), K = Kf.cast<double>(), V = Vf.cast<double>(), dO = dOf.cast<double>();
    const auto N = Q.rows();
    const double tau = 1.0 / std::sqrt(static_cast<double>(Q.cols()));
    MatD P = tau * (Q * K.transpose());
    for (Eigen::Index r = 0; r < N; ++r) {
        const Eigen::Index visible = causal ? r + 1 : N;
        auto row = P.row(r).head(visible);
        const double mx = row.maxCoeff();
        row = (row.array() - mx).exp();
        row /= row.sum();
        P.row(r).tail(N - visible).setZero();
    }
    Gradients g;
    g.dV = P.transpose() * dO;                                  // Algorithm 3, line 1
    MatD dS = dO * V.transpose();                               // line 2: dP
    const Eigen::VectorXd D = (P.array() * dS.array()).rowwise().sum();
    dS = P.array() * (dS.array().colwise() - D.array());        // line 3: dS = P o (dP - rowsum(P o dP))
    g.dQ = tau * (dS * K);                                      // line 4
    g.dK = tau * (dS.transpose() * Q);                          // line 5
    return g;
}

double GradErrors::worst() const {
    double w = 0;
    for (double e : {dQ.rel_fro, dK.rel_fro, dV.rel_fro}) {
        if (!(e <= w)) w = e;  // NaN-safe max
    }
    return w;
}

HeadGradReference reference_gradients_for_head(const AttentionRunner& r, std::int64_t bh, bool causal) {
    const Problem& p = r.problem();
    HeadGradReference ref;
    ref.bh = bh;
    const Inputs in = device_inputs(r, bh);
    ref.g = reference_gradients(in.Q, in.K, in.V, to_mat(r.head(Buffer::dO, bh), p.N_kv, p.d), causal);
    return ref;
}

GradErrors check_gradients(const AttentionRunner& r, const HeadGradReference& ref) {
    const Problem& p = r.problem();
    GradErrors e;
    e.dQ = check_output(to_mat(r.head(Buffer::dQ, ref.bh), p.N_kv, p.d), ref.g.dQ);
    e.dK = check_output(to_mat(r.head(Buffer::dK, ref.bh), p.N_kv, p.d), ref.g.dK);
    e.dV = check_output(to_mat(r.head(Buffer::dV, ref.bh), p.N_kv, p.d), ref.g.dV);
    return e;
}

ErrorStats check_decode_head(const DecodeRunner& r, std::int64_t b, std::int64_t h) {
    const DecodeProblem& p = r.problem();
    const std::int64_t h_kv = h / (p.heads / p.kv_heads);
    Inputs in;
    in.Q = to_mat(r.queries(b, h), p.q_len, p.d);
    in.K = to_mat(r.keys(b, h_kv), p.N, p.d);
    in.V = to_mat(r.values(b, h_kv), p.N, p.d);
    ReferenceOptions opt;
    opt.causal = p.causal;
    for (std::int64_t l = 0; l < p.q_len; ++l) opt.query_index.push_back(p.N - p.q_len + l);
    const MatD ref = reference_attention(in, opt);
    return check_output(to_mat(r.output(b, h), p.q_len, p.d), ref);
}

}  // namespace tilesim::kernels::cuda
