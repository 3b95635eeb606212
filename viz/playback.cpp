#include "viz/playback.h"

#include <algorithm>

namespace tilesim::viz {

void Playback::set_lanes(std::vector<std::shared_ptr<const TraceIndex>> lanes) {
    const double f = progress();
    lanes_ = std::move(lanes);
    clock_ = f * duration();
}

double Playback::duration() const {
    double d = 0;
    for (const auto& l : lanes_) {
        if (l) d = std::max(d, l->anim_duration());
    }
    return d;
}

double Playback::progress() const {
    const double d = duration();
    return d > 0 ? std::clamp(clock_ / d, 0.0, 1.0) : 0.0;
}

void Playback::set_playing(bool on) {
    // Pressing play at the end starts again, as every media player does.
    if (on && clock_ >= duration()) clock_ = 0;
    playing_ = on && duration() > 0;
}

void Playback::set_speed(double steps_per_second) {
    speed_ = std::clamp(steps_per_second, kMinSpeed, kMaxSpeed);
}

const TraceIndex* Playback::focus() const {
    for (const auto& l : lanes_) {
        if (l && l->size() > 0) return l.get();
    }
    return nullptr;
}

void Playback::tick(double wall_seconds) {
    if (!playing_) return;
    const TraceIndex* f = focus();
    if (f == nullptr) {
        playing_ = false;
        return;
    }
    // Speed is in focus events per second: convert to animation-clock seconds per wall second.
    const double per_event = f->anim_duration() / static_cast<double>(f->size());
    clock_ += std::max(0.0, wall_seconds) * speed_ * per_event;
    if (clock_ >= duration()) {
        clock_ = duration();
        playing_ = false;
    }
}

std::int64_t Playback::event(std::size_t i) const {
    const TraceIndex* l = lane(i);
    return l != nullptr ? l->event_at(clock_) : -1;
}

double Playback::fraction(std::size_t i) const {
    const TraceIndex* l = lane(i);
    const std::int64_t e = event(i);
    if (l == nullptr || e < 0) return 0.0;
    const double a = l->anim_start[static_cast<std::size_t>(e)];
    const double b = l->anim_start[static_cast<std::size_t>(e) + 1];
    return b > a ? std::clamp((clock_ - a) / (b - a), 0.0, 1.0) : 1.0;
}

bool Playback::finished(std::size_t i) const {
    const TraceIndex* l = lane(i);
    return l == nullptr || l->size() == 0 || clock_ >= l->anim_duration();
}

std::int64_t Playback::step_position() const {
    const TraceIndex* f = focus();
    if (f == nullptr || f->steps.empty()) return 0;
    const std::int64_t e = f->event_at(clock_);
    const auto it = std::upper_bound(f->steps.begin(), f->steps.end(), e);
    return std::max<std::int64_t>(0, static_cast<std::int64_t>(it - f->steps.begin()) - 1);
}

std::int64_t Playback::step_count() const {
    const TraceIndex* f = focus();
    return f != nullptr ? static_cast<std::int64_t>(f->steps.size()) : 0;
}

void Playback::seek_event(std::int64_t e) {
    const TraceIndex* f = focus();
    if (f == nullptr || f->size() == 0) return;
    e = std::clamp<std::int64_t>(e, 0, f->size() - 1);
    const double a = f->anim_start[static_cast<std::size_t>(e)];
    const double b = f->anim_start[static_cast<std::size_t>(e) + 1];
    clock_ = a + 0.5 * (b - a);
}

void Playback::seek_step(std::int64_t pos) {
    const TraceIndex* f = focus();
    if (f == nullptr || f->steps.empty()) return;
    pos = std::clamp<std::int64_t>(pos, 0, static_cast<std::int64_t>(f->steps.size()) - 1);
    seek_event(f->steps[static_cast<std::size_t>(pos)]);
}

void Playback::step_forward() {
    const TraceIndex* f = focus();
    if (f == nullptr || f->steps.empty()) return;
    playing_ = false;
    const std::int64_t e = f->event_at(clock_);
    const auto it = std::upper_bound(f->steps.begin(), f->steps.end(), e);
    if (it != f->steps.end()) seek_event(*it);
}

void Playback::step_back() {
    const TraceIndex* f = focus();
    if (f == nullptr || f->steps.empty()) return;
    playing_ = false;
    const std::int64_t e = f->event_at(clock_);
    const auto it = std::lower_bound(f->steps.begin(), f->steps.end(), e);
    if (it != f->steps.begin()) seek_event(*(it - 1));
}

void Playback::to_start() {
    playing_ = false;
    clock_ = 0;
}

void Playback::to_end() {
    playing_ = false;
    clock_ = duration();
}

bool Playback::jump_to_next_hbm_write() {
    const TraceIndex* f = focus();
    if (f == nullptr) return false;
    const std::int64_t e = f->event_at(clock_);
    const auto it = std::upper_bound(f->hbm_writes.begin(), f->hbm_writes.end(), e);
    if (it == f->hbm_writes.end()) return false;
    playing_ = false;
    seek_event(*it);
    return true;
}

bool Playback::jump_forward(const std::vector<std::int64_t> TraceIndex::*marks) {
    const TraceIndex* f = focus();
    if (f == nullptr) return false;
    const auto& m = f->*marks;
    const auto it = std::upper_bound(m.begin(), m.end(), f->event_at(clock_));
    if (it == m.end()) return false;
    playing_ = false;
    seek_event(*it);
    return true;
}

bool Playback::jump_to_next_pass() {
    return jump_forward(&TraceIndex::phase_events);
}
bool Playback::jump_to_next_q_block() {
    return jump_forward(&TraceIndex::q_block_starts);
}
bool Playback::jump_to_next_kv_block() {
    return jump_forward(&TraceIndex::kv_block_starts);
}

bool Playback::jump_to_previous_kv_block() {
    const TraceIndex* f = focus();
    if (f == nullptr) return false;
    // Back to the start of the K/V block the play head is in, or of the one before when already there.
    const auto& m = f->kv_block_starts;
    const auto it = std::lower_bound(m.begin(), m.end(), f->event_at(clock_));
    if (it == m.begin()) return false;
    playing_ = false;
    seek_event(*(it - 1));
    return true;
}

void Playback::seek_progress(double f) {
    seek_clock(std::clamp(f, 0.0, 1.0) * duration());
}

void Playback::seek_clock(double t) {
    clock_ = std::clamp(t, 0.0, duration());
}

}  // namespace tilesim::viz
