#include "kernels/cuda/checks.h"

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

}  // namespace tilesim::kernels::cuda
