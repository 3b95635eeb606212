// The timeline and roofline views' data (viz/schedule_view.h, viz/roofline_view.h): what they draw is
// the model's own result, row for agent and bar for span, point for library value; switching the
// schedule through the session (as the view's buttons do) changes what overlaps.
#include <catch2/catch.hpp>

#include <set>

#include "scenarios/roofline.h"
#include "viz/roofline_view.h"
#include "viz/schedule_view.h"
#include "viz/session.h"

using namespace tilesim;
using kernels::Pass;
using sim::Agent;

namespace {

const scenarios::AlgorithmRun& run_of(const viz::Session& s, std::string_view key) {
    const auto* r = s.run_of(key, Pass::forward);
    REQUIRE(r != nullptr);
    return *r;
}

// SFU time hidden under tensor-core time in FlashAttention-2's sample SM, under `schedule`.
double sfu_under_tensor(viz::Session& s, const std::string& schedule) {
    REQUIRE(s.set_value("schedule", schedule).empty());
    REQUIRE(s.wait_idle(60));
    s.update();
    const auto& run = run_of(s, "flash2");
    CHECK(sim::schedule_name(run.schedule) == schedule);
    const viz::ScheduleView v = viz::build_schedule_view(run);
    REQUIRE(v.passes.size() == 1);
    const auto& p = v.passes[0];
    // Both agents have work: a zero overlap below means they take turns, not that one is missing.
    CHECK(viz::overlap_seconds(p, Agent::sfu, Agent::sfu) > 0);
    CHECK(viz::overlap_seconds(p, Agent::tensor, Agent::tensor) > 0);
    return viz::overlap_seconds(p, Agent::sfu, Agent::tensor);
}

}  // namespace

TEST_CASE(
    "timeline view: a row per lane and agent the sample uses, a bar per span, the model's busy and bound",
    "[views][timeline]") {
    viz::Session s;
    REQUIRE(s.set_value("seq_len", "64").empty());
    REQUIRE(s.wait_idle(60));
    s.update();
    for (const auto& run : s.model()->result->runs) {
        CAPTURE(run.key());
        const viz::ScheduleView v = viz::build_schedule_view(run);
        REQUIRE(v.passes.size() == run.timeline.phases.size());
        REQUIRE_FALSE(v.passes.empty());
        CHECK(v.bound == run.timeline.bound);
        CHECK(v.total_s == run.timeline.total_s);
        for (std::size_t k = 0; k < v.passes.size(); ++k) {
            const auto& pt = run.timeline.phases[k];
            const auto& p = v.passes[k];
            std::set<std::pair<int, int>> used;
            std::set<int> agents;
            for (const auto& sp : pt.sample.spans) {
                used.emplace(static_cast<int>(sp.agent), sp.lane);
                agents.insert(static_cast<int>(sp.agent));
            }
            std::set<std::pair<int, int>> rows;
            std::set<int> row_agents;
            for (const auto& r : p.rows) {
                rows.emplace(static_cast<int>(r.agent), r.lane);
                row_agents.insert(static_cast<int>(r.agent));
            }
            CHECK(rows.size() == p.rows.size());  // no row twice
            CHECK(rows == used);
            CHECK(row_agents == agents);
            REQUIRE(p.bars.size() == pt.sample.spans.size());
            for (std::size_t b = 0; b < p.bars.size(); ++b) {
                const auto& bar = p.bars[b];
                const auto& sp = pt.sample.spans[b];
                const auto& row = p.rows[static_cast<std::size_t>(bar.row)];
                CHECK(row.agent == sp.agent);
                CHECK(row.lane == sp.lane);
                CHECK(bar.start_s == sp.start_s);
                CHECK(bar.end_s == sp.end_s);
                CHECK(viz::bar_label(bar).find(std::string(sim::tensor_name(sp.tensor))) !=
                      std::string::npos);
                CHECK(viz::bar_label(bar).find("step " + std::to_string(sp.step)) != std::string::npos);
            }
            CHECK(p.busy == pt.busy);
            CHECK(p.bound == pt.bound);
            // Waves: ceil(blocks / slots), the tail the blocks left over.
            CHECK(p.waves.wave_count == (pt.blocks + pt.slots - 1) / pt.slots);
            CHECK(p.waves.tail_blocks == pt.blocks % pt.slots);
        }
    }
}

TEST_CASE("timeline view: pingpong hides FlashAttention-2's softmax under the GEMMs, sync does not",
          "[views][timeline]") {
    viz::Session s;
    REQUIRE(s.set_value("seq_len", "64").empty());
    const double sync = sfu_under_tensor(s, "sync");
    const double pingpong = sfu_under_tensor(s, "pingpong");
    CHECK(sync == Approx(0).margin(1e-15));
    CHECK(pingpong > 0);
}

TEST_CASE("timeline view: paper mode and a pass that does not fit say why there is nothing to draw",
          "[views][timeline]") {
    viz::Session s;
    REQUIRE(s.set_value("schedule", "paper").empty());
    REQUIRE(s.wait_idle(60));
    s.update();
    const viz::ScheduleView paper = viz::build_schedule_view(run_of(s, "flash"));
    CHECK(paper.passes.empty());
    CHECK(paper.empty_reason.find("paper") != std::string::npos);
    REQUIRE(s.set_value("schedule", "auto").empty());
    REQUIRE(s.set_value("block_cols", "64").empty());
    REQUIRE(s.wait_idle(60));
    s.update();
    const viz::ScheduleView misfit = viz::build_schedule_view(run_of(s, "flash"));
    CHECK(misfit.passes.empty());
    CHECK(misfit.empty_reason.find("does not fit") != std::string::npos);
    CHECK_FALSE(s.set_value("schedule", "round-robin").empty());  // the key table's own message
    CHECK(s.field_error("schedule") != nullptr);
}

TEST_CASE("roofline view: every run's point is the library's, the ridge is peak over bandwidth",
          "[views][roofline]") {
    viz::Session s;
    REQUIRE(s.load_scenario("gpt2-medium").empty());
    REQUIRE(s.set_value("seq_len", "256").empty());
    REQUIRE(s.wait_idle(120));
    s.update();
    const auto& r = *s.model()->result;
    const viz::RooflineView v = viz::build_roofline_view(r);
    REQUIRE(v.error.empty());
    const auto& hw = r.scenario.hardware;
    CHECK(v.roof.ridge() == Approx(hw.matmul_flops_per_s / hw.hbm_bytes_per_s));
    REQUIRE(v.marks.size() == r.runs.size());
    for (std::size_t k = 0; k < r.runs.size(); ++k) {
        const auto lib = scenarios::roofline_point(r.runs[k]);
        REQUIRE(lib);
        const auto& m = v.marks[k];
        CHECK(m.key == r.runs[k].key());
        CHECK(m.point.intensity == lib->intensity);
        CHECK(m.point.dram_intensity == lib->dram_intensity);
        CHECK(m.point.achieved_flops_per_s == lib->achieved_flops_per_s);
        CHECK(m.attainable == v.roof.attainable(lib->intensity));
        // Independently: FLOPs over HBM bytes, all heads.
        CHECK(m.point.intensity ==
              Approx(static_cast<double>(r.runs[k].total.flops()) /
                     static_cast<double>(r.runs[k].total.at(sim::Level::HBM).total_bytes())));
        CHECK(v.x_lo < m.point.intensity);
        CHECK(v.x_hi > m.point.intensity);
    }
    // FlashAttention moves fewer HBM bytes for the same matmuls: further right than standard.
    auto intensity = [&](std::string_view key) {
        for (const auto& m : v.marks) {
            if (m.key == key) return m.point.intensity;
        }
        return -1.0;
    };
    CHECK(intensity("flash") > intensity("standard"));
    CHECK(intensity("standard") > 0);
}

TEST_CASE("roofline view: a preset without a roof gets the library's one-line error", "[views][roofline]") {
    scenarios::ScenarioResult r;
    r.scenario.hardware.hbm_bytes_per_s = 0;
    r.scenario.hardware_name = "bare";
    const viz::RooflineView v = viz::build_roofline_view(r);
    CHECK(v.marks.empty());
    CHECK(v.error.find("hbm_gbps") != std::string::npos);
    CHECK(v.error.find('\n') == std::string::npos);
}
