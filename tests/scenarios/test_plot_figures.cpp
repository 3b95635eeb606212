// `tilesim plot`'s figures: the numbers in their series are the model's (sweeps, bounds, Theta
// scaled at the stated point, intensities), their SVG has one group per series with a marker per
// point that fits, and their PNG decodes to the canvas size and is not blank.
#include <stb_image.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "kernels/bounds.h"
#include "kernels/registry.h"
#include "plot/font.h"
#include "plot/raster.h"
#include "plot/svg.h"
#include "scenarios/plot_figures.h"
#include "scenarios/sweep.h"
#include "scenarios/trace_export.h"
#include "tests/plot/xml_check.h"

namespace ts = tilesim::scenarios;
using tilesim::plot::Series;
using tilesim::testing::XmlNode;

namespace {

const Series* find_series(const tilesim::plot::LogLogChart& ch, const std::string& role,
                          const std::string& key) {
    for (const auto& s : ch.series)
        if (s.role == role && s.key == key) return &s;
    return nullptr;
}

std::vector<const XmlNode*> groups_of(const XmlNode& root, const std::string& cls) {
    std::vector<const XmlNode*> out;
    root.collect([&](const XmlNode& n) { return n.name == "g" && n.attr("class") == cls; }, out);
    return out;
}

template <class Chart>  // a LogLogChart or a GanttChart: both carry caption notes
std::string all_notes(const Chart& ch) {
    std::string s;
    for (const auto& n : ch.notes) s += n + "\n";
    return s;
}

}  // namespace

TEST_CASE("plot io-vs-n: a series per algorithm equal to the sweep, Theta scaled at the stated N, the bounds",
          "[plot][figures]") {
    const ts::Scenario s = ts::resolve_scenario("classroom");
    ts::PlotOptions o;
    o.over = "seq_len=8..64";
    const auto ch = ts::io_chart(ts::PlotKind::io_vs_n, s, o);
    ts::Scenario counted = s;
    counted.numerics = false;
    const auto sw = ts::run_sweep(counted, "seq_len", {"8", "16", "32", "64"}, false);
    REQUIRE(s.algorithms.size() == 3);
    for (const auto& key : s.algorithms) {
        const Series* d = find_series(ch, "data", key);
        REQUIRE(d != nullptr);
        REQUIRE(d->x.size() == 4);
        for (std::size_t i = 0; i < 4; ++i) {
            const auto* run = &sw.points[i].runs[0];
            for (const auto& r : sw.points[i].runs)
                if (r.key() == key) run = &r;
            CHECK(d->x[i] == sw.points[i].value);
            CHECK(d->y[i] == static_cast<double>(run->total.at(tilesim::sim::Level::HBM).total_bytes()));
        }
        // The classroom's own N = 16 is swept, so every Theta meets its data there and nowhere is
        // it given a constant of its own: its ratio to the definition's function is that point's.
        const Series* t = find_series(ch, "theta", key);
        REQUIRE(t != nullptr);
        CHECK(t->y[1] == Approx(d->y[1]));
        const auto* def = tilesim::kernels::find_definition(key, tilesim::kernels::Pass::forward);
        const double M = static_cast<double>(s.hardware.sram_bytes) / 4;  // fp32
        for (std::size_t i = 0; i < 4; ++i) {
            CHECK(t->y[i] / t->y[1] ==
                  Approx(def->theta.elements(d->x[i], 4, M) / def->theta.elements(16, 4, M)));
        }
    }
    CHECK_THAT(all_notes(ch), Catch::Contains("scaled to meet its run at N = 16"));
    // The bounds are kernels::io_bounds at each N, times B*H.
    const Series* comp = find_series(ch, "bound", "compulsory");
    const Series* saha = find_series(ch, "bound", "saha_ye");
    REQUIRE(comp != nullptr);
    REQUIRE(saha != nullptr);
    ts::Scenario at = s;
    ts::apply_setting(at, "seq_len", "32");
    const auto b =
        tilesim::kernels::io_bounds(ts::problem_of(at), tilesim::kernels::Pass::forward, at.hardware);
    CHECK(comp->y[2] == static_cast<double>(b.compulsory_bytes));
    CHECK(saha->y[2] == Approx(b.saha_ye_bytes));
    // The classroom's M = 96 elements >= d^2 = 16: the tight bound is Prop. 3's, and the caption says so.
    CHECK_THAT(all_notes(ch), Catch::Contains("coincide"));
}

TEST_CASE("plot io-vs-n: the SVG has one data group per algorithm and a marker per point",
          "[plot][figures][svg]") {
    ts::PlotOptions o;
    o.over = "seq_len=8..64";
    const auto canvas = ts::make_plot(ts::PlotKind::io_vs_n, ts::resolve_scenario("classroom"), o,
                                      tilesim::plot::text_measure(tilesim::plot::FontSet{}));
    const auto root = tilesim::testing::parse_xml(tilesim::plot::to_svg(canvas));
    CHECK(root->attr("viewBox") == "0 0 1280 720");
    const auto data = groups_of(*root, "series data");
    REQUIRE(data.size() == 3);
    std::vector<std::string> keys;
    for (const auto* g : data) {
        keys.push_back(g->attr("data-key"));
        const auto pts = groups_of(*g, "points");
        REQUIRE(pts.size() == 1);
        CHECK(pts[0]->children.size() == 4);
    }
    CHECK(keys == std::vector<std::string>{"standard", "flash", "flash2"});
    CHECK(groups_of(*root, "series theta").size() == 3);
    CHECK(groups_of(*root, "series bound").size() == 3);
    CHECK(groups_of(*root, "legend").size() == 1);
}

TEST_CASE("plot io-vs-block: points that do not fit are gaps, and the caption says how many",
          "[plot][figures]") {
    ts::PlotOptions o;
    o.over = "block_cols=1,2,4,8,16";
    const ts::Scenario s = ts::resolve_scenario("classroom");
    const auto ch = ts::io_chart(ts::PlotKind::io_vs_block, s, o);
    int gaps = 0;
    for (const auto& key : s.algorithms) {
        const Series* d = find_series(ch, "data", key);
        REQUIRE(d != nullptr);
        for (double y : d->y) gaps += y > 0 ? 0 : 1;
    }
    CHECK(gaps > 0);  // 384 B of SRAM: B_c = 16 rows of K and V (fp32, d = 4) alone need 512 B
    CHECK_THAT(all_notes(ch), Catch::Contains(std::to_string(gaps) + " run"));
    CHECK(find_series(ch, "theta", "flash") == nullptr);  // no Theta depends on the block size
    const auto canvas = tilesim::plot::draw(ch, tilesim::plot::text_measure(tilesim::plot::FontSet{}));
    const auto root = tilesim::testing::parse_xml(tilesim::plot::to_svg(canvas));
    std::size_t markers = 0;
    for (const auto* g : groups_of(*root, "points")) markers += g->children.size();
    CHECK(markers == 3 * 5 - static_cast<std::size_t>(gaps));
}

TEST_CASE("plot io-vs-sram: FlashAttention's Theta falls as 1/M, standard attention's is left out",
          "[plot][figures]") {
    ts::PlotOptions o;
    o.over = "sram_bytes=16384..262144";
    const auto ch = ts::io_chart(ts::PlotKind::io_vs_sram, ts::default_scenario(), o);
    const Series* t = find_series(ch, "theta", "flash");
    REQUIRE(t != nullptr);
    REQUIRE(t->x.size() == 5);
    for (std::size_t i = 1; i < 5; ++i) CHECK(t->y[i] * t->x[i] == Approx(t->y[0] * t->x[0]));
    CHECK(find_series(ch, "theta", "standard") == nullptr);
    CHECK_THAT(all_notes(ch), Catch::Contains("Not drawn: standard"));
    // No own value swept (192 KiB is not a power of two): scaled at the first point where all fit.
    CHECK_THAT(all_notes(ch), Catch::Contains("M = 16 KiB"));
}

TEST_CASE("plot roofline: intensity = FLOPs / HBM bytes, the ridge at peak / bandwidth", "[plot][figures]") {
    const ts::Scenario s = ts::default_scenario();
    const auto ch = ts::roofline_chart(s, {});
    REQUIRE(ch.vlines.size() == 1);
    const double ridge = s.hardware.matmul_flops_per_s / s.hardware.hbm_bytes_per_s;
    CHECK(ch.vlines[0].x == Approx(ridge));
    CHECK_THAT(ch.vlines[0].label, Catch::Contains("208 FLOP/B"));  // 312e12 / 1.5e12
    const Series* roof = find_series(ch, "roof", "roof");
    REQUIRE(roof != nullptr);
    CHECK(roof->y[1] == Approx(s.hardware.matmul_flops_per_s));
    ts::Scenario counted = s;
    counted.numerics = false;
    const auto r = ts::run_scenario(counted);
    for (const auto& run : r.runs) {
        const Series* p = find_series(ch, "run", ts::run_title(run));
        REQUIRE(p != nullptr);
        const double flops = static_cast<double>(run.total.flops());
        CHECK(p->x[0] ==
              Approx(flops / static_cast<double>(run.total.at(tilesim::sim::Level::HBM).total_bytes())));
        CHECK(p->y[0] == Approx(flops / run.cost.total_s));
        CHECK(p->color.r == tilesim::plot::palette(tilesim::kernels::key_index(run.key())).r);
    }
}

TEST_CASE("plot timeline: schedule = paper, a group per run, every move and compute step a bar of its lane",
          "[plot][figures]") {
    ts::Scenario s = ts::resolve_scenario("classroom");
    s.numerics = false;
    s.schedule = tilesim::sim::Schedule::paper;  // no timeline: the serial clock
    ts::RunControls rc;
    rc.trace = true;
    const auto r = ts::run_scenario(s, rc);
    const auto ch = ts::timeline_chart(r, {});
    REQUIRE(ch.group_titles.size() == r.runs.size());
    // The bars are the events of the serial clock, in microseconds: their total per group is the
    // clock's total (nothing overlaps on that clock, and only zero-length events have no bar).
    for (std::size_t g = 0; g < r.runs.size(); ++g) {
        const auto clock = ts::serial_clock(*r.runs[g].trace, s.hardware);
        double sum = 0;
        std::size_t bars = 0, work = 0;
        for (const auto& b : ch.bars) {
            if (ch.lane_group[static_cast<std::size_t>(b.lane)] != static_cast<int>(g)) continue;
            sum += b.end - b.start;
            ++bars;
        }
        const auto& ev = r.runs[g].trace->events();
        for (std::size_t k = 0; k < ev.size(); ++k) {
            const bool moves = ev[k].op == tilesim::sim::Op::Load || ev[k].op == tilesim::sim::Op::Store ||
                               ev[k].op == tilesim::sim::Op::Compute;
            work += moves && clock.spans[k].dur_s > 0 ? 1 : 0;
        }
        CHECK(bars == work);
        CHECK(sum == Approx(clock.total_s * 1e6));
    }
    // Standard attention's three passes are three shaded bands.
    int standard_bands = 0;
    for (const auto& b : ch.bands) standard_bands += b.group == 0 ? 1 : 0;
    CHECK(standard_bands == static_cast<int>(r.runs[0].phases.size()));
    std::set<std::string> kinds;
    for (const auto& k : ch.kinds) kinds.insert(k.label);
    CHECK(kinds.count("load from HBM") == 1);
    CHECK(kinds.count("matmul") == 1);
    CHECK_THAT(ch.x_label, Catch::Contains("serial"));
    CHECK_THAT(all_notes(ch), Catch::Contains("serial clock"));
}

TEST_CASE("plot timeline: the scheduled timeline's times, a lane per agent", "[plot][figures][timeline]") {
    ts::Scenario s = ts::resolve_scenario("classroom");
    s.numerics = false;
    ts::RunControls rc;
    rc.trace = true;
    const auto r = ts::run_scenario(s, rc);
    const auto ch = ts::timeline_chart(r, {});
    REQUIRE(ch.group_titles.size() == r.runs.size());
    CHECK_THAT(ch.x_label, Catch::Contains("scheduled timeline"));
    CHECK_THAT(all_notes(ch), Catch::Contains("Clock: the scheduled timeline"));
    const double us = 1e6;  // the classroom's runs last microseconds
    for (std::size_t g = 0; g < r.runs.size(); ++g) {
        CAPTURE(g);
        // The group's lanes are the agents its events use, by name.
        std::set<std::string> lanes, agents;
        for (std::size_t l = 0; l < ch.lane_labels.size(); ++l) {
            if (ch.lane_group[l] == static_cast<int>(g)) lanes.insert(ch.lane_labels[l]);
        }
        std::vector<std::pair<double, double>> expected, drawn;
        for (const auto& e : r.runs[g].trace->events()) {
            if (e.agent < 0) continue;
            agents.insert(std::string(tilesim::sim::agent_name(static_cast<tilesim::sim::Agent>(e.agent))));
            if (e.end_s > e.start_s) expected.emplace_back(e.start_s * us, e.end_s * us);
        }
        for (const auto& b : ch.bars) {
            if (ch.lane_group[static_cast<std::size_t>(b.lane)] == static_cast<int>(g))
                drawn.emplace_back(b.start, b.end);
        }
        CHECK(lanes == agents);
        // Every bar at its event's own start and end, in event order (to rounding: the chart adds the
        // duration to the start).
        REQUIRE(drawn.size() == expected.size());
        for (std::size_t k = 0; k < drawn.size(); ++k) {
            CHECK(drawn[k].first == Approx(expected[k].first).epsilon(1e-12));
            CHECK(drawn[k].second == Approx(expected[k].second).epsilon(1e-12));
        }
        // The work overlaps: on the serial clock the bars would add up to the span, here to more.
        double sum = 0, end = 0;
        for (const auto& [a, b] : drawn) {
            sum += b - a;
            end = std::max(end, b);
        }
        CHECK(end == Approx(r.runs[g].timeline.total_s * us).epsilon(1e-9));
        CHECK(sum > end);
    }
}

TEST_CASE("plot: every kind renders to a PNG of the canvas size that is not blank", "[plot][figures][png]") {
    std::string why;
    const auto fonts = tilesim::plot::find_fonts(&why);
    INFO(why);
    REQUIRE(fonts.ok());
    for (const char* kind : {"io-vs-n", "io-vs-block", "io-vs-sram", "roofline", "timeline"}) {
        INFO(kind);
        ts::PlotOptions o;
        const auto k = ts::parse_plot_kind(kind);
        REQUIRE(k);
        if (*k == ts::PlotKind::io_vs_n) o.over = "seq_len=8..64";
        if (*k == ts::PlotKind::io_vs_sram) o.over = "sram_bytes=256..2048";
        if (*k == ts::PlotKind::io_vs_block) o.over = "block_cols=1..8";
        const auto canvas =
            ts::make_plot(*k, ts::resolve_scenario("classroom"), o, tilesim::plot::text_measure(fonts));
        const std::string png = tilesim::plot::encode_png(tilesim::plot::rasterise(canvas, fonts));
        int w = 0, h = 0, n = 0;
        unsigned char* px = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                                  static_cast<int>(png.size()), &w, &h, &n, 3);
        REQUIRE(px != nullptr);
        CHECK(w == 1280);
        CHECK(h == 720);
        // Not blank: mostly white, but with ink, and the first algorithm's blue (0072B2) drawn solid.
        std::size_t white = 0, blue = 0;
        for (int i = 0; i < w * h; ++i) {
            const unsigned char* p = px + 3 * i;
            white += p[0] == 255 && p[1] == 255 && p[2] == 255;
            blue += p[0] == 0x00 && p[1] == 0x72 && p[2] == 0xB2;
        }
        stbi_image_free(px);
        CHECK(white > static_cast<std::size_t>(w * h / 2));
        CHECK(white < static_cast<std::size_t>(w * h) * 98 / 100);
        CHECK(blue > 30);
    }
}

TEST_CASE("plot: default sweeps sit around the scenario's own N, block and SRAM", "[plot][figures]") {
    const auto fig2 = ts::default_scenario();  // N = 1024, M = 192 KiB
    CHECK(ts::default_over(ts::PlotKind::io_vs_n, fig2) == "seq_len=256..16384");
    CHECK(ts::default_over(ts::PlotKind::io_vs_block, fig2) == "block_cols=4..1024");
    CHECK(ts::default_over(ts::PlotKind::io_vs_sram, fig2) == "sram_bytes=24576..1572864");
    const auto room = ts::resolve_scenario("classroom");  // N = 16, M = 384 B
    CHECK(ts::default_over(ts::PlotKind::io_vs_n, room) == "seq_len=4..256");
    CHECK(ts::default_over(ts::PlotKind::io_vs_block, room) == "block_cols=1..16");
    CHECK(ts::default_over(ts::PlotKind::io_vs_sram, room) == "sram_bytes=48..3072");
    // The own values are points of those sweeps, so the Theta curves meet the data there.
    const auto ch = ts::io_chart(ts::PlotKind::io_vs_sram, fig2, {});
    CHECK_THAT(all_notes(ch), Catch::Contains("M = 192 KiB"));
}
