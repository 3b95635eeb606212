#pragma once
// The GPU benchmarks' CUDA error check: the file, line, call and error string, then exit 1 (a benchmark
// has nothing to recover; kernels/cuda/check.cuh throws instead, for tilesim-cuda).
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#define CHECK(x)                                                                                     \
    do {                                                                                             \
        cudaError_t e_ = (x);                                                                        \
        if (e_ != cudaSuccess) {                                                                     \
            std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
            std::exit(1);                                                                            \
        }                                                                                            \
    } while (0)
