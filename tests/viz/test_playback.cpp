// The play head: bounds of stepping, scrubbing and jumping, and the race between lanes.
#include <catch2/catch.hpp>

#include "kernels/registry.h"
#include "scenarios/runner.h"
#include "viz/playback.h"

using namespace tilesim;

namespace {

struct Fixture {
    scenarios::ScenarioResult res;
    std::shared_ptr<const viz::TraceIndex> standard, flash;
    Fixture() {
        auto s = scenarios::resolve_scenario("classroom");
        scenarios::RunControls c;
        c.trace = true;
        res = scenarios::run_scenario(s, c);
        auto index = [&](const char* key) {
            const auto* r = res.find(key, kernels::Pass::forward);
            REQUIRE(r != nullptr);
            return std::make_shared<const viz::TraceIndex>(
                viz::build_trace_index(*r->trace, s.hardware, 1e-10));
        };
        standard = index("standard");
        flash = index("flash");
    }
};

}  // namespace

TEST_CASE("stepping stays inside the trace", "[playback]") {
    Fixture f;
    viz::Playback pb;
    pb.set_lanes({f.flash, f.standard});
    const auto n = f.flash->size();
    CHECK(pb.event(0) == 0);
    pb.step_back();
    CHECK(pb.event(0) == 0);
    for (std::int64_t k = 1; k < n; ++k) {
        pb.step_forward();
        REQUIRE(pb.event(0) == k);
        REQUIRE(pb.step_position() == k);
    }
    pb.step_forward();
    CHECK(pb.event(0) == n - 1);
    pb.step_back();
    CHECK(pb.event(0) == n - 2);
    pb.seek_step(-10);
    CHECK(pb.event(0) == 0);
    pb.seek_step(n + 10);
    CHECK(pb.event(0) == n - 1);
    pb.seek_event(n / 2);
    CHECK(pb.event(0) == n / 2);
    CHECK(pb.fraction(0) == Approx(0.5));
}

TEST_CASE("scrubbing clamps to the animation and the race shows who finishes first", "[playback]") {
    Fixture f;
    viz::Playback pb;
    pb.set_lanes({f.standard, f.flash});
    pb.seek_progress(-1);
    CHECK(pb.clock() == 0);
    pb.seek_progress(2);
    CHECK(pb.clock() == pb.duration());
    CHECK(pb.finished(0));
    CHECK(pb.finished(1));
    CHECK(pb.event(0) == f.standard->size() - 1);
    CHECK(pb.fraction(0) == 1.0);
    // FlashAttention moves fewer bytes, so in model time it finishes first.
    REQUIRE(f.flash->anim_duration() < f.standard->anim_duration());
    pb.seek_clock(0.5 * (f.flash->anim_duration() + f.standard->anim_duration()));
    CHECK(pb.finished(1));
    CHECK_FALSE(pb.finished(0));
    pb.seek_clock(-3);
    CHECK(pb.clock() == 0);
}

TEST_CASE("jump to the next HBM write lands on every write in turn, then stops", "[playback]") {
    Fixture f;
    viz::Playback pb;
    pb.set_lanes({f.standard});
    std::size_t jumps = 0;
    while (pb.jump_to_next_hbm_write()) {
        REQUIRE(jumps < f.standard->hbm_writes.size());
        CHECK(pb.event(0) == f.standard->hbm_writes[jumps]);
        ++jumps;
    }
    CHECK(jumps == f.standard->hbm_writes.size());
    const auto last = pb.event(0);
    CHECK_FALSE(pb.jump_to_next_hbm_write());
    CHECK(pb.event(0) == last);
}

TEST_CASE("playing advances at the set speed and stops at the end", "[playback]") {
    Fixture f;
    viz::Playback pb;
    pb.set_lanes({f.flash, f.standard});
    pb.set_speed(10);  // focus events per second
    pb.set_playing(true);
    pb.tick(1.0);
    const double per_event = f.flash->anim_duration() / static_cast<double>(f.flash->size());
    CHECK(pb.clock() == Approx(10 * per_event));
    pb.set_speed(1e9);
    CHECK(pb.speed() == viz::Playback::kMaxSpeed);
    pb.set_speed(0);
    CHECK(pb.speed() == viz::Playback::kMinSpeed);
    pb.set_speed(viz::Playback::kMaxSpeed);
    for (int i = 0; i < 1000 && pb.playing(); ++i) pb.tick(1.0);
    CHECK_FALSE(pb.playing());
    CHECK(pb.clock() == pb.duration());
    pb.set_playing(true);  // play at the end starts over
    CHECK(pb.clock() == 0);
    CHECK(pb.playing());
    pb.tick(-5);  // a clock going backwards never moves the play head back
    CHECK(pb.clock() == 0);
}

TEST_CASE("new lanes keep the play head at the same fraction, no lanes never crash", "[playback]") {
    Fixture f;
    viz::Playback pb;
    pb.set_lanes({f.standard, f.flash});
    pb.seek_progress(0.4);
    pb.set_lanes({f.flash});
    CHECK(pb.progress() == Approx(0.4));
    viz::Playback empty;
    empty.set_lanes({});
    empty.step_forward();
    empty.step_back();
    empty.to_end();
    empty.set_playing(true);
    empty.tick(1);
    CHECK_FALSE(empty.playing());
    CHECK_FALSE(empty.jump_to_next_hbm_write());
    CHECK(empty.event(0) == -1);
    CHECK(empty.duration() == 0);
    viz::Playback with_null;
    with_null.set_lanes({nullptr, f.flash});  // the watched algorithm did not fit
    with_null.step_forward();
    with_null.seek_progress(0.5);
    CHECK(with_null.event(0) == -1);
    CHECK(with_null.event(1) >= 0);
}
