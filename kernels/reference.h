#pragma once
// The oracle: softmax(Q K^T / sqrt(d)) V in plain Eigen, fp64, no machine model.
#include <vector>

#include "kernels/attention.h"

namespace tilesim::kernels {

MatD reference_attention(const Inputs& in);

// The same oracle with a causal mask and/or a sample of query rows (used by the GPU checks):
// row k of in.Q is query position query_index[k] (k itself when the list is empty); with `causal`
// it sees keys 0..query_index[k] only.
struct ReferenceOptions {
    bool causal = false;
    std::vector<std::int64_t> query_index;
};
MatD reference_attention(const Inputs& in, const ReferenceOptions& options);

// max |O - ref| and ||O - ref||_F / ||ref||_F.
struct ErrorStats {
    double max_abs = 0;
    double rel_fro = 0;
};
ErrorStats compare(const Mat& O, const MatD& ref);

}  // namespace tilesim::kernels
