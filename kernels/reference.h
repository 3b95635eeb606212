#pragma once
// The oracle: softmax(Q K^T / sqrt(d)) V in plain Eigen, fp64, no machine model.
#include "kernels/attention.h"

namespace tilesim::kernels {

MatD reference_attention(const Inputs& in);

// max |O - ref| and ||O - ref||_F / ||ref||_F.
struct ErrorStats {
    double max_abs = 0;
    double rel_fro = 0;
};
ErrorStats compare(const Mat& O, const MatD& ref);

}  // namespace tilesim::kernels
