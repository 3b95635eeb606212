#pragma once
// Schedules: how one thread block's steps are placed on the SM's agents. A schedule changes when the
// work happens, never how much: the bytes and FLOPs are the work summary's (sim/work.h), whatever the
// schedule. Definitions list the schedules their kernels can run (kernels::AlgorithmDef::schedules);
// the scenario key `schedule` picks one.
//
//   paper              the two-level model's roofline sum (sim/cost_model.h predict): no timeline
//   sync               FA1/FA2: each step loads its tiles, waits for them, then computes; one lane
//   producer-consumer  FA3: a producer issues the copies into a ring of `stages` SRAM slots ahead of
//                      the consumer warp group, which computes; slot k is refilled when step k - stages
//                      is done
//   pingpong           FA3 section 3.1: producer + two consumer warp groups, each half the rows; their
//                      GEMM windows alternate (a barrier), so one group's softmax runs under the other's
//                      GEMMs
//   pipelined          FA3 section 3.2: within a warp group, the first GEMM of step j+1 is issued before
//                      the softmax of step j and runs under it; no producer (the group issues and waits
//                      for its own copies)
//   pingpong+pipelined both, as FA3 runs
//
// Kernel passes without tensor-core work (standard attention's softmax, element-wise passes, the
// backward's D and conversion passes) are memory-streaming kernels whatever the schedule: their many
// warps keep loads, arithmetic and stores in flight together (the `streaming` shape below).
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "sim/types.h"

namespace tilesim::sim {

enum class Schedule : std::uint8_t {
    paper,
    sync,
    producer_consumer,
    pingpong,
    pipelined,
    pingpong_pipelined
};
std::string_view schedule_name(Schedule s);
std::optional<Schedule> parse_schedule(std::string_view text);
const std::vector<Schedule>& all_schedules();  // in the order above
// "paper, sync, producer-consumer, ..."
std::string schedule_names(const std::vector<Schedule>& list);

// The tensor-core instruction a kernel issues: warp-level mma.sync (Ampere style; what FA2 runs on
// Hopper) or warp-group wgmma (Hopper; cuBLAS and FA3).
enum class MmaKind : std::uint8_t { mma_sync, wgmma };
std::string_view mma_name(MmaKind m);
std::optional<MmaKind> parse_mma(std::string_view text);

// What a schedule launches per thread block, for occupancy (blocks per SM) and the op graph.
struct BlockShape {
    std::int64_t threads = 128;
    std::int64_t registers = 128 * 255;  // per block
    bool producer = false;               // a producer warp group issues the copies
    std::int32_t consumers = 1;          // consumer warp groups sharing each step's arithmetic
    bool pingpong = false;               // consumer groups' GEMM windows alternate
    bool pipelined = false;              // next step's first GEMM issued before this step's softmax
    bool ring = false;                   // loads run ahead into `stages` SRAM slots
    bool streaming = false;              // a memory-streaming kernel (no tensor-core work)
    // Warp groups behind each consumer lane's arithmetic where the kernel issues wgmma (M = 64 rows a
    // group: a lane computing a 128-row tile is two groups in step; a ping-pong lane is one).
    std::int32_t lane_warp_groups = 2;
};
// `tensor_phase`: the pass does matmul work (else it is a streaming kernel, whatever `s`). `sync_warps`:
// the warps the pass's definition declares for its synchronous kernel (sim::Phase::sync_warps; 0: 4).
BlockShape block_shape(Schedule s, bool tensor_phase, std::int64_t sync_warps = 0);
// Whether schedule `s` runs wgmma on a GPU that has it (the FA3 schedules), or the definition's kind.
bool schedule_uses_wgmma(Schedule s);

}  // namespace tilesim::sim
