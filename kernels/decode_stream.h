#pragma once
// What the two decode definitions share (kernels/algorithms/decode_forward.cpp and
// flash_decoding_forward.cpp): FlashAttention-2's split-KV tile rule, the SRAM buffers of a thread
// block that streams K/V past one Q block, and that stream itself: K_j, V_j loaded from a contiguous
// cache or gathered page by page through the page table (kernels/paging.h), and FA2's online-softmax
// step on each tile. Not part of the public API.
//
// Notation (Dao 2023, Algorithm 1): N_q, N_kv, d, B_r, B_c, T_r = ceil(N_q / B_r), T_c = ceil(N_kv /
// B_c), Q_i, K_j, V_j, S_ij, P~_ij, m_i, l_i, L_i = m_i + log l_i; P is the page size.
#include <cstdint>
#include <vector>

#include "kernels/detail.h"
#include "kernels/paging.h"

namespace tilesim::kernels::decode {

// FA2's split-KV kernel tiles (csrc/flash_attn/flash_api.cpp: kBlockM = 64, kBlockN = 256 for
// d <= 64, 128 for d <= 128, 64 above), which its decode path also runs with one split; the resolver
// clamps them to the problem and shrinks them to the SRAM.
TilingRule::Blocks split_kv_rule(const Problem& p, std::int64_t M);
inline constexpr const char* kSplitKvRuleText = "B_r = 64, B_c = 256 (d <= 64), 128 (d <= 128), 64 (d > 128)";

// Theta(N_kv d) per unit for a fixed number of query rows: the cache is read once.
double theta_decode(double N, double d, double M);

// Host floats the numerics of a decode unit hold for its inputs and outputs: Q, O, L; K and V (twice
// when paged: the logical inputs and the paged copy the kernel reads); the page table.
std::int64_t cache_numerics_floats(const Problem& p);

// The buffers of a thread block streaming K/V past one Q block: FA2's K_j, V_j, Q_i, O_i, S_ij/P~_ij,
// l_i, m_i, with O_i and m_i taking `out` and `lse` in place at the end (O and L, or a split's Oacc
// and Lacc), plus the page-table entries of one K/V block when the cache is paged.
std::vector<BufferSpec> stream_buffers(const Problem& p, std::int64_t B_r, std::int64_t B_c, sim::Tensor out,
                                       sim::Tensor lse);

// One thread block's online softmax over a run of K/V blocks for Q block i (FA2, Algorithm 1 lines
// 3-12 for one i): every move and step counted through the hierarchy, the arithmetic done on the tiles
// when numerics are on. The caller stores the result (O_i and L_i, or a split's partial).
class RowBlock {
  public:
    // `out` and `lse`: the tensors the epilogue produces (O and L, or Oacc and Lacc). `probe`: record
    // the softmax probe (RunOptions::watch_block) after every K/V block.
    RowBlock(RunContext& c, sim::Tensor out, sim::Tensor lse, bool probe);
    // A new thread block on Q block i whose K/V range starts at token `first_token`: loads Q_i and
    // sets m_i = -inf, l_i = 0, O_i = 0 on chip. It has read no page-table entry yet.
    void begin(std::int64_t i, std::int64_t first_token);
    // Folds K/V block j in: loads K_j and V_j (gathers them, paged), then S_ij = tau Q_i K_j^T,
    // m_i, P~_ij, l_i and O_i = diag(e^(m_old - m_i)) O_i + P~_ij V_j.
    void fold(std::int64_t j);
    // The epilogue, on chip: O_i /= l_i and L_i = m_i + log l_i, produced at columns `out_col0` of
    // `out` and `lse_col0` of `lse` (a split's column block of Oacc and Lacc; 0 for O and L).
    void finish(std::int64_t out_col0 = 0, std::int64_t lse_col0 = 0);
    // Numerics only, after finish(): the normalised O_i (rows x d) and L_i.
    const Mat& O() const { return O_i_; }
    const Vec& L() const { return L_i_; }
    std::int64_t r0() const { return r0_; }
    std::int64_t rows() const { return rows_; }

  private:
    void load_kv(std::int64_t j, std::int64_t c0, std::int64_t cols);
    // The physical page of logical page k: from the page table the kernel loaded (numerics) or the
    // table itself (count-only); the same numbers.
    std::int64_t physical_page(std::int64_t k) const;

    RunContext& c_;
    sim::Tensor out_, lse_;
    bool probe_;
    PageGeometry g_;
    std::vector<std::int64_t> table_;
    float tau_;
    std::int64_t i_ = 0, r0_ = 0, rows_ = 0;
    std::int64_t next_page_ = 0;  // first page whose table entry this thread block has not read
    Mat Q_i_, K_j_, V_j_, S_ij_, O_i_;
    Vec m_i_, l_i_, L_i_;
};

}  // namespace tilesim::kernels::decode
