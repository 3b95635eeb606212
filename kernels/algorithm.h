#pragma once
// An algorithm on the machine model, as one self-describing definition.
//
// Each algorithm (one pass of it: the forward, or the backward) lives in its own file under
// kernels/algorithms/ and fills one AlgorithmDef: what it is called, its tiling rule and the SRAM
// working set of each of its kernel passes, the run function (the paper's lines, in the paper's
// notation), its closed-form counts, its Theta() bound as a function, the host memory its numerics
// need, and the tensors it touches with their shapes and tile grids. One table lists them all
// (kernels/algorithms/table.cpp); the CLI, the report, the GUI, the tests and the CUDA comparison
// read only that table and the trace, so nothing outside the definition's file names an algorithm.
#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/problem.h"
#include "sim/counters.h"
#include "sim/hardware.h"
#include "sim/hierarchy.h"
#include "sim/schedule.h"
#include "sim/trace.h"

namespace tilesim::kernels {

// Row-major so that a block of rows (a tile Q_i, K_j, ...) is contiguous, as in HBM.
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::VectorXf;

// The contents of HBM for one head, numerics only: a matrix per tensor (per-row statistics as
// N_q x 1). Inputs are there before a run (Q, K, V; dO for a backward, with the forward's outputs);
// a run writes its outputs here. Count-only runs have no HbmState at all.
struct HbmState {
    std::array<Mat, sim::kTensorCount> tensors;
    Mat& operator[](sim::Tensor t) { return tensors[static_cast<std::size_t>(t)]; }
    const Mat& operator[](sim::Tensor t) const { return tensors[static_cast<std::size_t>(t)]; }
    bool has(sim::Tensor t) const { return tensors[static_cast<std::size_t>(t)].size() > 0; }
};
// Deterministic random inputs (normal, mean 0, std 1) for one head: Q (N_q x d), K, V (N_kv x d),
// and the output gradient dO (N_q x d).
HbmState random_inputs(const Problem& p, std::uint64_t seed);

struct RunOptions {
    bool numerics = true;  // false: count-only (identical counts, no arithmetic, no tensor storage)
    bool trace = false;
    std::int64_t max_trace_events = 1'000'000;
    // Standard attention: extra element-wise N x N passes a framework's eager mode runs over S (scale,
    // mask, dropout), and their backward passes over dS. The first applies the scale tau.
    std::int64_t extra_passes = 0;
    // Online-softmax probe: record m_i, l_i and O_i of this Q block after every update (-1: off).
    std::int32_t watch_block = -1;
    // Called every sim::Hierarchy::kTickEvents events (progress; cancellation by throwing); may be null.
    const std::function<void(std::int64_t)>* tick = nullptr;
    // Emulate the storage formats (numerics only): every store to HBM rounds to the tensor's
    // storage_dtype(), and the on-chip conversions before a GEMM (P~_ij before P~V, P_ij and dS_ij in
    // the backward) round to the operand format. Off: the arithmetic is plain fp32 throughout, which
    // the kernel tests compare with the reference at fp32 tolerance. The inputs are put in their
    // formats beforehand by store_inputs() (kernels/precision.h).
    bool rounding = false;
    // Keep each thread block's tile moves for the L2 model (sim/l2.h); changes no count.
    bool record_accesses = false;
};

// The running statistics of one Q block after one update (peeked, not counted).
struct SoftmaxSnapshot {
    std::int32_t j = 0;        // K/V block just folded in
    std::int64_t step = 0;     // trace step of the update
    Vec m;                     // running row max m_i
    Vec l;                     // running row sum l_i
    Mat O;                     // O_i as the kernel holds it at this point
    bool O_normalised = true;  // true: O_i is divided by l_i at every step (FA1); false: at the end (FA2)
};

// One SRAM buffer a kernel holds at once: `rows` x `cols` elements of `tensor` (or of `alias` in its
// place: P_ij overwriting S_ij).
struct BufferSpec {
    sim::Tensor tensor;
    std::int64_t rows;
    std::int64_t cols;
    const char* what;  // "K_j (B_c x d)"
    std::optional<sim::Tensor> alias = std::nullopt;
};
// The buffers resident together in each kernel pass (one vector per pass).
using WorkingSets = std::vector<std::vector<BufferSpec>>;

// Closed-form counts per (batch, head), derived from the paper independently of the run function's
// loops (docs/io-derivations.md). Tests assert the simulation equals them exactly.
struct ClosedForm {
    std::array<std::int64_t, sim::kTensorCount> hbm_read_by_tensor{};
    std::array<std::int64_t, sim::kTensorCount> hbm_write_by_tensor{};
    std::int64_t l2_read_elements = 0;  // GEMM operand re-reads served by the L2
    std::int64_t matmul_flops = 0;
    std::int64_t other_flops = 0;
    std::int64_t exp_flops = 0;        // of other_flops, exponentials and logarithms
    std::int64_t sram_peak_bytes = 0;  // largest working set, bytes

    std::int64_t hbm_read(sim::Tensor t) const { return hbm_read_by_tensor[static_cast<std::size_t>(t)]; }
    std::int64_t hbm_write(sim::Tensor t) const { return hbm_write_by_tensor[static_cast<std::size_t>(t)]; }
    std::int64_t& read(sim::Tensor t) { return hbm_read_by_tensor[static_cast<std::size_t>(t)]; }
    std::int64_t& write(sim::Tensor t) { return hbm_write_by_tensor[static_cast<std::size_t>(t)]; }
    std::int64_t hbm_read_elements() const;
    std::int64_t hbm_write_elements() const;
};

struct AlgorithmDef;

// What a run function works with: the problem, the resolved tiling, the machine, the options, the
// HBM contents (null in count-only mode) and where it records its probe.
struct RunContext {
    const AlgorithmDef& def;
    const Problem& p;
    const Tiling& t;
    sim::Hierarchy& h;
    const RunOptions& o;
    HbmState* hbm;  // null: count-only
    std::vector<SoftmaxSnapshot>& probe;
    bool numerics() const { return hbm != nullptr; }
    // Records the store of `tile` of `t` to HBM and, with rounding, rounds what the run has just
    // written there to t's storage format. Write the values first, then call store().
    void store(sim::Tensor t, const sim::Rect& tile, std::int32_t i, std::int32_t j, const char* label,
               std::uint8_t flags = 0);
    // A GEMM operand as the tensor cores take it: `x` rounded to the operand format (with rounding on),
    // else `x` itself. FlashAttention-3's fp8 forward feeds P~_ij to the second GEMM in fp8; the
    // backward's operands of an fp8 problem are bf16.
    Mat operand(const Mat& x) const;
};

// How the algorithm's rule picks blocks from M (SRAM in elements of the input dtype), and which
// block is resident (shrunk first when the rule overflows SRAM): Q blocks (B_r) or K/V blocks (B_c).
struct TilingRule {
    struct Blocks {
        std::int64_t B_r, B_c;
    };
    Blocks (*blocks)(const Problem& p, std::int64_t M);
    bool q_resident;
    const char* name;  // "paper's rule"
    const char* text;  // "B_c = ceil(M/4d), B_r = min(ceil(M/4d), d)"
};

// A Theta() bound on HBM traffic as a function (no constant: plots scale it to meet the data).
struct ThetaBound {
    const char* text;  // "Theta(N^2 d^2 / M)"
    double (*elements)(double N, double d, double M);
    // With a mask keeping a fraction s of the tiles (the paper's Proposition 4 for block-sparse
    // FlashAttention): "Theta(Nd + N^2 d^2 s / M)"; null when a mask changes nothing (standard attention).
    const char* masked_text = nullptr;
};

// How the online softmax can be watched (the GUI's softmax panel, the probe).
enum class OnlineSoftmax : std::uint8_t {
    none,        // no online softmax (standard attention, a backward)
    normalised,  // O_i divided by l_i after every K/V block (Algorithm 1)
    deferred,    // O_i kept unnormalised, divided once at the end (FlashAttention-2)
};

// The schedules a definition's kernels can run (sim/schedule.h; "paper" is always allowed), the one
// its real kernel runs, and the tensor-core instruction its synchronous kernel issues.
struct ScheduleSupport {
    std::vector<sim::Schedule> supported = {sim::Schedule::sync};
    sim::Schedule preferred = sim::Schedule::sync;
    sim::MmaKind sync_mma = sim::MmaKind::mma_sync;
    bool supports(sim::Schedule s) const;
};

struct AlgorithmDef {
    std::string_view key;  // "flash": scenario files, CLI, JSON; the forward and backward share it
    Pass pass;
    std::string_view name;         // "FlashAttention (Algorithm 1)"
    std::string_view description;  // one line
    std::string_view paper;        // "Dao et al. 2022, Algorithm 1"
    bool baseline = false;         // the algorithm others are compared with ("vs std")
    TilingRule rule;
    WorkingSets (*working_sets)(const Problem& p, std::int64_t B_r, std::int64_t B_c,
                                const sim::HardwareSpec& hw);
    // The schedule, every tile move through the hierarchy; the tiling has been checked to fit.
    void (*run)(RunContext& ctx);
    ClosedForm (*closed_form)(const Problem& p, const Tiling& t, const sim::HardwareSpec& hw,
                              const RunOptions& o);
    // The paper's headline formula (elements per head) for display next to the exact count.
    std::int64_t (*paper_elements)(const Problem& p, const Tiling& t);
    ThetaBound theta;
    // Host bytes the numerics of one head need (HBM contents, the run's own scratch).
    std::int64_t (*numerics_bytes)(const Problem& p);
    // The tensors the run touches, in data-flow order, with their shapes and tile grids.
    std::vector<sim::TensorDecl> (*tensors)(const Problem& p, const Tiling& t);
    // The tensors the run produces (checked against the reference in numerics mode).
    std::vector<sim::Tensor> outputs;
    OnlineSoftmax softmax = OnlineSoftmax::none;

    // Decoding (the decode definitions set these; the others keep the defaults).
    // packs_gqa: one thread block runs the g = H / H_kv query heads of a KV group together, their
    // queries packed into one Q tile (FlashAttention-3's pack_gqa), so it reads each K/V head once per
    // group. One simulated unit is then a (batch, KV head) with g N_q query rows: unit_problem() below.
    bool packs_gqa = false;
    // paged_kv: reads K and V through a page table when Problem::page_size > 0 (kernels/paging.h);
    // validation refuses a paged cache for the definitions that cannot read one.
    bool paged_kv = false;
    // splits_kv: splits the KV sequence (Problem::kv_splits; Tiling::splits).
    bool splits_kv = false;
    // masks: honours Problem::mask (skips the tiles it empties, masks the ones it cuts); false: a
    // scenario with a mask refuses the definition.
    bool masks = true;
    // Fills in what the block sizes alone do not decide (a split-KV definition's split count and its
    // reason: Tiling::splits, splits_note), after resolve_tiling has chosen B_r, B_c. Null: nothing.
    void (*finish_tiling)(const Problem& p, const sim::HardwareSpec& hw, Tiling& t) = nullptr;
    ScheduleSupport schedules{};
};

// The problem one simulated run of `def` solves: `p` itself (one (batch, head)), or for a definition
// that packs a KV group's query heads (packs_gqa) one (batch, KV head) with H / H_kv x N_q query rows
// against its K/V. Counts of a run are per unit; a problem has unit_problem(def, p).bh() units. Callers
// of run() pass this problem (and inputs of its shape).
Problem unit_problem(const AlgorithmDef& def, const Problem& p);
// Query heads one unit covers: 1, or H / H_kv for a definition that packs a KV group.
std::int64_t query_heads_per_unit(const AlgorithmDef& def, const Problem& p);

struct RunResult {
    const AlgorithmDef* def = nullptr;
    Tiling tiling;
    sim::FitStatus fit;      // !fit.ok: nothing ran; reason and fix say why
    sim::Counters counters;  // per (batch, head)
    std::vector<sim::Phase> phases;
    std::vector<sim::TensorDecl> declared;  // the tensors the run declared (the L2 model lays them out)
    std::unique_ptr<sim::Trace> trace;
    std::vector<SoftmaxSnapshot> probe;
};

// Runs `def`. `hbm` holds the inputs (and receives the outputs) when options.numerics is true; it
// is ignored otherwise. Throws std::invalid_argument when numerics lack an input of the right shape.
RunResult run(const AlgorithmDef& def, const Problem& p, const TilingRequest& req, const sim::HardwareSpec& hw,
              HbmState* hbm, const RunOptions& options);

}  // namespace tilesim::kernels
