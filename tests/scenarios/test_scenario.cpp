// scenarios/scenario.h: built-ins, the default, the key table from TOML and from text, and bad input:
// every error is one ScenarioError whose message names the key (or the line) and the fix.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "kernels/registry.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

using namespace tilesim;
using scenarios::Scenario;
using scenarios::ScenarioError;

namespace {

// Parses `toml` and expects a ScenarioError whose message contains every one of `parts`.
void expect_error(const std::string& toml, std::initializer_list<std::string> parts) {
    INFO("TOML:\n" << toml);
    try {
        scenarios::parse_scenario_toml(toml, "bad.toml");
        FAIL("no error");
    } catch (const ScenarioError& e) {
        const std::string msg = e.what();
        INFO("message: " << msg);
        for (const auto& p : parts) CHECK_THAT(msg, Catch::Contains(p));
        CHECK(msg.find('\n') == std::string::npos);  // one line
    }
}

void expect_setting_error(std::string_view key, std::string_view value,
                          std::initializer_list<std::string> parts) {
    Scenario s = scenarios::default_scenario();
    INFO(key << " = " << value);
    try {
        scenarios::apply_setting(s, key, value);
        scenarios::validate(s);
        FAIL("no error");
    } catch (const ScenarioError& e) {
        const std::string msg = e.what();
        INFO("message: " << msg);
        for (const auto& p : parts) CHECK_THAT(msg, Catch::Contains(p));
    }
}

}  // namespace

TEST_CASE("default scenario is the paper's Figure 2 workload", "[scenarios]") {
    const Scenario s = scenarios::default_scenario();
    CHECK(s.name == "gpt2-medium");
    CHECK(s.problem.batch == 64);
    CHECK(s.problem.heads == 16);
    CHECK(s.problem.N_kv == 1024);
    CHECK(s.problem.d == 64);
    CHECK(s.problem.dtype == sim::Dtype::fp16);
    CHECK(s.hardware_name == "A100-40GB");
    const auto a100 = *sim::find_preset("A100-40GB");
    CHECK(s.hardware.sram_bytes == a100.sram_bytes);
    CHECK(s.hardware.hbm_bytes_per_s == a100.hbm_bytes_per_s);
    CHECK(s.hardware.l2_bytes == a100.l2_bytes);
    CHECK(s.tiling.B_r == 0);  // the paper's rule
    CHECK(s.tiling.B_c == 0);
    CHECK(s.algorithms == std::vector<std::string>{"standard",
                                                            "flash",
                                                            "flash2"});
    CHECK(s.numerics);
    CHECK(s.numerics_heads == 1);
    CHECK(s.extra_passes == 0);
    CHECK_NOTHROW(scenarios::validate(s));
}

TEST_CASE("every built-in scenario parses, validates, matches its file, and runs with exact counts",
          "[scenarios]") {
    const auto& all = scenarios::builtin_scenarios();
    REQUIRE(all.size() >= 6);
    CHECK(all.front().id == "gpt2-medium");  // the default first
    std::set<std::string> ids;
    for (const auto& b : all) {
        INFO("built-in " << b.id);
        ids.insert(std::string(b.id));
        CHECK_FALSE(b.summary.empty());
        Scenario s;
        REQUIRE_NOTHROW(s = scenarios::resolve_scenario(std::string(b.id)));
        CHECK(s.name == b.id);
        CHECK_NOTHROW(scenarios::validate(s));
        // The embedded text is the file in scenarios/.
        const std::string path =
            std::string(TILESIM_SOURCE_DIR) + "/scenarios/" + std::string(b.id) + ".toml";
        REQUIRE(std::filesystem::exists(path));
        const Scenario f = scenarios::load_scenario_file(path);
        CHECK(f.problem.N_kv == s.problem.N_kv);
        CHECK(f.problem.d == s.problem.d);
        CHECK(f.problem.bh() == s.problem.bh());
        CHECK(f.hardware_name == s.hardware_name);
        CHECK(f.algorithms == s.algorithms);
        // Runs: every algorithm fits and its counts equal the closed form (count-only for speed).
        s.numerics = false;
        const auto r = scenarios::run_scenario(s);
        REQUIRE(r.runs.size() == s.algorithms.size() * scenarios::passes_of(s).size());
        for (const auto& run : r.runs) {
            INFO(run.key() << ": " << run.fit.reason);
            CHECK(run.fit.ok);
            CHECK(run.counts_match_closed_form());
        }
    }
    for (const char* id :
         {"gpt2-medium", "gpt2-medium-train", "classroom", "classroom-ragged", "block-size", "eager-pytorch",
          "long-context"}) {
        CHECK(ids.count(id) == 1);
    }
    // Every file in scenarios/ is embedded.
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(TILESIM_SOURCE_DIR) + "/scenarios")) {
        if (entry.path().extension() == ".toml") CHECK(ids.count(entry.path().stem().string()) == 1);
    }
}

TEST_CASE("resolve_scenario: built-in ids, file paths, and neither", "[scenarios]") {
    const auto dir =
        std::filesystem::temp_directory_path() / ("tilesim_test_resolve_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "mine.toml").string();
    {
        std::ofstream out(path);
        out << "hardware = \"T4\"\nseq_len = 100\nhead_dim = 16\nalgorithms = [\"flash2\"]\n";
    }
    const Scenario s = scenarios::resolve_scenario(path);
    CHECK(s.hardware_name == "T4");
    CHECK(s.problem.N_kv == 100);
    CHECK(s.problem.d == 16);
    CHECK(s.problem.batch == 1);  // unset keys keep the base values
    CHECK(s.algorithms == std::vector<std::string>{"flash2"});
    try {
        scenarios::resolve_scenario("gpt3");
        FAIL("no error");
    } catch (const ScenarioError& e) {
        CHECK_THAT(std::string(e.what()),
                   Catch::Contains("'gpt3'") && Catch::Contains("gpt2-medium") && Catch::Contains(".toml"));
    }
    const auto missing = (dir / "missing.toml").string();
    try {
        scenarios::resolve_scenario(missing);
        FAIL("no error");
    } catch (const ScenarioError& e) {
        CHECK_THAT(std::string(e.what()), Catch::Contains(missing) && Catch::Contains("cannot open"));
    }
    // A folder is not a scenario file (an ifstream opens it and reads nothing: it used to run the
    // base scenario as if it were an empty file).
    try {
        scenarios::resolve_scenario(dir.string() + "/");
        FAIL("no error");
    } catch (const ScenarioError& e) {
        CHECK_THAT(std::string(e.what()), Catch::Contains("folder") && Catch::Contains(".toml"));
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("TOML: every key of the table applies", "[scenarios]") {
    const Scenario s = scenarios::parse_scenario_toml(R"(
name = "n"
description = "d"
hardware = "H100-SXM"
batch = 2
heads = 3
seq_len = 77
head_dim = 8
dtype = "bf16"
block_rows = 16
block_cols = "auto"
algorithms = ["flash2", "standard"]
numerics = false
numerics_heads = 4
seed = 9
extra_passes = 2
sram_bytes = 50000
l2_bytes = 0
sm_count = 7
hbm_gbps = 1000
sram_gbps = 2000.5
l2_gbps = 3000
matmul_tflops = 100
vector_tflops = 10
)",
                                                      "all.toml");
    CHECK(s.name == "n");
    CHECK(s.description == "d");
    CHECK(s.hardware_name == "H100-SXM");
    CHECK(s.problem.batch == 2);
    CHECK(s.problem.heads == 3);
    CHECK(s.problem.N_kv == 77);
    CHECK(s.problem.d == 8);
    CHECK(s.problem.dtype == sim::Dtype::bf16);
    CHECK(s.tiling.B_r == 16);
    CHECK(s.tiling.B_c == 0);
    CHECK(s.algorithms ==
          std::vector<std::string>{"flash2", "standard"});
    CHECK_FALSE(s.numerics);
    CHECK(s.numerics_heads == 4);
    CHECK(s.seed == 9);
    CHECK(s.extra_passes == 2);
    CHECK(s.hardware.sram_bytes == 50000);
    CHECK(s.hardware.l2_bytes == 0);
    CHECK(s.hardware.sm_count == 7);
    CHECK(s.hardware.hbm_bytes_per_s == Approx(1e12));
    CHECK(s.hardware.sram_bytes_per_s == Approx(2.0005e12));
    CHECK(s.hardware.l2_bytes_per_s == Approx(3e12));
    CHECK(s.hardware.matmul_flops_per_s == Approx(1e14));
    CHECK(s.hardware.vector_flops_per_s == Approx(1e13));
    // Every key used above is documented for `tilesim keys` (more keys may be added later).
    std::set<std::string> documented;
    for (const auto& k : scenarios::key_docs()) {
        documented.insert(std::string(k.key));
        CHECK_FALSE(k.doc.empty());
        CHECK_FALSE(k.type.empty());
    }
    for (const char* k :
         {"name",           "description", "hardware",     "batch",         "heads",        "seq_len",
          "head_dim",       "dtype",       "block_rows",   "block_cols",    "algorithms",   "numerics",
          "numerics_heads", "seed",        "extra_passes", "sram_bytes",    "l2_bytes",     "sm_count",
          "hbm_gbps",       "sram_gbps",   "l2_gbps",      "matmul_tflops", "vector_tflops"}) {
        CHECK(documented.count(k) == 1);
    }
}

TEST_CASE("TOML: hardware applies first whatever its position, so overrides survive", "[scenarios]") {
    const Scenario s = scenarios::parse_scenario_toml("sram_bytes = 1000\nhardware = \"T4\"\n", "order.toml");
    CHECK(s.hardware_name == "T4");
    CHECK(s.hardware.sram_bytes == 1000);
    CHECK(s.hardware.hbm_bytes_per_s == Approx(320e9));
    // --set does the same.
    Scenario t = scenarios::default_scenario();
    scenarios::apply_settings(t, {"sram_bytes=2048", "hardware=T4"});
    CHECK(t.hardware_name == "T4");
    CHECK(t.hardware.sram_bytes == 2048);
}

TEST_CASE("TOML: a single algorithm name is a one-item list, an empty file is the base scenario",
          "[scenarios]") {
    const Scenario s = scenarios::parse_scenario_toml("algorithms = \"flash\"\n", "one.toml");
    CHECK(s.algorithms == std::vector<std::string>{"flash"});
    const Scenario e = scenarios::parse_scenario_toml("", "empty.toml");
    CHECK(e.problem.N_kv == 1024);
    CHECK(e.hardware_name == "A100-40GB");
}

TEST_CASE("bad TOML: malformed syntax names the file, line and the fix", "[scenarios][errors]") {
    expect_error("seq_len = 128\nhead_dim = = 4\n", {"bad.toml:2:", "malformed TOML", "fix the syntax"});
    expect_error("seq_len = 128\nseq_len = 256\n", {"bad.toml:2:", "malformed TOML"});  // duplicate key
    expect_error("name = \"unterminated\n", {"bad.toml:1:", "malformed TOML"});
    expect_error("[unclosed\n", {"bad.toml:1:", "malformed TOML"});
}

TEST_CASE("bad TOML: unknown keys say did-you-mean and point to `tilesim keys`", "[scenarios][errors]") {
    expect_error("seq_len = 128\nseqlen = 5\n",
                 {"bad.toml:2", "unknown key 'seqlen'", "did you mean 'seq_len'", "tilesim keys"});
    expect_error("hed_dim = 5\n", {"unknown key 'hed_dim'", "did you mean 'head_dim'"});
    expect_error("block_row = 5\n", {"did you mean 'block_rows'"});
    // Far from every key: no guess, still the pointer to the list.
    expect_error("zzzzzzzzzzzz = 1\n", {"unknown key 'zzzzzzzzzzzz'", "tilesim keys"});
}

TEST_CASE("bad TOML: wrong types name the key, the expected type and what was given", "[scenarios][errors]") {
    expect_error("seq_len = \"1024\"\n",
                 {"bad.toml:1", "key 'seq_len'", "expected integer", "string \"1024\""});
    expect_error("seq_len = 1024.0\n", {"key 'seq_len'", "expected integer", "number 1024"});
    expect_error("batch = true\n", {"key 'batch'", "expected integer"});
    expect_error("numerics = \"yes\"\n", {"key 'numerics'", "expected true/false"});
    expect_error("hbm_gbps = \"fast\"\n", {"key 'hbm_gbps'", "expected number"});
    expect_error("hardware = 5\n", {"key 'hardware'", "expected string", "integer 5"});
    expect_error("algorithms = [1, 2]\n", {"key 'algorithms'", "expected list of strings"});
    expect_error("block_rows = \"big\"\n", {"key 'block_rows'", "expected integer"});
    expect_error("dtype = [\"fp16\"]\n", {"key 'dtype'", "expected string", "an array"});
}

TEST_CASE("bad TOML: zero, negative and out-of-range values name the key and a valid example",
          "[scenarios][errors]") {
    expect_error("seq_len = 0\n", {"key 'seq_len'", "positive integer", "got 0", "seq_len = 1024"});
    expect_error("head_dim = -4\n", {"key 'head_dim'", "positive", "got -4"});
    expect_error("batch = 0\n", {"key 'batch'", "positive"});
    expect_error("heads = -1\n", {"key 'heads'", "positive"});
    expect_error("sram_bytes = 0\n", {"key 'sram_bytes'", "positive"});
    expect_error("sm_count = 0\n", {"key 'sm_count'", "positive"});
    expect_error("numerics_heads = 0\n", {"key 'numerics_heads'", "positive"});
    expect_error("hbm_gbps = 0\n", {"key 'hbm_gbps'", "positive number"});
    expect_error("matmul_tflops = -1.5\n", {"key 'matmul_tflops'", "positive number"});
    expect_error("block_rows = -1\n", {"key 'block_rows'", "'auto'"});
    expect_error("seed = -1\n", {"key 'seed'", ">= 0"});
    expect_error("l2_bytes = -1\n", {"key 'l2_bytes'", ">= 0"});
    expect_error("extra_passes = 4\n", {"key 'extra_passes'", "0..3", "got 4"});
    expect_error("extra_passes = -1\n", {"key 'extra_passes'", "0..3"});
    expect_error("seq_len = 2000000\n", {"key 'seq_len'", "limit", "smaller seq_len"});
    expect_error("head_dim = 2000\n", {"key 'head_dim'", "limit"});
    expect_error("batch = 2048\nheads = 1024\n", {"'batch' x 'heads'", "limit"});
    expect_error("batch = 1000\nheads = 1000\nseq_len = 1048576\n", {"64 bits", "reduce"});
    expect_error("sram_bytes = 2000000000\n", {"key 'sram_bytes'", "limit"});
    expect_error("batch = 1\nheads = 2\nnumerics_heads = 3\n",
                 {"key 'numerics_heads'", "3", "batch x heads = 2"});
}

TEST_CASE("bad TOML: unknown names list the valid ones, duplicates and empty lists", "[scenarios][errors]") {
    expect_error("dtype = \"int8\"\n", {"key 'dtype'", "'int8'", "fp16, bf16, fp32, fp64, fp8e4m3 or fp8e5m2"});
    expect_error("hardware = \"V100\"\n",
                 {"bad.toml:1", "key 'hardware'", "'V100'", "A100-40GB", "classroom"});
    expect_error("algorithms = [\"flash3\"]\n", {"key 'algorithms'", "'flash3'", "standard, flash, flash2"});
    expect_error("algorithms = [\"flash\", \"standard\", \"flash\"]\n",
                 {"key 'algorithms'", "'flash'", "twice"});
    expect_error("algorithms = []\n", {"key 'algorithms'", "at least one"});
}

TEST_CASE("bad TOML: sections are refused with the fix", "[scenarios][errors]") {
    expect_error("[hardware]\nsram_bytes = 1024\n", {"bad.toml:1", "key 'hardware'"});
    expect_error("seq_len = 64\n[problem]\nhead_dim = 8\n",
                 {"key 'problem'", "sections are not used", "top level"});
}

TEST_CASE("apply_setting from text: integers, auto, bools, lists, numbers and their errors", "[scenarios]") {
    Scenario s = scenarios::default_scenario();
    scenarios::apply_setting(s, "seq_len", "4096");
    CHECK(s.problem.N_kv == 4096);
    scenarios::apply_setting(s, " head_dim ", " 32 ");  // spaces around key and value are trimmed
    CHECK(s.problem.d == 32);
    scenarios::apply_setting(s, "block_cols", "128");
    CHECK(s.tiling.B_c == 128);
    scenarios::apply_setting(s, "block_cols", "auto");
    CHECK(s.tiling.B_c == 0);
    scenarios::apply_setting(s, "block_rows", "0");
    CHECK(s.tiling.B_r == 0);
    for (const char* t : {"true", "1", "yes", "on"}) {
        scenarios::apply_setting(s, "numerics", "false");
        scenarios::apply_setting(s, "numerics", t);
        CHECK(s.numerics);
    }
    for (const char* f : {"false", "0", "no", "off"}) {
        scenarios::apply_setting(s, "numerics", "true");
        scenarios::apply_setting(s, "numerics", f);
        CHECK_FALSE(s.numerics);
    }
    scenarios::apply_setting(s, "algorithms", "standard, flash");
    CHECK(s.algorithms ==
          std::vector<std::string>{"standard", "flash"});
    scenarios::apply_setting(s, "algorithms", "flash2");
    CHECK(s.algorithms == std::vector<std::string>{"flash2"});
    scenarios::apply_setting(s, "hbm_gbps", "1.5e3");
    CHECK(s.hardware.hbm_bytes_per_s == Approx(1.5e12));
    scenarios::apply_setting(s, "hardware", "T4");
    CHECK(s.hardware.sram_bytes == 64 * 1024);
    scenarios::apply_setting(s, "dtype", "fp32");
    CHECK(s.problem.dtype == sim::Dtype::fp32);
    scenarios::apply_assignment(s, "seq_len=100");
    CHECK(s.problem.N_kv == 100);

    expect_setting_error("seq_len", "12x", {"key 'seq_len'", "expected an integer", "'12x'"});
    expect_setting_error("seq_len", "", {"key 'seq_len'", "expected an integer"});
    expect_setting_error("seq_len", "1.5", {"key 'seq_len'", "expected an integer"});
    // Beyond 64 bits is a number out of range, not "not an integer" (issue 11).
    expect_setting_error("seq_len", "99999999999999999999", {"key 'seq_len'", "out of range", "64-bit"});
    expect_setting_error("batch", "-3", {"key 'batch'", "positive"});
    expect_setting_error("block_rows", "automatic", {"key 'block_rows'", "expected an integer"});
    expect_setting_error("numerics", "maybe", {"key 'numerics'", "expected true or false", "'maybe'"});
    expect_setting_error("hbm_gbps", "fast", {"key 'hbm_gbps'", "expected a number", "'fast'"});
    expect_setting_error("hbm_gbps", "inf", {"key 'hbm_gbps'", "positive number"});
    expect_setting_error("algorithms", "flash,flash", {"key 'algorithms'", "twice"});
    expect_setting_error("algorithms", " , ", {"key 'algorithms'", "at least one"});
    expect_setting_error("hardware", "a100", {"key 'hardware'", "A100-40GB"});
    expect_setting_error("seqlen", "5", {"unknown key 'seqlen'", "did you mean 'seq_len'"});
    expect_setting_error("numerics_heads", "2000", {"key 'numerics_heads'", "exceeds"});

    Scenario t = scenarios::default_scenario();
    for (const char* bad : {"seq_len", "=5", "seq_len:5"}) {
        INFO(bad);
        try {
            scenarios::apply_assignment(t, bad);
            FAIL("no error");
        } catch (const ScenarioError& e) {
            CHECK_THAT(std::string(e.what()),
                       Catch::Contains("expected key=value") && Catch::Contains("--set"));
        }
    }
}

TEST_CASE("apply_settings validates after applying all, so a bad combination is caught", "[scenarios]") {
    Scenario s = scenarios::default_scenario();
    CHECK_THROWS_AS(scenarios::apply_settings(s, {"batch=1", "heads=1", "numerics_heads=2"}), ScenarioError);
    Scenario t = scenarios::default_scenario();
    // In order: numerics_heads = 2 is fine once heads = 2 also applies.
    CHECK_NOTHROW(scenarios::apply_settings(t, {"batch=1", "numerics_heads=2", "heads=2"}));
}

TEST_CASE("docs/scenarios.md lists every key with its documentation and every built-in scenario", "[scenarios][docs]") {
    std::ifstream in(std::string(TILESIM_SOURCE_DIR) + "/docs/scenarios.md");
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string doc = ss.str();
    for (const auto& k : scenarios::key_docs()) {
        INFO("key " << k.key);
        CHECK_THAT(doc, Catch::Contains("| `" + std::string(k.key) + "` | " + std::string(k.type) + " | " +
                                        std::string(k.doc) + " |"));
    }
    for (const auto& b : scenarios::builtin_scenarios()) {
        INFO("built-in " << b.id);
        CHECK_THAT(doc, Catch::Contains("| `" + std::string(b.id) + "` |"));
    }
}
