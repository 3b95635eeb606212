#pragma once
// One (batch = 1, head = 1) problem, for the kernel tests.
#include "kernels/problem.h"

namespace tilesim::test {

inline kernels::Problem problem(std::int64_t N, std::int64_t d, sim::Dtype dt = sim::Dtype::fp16) {
    kernels::Problem p;
    p.N = N;
    p.d = d;
    p.dtype = dt;
    return p;
}

}  // namespace tilesim::test
