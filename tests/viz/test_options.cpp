// tilesim-gui's command line: every bad flag is one clear line.
#include <catch2/catch.hpp>

#include "viz/options.h"

using namespace tilesim;

namespace {
std::string error_of(std::vector<std::string> args) {
    return viz::parse_options(args).error;
}
}  // namespace

TEST_CASE("good command lines parse", "[options]") {
    const auto p =
        viz::parse_options({"classroom-ragged", "--set", "seq_len=32", "--set", "head_dim=8", "--algorithm",
                            "flash", "--rival", "none", "--progress", "0.5", "--panel", "plots",
                            "--screenshot", "out.png", "--frames", "5", "--size", "1280x720"});
    REQUIRE(p.error.empty());
    CHECK(p.options.scenario == "classroom-ragged");
    CHECK(p.options.sets == std::vector<std::string>{"seq_len=32", "head_dim=8"});
    CHECK(*p.options.algorithm == "flash");
    CHECK(*p.options.rival == "none");
    CHECK(*p.options.progress == 0.5);
    CHECK(p.options.panel == "plots");
    CHECK(p.options.screenshot == "out.png");
    CHECK(p.options.frames == 5);
    CHECK(p.options.width == 1280);
    CHECK(p.options.height == 720);
    CHECK(viz::parse_options({"--step", "12"}).options.step == 12);
    CHECK(viz::parse_options({}).options.scenario == "classroom");
    // A known key with a bad value is left for the GUI to show inline, as if typed.
    CHECK(error_of({"--set", "seq_len=0"}).empty());
    CHECK(viz::parse_options({"--help"}).options.help);
    CHECK(viz::parse_options({"-h"}).options.help);
    // One value per --set, so a scenario after it stays the scenario; a repeated option's last value
    // wins, as before CLI11.
    const auto q = viz::parse_options({"--set", "seq_len=32", "gpt2-medium", "--frames", "4", "--frames=7",
                                       "--watch-block", "2", "--scale", "1.5", "--side", "block", "--bench",
                                       "--numerics", "--palette", "--rival", "flash2"});
    REQUIRE(q.error.empty());
    CHECK(q.options.scenario == "gpt2-medium");
    CHECK(q.options.sets == std::vector<std::string>{"seq_len=32"});
    CHECK(q.options.frames == 7);
    CHECK(*q.options.watch_block == 2);
    CHECK(q.options.scale == 1.5F);
    CHECK(q.options.side == "block");
    CHECK(q.options.bench);
    CHECK(q.options.numerics);
    CHECK(q.options.palette);
    CHECK(*q.options.rival == "flash2");
    CHECK_FALSE(viz::parse_options({}).options.bench);
}

TEST_CASE("bad command lines give one line naming the problem", "[options]") {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--frobnicate"}, "--frobnicate"},
        {{"--frames"}, "needs a value"},
        {{"--frames", "abc"}, "--frames"},
        {{"--frames", "0"}, "--frames"},
        {{"--set", "seq_len"}, "key=value"},
        {{"--set", "seqlen=4"}, "seq_len"},  // the did-you-mean of the key table
        {{"--algorithm", "fast"}, "standard, flash, flash2"},
        {{"--rival", "slow"}, "--rival"},
        {{"--step", "0"}, "--step"},
        {{"--progress", "1.5"}, "--progress"},
        {{"--progress", "half"}, "--progress"},
        {{"--step", "3", "--progress", "0.5"}, "give one"},
        {{"--panel", "charts"}, "memory, plots, softmax, threads, timeline or roofline"},
        {{"--screenshot", "out.jpg"}, ".png"},
        {{"--screenshot", "/no/such/dir/out.png"}, "does not exist"},
        {{"--size", "10x10"}, "--size"},
        {{"--scale", "9"}, "--scale"},
        {{"--watch-block", "-1"}, "--watch-block"},
        {{"a", "b"}, "one scenario"},
        {{"--set"}, "needs a value"},
        {{"--screenshot"}, "needs a value"},
        {{"--set", "=4"}, "key=value"},
        {{"--side", "left"}, "sram or block"},
    };
    for (const auto& [args, needle] : cases) {
        CAPTURE(args);
        const std::string err = error_of(args);
        REQUIRE_FALSE(err.empty());
        CHECK(err.find(needle) != std::string::npos);
        CHECK(err.find('\n') == std::string::npos);
    }
}
