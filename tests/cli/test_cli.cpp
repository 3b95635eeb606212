// The real `tilesim` binary (TILESIM_CLI_PATH), run through the shell: exit codes, stdout, stderr and
// the files it writes. Bad input: a non-zero exit, one "error: ..." line naming the key and the fix,
// nothing on stdout, and an output file given with -o neither created nor truncated.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "kernels/registry.h"
#include "scenarios/scenario.h"
#include "sim/hardware.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Result {
    int rc = -1;
    std::string out, err;
    std::vector<std::string> err_lines() const {
        std::vector<std::string> lines;
        std::istringstream is(err);
        for (std::string l; std::getline(is, l);) lines.push_back(l);
        return lines;
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A scratch folder per test process (ctest runs tests in parallel).
class Scratch {
  public:
    Scratch() {
        static int n = 0;
        dir_ = fs::temp_directory_path() /
               ("tilesim_cli_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
        fs::create_directories(dir_);
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    fs::path file(const std::string& name, const std::string& content) const {
        const fs::path p = dir_ / name;
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }
    fs::path path(const std::string& name) const { return dir_ / name; }

    // Runs `tilesim ARGS` with stdout and stderr captured in files.
    Result run(const std::string& args) const {
        const fs::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
        const std::string cmd = std::string("'") + TILESIM_CLI_PATH + "' " + args + " > '" + out.string() +
                                "' 2> '" + err.string() + "' < /dev/null";
        const int status = std::system(cmd.c_str());
        Result r;
        r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        r.out = slurp(out);
        r.err = slurp(err);
        return r;
    }

  private:
    fs::path dir_;
};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream is(text);
    for (std::string l; std::getline(is, l);) lines.push_back(l);
    return lines;
}

// A failing command must leave an existing -o file exactly as it was, create no new one and leave no
// temporary behind; stdout stays empty.
void expect_clean_failure(const Scratch& s, const std::string& args,
                          std::initializer_list<std::string> words) {
    const std::string original = "precious content\nline 2\n";
    const fs::path keep = s.file("keep.json", original);
    const fs::path fresh = s.path("fresh.json");
    fs::remove(fresh);
    INFO("tilesim " << args);
    const Result r1 = s.run(args + " -o '" + keep.string() + "'");
    INFO("stderr: " << r1.err);
    CHECK(r1.rc != 0);
    CHECK(r1.out.empty());
    CHECK(slurp(keep) == original);
    CHECK_FALSE(fs::exists(keep.string() + ".tmp-tilesim"));
    const Result r2 = s.run(args + " -o '" + fresh.string() + "'");
    CHECK(r2.rc != 0);
    CHECK_FALSE(fs::exists(fresh));
    // One line, "error: ...", naming what is wrong and the fix.
    const auto lines = r1.err_lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind("error: ", 0) == 0);
    for (const auto& w : words) CHECK_THAT(lines[0], Catch::Contains(w));
}

}  // namespace

TEST_CASE("cli: `tilesim run` prints the standard-vs-FlashAttention comparison of the default", "[cli]") {
    Scratch s;
    const auto t0 = std::chrono::steady_clock::now();
    const Result r = s.run("run");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO(r.err);
    CHECK(r.rc == 0);
    CHECK(r.err.empty());
    for (const char* w : {"Standard attention", "FlashAttention (Algorithm 1)", "FlashAttention-2",
                          "gpt2-medium", "A100-40GB", "N = 1024", "d = 64", "9.13 GB"}) {
        CHECK_THAT(r.out, Catch::Contains(w));
    }
    CHECK(r.out.find(" NO ") == std::string::npos);  // every count equals its closed form
    // The issue asks for an answer within a couple of seconds; allow a loaded test machine 5x, and a
    // sanitizer build (Debug, ASan + UBSan: measured 10 s on a loaded two-core machine) 6x more.
#if defined(__SANITIZE_ADDRESS__)
    CHECK(secs < 60.0);
#else
    CHECK(secs < 10.0);
#endif
}

TEST_CASE("cli: --format json parses and follows the contract", "[cli][json]") {
    Scratch s;
    const Result r = s.run("run --format json");
    REQUIRE(r.rc == 0);
    const json j = json::parse(r.out);
    const auto& sc = j.at("scenario");
    for (const char* k : {"batch", "heads", "seq_len", "head_dim", "dtype", "hardware", "sram_bytes",
                          "block_rows", "block_cols"}) {
        CHECK(sc.contains(k));
    }
    CHECK(sc["batch"] == 64);
    CHECK(sc["heads"] == 16);
    CHECK(sc["seq_len"] == 1024);
    CHECK(sc["head_dim"] == 64);
    CHECK(sc["dtype"] == "fp16");
    CHECK(sc["hardware"] == "A100-40GB");
    CHECK(sc["sram_bytes"] == 196608);
    REQUIRE(j.at("runs").size() == 3);
    std::set<std::string> algs;
    for (const auto& run : j["runs"]) {
        algs.insert(run.at("algorithm").get<std::string>());
        CHECK(run.at("pass") == "forward");
        const auto& hbm = run.at("hbm");
        for (const char* k : {"read_bytes", "write_bytes", "read_elements", "write_elements"}) {
            CHECK(hbm.at(k).is_number_integer());
        }
        // fp16: 2 bytes per element, except the fp32 statistics l, m, L.
        std::int64_t stat = 0, r_sum = 0;
        for (const auto& [name, t] : hbm.at("by_tensor").items()) {
            CHECK(t.at("read_elements").is_number_integer());
            CHECK(t.at("write_elements").is_number_integer());
            r_sum += t["read_elements"].get<std::int64_t>();
            if (name == "l" || name == "m" || name == "L") stat += t["read_elements"].get<std::int64_t>();
        }
        CHECK(r_sum == hbm["read_elements"].get<std::int64_t>());
        CHECK(hbm["read_bytes"].get<std::int64_t>() == 2 * (r_sum - stat) + 4 * stat);
        CHECK(run.at("sram").at("capacity_bytes") == 196608);
        CHECK(run["sram"].at("peak_bytes").get<std::int64_t>() <= 196608);
        CHECK(run.at("flops").get<std::int64_t>() > 0);
        CHECK(run.at("predicted_ms").get<double>() > 0);
        CHECK(run.at("max_abs_error").is_number());
        // fp16 rounding emulated (the default): a few unit roundoffs u = 2^-11 of |O| <= max |V|; a wrong
        // result is off by ~0.1.
        CHECK(run["max_abs_error"].get<double>() <= 4e-3);
        CHECK(run.at("rmse").get<double>() <= run["max_abs_error"].get<double>());
        CHECK(run.at("closed_form").at("read_elements") == hbm["read_elements"]);
        CHECK(run["closed_form"].at("write_elements") == hbm["write_elements"]);
    }
    CHECK(algs == std::set<std::string>{"standard", "flash", "flash2"});
    // Count-only through --set: max_abs_error is null.
    const Result c = s.run("run --format json --set numerics=false");
    REQUIRE(c.rc == 0);
    const json counted = json::parse(c.out);  // named: a range-for over a temporary's member dangles
    for (const auto& run : counted["runs"]) CHECK(run["max_abs_error"].is_null());
}

TEST_CASE("cli: --format csv, --set narrows algorithms, -o writes the same text to a file", "[cli]") {
    Scratch s;
    const Result r = s.run("run classroom --format csv");
    REQUIRE(r.rc == 0);
    auto lines = lines_of(r.out);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].rfind("algorithm,fits,B_r,B_c,hbm_read_bytes", 0) == 0);
    CHECK(lines[1].rfind("standard,true,", 0) == 0);
    CHECK(lines[2].rfind("flash,true,", 0) == 0);
    CHECK(lines[3].rfind("flash2,true,", 0) == 0);
    // The classroom numbers of tests/kernels/test_counts_hand.cpp: standard reads 1088 x 4 B.
    CHECK(lines[1].rfind("standard,true,4,6,4352,2304,1088,576,", 0) == 0);

    const Result n = s.run("run classroom --format csv --set algorithms=flash2");
    REQUIRE(n.rc == 0);
    lines = lines_of(n.out);
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].rfind("flash2,true,", 0) == 0);

    const fs::path out = s.path("out.json");
    const Result o = s.run("run classroom --format json -o '" + out.string() + "'");
    REQUIRE(o.rc == 0);
    CHECK(o.out.empty());
    const Result direct = s.run("run classroom --format json");
    CHECK(slurp(out) == direct.out);
    CHECK_FALSE(fs::exists(out.string() + ".tmp-tilesim"));
}

TEST_CASE("cli: sweep --over seq_len=256,512,1024 --format csv has a row per (algorithm, value)",
          "[cli][sweep]") {
    Scratch s;
    const Result r = s.run("sweep --over seq_len=256,512,1024 --format csv");
    INFO(r.err);
    REQUIRE(r.rc == 0);
    const auto lines = lines_of(r.out);
    REQUIRE(lines.size() == 1 + 3 * 3);
    CHECK(lines[0].rfind("algorithm,seq_len,", 0) == 0);
    std::set<std::string> seen;
    for (std::size_t k = 1; k < lines.size(); ++k) {
        const auto comma = lines[k].find(',', lines[k].find(',') + 1);
        seen.insert(lines[k].substr(0, comma));
    }
    CHECK(seen == std::set<std::string>{"standard,256", "standard,512", "standard,1024", "flash,256",
                                        "flash,512", "flash,1024", "flash2,256", "flash2,512",
                                        "flash2,1024"});
    // The table names the slopes; JSON parses.
    const Result t = s.run("sweep --over seq_len=1024..4096");
    REQUIRE(t.rc == 0);
    CHECK_THAT(t.out, Catch::Contains("log-log slope"));
    const Result j = s.run("sweep classroom --over seq_len=8,16 --format json");
    REQUIRE(j.rc == 0);
    CHECK(json::parse(j.out)["points"].size() == 2);
}

TEST_CASE("cli: list and keys", "[cli]") {
    Scratch s;
    const Result l = s.run("list");
    REQUIRE(l.rc == 0);
    for (const auto& b : tilesim::scenarios::builtin_scenarios())
        CHECK_THAT(l.out, Catch::Contains(std::string(b.id)));
    for (const auto& h : tilesim::sim::hardware_presets()) CHECK_THAT(l.out, Catch::Contains(h.name));
    for (const auto* a : tilesim::kernels::definitions())
        CHECK_THAT(l.out, Catch::Contains(std::string(a->key)) && Catch::Contains(std::string(a->name)));
    const Result k = s.run("keys");
    REQUIRE(k.rc == 0);
    for (const auto& d : tilesim::scenarios::key_docs())
        CHECK_THAT(k.out, Catch::Contains(std::string(d.key)));
    CHECK(lines_of(k.out).size() == tilesim::scenarios::key_docs().size());
}

TEST_CASE("cli: bad --set values: one error line naming the key and the fix, -o file untouched",
          "[cli][errors]") {
    Scratch s;
    expect_clean_failure(s, "run --set seq_len=12x", {"seq_len", "expected an integer", "'12x'"});
    expect_clean_failure(s, "run --set seqlen=5", {"unknown key 'seqlen'", "did you mean 'seq_len'"});
    expect_clean_failure(s, "run --set seq_len=0", {"seq_len", "positive"});
    expect_clean_failure(s, "run --set dtype=int8", {"dtype", "fp16"});
    expect_clean_failure(s, "run --set hardware=V100", {"hardware", "A100-40GB"});
    expect_clean_failure(s, "run --set algorithms=flash3", {"algorithms", "standard, flash, flash2"});
    expect_clean_failure(s, "run --set numerics_heads=5000", {"numerics_heads", "5000"});
    expect_clean_failure(s, "run --set extra_passes=9", {"extra_passes", "0..3"});
    expect_clean_failure(s, "run --set seq_len", {"expected key=value"});
    expect_clean_failure(
        s, "run --format json --set seq_len=1048576 --set batch=1 --set heads=1 --set numerics=true",
        {"numerics=false"});
}

TEST_CASE("cli: bad scenario files: missing, malformed, unknown key, -o file untouched", "[cli][errors]") {
    Scratch s;
    expect_clean_failure(s, "run '" + s.path("nope.toml").string() + "'", {"nope.toml", "cannot open"});
    const fs::path bad = s.file("broken.toml", "seq_len = 64\nhead_dim = = 4\n");
    expect_clean_failure(s, "run '" + bad.string() + "'", {"broken.toml:2", "malformed TOML"});
    const fs::path unk = s.file("typo.toml", "seq_len = 64\nhed_dim = 4\n");
    expect_clean_failure(s, "run '" + unk.string() + "'",
                         {"typo.toml:2", "unknown key 'hed_dim'", "head_dim"});
    const fs::path typ = s.file("type.toml", "seq_len = \"64\"\n");
    expect_clean_failure(s, "run '" + typ.string() + "'", {"type.toml:1", "seq_len", "expected integer"});
    const fs::path sec = s.file("section.toml", "[problem]\nseq_len = 64\n");
    expect_clean_failure(s, "run '" + sec.string() + "'", {"problem", "sections"});
    expect_clean_failure(s, "run no-such-builtin", {"no-such-builtin", "gpt2-medium"});
    fs::create_directories(s.path("folder.toml"));
    expect_clean_failure(s, "run '" + s.path("folder.toml").string() + "'", {"folder.toml", "folder"});
}

TEST_CASE("cli: bad sweeps fail before writing anything", "[cli][errors]") {
    Scratch s;
    expect_clean_failure(s, "sweep --over seq_len=abc", {"seq_len", "'abc'"});
    expect_clean_failure(s, "sweep --over seq_len=10..5", {"--over", "lo <= hi"});
    expect_clean_failure(s, "sweep --over hardware=T4,H200", {"not a number"});
    expect_clean_failure(s, "sweep --over seq_len", {"--over", "key=v1,v2"});
}

TEST_CASE("cli: tiles that cannot fit fail `run` with the reason and the fix", "[cli][errors]") {
    Scratch s;
    // One algorithm: one line.
    expect_clean_failure(s, "run classroom --set algorithms=flash --set block_rows=4 --set block_cols=8",
                         {"flash", "544 B", "384 B", "fix"});
    // Three algorithms that do not fit: a line each, every one an error line.
    const Result r = s.run("run --set block_rows=1024 --set block_cols=1024");
    CHECK(r.rc != 0);
    CHECK(r.out.empty());
    const auto lines = r.err_lines();
    CHECK(lines.size() == 3);
    for (const auto& l : lines) {
        CHECK(l.rfind("error: ", 0) == 0);
        CHECK_THAT(l, Catch::Contains("raise sram_bytes"));
    }
}

TEST_CASE("cli: command-line syntax errors exit non-zero and write nothing", "[cli][errors]") {
    Scratch s;
    const std::string original = "keep me\n";
    const fs::path keep = s.file("keep.txt", original);
    for (const char* args : {"run --bogus", "run --format xml", "sweep", "frobnicate", ""}) {
        INFO("tilesim " << args);
        const Result r = s.run(std::string(args) + " -o '" + keep.string() + "'");
        CHECK(r.rc != 0);
        CHECK(r.out.empty());
        CHECK_FALSE(r.err.empty());
        CHECK(slurp(keep) == original);
    }
}

// Errors that CLI11 itself detects (unknown flag, bad --format, missing --over, no subcommand) are one
// "error: ..." line too.
TEST_CASE("cli: command-line syntax errors are one 'error:' line", "[cli][errors]") {
    Scratch s;
    for (const char* args : {"run --bogus", "run --format xml", "sweep", ""}) {
        INFO("tilesim " << args);
        const Result r = s.run(args);
        const auto lines = r.err_lines();
        CHECK(lines.size() == 1);
        CHECK(r.err.rfind("error: ", 0) == 0);
    }
}
