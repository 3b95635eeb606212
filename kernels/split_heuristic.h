#pragma once
// How many splits of the KV sequence a split-KV (Flash-Decoding) launch uses: FlashAttention-2's
// heuristic (reference/kernels-hardware-facts.md section 4; FA2 csrc/flash_attn/flash_api.cpp), as a
// plain host function with no CUDA and no other project dependency, so that the CPU model
// (kernels/algorithms/flash_decoding_forward.cpp) and the GPU launch (kernels/cuda) call the very same
// function.
//
// The idea: a decode step has few (batch, head, query-block) tiles, far fewer than the GPU has
// thread-block slots, so each tile's KV range is cut into `splits` pieces that run side by side and are
// merged afterwards by a log-sum-exp combine. More splits fill more slots but cost more partial outputs;
// the rule picks the smallest split count whose wave efficiency is within 85% of the best one.
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace tilesim::kernels {

// tiles:     thread blocks one split of the launch has (FA2: batch * heads * ceil(L_q / 64))
// sm_slots:  thread blocks that run at once (FA2 passes 2 * multiprocessors: it assumes 2 per SM)
// kv_blocks: KV blocks of one tile (ceil(L_k / block_n)); no split gets fewer than one
// max_splits: the largest split count the kernel supports (FA2: 128)
// Returns a split count in [1, max_splits].
inline int num_splits_heuristic(std::int64_t tiles, std::int64_t sm_slots, std::int64_t kv_blocks,
                                int max_splits = 128) {
    // 1. Enough tiles to nearly fill the machine: splitting only adds the combine's traffic.
    if (static_cast<double>(tiles) >= 0.8 * static_cast<double>(sm_slots)) return 1;
    const std::int64_t limit = std::min<std::int64_t>({max_splits, sm_slots, kv_blocks});
    if (limit <= 1) return 1;
    auto ceil_div = [](std::int64_t a, std::int64_t b) { return (a + b - 1) / b; };
    // A split count s is "ineligible" when it gives each split as many KV blocks as s - 1 does (then
    // the last split is empty or short and s behaves like s - 1).
    auto eligible = [&](std::int64_t s) {
        return s == 1 || ceil_div(kv_blocks, s) != ceil_div(kv_blocks, s - 1);
    };
    // 2. Wave efficiency of s splits: tiles * s thread blocks over sm_slots slots, the fraction of the
    // last wave that is busy, n_waves / ceil(n_waves).
    auto efficiency = [&](std::int64_t s) {
        const double waves = static_cast<double>(tiles * s) / static_cast<double>(sm_slots);
        return waves / std::ceil(waves);
    };
    double best = 0.0;
    for (std::int64_t s = 1; s <= limit; ++s) {
        if (eligible(s)) best = std::max(best, efficiency(s));
    }
    // 3. The smallest eligible s within 85% of the best.
    for (std::int64_t s = 1; s <= limit; ++s) {
        if (eligible(s) && efficiency(s) >= 0.85 * best) return static_cast<int>(s);
    }
    return 1;
}

}  // namespace tilesim::kernels
