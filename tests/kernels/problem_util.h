#pragma once
// One (batch = 1, head = 1) square problem, for the kernel tests.
#include "kernels/problem.h"

namespace tilesim::test {

inline kernels::Problem problem(std::int64_t N, std::int64_t d, sim::Dtype dt = sim::Dtype::fp16) {
    return kernels::Problem::square(N, d, dt);
}

}  // namespace tilesim::test
