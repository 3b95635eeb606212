#pragma once
// The bounds every user-controlled number is held to (docs/errors.md). Each size is bounded so that no
// product or sum the model forms from them (B·H, N_q·N_kv·d, tile grids, byte counts) can overflow
// 64 bits; each rate is bounded to a physical range so that unit scaling (GB/s to B/s) and the
// roofline's divisions stay finite and meaningful.
#include <cstdint>

namespace tilesim::scenarios::limits {

inline constexpr std::int64_t kMaxBatch = std::int64_t{1} << 20;
inline constexpr std::int64_t kMaxHeads = std::int64_t{1} << 20;
inline constexpr std::int64_t kMaxSeqLen = std::int64_t{1} << 20;
inline constexpr std::int64_t kMaxHeadDim = 1024;
inline constexpr std::int64_t kMaxBlock = std::int64_t{1} << 20;      // block_rows, block_cols, mask_block
inline constexpr std::int64_t kMaxWindow = std::int64_t{1} << 30;     // sliding:W (W >= N is causal)
inline constexpr std::int64_t kMaxSramBytes = std::int64_t{1} << 30;  // 1 GiB per thread block
inline constexpr std::int64_t kMaxL2Bytes = std::int64_t{1} << 40;    // 1 TiB
inline constexpr std::int64_t kMaxSmCount = std::int64_t{1} << 16;
inline constexpr std::int64_t kMaxMaskBlocks = std::int64_t{1} << 26;  // cells of a block mask's grid
inline constexpr double kMinMaskDensity = 1e-6;

// Rates, in the units of their keys: from a slow microcontroller's memory to a thousand times an H200.
inline constexpr double kMinGbps = 1e-3, kMaxHbmGbps = 1e6, kMaxOnChipGbps = 1e8;  // GB/s
inline constexpr double kMinTflops = 1e-6, kMaxTflops = 1e6;                       // TFLOP/s

// Inputs read from files or pipes: a scenario is a few hundred bytes; a FlexAttention block mask for
// N = 1M at 128-token blocks lists up to 64M indices.
inline constexpr std::int64_t kMaxScenarioFileBytes = std::int64_t{1} << 20;
inline constexpr std::int64_t kMaxMaskFileBytes = std::int64_t{64} << 20;

// Trace events a run may record (--trace-cap); each takes about 120 bytes of host memory.
inline constexpr std::int64_t kMaxTraceEvents = 50'000'000;

}  // namespace tilesim::scenarios::limits
