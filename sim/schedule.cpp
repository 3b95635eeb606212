#include "sim/schedule.h"

#include <string>

namespace tilesim::sim {

std::string_view schedule_name(Schedule s) {
    switch (s) {
        case Schedule::paper:
            return "paper";
        case Schedule::sync:
            return "sync";
        case Schedule::producer_consumer:
            return "producer-consumer";
        case Schedule::pingpong:
            return "pingpong";
        case Schedule::pipelined:
            return "pipelined";
        case Schedule::pingpong_pipelined:
            return "pingpong+pipelined";
    }
    return "?";
}

const std::vector<Schedule>& all_schedules() {
    static const std::vector<Schedule> all = {
        Schedule::paper,    Schedule::sync,      Schedule::producer_consumer,
        Schedule::pingpong, Schedule::pipelined, Schedule::pingpong_pipelined};
    return all;
}

std::optional<Schedule> parse_schedule(std::string_view text) {
    for (Schedule s : all_schedules()) {
        if (schedule_name(s) == text) return s;
    }
    if (text == "pipelined+pingpong") return Schedule::pingpong_pipelined;
    return std::nullopt;
}

std::string schedule_names(const std::vector<Schedule>& list) {
    std::string out;
    for (Schedule s : list) {
        if (!out.empty()) out += ", ";
        out += schedule_name(s);
    }
    return out;
}

std::string_view mma_name(MmaKind m) {
    return m == MmaKind::mma_sync ? "mma.sync" : "wgmma";
}

std::optional<MmaKind> parse_mma(std::string_view text) {
    if (text == "mma.sync") return MmaKind::mma_sync;
    if (text == "wgmma") return MmaKind::wgmma;
    return std::nullopt;
}

bool schedule_uses_wgmma(Schedule s) {
    return s == Schedule::producer_consumer || s == Schedule::pingpong || s == Schedule::pipelined ||
           s == Schedule::pingpong_pipelined;
}

// Threads and registers per block. sync: FlashAttention-2's kernels, 4 warps at up to 255 registers
// (../shared/reference/kernels-hardware-facts.md section 3: <128, 128, 64, 4 warps>); the FA3 shapes
// are a producer warp group that gives up registers (setmaxnreg: 24 to 40 each) and one or two
// consumer groups that take them (232 to 240 each), FA3 section 3.1; a streaming kernel: 256 threads
// of 32 registers, a typical element-wise launch.
BlockShape block_shape(Schedule s, bool tensor_phase, std::int64_t sync_warps) {
    BlockShape b;
    if (!tensor_phase) {
        b.threads = 256;
        b.registers = 256 * 32;
        b.streaming = true;
        return b;
    }
    switch (s) {
        case Schedule::paper:
        case Schedule::sync:
            if (sync_warps > 0) {  // the definition's kernel: FA2's backward launches 8 warps
                b.threads = 32 * sync_warps;
                b.registers = b.threads * 255;
            }
            break;
        case Schedule::producer_consumer:
            b.threads = 256;
            b.registers = 128 * 40 + 128 * 232;
            b.producer = true;
            b.ring = true;
            break;
        case Schedule::pingpong:
        case Schedule::pingpong_pipelined:
            b.threads = 384;
            b.registers = 128 * 24 + 256 * 240;
            b.producer = true;
            b.ring = true;
            b.consumers = 2;
            b.lane_warp_groups = 1;
            b.pingpong = true;
            b.pipelined = s == Schedule::pingpong_pipelined;
            break;
        case Schedule::pipelined:
            b.pipelined = true;
            break;
    }
    return b;
}

}  // namespace tilesim::sim
