#pragma once
// Hopper (sm_90a) building blocks of the FlashAttention-3 style kernels, each a thin inline-PTX wrapper:
//   mbarrier   a 64-bit shared-memory barrier with a phase bit and a transaction (byte) count: TMA copies
//              complete on it, threads wait on its phase (PTX ISA, "mbarrier")
//   TMA        cp.async.bulk.tensor: one thread asks the copy engine for a whole tile of a tensor
//              described by a CUtensorMap; the engine writes it to shared memory in the 128-byte
//              swizzled layout wgmma reads, zero-fills rows outside the tensor, and signals the mbarrier
//   wgmma      warpgroup MMA (4 warps, 128 threads): m64 x N x k16, A from shared memory (descriptor)
//              or registers, B from shared memory, fp32 accumulators in registers; asynchronous:
//              fence, issue, commit a group, wait for groups
//   descriptors the 64-bit shared-memory matrix descriptor of wgmma (start address, leading and
//              stride byte offsets, swizzle mode)
//
// Shared-memory tile layout used throughout ("SW128 panels"): a tile of R rows x C columns of 2-byte
// elements is stored as C / 64 panels of R rows x 64 columns; a panel row is 128 bytes; panel p starts
// at p * R * 128 bytes; inside a panel, 16-byte chunk c of row r sits at chunk c ^ (r % 8) (TMA's
// CU_TENSOR_MAP_SWIZZLE_128B, which is also wgmma's 128B swizzle mode). Every tile starts on a
// 1024-byte boundary, as the swizzle requires.
#include <cstdint>

namespace tilesim::kernels::cuda::hopper {

__device__ __forceinline__ std::uint32_t smem_u32(const void* p) {
    return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

// ---- mbarrier ----
__device__ __forceinline__ void mbar_init(std::uint64_t* bar, int count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smem_u32(bar)), "r"(count) : "memory");
}
// Makes the initialisation visible to the async proxy (the TMA engine) and to other threads.
__device__ __forceinline__ void mbar_fence_init() {
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}
// One arrival that also announces `bytes` of TMA traffic the phase must wait for.
__device__ __forceinline__ void mbar_arrive_expect_tx(std::uint64_t* bar, std::uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(smem_u32(bar)), "r"(bytes)
                 : "memory");
}
// A plain arrival (consumers releasing a stage).
__device__ __forceinline__ void mbar_arrive(std::uint64_t* bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(smem_u32(bar)) : "memory");
}
// Blocks until the phase with parity `phase` has completed.
__device__ __forceinline__ void mbar_wait(std::uint64_t* bar, std::uint32_t phase) {
    asm volatile(
        "{\n"
        ".reg .pred done;\n"
        "WAIT_%=:\n"
        "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
        "@!done bra WAIT_%=;\n"
        "}\n" ::"r"(smem_u32(bar)),
        "r"(phase)
        : "memory");
}

// ---- TMA ----
// A box of the 3-D tensor (columns c0.., rows c1.., head c2) -> shared memory at `dst`, completing on
// `bar`. `tmap` is the address of a __grid_constant__ CUtensorMap kernel parameter.
__device__ __forceinline__ void tma_load_3d(void* dst, const void* tmap, std::uint64_t* bar, int c0, int c1,
                                            int c2) {
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, "
        "%4}], [%5];\n" ::"r"(smem_u32(dst)),
        "l"(reinterpret_cast<std::uint64_t>(tmap)), "r"(c0), "r"(c1), "r"(c2), "r"(smem_u32(bar))
        : "memory");
}
__device__ __forceinline__ void tma_prefetch_desc(const void* tmap) {
    asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<std::uint64_t>(tmap)) : "memory");
}
// Ordinary shared-memory writes that the async proxy (wgmma, TMA) reads next need this fence.
__device__ __forceinline__ void fence_proxy_async() {
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

// ---- wgmma ----
__device__ __forceinline__ void wgmma_fence() {
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit() {
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int kPending>
__device__ __forceinline__ void wgmma_wait() {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
}
// Keeps the compiler from moving reads or writes of an accumulator register across the asynchronous
// wgmma region (the hardware owns the register between issue and wait).
template <int kN>
__device__ __forceinline__ void fence_operands(float (&r)[kN]) {
#pragma unroll
    for (int k = 0; k < kN; ++k) asm volatile("" : "+f"(r[k])::"memory");
}

// Shared-memory matrix descriptor, 128B swizzle. Fields (PTX ISA, "Matrix Descriptor Format"): bits
// 0-13 start address >> 4, 16-29 leading-dimension byte offset >> 4, 32-45 stride-dimension byte offset
// >> 4, 49-51 base offset (0: tiles are 1024-byte aligned), 62-63 swizzle mode (1 = 128B).
//   K-major operand (rows = M or N, 64 contiguous k per 128-byte row): SBO = 1024 (the next 8 rows);
//     LBO unused (1). The k16 step s inside a panel starts 32 s bytes further: the hardware applies the
//     XOR swizzle to the computed address, so the start address may point inside the 128-byte row.
//   MN-major operand (rows = K, 64 contiguous m or n per row): SBO = 1024 (the next 8 k), LBO = the
//     panel size (the next 64 of m or n).
__device__ __forceinline__ std::uint64_t make_desc(const void* smem, std::uint32_t lbo_bytes,
                                                   std::uint32_t sbo_bytes) {
    const std::uint64_t addr = smem_u32(smem);
    return ((addr & 0x3FFFF) >> 4) | (static_cast<std::uint64_t>((lbo_bytes >> 4) & 0x3FFF) << 16) |
           (static_cast<std::uint64_t>((sbo_bytes >> 4) & 0x3FFF) << 32) | (std::uint64_t{1} << 62);
}

// ---- named barriers (a subset of the block's warps) ----
__device__ __forceinline__ void named_barrier_sync(int id, int threads) {
    asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}
__device__ __forceinline__ void named_barrier_arrive(int id, int threads) {
    asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

// ---- register budget per warpgroup (setmaxnreg) ----
template <int kRegs>
__device__ __forceinline__ void setmaxnreg_inc() {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kRegs));
}
template <int kRegs>
__device__ __forceinline__ void setmaxnreg_dec() {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kRegs));
}

}  // namespace tilesim::kernels::cuda::hopper
