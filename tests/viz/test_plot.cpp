// Axis arithmetic of the log-log plots.
#include <catch2/catch.hpp>

#include "viz/format.h"
#include "viz/plot.h"

using namespace tilesim;

TEST_CASE("log ticks are the powers inside the range, bounds included", "[plot]") {
    CHECK(viz::log_ticks(16, 4096, 2) == std::vector<double>{16, 32, 64, 128, 256, 512, 1024, 2048, 4096});
    CHECK(viz::log_ticks(150, 9e5, 10) == std::vector<double>{1e3, 1e4, 1e5});
    CHECK(viz::log_ticks(5, 4, 10).empty());
    CHECK(viz::log_ticks(0, 10, 10).empty());
    CHECK(viz::log_ticks(1, 10, 1).empty());
}

TEST_CASE("log ranges cover the positive data with padding and ignore gaps", "[plot]") {
    viz::PlotSeries s{"s", 0, {16, 64, 256}, {100, -1, 1e6}};
    const auto [xl, xh] = viz::log_range({s}, true, 2.0, 0.5);
    CHECK(xl == Approx(16 / std::sqrt(2.0)));
    CHECK(xh == Approx(256 * std::sqrt(2.0)));
    const auto [yl, yh] = viz::log_range({s}, false, 10.0, 0.0);
    CHECK(yl == Approx(100));
    CHECK(yh == Approx(1e6));
    const auto [el, eh] = viz::log_range({}, true, 10.0, 0.1);
    CHECK(el > 0);
    CHECK(eh > el);
}

TEST_CASE("labels carry their units", "[plot]") {
    CHECK(viz::format_pow2(16) == "16");
    CHECK(viz::format_pow2(1024) == "1K");
    CHECK(viz::format_pow2(65536) == "64K");
    CHECK(viz::format_pow2(1 << 20) == "1M");
    CHECK(viz::format_pow2(1536) == "1.5K");
    CHECK(viz::fmt_binary_bytes(384) == "384 B");
    CHECK(viz::fmt_binary_bytes(196608) == "192 KiB");
    CHECK(viz::fmt_seconds(6.66e-6) == "6.66 \xC2\xB5s");
    CHECK(viz::fmt_seconds(1.25e-3) == "1.25 ms");
    CHECK(viz::fmt_count(1234) == "1234");
    CHECK(viz::fmt_count(2.5e6) == "2.5 M");
}
