// Issue 11 at the library level: bounds on sizes, rates and text (scenarios/limits.h), the screen in
// front of toml++ 3.3 (toml_guard.h), bounded reads, the work estimate and its limit (work.h), cancel
// and progress inside a run, capped traces. The command-line side is tests/errors/catalogue.toml.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <future>
#include <sstream>
#include <thread>

#include "scenarios/keys_internal.h"
#include "scenarios/limits.h"
#include "scenarios/runner.h"
#include "scenarios/sweep.h"
#include "scenarios/toml_guard.h"
#include "scenarios/work.h"
#include "sim/cost_model.h"

using namespace tilesim;
using scenarios::Scenario;
using scenarios::ScenarioError;
namespace limits = scenarios::limits;

namespace {

Scenario classroom() {
    return scenarios::resolve_scenario("classroom");
}

// The message of the ScenarioError that applying `sets` to the classroom (then validating) throws.
std::string error_of(std::vector<std::string> sets, Scenario s = classroom()) {
    try {
        scenarios::apply_settings(s, sets);
    } catch (const ScenarioError& e) {
        return e.what();
    }
    return {};
}

std::string guard(std::string_view text) {
    return scenarios::toml_guard(text);
}

}  // namespace

TEST_CASE("robust: every bounded size key takes its limit and refuses one more, naming the key", "[robust]") {
    struct Bound {
        const char* key;
        std::int64_t limit;
        std::vector<std::string> context;  // settings that make the limit itself valid
    };
    const std::vector<Bound> bounds = {
        {"batch", limits::kMaxBatch, {}},
        {"heads", limits::kMaxHeads, {}},
        {"kv_heads", limits::kMaxHeads, {"heads=1048576"}},
        {"sm_count", limits::kMaxSmCount, {}},
        {"l2_bytes", limits::kMaxL2Bytes, {}},
        {"block_rows", limits::kMaxBlock, {}},
        {"block_cols", limits::kMaxBlock, {}},
        {"mask_block", limits::kMaxBlock, {}},
    };
    for (const auto& b : bounds) {
        INFO(b.key);
        Scenario s = classroom();
        std::vector<std::string> ok = b.context;
        ok.push_back(std::string(b.key) + "=" + std::to_string(b.limit));
        // At the limit, the key itself is accepted (the problem may still be refused as a whole, for
        // B*H or a misfit, but never for this key).
        const std::string at = error_of(ok);
        CHECK(at.find("key '" + std::string(b.key) + "'") == std::string::npos);
        std::vector<std::string> over = b.context;
        over.push_back(std::string(b.key) + "=" + std::to_string(b.limit + 1));
        CHECK_THAT(error_of(over), Catch::Contains("key '" + std::string(b.key) + "'") &&
                                       Catch::Contains("limit of " + std::to_string(b.limit)));
    }
    // The values of the issue: 2^62 + 1 and INT64_MAX.
    CHECK_THAT(error_of({"batch=4611686018427387905", "heads=4"}), Catch::Contains("key 'batch'"));
    CHECK_THAT(error_of({"sm_count=9223372036854775807"}), Catch::Contains("key 'sm_count'"));
    CHECK_THAT(error_of({"mask=sliding:9223372036854775807"}), Catch::Contains("key 'mask'"));
}

TEST_CASE("robust: a Problem built in code is held to the same bounds, so B*H cannot wrap", "[robust]") {
    Scenario s = classroom();
    // (2^62 + 1) * 4 = 2^64 + 4: in int64 arithmetic that is 4 heads.
    s.problem.batch = (std::int64_t{1} << 62) + 1;
    s.problem.heads = 4;
    s.problem.kv_heads = 4;
    CHECK_THROWS_WITH(scenarios::validate(s),
                      Catch::Contains("key 'batch'") && Catch::Contains("above the limit"));
    s = classroom();
    s.hardware.sm_count = std::numeric_limits<std::int64_t>::max();
    CHECK_THROWS_WITH(scenarios::validate(s), Catch::Contains("key 'sm_count'"));
    s = classroom();
    s.mask.block = std::numeric_limits<std::int64_t>::max();
    CHECK_THROWS_WITH(scenarios::validate(s), Catch::Contains("key 'mask_block'"));
}

TEST_CASE("robust: at the ends of every rate's range the predicted time is finite and positive", "[robust]") {
    struct Rate {
        const char* key;
        double lo, hi;
    };
    for (const Rate& r : {Rate{"hbm_gbps", limits::kMinGbps, limits::kMaxHbmGbps},
                          Rate{"sram_gbps", limits::kMinGbps, limits::kMaxOnChipGbps},
                          Rate{"l2_gbps", limits::kMinGbps, limits::kMaxOnChipGbps},
                          Rate{"matmul_tflops", limits::kMinTflops, limits::kMaxTflops},
                          Rate{"vector_tflops", limits::kMinTflops, limits::kMaxTflops}}) {
        INFO(r.key);
        for (double v : {r.lo, r.hi}) {
            std::ostringstream os;
            os << r.key << "=" << v;
            Scenario s = scenarios::resolve_scenario("gpt2-medium");
            scenarios::apply_settings(s, {os.str(), "numerics=false"});
            const auto res = scenarios::run_scenario(s);
            for (const auto& run : res.runs) {
                CHECK(std::isfinite(run.cost.total_s));
                CHECK(run.cost.total_s > 0);
            }
        }
        for (double v : {r.lo / 2, r.hi * 2, 1e308, 1e-310}) {
            std::ostringstream os;
            os << r.key << "=" << v;
            CHECK_THAT(error_of({os.str()}), Catch::Contains("key '" + std::string(r.key) + "'") &&
                                                 Catch::Contains("outside the physical range"));
        }
    }
}

TEST_CASE("robust: text values are UTF-8 without control characters", "[robust]") {
    CHECK(
        error_of({"name=caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80"}).empty());  // 2-, 3- and 4-byte sequences
    CHECK_THAT(error_of({"name=a\x1b[2Jb"}), Catch::Contains("U+001B at byte 1"));
    CHECK_THAT(error_of({"description=line\x7f"}), Catch::Contains("U+007F"));
    CHECK_THAT(error_of({"name=\xff"}), Catch::Contains("not valid UTF-8"));
    CHECK_THAT(error_of({"name=ab\xc3"}), Catch::Contains("not valid UTF-8 text (byte 2)"));  // cut short
    CHECK_THAT(error_of({"published_note=\xe2\x28\xa1"}), Catch::Contains("not valid UTF-8"));
    CHECK_THROWS_WITH(scenarios::parse_scenario_toml("name = \"a\\u0007\"\n", "t.toml"),
                      Catch::Contains("t.toml:1: key 'name': contains the control character U+0007"));
    // Lists too: every item.
    CHECK_THAT(error_of({"algorithms=flash,fl\x01"
                         "ash2"}),
               Catch::Contains("key 'algorithms'"));
}

TEST_CASE("robust: toml++ 3.3's whitespace test is known to break on exactly three ranges",
          "[robust][toml]") {
    // The ranges, derived by hand from unicode_autogenerated.h: buckets of 0x3FA codepoints from
    // U+00A0; the mask 0x7FFFFFFFFFFFF75E clears buckets 0, 5, 7, 11 and 63; the switch answers 5 and
    // 7; U+00A0, U+3000 and U+FEFF are answered before it. Bucket 0 is U+00A0..U+0499, 11 is
    // U+2C5E..U+3057, 63 is U+FB26..U+FF1F (capped at U+FEFF, the last codepoint the test handles).
    auto breaks = scenarios::toml_whitespace_test_breaks;
    for (char32_t c : {0xA1, 0xA7, 0xE9, 0x32A, 0x499, 0x2C5E, 0x2E80, 0x3001, 0x3057, 0xFB26, 0xFEFE}) {
        INFO(std::hex << static_cast<unsigned>(c));
        CHECK(breaks(c));
    }
    for (char32_t c : {0x20, 0x7E, 0x9F, 0xA0, 0x49A, 0x1680, 0x2000, 0x2014, 0x2C5D, 0x3000, 0x3058, 0xFB25,
                       0xFEFF, 0xFF00, 0x1F600}) {
        INFO(std::hex << static_cast<unsigned>(c));
        CHECK_FALSE(breaks(c));
    }
    std::int64_t count = 0;
    for (char32_t c = 0; c < 0x110000; ++c) count += breaks(c) ? 1 : 0;
    CHECK(count == (0x499 - 0xA1 + 1) + (0x3057 - 0x2C5E + 1 - 1) + (0xFEFE - 0xFB26 + 1));
}

TEST_CASE(
    "robust: the toml++ screen refuses the inputs that reach its bugs and nothing TOML allows elsewhere",
    "[robust][toml]") {
    // Issue 294, 190, 295 and the common forms of 295.
    CHECK_THAT(guard("[&"), Catch::StartsWith("1:2: malformed TOML: a table header needs a key name"));
    CHECK_THAT(guard("x = 1\n  [[ %a]]\n"), Catch::StartsWith("2:6:"));
    CHECK_THAT(guard("name = \"\"\"\\\n\xc2\xa7\"\"\"\n"),
               Catch::StartsWith("2:1: the character U+00A7 after a backslash"));
    CHECK_THAT(guard("name = \"\"\"a\\   \n\n   \xc3\xa9\"\"\"\n"),
               Catch::StartsWith("3:4: the character U+00E9"));
    CHECK_THAT(guard("name = \"\"\"\\\xc3\xa9\"\"\"\n"),
               Catch::StartsWith("1:12: the character U+00E9 after a backslash"));
    CHECK_THAT(guard("\xcc\xaa"), Catch::StartsWith("1:1: the character U+032A outside a string"));
    CHECK_THAT(guard("\xc3\xa9 = 1\n"), Catch::StartsWith("1:1: the character U+00E9 outside a string"));
    CHECK_THAT(guard("seq_len = 16\xc3\xa9\n"), Catch::StartsWith("1:13:"));
    CHECK_THAT(guard("a = [1,\n\xe3\x80\x81]\n"), Catch::StartsWith("2:1: the character U+3001"));
    // Found by the fuzzer: a bare value runs on through a quote ("16\"A100-4\xd0\xb5B\"" is scanned as one
    // value), so the character is tested although it looks like it is in a string.
    CHECK_THAT(guard("heads = 16\"A100-4\xd0\xb5"
                     "B\"\n"),
               Catch::StartsWith("1:18: the character U+0435 outside a string"));
    CHECK_THAT(guard("t = 1979-05-27 07\"\xc3\xa9\"\n"), Catch::StartsWith("1:19: the character U+00E9"));
    // Found by the fuzzer next: brackets, braces and '=' do not end a bare value either.
    CHECK_THAT(guard("seq_len = 16384ooo{\"B\xc3\xa9\"}\n"), Catch::StartsWith("1:22: the character U+00E9"));
    CHECK_THAT(guard("a = 1[\"\xc3\xa9\"]\n"), Catch::StartsWith("1:8:"));
    CHECK_THAT(guard("a = tru=\"\xc3\xa9\"\n"), Catch::StartsWith("1:10:"));
    // ... while keys end at the first character that is not a key's, unasked: no space needed.
    CHECK(guard("name=\"caf\xc3\xa9\"\n").empty());
    CHECK(guard("a = {b=\"\xc3\xa9\", c=1, d = [1,\"\xc3\xa9\"]}\n").empty());
    CHECK(guard("t = 1979-05-27 07:32:00 # \xc3\xa9\n").empty());
    // Safe: inside one-line strings (basic and literal, keys too), comments, multi-line strings away
    // from a backslash; non-breaking codepoints anywhere; headers with keys; arrays over lines.
    for (const char* ok :
         {"name = \"caf\xc3\xa9\"\n", "name = 'caf\xc3\xa9'\n", "# caf\xc3\xa9\n", "a = 1 # \xc3\xa9\n",
          "\"caf\xc3\xa9\" = 1\n", "a = \"\"\"caf\xc3\xa9\n\xc3\xa9\"\"\"\n", "a = '''\\\n\xc3\xa9'''\n",
          "a = \"\"\"\\\n  x\xc3\xa9\"\"\"\n", "a = \"\\\"\xc3\xa9\"\n", "a = \"\"\"\"\"\xc3\xa9\"\"\"\n",
          "a = \"\"\"x\"\"\"\"\" # \xc3\xa9\n", "[a]\n[[b]]\n[ \"c\" ]\n['d']\n",
          "algorithms = [\n  \"flash\",\n  [1],\n]\n", "x = \xe2\x80\x83\n", "a = [ [1], [2] ]\n", ""}) {
        INFO(ok);
        CHECK(guard(ok).empty());
    }
    // Every built-in scenario passes untouched.
    for (const auto& b : scenarios::builtin_scenarios()) {
        INFO(b.id);
        CHECK(guard(b.toml).empty());
    }
    // Through the loader: the file's name and the position.
    CHECK_THROWS_WITH(scenarios::parse_scenario_toml("[&", "bad.toml"),
                      Catch::StartsWith("bad.toml:1:2: malformed TOML"));
}

TEST_CASE("robust: reads stop one byte past their limit", "[robust]") {
    std::istringstream exact(std::string(1000, 'x'));
    CHECK(scenarios::read_bounded(exact, 1000, "f", "the file").size() == 1000);
    std::istringstream over(std::string(1001, 'x'));
    CHECK_THROWS_WITH(scenarios::read_bounded(over, 1000, "f", "the file"),
                      Catch::Contains("f: the file is larger than 1000 bytes"));
    // A scenario file one byte over the cap, from a stream that never ends: refused, quickly.
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(scenarios::load_scenario_file("/dev/zero"),
                      Catch::Contains("larger than 1048576 bytes"));
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 5.0);
}

TEST_CASE("robust: mask JSON with hostile shapes is one clear error", "[robust][masks]") {
    auto parse = [](const std::string& text) {
        scenarios::MaskSpec spec;
        try {
            scenarios::parse_mask_json(spec, text, "m.json");
        } catch (const ScenarioError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK_THAT(parse(std::string(100000, '[')), Catch::Contains("nested deeper"));
    CHECK_THAT(parse("{\"BLOCK_SIZE\": 9223372036854775807, \"kv_num_blocks\": [1], \"kv_indices\": [[0]]}"),
               Catch::Contains("'BLOCK_SIZE'"));
    CHECK_THAT(parse("{\"BLOCK_SIZE\": -1, \"kv_num_blocks\": [1], \"kv_indices\": [[0]]}"),
               Catch::Contains("'BLOCK_SIZE'"));
    CHECK_THAT(parse("{\"BLOCK_SIZE\": 1, \"seq_lengths\": [1, 1048577], \"kv_num_blocks\": [1], "
                     "\"kv_indices\": [[0]]}"),
               Catch::Contains("'seq_lengths'"));
    CHECK_THAT(parse("{\"BLOCK_SIZE\": 4, \"kv_num_blocks\": [18446744073709551615], \"kv_indices\": [[0]]}"),
               Catch::Contains("'kv_num_blocks'[0]"));
    CHECK_THAT(parse("{\"BLOCK_SIZE\": 4, \"kv_num_blocks\": [1, 1], \"kv_indices\": [[0, 0], 7]}"),
               Catch::Contains("m.json"));
    CHECK_THAT(parse("[]"), Catch::Contains("the top level must be a JSON object"));
    // A valid one still parses: 2 x 2 blocks, the diagonal.
    CHECK(parse("{\"BLOCK_SIZE\": 4, \"kv_num_blocks\": [1, 1], \"kv_indices\": [[0, 0], [1, 0]]}").empty());
}

TEST_CASE(
    "robust: the work estimate follows the tilings, and the limit refuses with the estimate and the override",
    "[robust][work]") {
    // The classroom at N = 16, d = 4: every algorithm 4 x 4 tiles of 4 x 4 (standard 4 x 3 of 4 x 6).
    Scenario s = classroom();
    s.numerics = false;
    const auto w = scenarios::estimate_work(s, {});
    CHECK(w.tile_steps == 4 * 3 + 4 * 4 + 4 * 4);
    CHECK(w.numerics_flops == 0);
    // With numerics on 2 heads: twice the tiles; 4 N^2 d per algorithm and twice 4 N^2 d (fp64) per head.
    scenarios::apply_settings(s, {"numerics=true", "batch=2", "numerics_heads=2"});
    const auto wn = scenarios::estimate_work(s, {});
    CHECK(wn.tile_steps == 2 * w.tile_steps);
    CHECK(wn.numerics_flops == Approx(2.0 * (3 * 4 + 2 * 4) * 16.0 * 16.0 * 4.0));
    // The run: N = 2^20, d = 1, count-only. Hours; refused; the message has the estimate, the
    // limit and the override. Unlimited (0), the check passes.
    Scenario big = classroom();
    scenarios::apply_settings(big, {"seq_len=1048576", "head_dim=1", "numerics=false"});
    const auto wb = scenarios::estimate_work(big, {});
    CHECK(wb.seconds() > 3600);
    CHECK_THROWS_WITH(scenarios::check_work(wb, scenarios::kDefaultMaxWorkSeconds),
                      Catch::Contains("tile steps") && Catch::Contains(" h on a classroom machine") &&
                          Catch::Contains("above the limit of 10 min") && Catch::Contains("--allow-long"));
    CHECK_NOTHROW(scenarios::check_work(wb, 0));
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(scenarios::run_scenario(big), Catch::Contains("--allow-long"));
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 5.0);
    // A lowered limit refuses the classroom itself; lifted, it runs.
    scenarios::RunControls tight;
    tight.max_work_seconds = 1e-9;
    CHECK_THROWS_WITH(scenarios::run_scenario(classroom(), tight),
                      Catch::Contains("above the limit of 0.0 s"));
    tight.max_work_seconds = 0;
    CHECK(scenarios::run_scenario(classroom(), tight).runs.size() == 3);
    // A sweep is judged as a whole: each point alone is under the limit, the sum is not.
    scenarios::RunControls sweep_limit;
    sweep_limit.max_work_seconds = 1.5 * w.seconds();
    CHECK_THROWS_WITH(scenarios::run_sweep(classroom(), "seed", {"1", "2"}, false, sweep_limit),
                      Catch::Contains("above the limit"));
}

TEST_CASE("robust: every built-in scenario is far below the work limit", "[robust][work]") {
    for (const auto& b : scenarios::builtin_scenarios()) {
        INFO(b.id);
        Scenario s = scenarios::resolve_scenario(std::string(b.id));
        s.problem = scenarios::problem_of(s);
        const auto w = scenarios::estimate_work(s, {});
        CHECK(w.seconds() < scenarios::kDefaultMaxWorkSeconds / 10);
    }
}

TEST_CASE("robust: cancel reaches inside a long run, and its progress is reported", "[robust][work]") {
    // About 15 s of count-only work on the classroom machine; cancelled after 0.3 s.
    Scenario s = classroom();
    scenarios::apply_settings(s, {"seq_len=16384", "head_dim=1", "numerics=false"});
    std::atomic<bool> cancel{false};
    std::atomic<std::int64_t> last_done{0}, estimated{0};
    std::atomic<bool> increasing{true};
    scenarios::RunControls c;
    c.cancel = &cancel;
    c.step_progress = [&](std::int64_t done, std::int64_t est) {  // on the run's thread: no CHECK here
        if (done <= last_done.load()) increasing = false;
        last_done = done;
        estimated = est;
    };
    auto job = std::async(std::launch::async, [&] { return scenarios::run_scenario(s, c); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(job.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 2.0);
    CHECK_THROWS_WITH(job.get(), Catch::Contains("cancelled"));
    CHECK(increasing.load());
    CHECK(last_done.load() > 0);
    CHECK(estimated.load() > last_done.load());
}

TEST_CASE("robust: a capped trace says what it dropped", "[robust]") {
    scenarios::RunControls c;
    c.trace = true;
    c.max_trace_events = 10;
    const auto r = scenarios::run_scenario(classroom(), c);
    for (const auto& run : r.runs) {
        REQUIRE(run.trace);
        CHECK(run.trace->events().size() == 10);
        CHECK(run.trace->truncated());
        CHECK(run.trace->max_events() == 10);
        CHECK(run.trace->dropped_events() > 0);
        // Dropping changes no count.
        CHECK(run.counts_match_closed_form());
    }
}
