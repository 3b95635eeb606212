#pragma once
// Running an attention algorithm on the machine model.
//
// kernels::run builds a Hierarchy from the hardware spec, executes the algorithm's tile schedule
// through hierarchy.transfer()/compute(), and returns counts, phases, the optional trace and (when
// numerics are on) the output O of one head. Counts are per (batch, head): every head of a problem
// has the same schedule, so B*H heads cost exactly B*H times one head.
#include <Eigen/Core>
#include <memory>
#include <optional>
#include <vector>

#include "kernels/problem.h"
#include "sim/counters.h"
#include "sim/hardware.h"
#include "sim/hierarchy.h"
#include "sim/trace.h"

namespace tilesim::kernels {

// Row-major so that a block of rows (a tile Q_i, K_j, ...) is contiguous, as in HBM.
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::VectorXf;

// One head's inputs, N x d each.
struct Inputs {
    Mat Q, K, V;
};
// Deterministic random inputs (normal, mean 0, std 1) for one head.
Inputs random_inputs(std::int64_t N, std::int64_t d, std::uint64_t seed);

struct RunOptions {
    bool numerics = true;  // false: count-only (identical counts, no arithmetic, no tensor storage)
    bool trace = false;
    std::int64_t max_trace_events = 1'000'000;
    // Standard attention only: extra element-wise N x N passes a framework's eager mode runs
    // between QK^T and softmax (scale, mask, dropout). The first applies the scale tau.
    std::int64_t standard_extra_passes = 0;
    // Online-softmax probe: record m_i, l_i and O_i of this Q block after every update (-1: off).
    std::int32_t watch_block = -1;
};

// The running statistics of one Q block after one update (peeked, not counted).
struct SoftmaxSnapshot {
    std::int32_t j = 0;        // K/V block just folded in
    std::int64_t step = 0;     // trace step of the update
    Vec m;                     // running row max m_i
    Vec l;                     // running row sum l_i
    Mat O;                     // O_i as the kernel holds it at this point
    bool O_normalised = true;  // FA1 keeps O_i divided by l_i; FA2 defers the division
};

struct RunResult {
    AlgorithmId algorithm = AlgorithmId::flash;
    Tiling tiling;
    sim::FitStatus fit;      // !fit.ok: nothing ran; reason and fix say why
    sim::Counters counters;  // per (batch, head)
    std::vector<sim::Phase> phases;
    std::unique_ptr<sim::Trace> trace;
    std::optional<Mat> O;  // numerics only
    std::vector<SoftmaxSnapshot> probe;
};

// Host memory the numerics of one head need (bytes), to refuse problems that would not fit.
std::int64_t numerics_bytes(AlgorithmId alg, const Problem& p);

// Runs `alg`. `inputs` is required when options.numerics is true and ignored otherwise.
RunResult run(AlgorithmId alg, const Problem& p, const TilingRequest& req, const sim::HardwareSpec& hw,
              const Inputs* inputs, const RunOptions& options);

// The individual algorithms, on a prepared hierarchy with tiling already resolved and checked.
void run_standard(const Problem& p, const Tiling& t, sim::Hierarchy& h, const Inputs* in, const RunOptions& o,
                  RunResult& r);
void run_flash(const Problem& p, const Tiling& t, sim::Hierarchy& h, const Inputs* in, const RunOptions& o,
               RunResult& r);
void run_flash2(const Problem& p, const Tiling& t, sim::Hierarchy& h, const Inputs* in, const RunOptions& o,
                RunResult& r);

}  // namespace tilesim::kernels
