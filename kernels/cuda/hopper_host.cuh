#pragma once
// Host side of the Hopper kernels: TMA tensor maps. A tensor [heads, rows, d] of 2-byte elements is
// described to the copy engine as a 3-D tensor (d innermost), with a box of 64 columns (one 128-byte
// SW128 panel row) by `box_rows` rows by 1 head, 128-byte swizzled, out-of-bounds elements read as zero.
// cuTensorMapEncodeTiled is a driver API function; it is fetched through the runtime
// (cudaGetDriverEntryPointByVersion), so that the program needs no link against libcuda.
#include <cuda.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "sim/types.h"

namespace tilesim::kernels::cuda::detail {

CUtensorMap make_tensor_map(const void* base, sim::Dtype dtype, std::int64_t heads, std::int64_t rows,
                            std::int64_t d, int box_rows);
// The same for 1-byte elements (e4m3 stored as uint8): `cols` innermost, box of 128 columns (one
// 128-byte panel row) by box_rows.
CUtensorMap make_tensor_map_u8(const void* base, std::int64_t heads, std::int64_t rows, std::int64_t cols,
                               int box_rows);

}  // namespace tilesim::kernels::cuda::detail
