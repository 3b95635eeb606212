#pragma once
// Status checks for every CUDA runtime and cuBLAS call, and for every kernel launch.
// A failure throws CudaError naming the call, file:line and the library's error string, so the
// program reports it and exits non-zero instead of continuing on a broken device state.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/cuda_backend.h"

namespace tilesim::kernels::cuda::detail {

[[noreturn]] inline void throw_cuda(cudaError_t e, const char* call, const char* file, int line) {
    throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + call +
                    " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

[[noreturn]] inline void throw_cublas(cublasStatus_t s, const char* call, const char* file, int line) {
    throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + call +
                    " failed: " + cublasGetStatusName(s) + " (" + cublasGetStatusString(s) + ")");
}

}  // namespace tilesim::kernels::cuda::detail

#define TILESIM_CUDA_CHECK(call)                                                                      \
    do {                                                                                              \
        const cudaError_t tilesim_status_ = (call);                                                   \
        if (tilesim_status_ != cudaSuccess) {                                                         \
            ::tilesim::kernels::cuda::detail::throw_cuda(tilesim_status_, #call, __FILE__, __LINE__); \
        }                                                                                             \
    } while (0)

#define TILESIM_CUBLAS_CHECK(call)                                                                      \
    do {                                                                                                \
        const cublasStatus_t tilesim_status_ = (call);                                                  \
        if (tilesim_status_ != CUBLAS_STATUS_SUCCESS) {                                                 \
            ::tilesim::kernels::cuda::detail::throw_cublas(tilesim_status_, #call, __FILE__, __LINE__); \
        }                                                                                               \
    } while (0)

// After every <<<...>>>: a bad configuration shows up here, an asynchronous fault at the next sync.
#define TILESIM_CUDA_CHECK_LAUNCH() TILESIM_CUDA_CHECK(cudaGetLastError())
