// Issue 11 in the GUI: a refused --set value is said in the window whatever the key (with or without a
// field of its own), and a window whose model run cannot finish soon still closes at once (the cancel
// reaches inside the run). The headless exit status and stderr line are in tests/errors/catalogue.toml.
#include <catch2/catch.hpp>

#include <imgui.h>
#include <imgui_internal.h>

#include <chrono>
#include <memory>

#include "tests/viz/imgui_context.h"
#include "viz/app.h"
#include "viz/theme.h"

using namespace tilesim;
using Context = viz::test::HeadlessContext;
using viz::test::frame;
using viz::test::vertices;

namespace {

void frames(viz::App& app, int n) {
    for (int i = 0; i < n; ++i) frame(app);
}


viz::Options options(std::vector<std::string> args) {
    const auto p = viz::parse_options(args);
    REQUIRE(p.error.empty());
    return p.options;
}

}  // namespace

TEST_CASE("gui errors: every refused --set value is listed and drawn, as the CLI words it", "[errors]") {
    Context ctx;
    viz::App plain(options({"classroom"}));
    REQUIRE(plain.session().wait_idle(60));
    frames(plain, 3);
    const int before = vertices("Controls");
    struct Bad {
        const char* set;
        const char* says;
    };
    for (const Bad& b :
         {Bad{"hardware=nope", "key 'hardware': unknown preset 'nope'"},
          Bad{"algorithms=flash3", "key 'algorithms': unknown algorithm 'flash3'"},
          Bad{"extra_passes=9", "key 'extra_passes': must be 0..3, got 9"},
          Bad{"hbm_gbps=1e308", "key 'hbm_gbps': 1e+308 GB/s is outside the physical range"},
          Bad{"batch=4611686018427387905", "key 'batch': 4611686018427387905 is above the limit"}}) {
        INFO(b.set);
        viz::App app(options({"classroom", "--set", b.set}));
        REQUIRE(app.session().wait_idle(60));
        frames(app, 3);
        REQUIRE(app.refused().size() == 1);
        CHECK(app.refused()[0] == "--set " + std::string(b.set) + ": " +
                                      app.refused()[0].substr(app.refused()[0].find(": ") + 2));
        CHECK_THAT(app.refused()[0], Catch::Contains(b.says));
        CHECK(vertices("Controls") > before);                // the message is on screen
        CHECK(app.session().scenario().problem.N_kv == 16);  // the views keep the classroom
    }
}

TEST_CASE("gui errors: a window whose run would take long closes at once", "[errors]") {
    Context ctx;
    // About 15 s of model work (N = 16384, d = 1 on the classroom machine, traced for the animation).
    auto app =
        std::make_unique<viz::App>(options({"classroom", "--set", "seq_len=16384", "--set", "head_dim=1"}));
    frames(*app, 2);
    const auto t0 = std::chrono::steady_clock::now();
    while (!app->session().model_busy() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
        frames(*app, 1);
    }
    REQUIRE(app->session().model_busy());
    const auto t1 = std::chrono::steady_clock::now();
    app.reset();  // what closing the window does: the session's jobs are cancelled and joined
    // The cancel reaches the kernel loop within 65536 events; what remains is freeing the run's trace
    // and tile sets (hundreds of MB at this size), which takes seconds on a loaded two-core machine.
    // The run itself would take minutes there.
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count() < 10.0);
}
