// kernels/tiling.h: the paper's block rule, clamping, auto-shrink, and explicit blocks that do not fit
// (a status whose reason names the bytes and whose fix really fits).
#include <catch2/catch.hpp>
#include <regex>

#include "kernels/registry.h"
#include "kernels/tiling.h"
#include "tests/kernels/problem_util.h"

using namespace tilesim;
using kernels::AlgorithmDef;

namespace {
const AlgorithmDef* const STD = kernels::find_definition("standard", kernels::Pass::forward);
const AlgorithmDef* const FA1 = kernels::find_definition("flash", kernels::Pass::forward);
const AlgorithmDef* const FA2 = kernels::find_definition("flash2", kernels::Pass::forward);
}  // namespace
using test::problem;

namespace {

std::int64_t cdiv(std::int64_t a, std::int64_t b) {
    return (a + b - 1) / b;
}

bool fits(const AlgorithmDef* alg, const kernels::Problem& p, std::int64_t B_r, std::int64_t B_c,
          const sim::HardwareSpec& hw) {
    return kernels::working_set_bytes(*alg, p, B_r, B_c, hw) <= hw.sram_bytes;
}

// Finds "name <= 123" in a fix string; -1 when absent.
std::int64_t suggested(const std::string& fix, const std::string& name) {
    std::smatch m;
    if (std::regex_search(fix, m, std::regex(name + " <= ([0-9]+)"))) return std::stoll(m[1]);
    return -1;
}

}  // namespace

// FA2's own rule, as its kernels' traits (flash_fwd_launch_template.h): 128 x 128 up to d = 64,
// 128 x 64 up to 128, 64 x 64 up to 256, 64 x 32 beyond; independent of M (SRAM only shrinks it).
std::pair<std::int64_t, std::int64_t> fa2_rule(std::int64_t d) {
    if (d <= 64) return {128, 128};
    if (d <= 128) return {128, 64};
    if (d <= 256) return {64, 64};
    return {64, 32};
}

TEST_CASE("tiling: the paper's rule on the Figure 2 machine (A100, fp16, d = 64)", "[kernels][tiling]") {
    // M = 196608 B / 2 B = 98304 elements; ceil(M / 4d) = ceil(98304 / 256) = 384.
    // FA1 and standard: B_c = 384, B_r = min(384, 64) = 64. FA2: its kernels' 128 x 128.
    const auto hw = *sim::find_preset("A100-40GB");
    const auto p = problem(1024, 64, sim::Dtype::fp16);
    sim::FitStatus st;
    for (const AlgorithmDef* alg : {FA1, STD}) {
        const auto t = kernels::resolve_tiling(*alg, p, {}, hw, &st);
        REQUIRE(st.ok);
        CHECK(t.B_c == 384);
        CHECK(t.B_r == 64);
        CHECK(t.T_c == 3);  // ceil(1024 / 384)
        CHECK(t.T_r == 16);
        CHECK_THAT(t.note, Catch::Contains("paper's rule") && Catch::Contains("M = 98304"));
    }
    const auto t2 = kernels::resolve_tiling(*FA2, p, {}, hw, &st);
    REQUIRE(st.ok);
    CHECK(t2.B_r == 128);
    CHECK(t2.B_c == 128);
    CHECK_THAT(t2.note, Catch::Contains("FA2's kernel tiles"));
    // The FA1 working set there: (2 x 384 x 64 + 2 x 64 x 64 + 64 x 384) x 2 B + 2 x 64 x 4 B = 164352 B.
    CHECK(kernels::working_set_bytes(*FA1, p, 64, 384, hw) == 164352);
}

TEST_CASE("tiling: rule values over machines, dtypes and d, computed from the formula", "[kernels][tiling]") {
    // Wherever the rule's blocks fit, they are exactly B_c = ceil(M/4d), B_r = min(ceil(M/4d), d)
    // (FA2: its own fa2_rule), clamped to N; where they do not, the block is shrunk (next test).
    int exact = 0;
    for (const auto& hw : sim::hardware_presets()) {
        for (sim::Dtype dt : {sim::Dtype::fp16, sim::Dtype::fp32}) {
            for (std::int64_t d : {1, 8, 32, 64, 128, 256}) {
                for (std::int64_t N : {5, 100, 4096}) {
                    const auto p = problem(N, d, dt);
                    const std::int64_t M = hw.sram_bytes / static_cast<std::int64_t>(sim::dtype_bytes(dt));
                    const std::int64_t big = cdiv(M, 4 * d), small = std::min(big, d);
                    for (const AlgorithmDef* alg : {STD, FA1, FA2}) {
                        const std::int64_t want_r = std::min(alg == FA2 ? fa2_rule(d).first : small, N);
                        const std::int64_t want_c = std::min(alg == FA2 ? fa2_rule(d).second : big, N);
                        sim::FitStatus st;
                        const auto t = kernels::resolve_tiling(*alg, p, {}, hw, &st);
                        INFO(hw.name << " " << sim::dtype_name(dt) << " d = " << d << " N = " << N << " alg "
                                     << alg->key);
                        if (fits(alg, p, want_r, want_c, hw)) {
                            REQUIRE(st.ok);
                            CHECK(t.B_r == want_r);
                            CHECK(t.B_c == want_c);
                            CHECK(t.note.find("shrunk") == std::string::npos);
                            CHECK((t.note.find("clamped") != std::string::npos) ==
                                  (alg == FA2 ? fa2_rule(d).first > N || fa2_rule(d).second > N
                                              : big > N || small > N));
                            ++exact;
                        } else if (st.ok) {
                            CHECK(t.B_r <= want_r);
                            CHECK(t.B_c <= want_c);
                            CHECK_THAT(t.note, Catch::Contains("shrunk to fit"));
                        }
                    }
                }
            }
        }
    }
    CHECK(exact > 300);
}

TEST_CASE("tiling: blocks larger than N are clamped to N", "[kernels][tiling]") {
    const auto hw = *sim::find_preset("A100-40GB");
    sim::FitStatus st;
    // Rule 384 x 64 for N = 10: both clamp to 10.
    auto t = kernels::resolve_tiling(*FA1, problem(10, 64, sim::Dtype::fp16), {}, hw, &st);
    REQUIRE(st.ok);
    CHECK(t.B_r == 10);
    CHECK(t.B_c == 10);
    CHECK(t.T_r == 1);
    CHECK(t.T_c == 1);
    CHECK_THAT(t.note, Catch::Contains("clamped to N = 10"));
    // Explicit blocks too.
    t = kernels::resolve_tiling(*FA2, problem(10, 64, sim::Dtype::fp16), {50, 3}, hw, &st);
    REQUIRE(st.ok);
    CHECK(t.B_r == 10);
    CHECK(t.B_c == 3);
    CHECK(t.T_c == 4);
    CHECK_THAT(t.note, Catch::Contains("explicit") && Catch::Contains("clamped"));
}

TEST_CASE("tiling: a rule that overflows SRAM is shrunk to the largest block that fits, and says so",
          "[kernels][tiling]") {
    // Classroom, fp32, N = 16, d = 4: FA1's rule 4 x 6 needs 448 B > 384 B; B_c shrinks to 4.
    const auto toy = *sim::find_preset("classroom");
    int shrunk_cases = 0;
    for (const auto& hw : sim::hardware_presets()) {
        for (sim::Dtype dt : {sim::Dtype::fp16, sim::Dtype::fp32, sim::Dtype::fp64}) {
            for (std::int64_t d : {1, 2, 4, 8, 16, 64, 128, 256, 512}) {
                const auto p = problem(4096, d, dt);
                for (const AlgorithmDef* alg : {STD, FA1, FA2}) {
                    sim::FitStatus st;
                    const auto t = kernels::resolve_tiling(*alg, p, {}, hw, &st);
                    if (!st.ok || t.note.find("shrunk") == std::string::npos) continue;
                    INFO(hw.name << " " << sim::dtype_name(dt) << " d = " << d << " alg "
                                 << alg->key << ": " << t.note);
                    ++shrunk_cases;
                    // The result fits, and the note names the overflow in bytes.
                    CHECK(fits(alg, p, t.B_r, t.B_c, hw));
                    CHECK_THAT(t.note, Catch::Contains(std::to_string(hw.sram_bytes) + " B"));
                    CHECK(t.T_r == cdiv(4096, t.B_r));
                    CHECK(t.T_c == cdiv(4096, t.B_c));
                    // It is the largest that fits: one more row in the block that was shrunk last overflows,
                    // unless that block is back at the rule's value.
                    const std::int64_t M = hw.sram_bytes / static_cast<std::int64_t>(sim::dtype_bytes(dt));
                    const std::int64_t big = cdiv(M, 4 * d), small = std::min(big, d);
                    const std::int64_t rule_r =
                        std::min<std::int64_t>(alg == FA2 ? fa2_rule(d).first : small, 4096);
                    const std::int64_t rule_c =
                        std::min<std::int64_t>(alg == FA2 ? fa2_rule(d).second : big, 4096);
                    CHECK((t.B_r == rule_r || !fits(alg, p, t.B_r + 1, t.B_c, hw)));
                    CHECK((t.B_c == rule_c || !fits(alg, p, t.B_r, t.B_c + 1, hw)));
                    CHECK((t.B_r < rule_r || t.B_c < rule_c));
                }
            }
        }
    }
    CHECK(shrunk_cases >= 5);
    sim::FitStatus st;
    const auto t =
        kernels::resolve_tiling(*FA1, problem(16, 4, sim::Dtype::fp32), {}, toy, &st);
    CHECK(st.ok);
    CHECK(t.B_r == 4);
    CHECK(t.B_c == 4);
    CHECK_THAT(t.note, Catch::Contains("448 B > 384 B") && Catch::Contains("shrunk to fit"));
}

TEST_CASE("tiling: when neither block alone can shrink enough, both shrink (classroom fp32, d = 16)",
          "[kernels][tiling]") {
    // Rule: M = 96, ceil(96 / 64) = 2: FA1 2 x 2 needs (2x2x16 + 2x2x16 + 4) x 4 + 2x2x4 = 544 B;
    // 2 x 1: (32 + 64 + 2) x 4 + 16 = 408 B; 1 x 2: (64 + 32 + 2) x 4 + 8 = 400 B; 1 x 1: 268 B.
    const auto toy = *sim::find_preset("classroom");
    const auto p = problem(64, 16, sim::Dtype::fp32);
    CHECK(kernels::working_set_bytes(*FA1, p, 2, 2, toy) == 544);
    CHECK(kernels::working_set_bytes(*FA1, p, 2, 1, toy) == 408);
    CHECK(kernels::working_set_bytes(*FA1, p, 1, 2, toy) == 400);
    CHECK(kernels::working_set_bytes(*FA1, p, 1, 1, toy) == 268);
    for (const AlgorithmDef* alg : {FA1, FA2}) {
        sim::FitStatus st;
        const auto t = kernels::resolve_tiling(*alg, p, {}, toy, &st);
        INFO(st.reason << " / " << st.fix);
        REQUIRE(st.ok);
        CHECK(t.B_r == 1);
        CHECK(t.B_c == 1);
        CHECK_THAT(t.note, Catch::Contains("shrunk to fit"));
    }
}

TEST_CASE("tiling: explicit blocks that do not fit give a status naming the bytes and a fix that fits",
          "[kernels][tiling]") {
    struct Case {
        const char* preset;
        const AlgorithmDef* alg;
        std::int64_t N, d;
        sim::Dtype dt;
        std::int64_t B_r, B_c;
    };
    const Case cases[] = {
        {"A100-40GB", FA1, 1024, 64, sim::Dtype::fp16, 128, 512},
        {"A100-40GB", FA2, 1024, 64, sim::Dtype::fp16, 512, 128},
        {"A100-40GB", STD, 1024, 64, sim::Dtype::fp16, 512, 512},
        {"T4", FA1, 4096, 128, sim::Dtype::fp16, 64, 128},
        {"classroom", FA1, 16, 4, sim::Dtype::fp32, 4, 6},
        {"classroom", STD, 64, 4, sim::Dtype::fp32, 8, 8},
        {"H100-SXM", FA2, 300, 128, sim::Dtype::fp32, 256, 256},
    };
    for (const auto& c : cases) {
        const auto hw = *sim::find_preset(c.preset);
        const auto p = problem(c.N, c.d, c.dt);
        INFO(c.preset << " alg " << c.alg->key << " " << c.B_r << " x " << c.B_c);
        sim::FitStatus st;
        const auto t = kernels::resolve_tiling(*c.alg, p, {c.B_r, c.B_c}, hw, &st);
        const std::int64_t need =
            kernels::working_set_bytes(*c.alg, p, std::min(c.B_r, c.N), std::min(c.B_c, c.N), hw);
        REQUIRE(need > hw.sram_bytes);  // the case really overflows
        REQUIRE_FALSE(st.ok);
        CHECK(st.needed_bytes == need);
        CHECK(st.capacity_bytes == hw.sram_bytes);
        CHECK_THAT(st.reason, Catch::Contains(std::to_string(need) + " B") &&
                                  Catch::Contains(std::to_string(hw.sram_bytes) + " B") &&
                                  Catch::Contains("B_r = " + std::to_string(std::min(c.B_r, c.N))));
        // Explicit blocks are never silently changed.
        CHECK(t.B_r == std::min(c.B_r, c.N));
        CHECK(t.B_c == std::min(c.B_c, c.N));
        // The fix always offers more SRAM: exactly the bytes needed, and that really fits.
        CHECK_THAT(st.fix, Catch::Contains("raise sram_bytes to at least " + std::to_string(need)));
        auto bigger = hw;
        bigger.sram_bytes = need;
        sim::FitStatus st2;
        kernels::resolve_tiling(*c.alg, p, {c.B_r, c.B_c}, bigger, &st2);
        CHECK(st2.ok);
        // A suggested block size fits when run, and is the largest that does (one more does not).
        kernels::RunOptions o;
        o.numerics = false;
        const std::int64_t cols = suggested(st.fix, "block_cols");
        const std::int64_t rows = suggested(st.fix, "block_rows");
        // "block_rows <= R and block_cols <= C" is one suggestion (both together); otherwise each
        // "block_cols <= C" / "block_rows <= R" is an alternative on its own, with the other block kept.
        const bool paired = st.fix.find(" and block_cols") != std::string::npos;
        if (c.alg == FA2 && c.d == 128) {
            // H100, fp32, d = 128, B_r = 256: Q_i and O_i alone are 2 x 256 x 128 x 4 = 262144 B > 232448 B,
            // so no B_c helps; and B_c = 256 with K_j, V_j the same size rules out any B_r. The fix offers
            // both together, the largest square that fits: (4 x 95 x 128 + 95 x 95) x 4 + 2 x 95 x 4
            // = 231420 B <= 232448 B, while 96 x 96 needs 234240 B.
            CHECK(rows == 95);
            CHECK(cols == 95);
            CHECK_THAT(st.fix, Catch::Contains("block_rows <= 95 and block_cols <= 95"));
            CHECK(kernels::run(*c.alg, p, {rows, cols}, hw, nullptr, o).fit.ok);
            CHECK(paired);
            CHECK_FALSE(kernels::run(*c.alg, p, {rows + 1, cols + 1}, hw, nullptr, o).fit.ok);
        } else {
            CHECK_FALSE(paired);
            CHECK((cols > 0 || rows > 0));
        }
        if (cols > 0 && !paired) {
            const auto r = kernels::run(*c.alg, p, {c.B_r, cols}, hw, nullptr, o);
            CHECK(r.fit.ok);
            CHECK(r.counters.sram_peak_bytes <= hw.sram_bytes);
            CHECK_FALSE(kernels::run(*c.alg, p, {c.B_r, cols + 1}, hw, nullptr, o).fit.ok);
        }
        if (rows > 0 && !paired) {
            const auto r = kernels::run(*c.alg, p, {rows, c.B_c}, hw, nullptr, o);
            CHECK(r.fit.ok);
            CHECK_FALSE(kernels::run(*c.alg, p, {rows + 1, c.B_c}, hw, nullptr, o).fit.ok);
        }
        // And the run reports the same status without moving anything.
        const auto r = kernels::run(*c.alg, p, {c.B_r, c.B_c}, hw, nullptr, o);
        CHECK_FALSE(r.fit.ok);
        CHECK(r.fit.reason == st.reason);
        CHECK(r.counters.transfers == 0);
        CHECK(r.phases.empty());
    }
}

TEST_CASE("tiling: working sets count every buffer, statistics in fp32", "[kernels][tiling]") {
    const auto hw = *sim::find_preset("A100-40GB");
    // FA1/FA2, fp16, B_r = 8, B_c = 16, d = 4: (2 x 16 x 4 + 2 x 8 x 4 + 8 x 16) x 2 + 2 x 8 x 4 = 704.
    const auto p = problem(100, 4, sim::Dtype::fp16);
    CHECK(kernels::working_set_bytes(*FA1, p, 8, 16, hw) == 704);
    CHECK(kernels::working_set_bytes(*FA2, p, 8, 16, hw) == 704);
    // Standard: GEMM (8 x 4 + 16 x 4 + 8 x 16) x 2 = 448, softmax: 196608 / 200 = 983 rows, at most
    // N = 100 rows of 100 x 2 B = 20000 B: the larger pass.
    CHECK(kernels::working_set_bytes(*STD, p, 8, 16, hw) == 20000);
    const auto sm = kernels::row_pass_shape(p, hw, 1);
    CHECK(sm.one_pass);
    CHECK(sm.rows == 100);
    // Blocks beyond N hold only N rows.
    CHECK(kernels::working_set_bytes(*FA1, p, 1000, 1000, hw) ==
          kernels::working_set_bytes(*FA1, p, 100, 100, hw));
    // Two-pass softmax: a row of 1031 fp32 does not fit in 2 KiB: chunks of 512.
    auto small = hw;
    small.sram_bytes = 2048;
    const auto sm2 = kernels::row_pass_shape(problem(1031, 16, sim::Dtype::fp32), small, 1);
    CHECK_FALSE(sm2.one_pass);
    CHECK(sm2.chunk == 512);
    const auto sets = FA1->working_sets(p, 8, 16, hw);
    REQUIRE(sets.size() == 1);
    CHECK(sets[0].size() == 7);  // K_j, V_j, Q_i, O_i, S_ij, l_i, m_i
    CHECK(STD->working_sets(p, 8, 16, hw).size() == 3);  // three passes
    // A row pass holding two matrices (the softmax backward: P and dP) fits half as many rows, and
    // streams chunks of half the size.
    const auto two = kernels::row_pass_shape(p, hw, 2);
    CHECK(two.one_pass);
    CHECK(two.rows == 100);  // 196608 / 400 = 491 rows fit; N = 100 of them exist
    const auto two_small = kernels::row_pass_shape(problem(1031, 16, sim::Dtype::fp32), small, 2);
    CHECK_FALSE(two_small.one_pass);
    CHECK(two_small.chunk == 256);
}

TEST_CASE("tiling: SRAM below one element is a clean failure", "[kernels][tiling]") {
    auto hw = *sim::find_preset("classroom");
    hw.sram_bytes = 3;  // less than one fp32 element
    sim::FitStatus st;
    kernels::resolve_tiling(*FA1, problem(16, 4, sim::Dtype::fp32), {}, hw, &st);
    CHECK_FALSE(st.ok);
    CHECK_THAT(st.reason, Catch::Contains("3 B"));
    CHECK_THAT(st.fix, Catch::Contains("sram_bytes"));
}
