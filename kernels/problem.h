#pragma once
// Shared problem and tiling types. Used by the CPU model and by kernels/cuda; no Eigen, no CUDA here.
#include <cstdint>
#include <string>
#include <string_view>

#include "kernels/mask.h"
#include "sim/types.h"

namespace tilesim::kernels {

// One pass of training attention: the forward, or the backward that turns dO into dQ, dK, dV.
enum class Pass : std::uint8_t { forward, backward };
// Which passes a run asks for.
enum class Passes : std::uint8_t { forward, backward, forward_backward };
std::string_view pass_name(Pass p);      // "forward", "backward"
std::string_view passes_name(Passes p);  // "forward", "backward", "forward+backward"
inline bool includes(Passes ps, Pass p) {
    return ps == Passes::forward_backward || (p == Pass::forward ? ps == Passes::forward : ps == Passes::backward);
}


// The physical order of a paged KV cache's pages (PagedAttention): in logical order, or a seeded
// permutation (the fragmentation a long-running server's allocator leaves). Counts do not depend on
// it; the addresses of the gathered tiles do.
enum class PageOrder : std::uint8_t { contiguous, shuffled };
std::string_view page_order_name(PageOrder o);  // "contiguous", "shuffled"

// One attention problem. Counts are per (batch, head); B*H heads are identical in shape.
struct Problem {
    std::int64_t batch = 1;
    std::int64_t heads = 1;     // H: query heads
    std::int64_t kv_heads = 1;  // H_kv: key/value heads (divides H; H_kv = H without grouping)
    std::int64_t N_q = 0;       // query length: rows of Q, O, dO, dQ, l, m, L
    std::int64_t N_kv = 0;      // key/value length: rows of K, V, dK, dV (columns of S and P)
    std::int64_t d = 0;         // head dimension
    sim::Dtype dtype = sim::Dtype::fp16;
    Mask mask;  // kernels/mask.h: causal, sliding window, documents, block-sparse; none by default
    Passes passes = Passes::forward;
    // Decoding (kernels/paging.h, the decode definitions). page_size: tokens per page of the KV cache
    // (vLLM's block size), 0 = one contiguous cache. kv_splits: splits of the KV sequence for a
    // split-KV definition, 0 = FlashAttention-2's occupancy heuristic (kernels/split_heuristic.h).
    std::int64_t page_size = 0;
    PageOrder page_order = PageOrder::contiguous;
    std::int64_t kv_splits = 0;
    std::int64_t bh() const { return batch * heads; }
    // A square problem of length N (N_q = N_kv = N), the FlashAttention papers' setting.
    static Problem square(std::int64_t N, std::int64_t d, sim::Dtype dtype = sim::Dtype::fp16) {
        Problem p;
        p.N_q = N;
        p.N_kv = N;
        p.d = d;
        p.dtype = dtype;
        return p;
    }
};

// Requested block sizes; 0 means "the algorithm's rule" (see tiling.h).
struct TilingRequest {
    std::int64_t B_r = 0;
    std::int64_t B_c = 0;
};

// Block sizes in force for a run.
struct Tiling {
    std::int64_t B_r = 0;
    std::int64_t B_c = 0;
    std::int64_t T_r = 0;  // ceil(N_q / B_r)
    std::int64_t T_c = 0;  // ceil(N_kv / B_c)
    std::string note;      // how they were chosen (rule, clamped to N, shrunk to fit)
    // Split-KV definitions: splits of the KV sequence in force and why (AlgorithmDef::finish_tiling);
    // 1 and empty for every other definition.
    std::int64_t splits = 1;
    std::string splits_note;
};

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
    return (a + b - 1) / b;
}

}  // namespace tilesim::kernels
