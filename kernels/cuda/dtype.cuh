#pragma once
// The two 16-bit input types the kernels are instantiated for, fp16 and bf16, behind one trait, so that
// a kernel is written once as a template on its element type T. Both are 2-byte types with the same
// mma.sync / wgmma fragment layouts; they differ in the conversions and in the instruction's type
// suffix. fp16: 10 mantissa bits (unit roundoff u = 2^-11), bf16: 7 bits (u = 2^-8) with fp32's range.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace tilesim::kernels::cuda {

template <class T>
struct Elem;

template <>
struct Elem<__half> {
    static constexpr const char* kName = "fp16";
    __device__ __forceinline__ static float to_float(__half x) { return __half2float(x); }
    __device__ __forceinline__ static __half from_float(float x) { return __float2half_rn(x); }
    // Two floats -> one register of two elements (lo in the low half, as the fragments expect).
    __device__ __forceinline__ static std::uint32_t pack2(float lo, float hi) {
        const __half2 h = __floats2half2_rn(lo, hi);
        return *reinterpret_cast<const std::uint32_t*>(&h);
    }
    __device__ __forceinline__ static float2 unpack2(std::uint32_t r) {
        return __half22float2(*reinterpret_cast<const __half2*>(&r));
    }
    __device__ __forceinline__ static __half nan() { return __ushort_as_half(0x7E00); }
};

template <>
struct Elem<__nv_bfloat16> {
    static constexpr const char* kName = "bf16";
    __device__ __forceinline__ static float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
    __device__ __forceinline__ static __nv_bfloat16 from_float(float x) { return __float2bfloat16_rn(x); }
    __device__ __forceinline__ static std::uint32_t pack2(float lo, float hi) {
        const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
        return *reinterpret_cast<const std::uint32_t*>(&h);
    }
    __device__ __forceinline__ static float2 unpack2(std::uint32_t r) {
        return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&r));
    }
    __device__ __forceinline__ static __nv_bfloat16 nan() { return __ushort_as_bfloat16(0x7FC0); }
};

}  // namespace tilesim::kernels::cuda
