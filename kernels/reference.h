#pragma once
// The oracle: softmax(Q K^T / sqrt(d)) V and its gradients in plain Eigen, fp64, no machine model.
#include <vector>

#include "kernels/algorithm.h"

namespace tilesim::kernels {

// One head's inputs: Q (N_q x d), K and V (N_kv x d).
struct Inputs {
    Mat Q, K, V;
};
inline Inputs inputs_of(const HbmState& hbm) {
    return {hbm[sim::Tensor::Q], hbm[sim::Tensor::K], hbm[sim::Tensor::V]};
}

// Row k of in.Q is query position query_index[k] (k itself when the list is empty); with `causal`
// it sees keys 0..query_index[k] only (top-left aligned, the GPU checks' convention). With `mask`, it
// sees the keys the mask allows (kernels/mask.h, bottom-right aligned over N_q = mask_N_q query
// positions; 0 means in.Q's rows). A row that sees no key at all has output (and gradient) 0.
struct ReferenceOptions {
    bool causal = false;
    std::vector<std::int64_t> query_index;
    const Mask* mask = nullptr;
    std::int64_t mask_N_q = 0;
};
MatD reference_attention(const Inputs& in, const ReferenceOptions& options = {});

// The exact gradients of O = softmax(tau Q K^T) V for an output gradient dO (N_q x d), from the
// definition (the paper's Algorithm 3 in fp64): dV = P^T dO, dP = dO V^T, dS = P o (dP - rowsum(P o dP)),
// dQ = tau dS K, dK = tau dS^T Q.
struct ReferenceGradients {
    MatD dQ, dK, dV;
};
ReferenceGradients reference_gradients(const Inputs& in, const Mat& dO, const ReferenceOptions& options = {});

// max |O - ref|, ||O - ref||_F / ||ref||_F, and the root-mean-square error sqrt(mean((O - ref)^2))
// (FlashAttention-3's Table 3 reports the RMSE).
struct ErrorStats {
    double max_abs = 0;
    double rel_fro = 0;
    double rmse = 0;
};
ErrorStats compare(const Mat& O, const MatD& ref);

}  // namespace tilesim::kernels
