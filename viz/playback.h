#pragma once
// The play head: one animation clock shared by every lane, so standard attention and FlashAttention
// race in the model's time (see replay.h for the clock). The focus is lane 0 (the watched algorithm),
// or the first lane with events when it has none (it did not fit): stepping, the speed and "jump to
// next HBM write" follow the focus's trace; the other lanes show wherever the clock is.
//
// No ImGui here: the timeline panel and the keyboard shortcuts call these, and tests check the bounds.
#include <cstdint>
#include <memory>
#include <vector>

#include "viz/replay.h"

namespace tilesim::viz {

class Playback {
  public:
    static constexpr double kMinSpeed = 0.25;  // focus events per second
    static constexpr double kMaxSpeed = 200'000.0;

    // Replaces the lanes, keeping the clock at the same fraction of the whole animation.
    void set_lanes(std::vector<std::shared_ptr<const TraceIndex>> lanes);
    std::size_t lane_count() const { return lanes_.size(); }
    const TraceIndex* lane(std::size_t i) const { return i < lanes_.size() ? lanes_[i].get() : nullptr; }

    double clock() const { return clock_; }
    double duration() const;  // the longest lane's animation
    double progress() const;  // clock / duration, 0..1
    bool playing() const { return playing_; }
    void set_playing(bool on);
    void toggle() { set_playing(!playing_); }
    double speed() const { return speed_; }
    void set_speed(double steps_per_second);

    // Advances the clock by `wall_seconds` of real time when playing; stops at the end.
    void tick(double wall_seconds);

    // Under the clock, for lane i: the event index (-1 when the lane has no events), how far through
    // that event the animation is (0..1), and whether the lane has finished.
    std::int64_t event(std::size_t i) const;
    double fraction(std::size_t i) const;
    bool finished(std::size_t i) const;

    // The focus's trace (null when no lane has events), its position among its (decimated) steps,
    // and moves between them.
    const TraceIndex* focus() const;
    std::int64_t step_position() const;
    std::int64_t step_count() const;
    void step_forward();
    void step_back();
    void to_start();
    void to_end();
    bool jump_to_next_hbm_write();  // false (and no move) when no HBM write is left
    // The presenter's keys: the first event of the next (or previous) pass, Q block or K/V block of
    // the focus's trace (TraceIndex::phase_events, q_block_starts, kv_block_starts). Pause; false
    // (and no move) when there is none.
    bool jump_to_next_pass();
    bool jump_to_next_q_block();
    bool jump_to_next_kv_block();
    bool jump_to_previous_kv_block();
    void seek_event(std::int64_t e);   // focus event e, shown half-way through its move
    void seek_step(std::int64_t pos);  // focus step `pos` (index into its steps)
    void seek_progress(double f);      // fraction of the whole animation
    void seek_clock(double t);

  private:
    bool jump_forward(const std::vector<std::int64_t> TraceIndex::*marks);
    std::vector<std::shared_ptr<const TraceIndex>> lanes_;
    double clock_ = 0;
    bool playing_ = false;
    double speed_ = 4.0;
};

}  // namespace tilesim::viz
