#pragma once
// The event trace: one event per tile move or compute step, in program order. The GUI replays it;
// exporters write it out. Recording is optional and capped so huge runs stay cheap.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/types.h"

namespace tilesim::sim {

enum class Op : std::uint8_t {
    Load,     // a tile moves towards SRAM (HBM -> SRAM, L2 -> SRAM)
    Store,    // a tile moves SRAM -> HBM
    Compute,  // arithmetic on SRAM-resident tiles
    Phase,    // a new kernel pass begins (label names it)
};
std::string_view op_name(Op op);

struct Event {
    std::int64_t step = 0;  // position in program order, 0-based, counting every event
    Op op = Op::Load;
    Tensor tensor = Tensor::Q;  // for Compute: the tensor produced
    Rect tile{};
    Level from = Level::HBM;
    Level to = Level::SRAM;
    std::int64_t bytes = 0;
    std::int64_t flops = 0;
    std::int64_t sram_used_bytes = 0;  // SRAM occupancy after this event
    std::int32_t i = -1;               // Q (row) block index in the paper's loops, -1 if not applicable
    std::int32_t j = -1;               // K/V (column) block index, -1 if not applicable
    const char* label = "";            // static text: which line of which algorithm ("Alg 1 l.9: load Q_i")
};

class Trace {
  public:
    explicit Trace(std::int64_t max_events = 1'000'000) : max_events_(max_events) {}
    void add(const Event& e) {
        if (static_cast<std::int64_t>(events_.size()) < max_events_) {
            events_.push_back(e);
        } else {
            truncated_ = true;
        }
    }
    const std::vector<Event>& events() const { return events_; }
    bool truncated() const { return truncated_; }
    std::int64_t max_events() const { return max_events_; }

  private:
    std::int64_t max_events_;
    bool truncated_ = false;
    std::vector<Event> events_;
};

}  // namespace tilesim::sim
