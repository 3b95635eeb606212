#pragma once
// The timeline's inner machinery (used by sim/timeline.cpp and the tests): a thread block's steps
// turned into ops on lanes (warp groups, the producer), and the simulation of one SM running them.
//
// An op has a latency (`delay`, no agent busy: a load's first byte) and then work on up to five
// per-SM agents at once (copy engine, tensor cores, special-function unit, FP32 lanes, shared
// memory), each part in seconds at the agent's full rate. Agents are shared by processor sharing:
// n ops working on one agent each progress at 1/n of its rate. So two identical warp groups left to
// themselves run in lockstep (their softmaxes coincide, as FA3 section 3.1 observes), and only an
// explicit order (ping-pong windows, a producer running ahead, an asynchronously issued GEMM) makes
// one agent's work hide under another's. A lane issues its ops in order; it waits for a blocking op
// to end before issuing the next, and for an op's dependencies to end before issuing it.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/hardware.h"
#include "sim/schedule.h"
#include "sim/work.h"

namespace tilesim::sim {

inline constexpr std::size_t kSmAgentCount = 5;  // copy, tensor, sfu, fma, smem (sim::Agent order)

struct SimOp {
    std::int32_t lane = 0;
    double delay = 0;
    std::array<double, kSmAgentCount> work{};
    // The least time the op takes from its own instruction stream (a warp group's softmax: its
    // exponentials and FP32 work one after the other), whatever the agents' shares; 0: none.
    double serial = 0;
    // How many times slower its work (and `serial`) progresses while the SM's tensor cores work (1: not).
    double slowed_by_tensor = 1;
    bool blocking = true;
    // What it is, for the lanes a GUI draws.
    WorkKind kind = WorkKind::compute;
    Tensor tensor = Tensor::Q;
    std::int32_t copy = 0;  // which co-resident block
    std::int32_t step = 0;  // index into Program::step_run
    // The step's WorkOps it stands for: [source, source + sources) in the step's order (consecutive
    // element-wise arithmetic is one op), so a trace's events can be given their op's times.
    std::int32_t source = 0, sources = 1;
};

struct Program {
    std::vector<std::string> lanes;
    std::vector<std::vector<std::int32_t>> lane_ops;  // per lane, op ids in issue order
    std::vector<SimOp> ops;
    std::vector<std::vector<std::int32_t>> deps;  // per op: ops that must end before it is issued
    // The steps simulated, in order: which run of the block each belongs to. Runs longer than the
    // steps kept are simulated in part and extrapolated (sim/timeline.cpp).
    std::vector<std::int32_t> step_run;
    std::vector<std::int64_t> run_repeat, run_kept;
    // Appends `op` to its lane's issue order; returns its id.
    std::int32_t add_op(const SimOp& op, std::vector<std::int32_t> on = {});
};

// Per-SM rates, in units per second, and the latency a load waits before its first byte.
struct SmRates {
    double copy_bytes = 1, tensor_flops = 1, sfu_ops = 1, fma_ops = 1, smem_bytes = 1;
    double latency_s = 0;
    double wgmma_wait_s = 0;  // HardwareSpec::wgmma_wait_s when the instruction is wgmma, else 0
    double ring_wait_s = 0;   // HardwareSpec::ring_wait_s likewise (ping-pong lanes with a ring only)
    // The warp-group terms (HardwareSpec::warpgroup_serial_softmax, wgmma_softmax_slowdown), wgmma only:
    // a warp group issues its softmax's exponentials and FP32 work one after the other at these per-SM
    // rates (0: no such floor; never divided among co-resident blocks), a consumer lane's arithmetic is
    // `lane_warp_groups` groups' (build_program sets it from the shape), and non-matmul arithmetic runs
    // `slowdown_under_tensor` times slower while the tensor cores work.
    double serial_sfu_ops = 0, serial_fma_ops = 0;
    double lane_warp_groups = 1;
    double slowdown_under_tensor = 1;
    bool wait_after_gemm = false;  // arithmetic waiting for a GEMM's result pays wgmma_wait_s too
};

// One SM's rates on `hw` for the instruction `mma` and the element type (fp8 doubles the tensor
// rate where the GPU has an fp8 path, fp32 runs as TF32 at half, fp64 at its tensor fraction).
// `tensor_phase` false: a kernel without tensor-core work (a streaming pass), which none of the wgmma
// terms (the loaded clock, the warp-group softmax) concern.
SmRates sm_rates(const HardwareSpec& hw, MmaKind mma, Dtype dtype, bool tensor_phase = true);
// What one of `copies` identical blocks gets when they share the SM: 1/copies of every rate (blocks
// that start together stay in step under processor sharing, so one such block stands for all).
SmRates shared_by(SmRates r, std::int64_t copies);

// `copies` identical blocks resident together on one SM, each laid out by `shape`, with a ring of
// `stages` SRAM slots where the shape has one; runs longer than `keep` steps keep `keep` of them.
Program build_program(const BlockWork& w, const BlockShape& shape, std::int64_t copies, std::int64_t stages,
                      const SmRates& r, std::int64_t keep);

struct SimResult {
    double makespan = 0;
    std::vector<double> op_issue, op_start, op_done;          // issue, work start (after delay), end
    std::vector<std::array<double, kSmAgentCount>> part_end;  // when each agent finished its part
    std::array<double, kSmAgentCount> busy{};                 // time each agent had work
};
// Simulates the program; throws std::logic_error on a dependency cycle (a builder bug).
SimResult run_program(const Program& p);

}  // namespace tilesim::sim
