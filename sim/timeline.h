#pragma once
// The scheduled timeline: how long each kernel pass takes when its thread blocks run on the SMs.
//
// Every op of a block (sim/work.h) is placed on named agents: the copy engine (cp.async / TMA, loads
// and stores), the tensor cores (at the rate of the instruction the kernel issues: mma.sync or wgmma,
// scaled for fp8 / TF32 / fp64), the special-function unit (exponentials, logarithms), the FP32
// lanes (the other non-matmul FLOPs) and shared memory (on-chip operand traffic), per warp group as
// the schedule lays them out (sim/schedule.h, sim/program.h). Blocks run in waves over the SMs: the
// blocks one SM holds at once follow from shared memory (the pass's working set, plus the ring's
// extra stages), registers and threads per block; a block takes its slot for as long as the SM needs
// to run that many identical blocks together, and the grid's blocks take free slots in grid order,
// so quantisation and tails show. Two device-wide agents are shared by all SMs: the L2 and DRAM
// (their traffic comes from the L2 model or the DRAM estimate); a pass lasts at least its bytes over
// their achieved bandwidths, and each SM's copy engine gets its share of them.
//
// The result is generic over the passes: no algorithm is named here. A GUI draws one SM's lanes from
// PhaseTimeline::sample (spans with lane, agent, start and end).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/hardware.h"
#include "sim/hierarchy.h"
#include "sim/l2.h"
#include "sim/schedule.h"

namespace tilesim::sim {

enum class Agent : std::uint8_t { copy, tensor, sfu, fma, smem, l2, dram };
inline constexpr std::size_t kAgentCount = 7;
std::string_view agent_name(Agent a);  // "copy", "tensor", "sfu", "fma", "smem", "l2", "dram"

struct TimelineOptions {
    Schedule schedule = Schedule::sync;
    MmaKind sync_mma = MmaKind::mma_sync;  // what a sync kernel of this definition issues
    bool force_mma = false;                // use `sync_mma` whatever the schedule (the `mma` key)
    std::int64_t stages = 2;               // the ring's SRAM slots (producer-consumer, ping-pong, pipelined)
    Dtype dtype = Dtype::fp16;
    std::int64_t heads = 1;  // B*H: every head runs the same blocks
    GridOrder order = GridOrder::head_major;
    bool keep_sample = true;  // record one SM's spans for a GUI
};

// What a pass moves across each boundary, all heads (from the L2 model or the DRAM estimate).
struct PhaseMemory {
    std::int64_t sm_bytes = 0;    // into and out of the SMs
    std::int64_t l2_bytes = 0;    // requests the L2 serves
    std::int64_t dram_bytes = 0;  // DRAM reads and writes
};

// One op's part on one agent of the sample SM, in seconds from the pass's start.
struct Span {
    std::int32_t lane = 0;
    Agent agent = Agent::copy;
    WorkKind kind = WorkKind::compute;
    Tensor tensor = Tensor::Q;
    std::int32_t block = 0;  // which of the SM's co-resident blocks
    std::int32_t step = 0;   // the block's step (of those simulated)
    double issue_s = 0;      // issued (a load waits its latency from here to start_s)
    double start_s = 0, end_s = 0;
};

// One SM running `blocks` identical blocks of the pass's most common kind, as simulated. The blocks
// start together and stay in step (processor sharing treats them alike), so the lanes of one are
// drawn, each op as long as it takes while its twins share the agents. Long runs of identical steps
// are cut to a few and extrapolated: `duration_s` is the block's whole length.
struct SmSample {
    std::vector<std::string> lanes;
    std::vector<Span> spans;
    std::int32_t blocks = 0;
    double simulated_s = 0, duration_s = 0;
};

struct PhaseTimeline {
    std::string name;
    double time_s = 0;     // the pass: max of the SMs' makespan and the device agents' busy time
    double sm_time_s = 0;  // the blocks' makespan on the SMs
    Schedule schedule = Schedule::sync;
    MmaKind mma = MmaKind::mma_sync;
    bool streaming = false;  // a memory-streaming kernel (no tensor-core work)
    std::int64_t stages = 1;
    std::int64_t blocks = 0;         // all heads
    std::int64_t blocks_per_sm = 1;  // resident at once
    std::string occupancy_limit;     // "shared memory", "registers", "threads", "blocks per SM" or "grid"
    std::int64_t smem_per_block_bytes = 0;
    std::int64_t active_sms = 0;
    double waves = 0;             // blocks / (SMs x blocks per SM)
    std::int64_t slots = 1;       // blocks running at once
    double copy_bytes_per_s = 0;  // one SM's copy rate used (its share of L2 and DRAM)
    double load_latency_s = 0;    // a load's wait: the L2's and DRAM's latency in the pass's mix
    std::array<double, kAgentCount>
        busy{};                   // fraction of the pass each agent works (SM agents: mean over SMs)
    Agent bound = Agent::tensor;  // the busiest agent
    std::string note;             // e.g. stages cut to fit SRAM
    SmSample sample;
};

struct TimelineResult {
    std::vector<PhaseTimeline> phases;
    double total_s = 0;                      // passes run one after another
    std::array<double, kAgentCount> busy{};  // time-weighted over the passes
    Agent bound = Agent::tensor;
};

// How a pass launches under the options: its block shape, instruction, stages, shared memory per
// block and blocks per SM (what limits them), for all heads.
struct PhaseLaunch {
    BlockShape shape;
    MmaKind mma = MmaKind::mma_sync;
    std::int64_t stages = 1;
    std::int64_t smem_per_block_bytes = 0;
    std::int64_t blocks = 0;  // all heads
    std::int64_t blocks_per_sm = 1;
    std::int64_t active_sms = 0;
    std::int64_t slots = 1;  // blocks running at once: SMs x blocks per SM (or the grid, when smaller)
    std::string occupancy_limit, note;
};
PhaseLaunch plan_launch(const HardwareSpec& hw, const Phase& ph, const TimelineOptions& o);

// `memory` has one entry per phase. Throws std::invalid_argument when the sizes disagree.
TimelineResult simulate_timeline(const HardwareSpec& hw, const std::vector<Phase>& phases,
                                 const std::vector<PhaseMemory>& memory, const TimelineOptions& o);

// Gives every load, store and arithmetic event of `trace` (one head's run of these phases) its agent,
// start and end on the timeline `t`: each thread block's events are simulated as its pass's blocks
// were (the launch shape, the co-resident blocks, the copy rate the pass settled on), whole, and the
// block starts with the wave it runs in; passes follow one another.
void annotate_trace(Trace& trace, const HardwareSpec& hw, const std::vector<Phase>& phases,
                    const TimelineResult& t, const TimelineOptions& o);

// Blocks per SM for a block of `smem_bytes`, `threads` and `registers`, and what limits it.
struct Occupancy {
    std::int64_t blocks_per_sm = 1;
    std::string limit;
};
Occupancy occupancy(const HardwareSpec& hw, std::int64_t smem_bytes, std::int64_t threads,
                    std::int64_t registers);

// Greedy list scheduling of `durations` (in grid order) on `slots` slots: the makespan.
double grid_makespan(const std::vector<double>& durations, std::int64_t slots);

}  // namespace tilesim::sim
