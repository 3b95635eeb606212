// Hand-derived counts on tiny problems (the arithmetic is in the comments), count-only == numerics,
// standard attention's eager passes, and trace replay (the events add up to the counters).
#include <catch2/catch.hpp>
#include <map>

#include "kernels/registry.h"
#include "tests/kernels/problem_util.h"

using namespace tilesim;
using kernels::Pass;
using sim::Level;
using sim::Tensor;
using test::problem;

namespace {

kernels::RunResult count_only(const kernels::AlgorithmDef& alg, const kernels::Problem& p, const char* preset,
                              kernels::TilingRequest req = {}, std::int64_t extra = 0, bool trace = false) {
    kernels::RunOptions o;
    o.numerics = false;
    o.extra_passes = extra;
    o.trace = trace;
    return kernels::run(alg, p, req, *sim::find_preset(preset), nullptr, o);
}

kernels::RunResult count_only(std::string_view key, const kernels::Problem& p, const char* preset,
                              kernels::TilingRequest req = {}, std::int64_t extra = 0, bool trace = false,
                              Pass pass = Pass::forward) {
    return count_only(*kernels::find_definition(key, pass), p, preset, req, extra, trace);
}

std::int64_t hbm_r(const kernels::RunResult& r, Tensor t) {
    return r.counters.at(Level::HBM, t).read_elements;
}
std::int64_t hbm_w(const kernels::RunResult& r, Tensor t) {
    return r.counters.at(Level::HBM, t).write_elements;
}

}  // namespace

// Classroom machine: 384 B of SRAM, fp32, so M = 96 elements; no L2. N = 16, d = 4.
// Rule: ceil(M / 4d) = ceil(96 / 16) = 6.
TEST_CASE("hand count: classroom N = 16, d = 4, FlashAttention (Algorithm 1)", "[kernels][counts][hand]") {
    const auto r = count_only("flash", problem(16, 4, sim::Dtype::fp32), "classroom");
    REQUIRE(r.fit.ok);
    // Rule: B_c = 6, B_r = min(6, d = 4) = 4. Working set (2 B_c d + 2 B_r d + B_r B_c) x 4 B + 2 B_r x 4 B
    // = (48 + 32 + 24) x 4 + 32 = 448 B > 384 B, so B_c shrinks: (12 B_c + 32) x 4 + 32 <= 384 gives
    // B_c <= 4.67, B_c = 4 (352 B). T_r = T_c = 16 / 4 = 4.
    CHECK(r.tiling.B_r == 4);
    CHECK(r.tiling.B_c == 4);
    CHECK(r.tiling.T_c == 4);
    CHECK(r.counters.sram_peak_bytes == 352);
    // Reads: K, V once: 16 x 4 = 64 each. Q_i, O_i every K/V block: 4 x 64 = 256 each.
    // l_i, m_i every K/V block: 4 x 16 = 64 each. Total 64 + 64 + 256 + 256 + 64 + 64 = 768.
    CHECK(hbm_r(r, Tensor::K) == 64);
    CHECK(hbm_r(r, Tensor::V) == 64);
    CHECK(hbm_r(r, Tensor::Q) == 256);
    CHECK(hbm_r(r, Tensor::O) == 256);
    CHECK(hbm_r(r, Tensor::l) == 64);
    CHECK(hbm_r(r, Tensor::m) == 64);
    CHECK(r.counters.at(Level::HBM).read_elements == 768);
    CHECK(r.counters.at(Level::HBM).read_bytes == 768 * 4);  // all fp32 here
    // Writes: O = 0, l = 0, m = -inf once (64 + 16 + 16), then O_i, l_i, m_i per K/V block
    // (4 x (64 + 16 + 16) = 384): 96 + 384 = 480. O: 5 x 64 = 320, l and m: 5 x 16 = 80 each.
    CHECK(hbm_w(r, Tensor::O) == 320);
    CHECK(hbm_w(r, Tensor::l) == 80);
    CHECK(hbm_w(r, Tensor::m) == 80);
    CHECK(r.counters.at(Level::HBM).write_elements == 480);
    // Matmul: QK^T and PV, 2 N^2 d each: 4 x 256 x 4 = 4096.
    CHECK(r.counters.matmul_flops == 4096);
    // Other: 5 per element of S (5 x 256 = 1280) + per K/V block 5 per row (4 x 5 x 16 = 320)
    // + 3 per element of O (4 x 3 x 64 = 768): 2368.
    CHECK(r.counters.other_flops == 2368);
    CHECK(r.counters.at(Level::L2).total_elements() == 0);
}

TEST_CASE("hand count: classroom N = 16, d = 4, FlashAttention-2", "[kernels][counts][hand]") {
    const auto r = count_only("flash2", problem(16, 4, sim::Dtype::fp32), "classroom");
    REQUIRE(r.fit.ok);
    // Rule (swapped): B_r = 6, B_c = 4: (2 x 4 x 4 + 2 x 6 x 4 + 24) x 4 + 2 x 6 x 4 = 464 B > 384 B;
    // B_r shrinks: 128 + 56 B_r <= 384 gives B_r = 4 (352 B). T_r = T_c = 4.
    CHECK(r.tiling.B_r == 4);
    CHECK(r.tiling.B_c == 4);
    CHECK(r.counters.sram_peak_bytes == 352);
    // Reads: Q once (64), K and V once per Q block (4 x 64 = 256 each): 576.
    CHECK(hbm_r(r, Tensor::Q) == 64);
    CHECK(hbm_r(r, Tensor::K) == 256);
    CHECK(hbm_r(r, Tensor::V) == 256);
    CHECK(r.counters.at(Level::HBM).read_elements == 576);
    // Writes: O once (64) and L once (16): 80. No l, m round trips.
    CHECK(hbm_w(r, Tensor::O) == 64);
    CHECK(hbm_w(r, Tensor::L) == 16);
    CHECK(hbm_w(r, Tensor::l) == 0);
    CHECK(hbm_w(r, Tensor::m) == 0);
    CHECK(r.counters.at(Level::HBM).write_elements == 80);
    // Other: 1280 + 4 x (5 x 16 + 2 x 64) = 1280 + 832, + 64 (divide) + 32 (L): 2208.
    CHECK(r.counters.other_flops == 2208);
}

TEST_CASE("hand count: classroom N = 16, d = 4, standard attention (no L2: re-reads from HBM)",
          "[kernels][counts][hand]") {
    const auto r = count_only("standard", problem(16, 4, sim::Dtype::fp32), "classroom");
    REQUIRE(r.fit.ok);
    // Rule: B_c = 6, B_r = 4; GEMM tiles (4 x 4 + 6 x 4 + 4 x 6) x 4 B = 256 B fit. T_r = 4, T_c = 3.
    CHECK(r.tiling.B_r == 4);
    CHECK(r.tiling.B_c == 6);
    // A row of S is 16 x 4 = 64 B, so 384 / 64 = 6 rows fit: the softmax holds 384 B, the peak.
    CHECK(r.counters.sram_peak_bytes == 384);
    // Reads: Q 64. K: 64 + (T_r - 1) x 64 = 256 re-read from HBM (no L2). V likewise 256.
    // S once (256), P once (256). Total 64 + 256 + 256 + 256 + 256 = 1088.
    CHECK(hbm_r(r, Tensor::Q) == 64);
    CHECK(hbm_r(r, Tensor::K) == 256);
    CHECK(hbm_r(r, Tensor::V) == 256);
    CHECK(hbm_r(r, Tensor::S) == 256);
    CHECK(hbm_r(r, Tensor::P) == 256);
    CHECK(r.counters.at(Level::HBM).read_elements == 1088);
    // Writes: S 256, P 256, O 64: 576.
    CHECK(r.counters.at(Level::HBM).write_elements == 576);
    CHECK(r.counters.at(Level::L2).read_elements == 0);
    // Other: tau (256) + softmax 5 x 256: 1536.
    CHECK(r.counters.other_flops == 1536);
    REQUIRE(r.phases.size() == 3);
    CHECK(r.phases[0].parallel_units == 12);  // T_r x T_c output tiles of S
    CHECK(r.phases[2].parallel_units == 4);   // T_r row blocks of O
}

TEST_CASE("hand count: classroom-ragged N = 18, d = 4 (last blocks have 2 rows)", "[kernels][counts][hand]") {
    const auto p = problem(18, 4, sim::Dtype::fp32);
    // FA1: B_r = B_c = 4 as for N = 16; T_r = T_c = ceil(18 / 4) = 5. Nd = 72.
    // Reads: K, V 72 each; Q, O 5 x 72 = 360 each; l, m 5 x 18 = 90 each: 144 + 720 + 180 = 1044.
    // Writes: O 6 x 72 = 432; l, m 6 x 18 = 108 each: 648.
    const auto fa1 = count_only("flash", p, "classroom");
    REQUIRE(fa1.fit.ok);
    CHECK(fa1.tiling.T_c == 5);
    CHECK(fa1.counters.at(Level::HBM).read_elements == 1044);
    CHECK(fa1.counters.at(Level::HBM).write_elements == 648);
    // FA2: T_r = 5. Reads Q 72 + K, V 5 x 72 each = 792; writes O 72 + L 18 = 90.
    const auto fa2 = count_only("flash2", p, "classroom");
    REQUIRE(fa2.fit.ok);
    CHECK(fa2.counters.at(Level::HBM).read_elements == 792);
    CHECK(fa2.counters.at(Level::HBM).write_elements == 90);
    // Standard: B_r = 4, B_c = 6, T_r = 5; a row of S is 72 B (fits).
    // Reads: Q 72; K, V 72 + 4 x 72 = 360 each; S, P 324 each: 1440. Writes: S, P 324 each, O 72: 720.
    const auto st = count_only("standard", p, "classroom");
    REQUIRE(st.fit.ok);
    CHECK(st.counters.at(Level::HBM).read_elements == 1440);
    CHECK(st.counters.at(Level::HBM).write_elements == 720);
}

TEST_CASE("hand count: a row of S that does not fit is streamed twice (two-pass softmax)",
          "[kernels][counts][hand]") {
    // Classroom, fp32, N = 100, d = 1: a row of S is 400 B > 384 B of SRAM.
    // Rule: ceil(96 / 4) = 24, so B_c = 24, B_r = min(24, 1) = 1; GEMM tiles (1 + 24 + 24) x 4 = 196 B.
    // T_r = 100. Reads: Q 100; K, V 100 + 99 x 100 = 10000 each (no L2); S twice 2 x 10000; P 10000:
    // 50100. Writes: S 10000, P 10000, O 100: 20100. Other flops: tau 10000 + (4 + 3) x 10000 = 80000.
    // SRAM peak: the softmax chunk of 384 / 4 = 96 elements = 384 B.
    const auto r = count_only("standard", problem(100, 1, sim::Dtype::fp32), "classroom");
    REQUIRE(r.fit.ok);
    CHECK(r.tiling.B_r == 1);
    CHECK(r.tiling.B_c == 24);
    CHECK(hbm_r(r, Tensor::S) == 20000);
    CHECK(hbm_r(r, Tensor::K) == 10000);
    CHECK(r.counters.at(Level::HBM).read_elements == 50100);
    CHECK(r.counters.at(Level::HBM).write_elements == 20100);
    CHECK(r.counters.other_flops == 80000);
    CHECK(r.counters.sram_peak_bytes == 384);
    // Same problem in fp16: a row is 200 B, it fits: S read once, softmax 5 flops per element.
    const auto h = count_only("standard", problem(100, 1, sim::Dtype::fp16), "classroom");
    REQUIRE(h.fit.ok);
    CHECK(hbm_r(h, Tensor::S) == 10000);
    CHECK(h.counters.other_flops == 60000);
}

TEST_CASE("hand count: with an L2 that holds K, standard attention is exactly the paper's 4Nd + 4N^2",
          "[kernels][counts][hand]") {
    // A100-40GB, fp16, N = 1024, d = 64 (the Figure 2 head). M = 196608 / 2 = 98304; rule
    // ceil(98304 / 256) = 384: B_c = 384, B_r = 64, T_r = 16. K is 1024 x 64 x 2 B = 128 KiB < 40 MiB.
    // HBM reads 3 x 65536 + 2 x 1048576 = 2293760; writes 65536 + 2097152 = 2162688.
    // L2 reads: K and V re-read by 15 later Q blocks: 2 x 15 x 65536 = 1966080.
    const auto r = count_only("standard", problem(1024, 64, sim::Dtype::fp16), "A100-40GB");
    REQUIRE(r.fit.ok);
    CHECK(r.tiling.B_r == 64);
    CHECK(r.tiling.B_c == 384);
    CHECK(r.counters.at(Level::HBM).read_elements == 2293760);
    CHECK(r.counters.at(Level::HBM).write_elements == 2162688);
    CHECK(r.counters.at(Level::HBM).total_bytes() == 2 * (2293760 + 2162688));
    CHECK(r.counters.at(Level::L2).read_elements == 1966080);
    CHECK(r.counters.at(Level::L2, Tensor::K).read_elements == 983040);
    // With the L2 removed, the same re-reads hit HBM instead.
    auto no_l2 = *sim::find_preset("A100-40GB");
    no_l2.l2_bytes = 0;
    no_l2.l2_bytes_per_s = 0;
    kernels::RunOptions o;
    o.numerics = false;
    const auto& standard = *kernels::find_definition("standard", Pass::forward);
    const auto r2 = kernels::run(standard, problem(1024, 64, sim::Dtype::fp16), {}, no_l2, nullptr, o);
    CHECK(r2.counters.at(Level::HBM).read_elements == 2293760 + 1966080);
    CHECK(r2.counters.at(Level::L2).read_elements == 0);
    // An L2 one byte too small for K (131072 B) counts as no L2 for it.
    no_l2.l2_bytes = 131071;
    const auto r3 = kernels::run(standard, problem(1024, 64, sim::Dtype::fp16), {}, no_l2, nullptr, o);
    CHECK(r3.counters.at(Level::HBM).read_elements == 2293760 + 1966080);
    no_l2.l2_bytes = 131072;
    const auto r4 = kernels::run(standard, problem(1024, 64, sim::Dtype::fp16), {}, no_l2, nullptr, o);
    CHECK(r4.counters.at(Level::HBM).read_elements == 2293760);
}

TEST_CASE("hand count: N = 1 and a single block", "[kernels][counts][hand]") {
    // N = 1, d = 4, A100 fp16: every block is clamped to 1 row; T_r = T_c = 1.
    const auto p = problem(1, 4, sim::Dtype::fp16);
    const auto fa1 = count_only("flash", p, "A100-40GB");
    REQUIRE(fa1.fit.ok);
    CHECK(fa1.tiling.B_r == 1);
    CHECK(fa1.tiling.B_c == 1);
    CHECK_THAT(fa1.tiling.note, Catch::Contains("clamped to N = 1"));
    // FA1 reads K, V, Q, O (4 each) and l, m (1 each): 18; writes init (4 + 1 + 1) + update (6): 12.
    CHECK(fa1.counters.at(Level::HBM).read_elements == 18);
    CHECK(fa1.counters.at(Level::HBM).write_elements == 12);
    // FA2 reads Q, K, V (12), writes O, L (5).
    const auto fa2 = count_only("flash2", p, "A100-40GB");
    CHECK(fa2.counters.at(Level::HBM).read_elements == 12);
    CHECK(fa2.counters.at(Level::HBM).write_elements == 5);
    // Standard reads Q, K, V (12) + S, P (1 each); writes S, P (1 each) + O (4).
    const auto st = count_only("standard", p, "A100-40GB");
    CHECK(st.counters.at(Level::HBM).read_elements == 14);
    CHECK(st.counters.at(Level::HBM).write_elements == 6);
    // All: matmul 4 N^2 d = 16.
    for (const auto* r : {&fa1, &fa2, &st}) CHECK(r->counters.matmul_flops == 16);
}

TEST_CASE("extra_passes adds k N^2 reads and k N^2 writes of S, and one phase per pass",
          "[kernels][counts][hand]") {
    // Classroom N = 16, d = 4 (S row fits): base S reads 256, writes 256.
    const auto p = problem(16, 4, sim::Dtype::fp32);
    const auto base = count_only("standard", p, "classroom");
    for (std::int64_t k = 1; k <= 3; ++k) {
        const auto r = count_only("standard", p, "classroom", {}, k);
        INFO("k = " << k);
        CHECK(hbm_r(r, Tensor::S) == 256 + k * 256);
        CHECK(hbm_w(r, Tensor::S) == 256 + k * 256);
        CHECK(r.counters.at(Level::HBM).read_elements - base.counters.at(Level::HBM).read_elements ==
              k * 256);
        CHECK(r.counters.at(Level::HBM).write_elements - base.counters.at(Level::HBM).write_elements ==
              k * 256);
        // Every other tensor is unchanged.
        for (Tensor t : {Tensor::Q, Tensor::K, Tensor::V, Tensor::P, Tensor::O}) {
            CHECK(hbm_r(r, t) == hbm_r(base, t));
            CHECK(hbm_w(r, t) == hbm_w(base, t));
        }
        // tau moves into the first eager pass: other flops k x 256 + 5 x 256 (base: 256 + 5 x 256).
        CHECK(r.counters.other_flops == k * 256 + 5 * 256);
        REQUIRE(r.phases.size() == static_cast<std::size_t>(3 + k));
        CHECK(r.phases[1].counters.at(Level::HBM, Tensor::S).read_elements == 256);
        CHECK(r.phases[1].counters.at(Level::HBM, Tensor::S).write_elements == 256);
    }
    // The flash algorithms ignore it.
    const auto f0 = count_only("flash", p, "classroom");
    const auto f2 = count_only("flash", p, "classroom", {}, 2);
    CHECK(f0.counters.at(Level::HBM).total_elements() == f2.counters.at(Level::HBM).total_elements());
}

namespace {

void require_same_counters(const sim::Counters& a, const sim::Counters& b) {
    CHECK(a.level == b.level);
    CHECK(a.by_tensor == b.by_tensor);
    CHECK(a.matmul_flops == b.matmul_flops);
    CHECK(a.other_flops == b.other_flops);
    CHECK(a.sram_peak_bytes == b.sram_peak_bytes);
    CHECK(a.transfers == b.transfers);
}

struct Config {
    const char* preset;
    std::int64_t N, d;
    sim::Dtype dtype;
    kernels::TilingRequest req;
    std::int64_t extra;
};
const Config kConfigs[] = {
    {"classroom", 16, 4, sim::Dtype::fp32, {}, 0},        {"classroom", 18, 4, sim::Dtype::fp32, {}, 0},
    {"classroom", 100, 1, sim::Dtype::fp32, {}, 1},  // two-pass softmax and an eager pass
    {"A100-40GB", 129, 16, sim::Dtype::fp16, {7, 13}, 2}, {"T4", 65, 64, sim::Dtype::fp16, {}, 0},
    {"H100-SXM", 1, 1, sim::Dtype::fp32, {}, 3},
};

}  // namespace

TEST_CASE("count-only mode gives counters identical to numerics mode", "[kernels][counts]") {
    for (const auto& c : kConfigs) {
        for (const auto* a : kernels::definitions()) {
            const auto p = problem(c.N, c.d, c.dtype);
            auto hbm = kernels::random_inputs(p, 7);
            kernels::RunOptions on, off;
            on.numerics = true;
            off.numerics = false;
            on.extra_passes = off.extra_passes = c.extra;
            const auto hw = *sim::find_preset(c.preset);
            INFO(a->key << " " << kernels::pass_name(a->pass) << " on " << c.preset << " N = " << c.N
                        << " d = " << c.d);
            if (a->pass == Pass::backward) {
                // The backward starts from its own forward's outputs.
                REQUIRE(kernels::run(*kernels::find_definition(a->key, Pass::forward), p, c.req, hw, &hbm, on).fit.ok);
            }
            const auto r_on = kernels::run(*a, p, c.req, hw, &hbm, on);
            const auto r_off = kernels::run(*a, p, c.req, hw, nullptr, off);
            REQUIRE(r_on.fit.ok);
            REQUIRE(r_off.fit.ok);
            for (Tensor out : a->outputs) CHECK(hbm.has(out));
            require_same_counters(r_on.counters, r_off.counters);
            REQUIRE(r_on.phases.size() == r_off.phases.size());
            for (std::size_t k = 0; k < r_on.phases.size(); ++k) {
                CHECK(r_on.phases[k].name == r_off.phases[k].name);
                CHECK(r_on.phases[k].parallel_units == r_off.phases[k].parallel_units);
                require_same_counters(r_on.phases[k].counters, r_off.phases[k].counters);
            }
        }
    }
}

TEST_CASE("numerics without inputs of the right shape is refused", "[kernels]") {
    const auto p = problem(16, 4, sim::Dtype::fp32);
    kernels::RunOptions o;
    const auto hw = *sim::find_preset("classroom");
    const auto& flash = *kernels::find_definition("flash", Pass::forward);
    CHECK_THROWS_AS(kernels::run(flash, p, {}, hw, nullptr, o), std::invalid_argument);
    auto wrong = kernels::random_inputs(problem(15, 4, sim::Dtype::fp32), 1);
    CHECK_THROWS_AS(kernels::run(flash, p, {}, hw, &wrong, o), std::invalid_argument);
    // A backward without its forward's outputs (O, l, m) in HBM is refused too.
    auto inputs = kernels::random_inputs(p, 1);
    CHECK_THROWS_AS(kernels::run(*kernels::find_definition("flash", Pass::backward), p, {}, hw, &inputs, o),
                    std::invalid_argument);
}

// Trace replay: summing the events' bytes and elements per (level, tensor) gives back the counters;
// the events of each phase give back that phase's counters; every tile lies inside its tensor as the
// trace declares it and sits where its block indices say; every SRAM buffer is allocated before it is
// used and released by the end.
namespace {

// Which block index places a tile of `t`: K/V-side tensors by j (B_c rows), N x N tiles by (i, j),
// the rest by i (B_r rows).
bool kv_side(Tensor t) {
    return t == Tensor::K || t == Tensor::V || t == Tensor::dK || t == Tensor::dV;
}
bool square_side(Tensor t) {
    return t == Tensor::S || t == Tensor::P || t == Tensor::dS || t == Tensor::dP;
}

void check_tile(const sim::Event& e, const sim::Trace& trace, std::int64_t B_r, std::int64_t B_c) {
    const sim::TensorDecl* decl = trace.tensor(e.tensor);
    REQUIRE(decl != nullptr);  // every tensor a run moves or computes is declared
    CHECK(e.tile.row0 >= 0);
    CHECK(e.tile.col0 >= 0);
    CHECK(e.tile.rows >= 1);
    CHECK(e.tile.cols >= 1);
    CHECK(e.tile.row0 + e.tile.rows <= decl->rows);
    CHECK(e.tile.col0 + e.tile.cols <= decl->cols);
    if (kv_side(e.tensor)) {
        if (e.j >= 0) {
            CHECK(e.tile.row0 == e.j * B_c);
            CHECK(e.tile.rows == std::min(B_c, decl->rows - e.j * B_c));
        }
    } else if (square_side(e.tensor)) {
        if (e.i >= 0 && e.j >= 0) {
            CHECK(e.tile.row0 == e.i * B_r);
            CHECK(e.tile.col0 == e.j * B_c);
        }
    } else if (e.i >= 0) {
        CHECK(e.tile.row0 == e.i * B_r);
        CHECK(e.tile.rows == std::min(B_r, decl->rows - e.i * B_r));
    }
}

void add_move(sim::Counters& t, const sim::Event& e) {
    const std::int64_t el = e.tile.elements();
    auto& from = t.by_tensor[static_cast<std::size_t>(e.from)][static_cast<std::size_t>(e.tensor)];
    auto& to = t.by_tensor[static_cast<std::size_t>(e.to)][static_cast<std::size_t>(e.tensor)];
    from.read_elements += el;
    from.read_bytes += e.bytes;
    to.write_elements += el;
    to.write_bytes += e.bytes;
    if (e.has(sim::flags::kAtomic)) {
        // The memory side reads the old value of an atomically updated tile.
        auto& hbm = t.by_tensor[static_cast<std::size_t>(Level::HBM)][static_cast<std::size_t>(e.tensor)];
        hbm.read_elements += el;
        hbm.read_bytes += e.bytes;
    }
    ++t.transfers;
}

}  // namespace

TEST_CASE("trace replay reproduces the counters, per tensor and per phase, tiles are in bounds",
          "[kernels][counts][trace]") {
    for (const auto& c : kConfigs) {
        for (const auto* a : kernels::definitions()) {
            const auto p = problem(c.N, c.d, c.dtype);
            const auto r = count_only(*a, p, c.preset, c.req, c.extra, true);
            INFO(a->key << " " << kernels::pass_name(a->pass) << " on " << c.preset << " N = " << c.N
                        << " d = " << c.d);
            REQUIRE(r.fit.ok);
            REQUIRE(r.trace);
            REQUIRE_FALSE(r.trace->truncated());
            const auto& trace = *r.trace;
            const auto& ev = trace.events();
            CHECK(trace.phases().size() == r.phases.size());
            std::vector<sim::Counters> per_phase(r.phases.size());
            sim::Counters all;
            std::int64_t phase_markers = 0;
            std::vector<bool> live(trace.buffers().size(), false);
            std::int64_t allocated = 0, released = 0;
            for (std::size_t k = 0; k < ev.size(); ++k) {
                const auto& e = ev[k];
                REQUIRE(e.step == static_cast<std::int64_t>(k));
                CHECK(e.sram_used_bytes <= sim::find_preset(c.preset)->sram_bytes);
                if (e.op == sim::Op::Phase) {
                    CHECK(e.phase == phase_markers);
                    CHECK(trace.phases()[static_cast<std::size_t>(e.phase)].name == r.phases[static_cast<std::size_t>(e.phase)].name);
                    ++phase_markers;
                    continue;
                }
                REQUIRE(e.phase >= 0);
                REQUIRE(e.phase == phase_markers - 1);
                if (e.op == sim::Op::Allocate || e.op == sim::Op::Release) {
                    REQUIRE(e.buffer >= 0);
                    REQUIRE(static_cast<std::size_t>(e.buffer) < live.size());
                    CHECK(live[static_cast<std::size_t>(e.buffer)] == (e.op == sim::Op::Release));
                    live[static_cast<std::size_t>(e.buffer)] = e.op == sim::Op::Allocate;
                    (e.op == sim::Op::Allocate ? allocated : released) += 1;
                    if (e.op == sim::Op::Allocate) {
                        const auto& b = trace.buffers()[static_cast<std::size_t>(e.buffer)];
                        CHECK(e.bytes == b.bytes);
                        CHECK_FALSE(b.what.empty());
                    }
                    continue;
                }
                auto& pc = per_phase[static_cast<std::size_t>(e.phase)];
                check_tile(e, trace, r.tiling.B_r, r.tiling.B_c);
                // A tile that lands in SRAM, or is computed there, names a live buffer that holds it.
                if (e.op == sim::Op::Load) {
                    REQUIRE(e.buffer >= 0);
                    CHECK(live[static_cast<std::size_t>(e.buffer)]);
                    const auto& b = trace.buffers()[static_cast<std::size_t>(e.buffer)];
                    CHECK((b.tensor == e.tensor || b.alias == e.tensor));
                    CHECK(e.tile.elements() <= b.rows * b.cols);
                }
                if (e.op == sim::Op::Compute) {
                    all.matmul_flops += e.flops;
                    pc.matmul_flops += e.flops;
                    continue;
                }
                CHECK(e.bytes == e.tile.elements() * static_cast<std::int64_t>(sim::element_bytes(e.tensor, c.dtype)));
                add_move(all, e);
                add_move(pc, e);
            }
            CHECK(phase_markers == static_cast<std::int64_t>(r.phases.size()));
            CHECK(allocated == static_cast<std::int64_t>(trace.buffers().size()));
            CHECK(released == allocated);  // every buffer freed by the end
            // The replayed per-tensor traffic equals the counters at every level (compute's SRAM
            // operand traffic is counted per level only, not per tensor).
            CHECK(all.by_tensor == r.counters.by_tensor);
            CHECK(all.transfers == r.counters.transfers);
            // Compute events carry matmul + other flops.
            CHECK(all.matmul_flops == r.counters.flops());
            for (Level lv : {Level::HBM, Level::L2}) {
                sim::Traffic sum;
                for (std::size_t t = 0; t < sim::kTensorCount; ++t) sum += all.by_tensor[static_cast<std::size_t>(lv)][t];
                CHECK(sum == r.counters.at(lv));
            }
            for (std::size_t k = 0; k < r.phases.size(); ++k) {
                INFO("phase " << r.phases[k].name);
                CHECK(per_phase[k].by_tensor == r.phases[k].counters.by_tensor);
                CHECK(per_phase[k].matmul_flops == r.phases[k].counters.flops());
            }
        }
    }
}

TEST_CASE("a capped trace is truncated but the counts are not", "[kernels][counts][trace]") {
    const auto p = problem(64, 4, sim::Dtype::fp32);
    kernels::RunOptions o;
    o.numerics = false;
    o.trace = true;
    o.max_trace_events = 10;
    const auto hw = *sim::find_preset("classroom");
    const auto& flash = *kernels::find_definition("flash", Pass::forward);
    const auto capped = kernels::run(flash, p, {}, hw, nullptr, o);
    o.trace = false;
    const auto plain = kernels::run(flash, p, {}, hw, nullptr, o);
    REQUIRE(capped.trace);
    CHECK(capped.trace->truncated());
    CHECK(capped.trace->events().size() == 10);
    // The trace says how many events it dropped: all of a full trace's events but the first 10.
    o.trace = true;
    o.max_trace_events = 1'000'000;
    const auto full = kernels::run(flash, p, {}, hw, nullptr, o);
    CHECK(capped.trace->dropped_events() == static_cast<std::int64_t>(full.trace->events().size()) - 10);
    CHECK_FALSE(plain.trace);
    require_same_counters(capped.counters, plain.counters);
}

TEST_CASE("distinct-tile HBM traffic per phase: each tensor a pass touches, counted once",
          "[kernels][counts]") {
    // Phase::hbm_unique counts every tile once per direction within a pass: what DRAM would see if the
    // L2 absorbed every re-read and re-write. Whatever the tiling, a pass that reads all of a tensor
    // reads each element once in this measure: the tensor's declared rows x cols.
    for (const auto& c : kConfigs) {
        for (const auto* a : kernels::definitions()) {
            const auto p = problem(c.N, c.d, c.dtype);
            const auto r = count_only(*a, p, c.preset, c.req, c.extra);
            INFO(a->key << " " << kernels::pass_name(a->pass) << " on " << c.preset << " N = " << c.N
                        << " d = " << c.d);
            REQUIRE(r.fit.ok);
            const auto decls = a->tensors(p, r.tiling);
            auto size_of = [&](Tensor t) -> std::int64_t {
                for (const auto& dl : decls) {
                    if (dl.tensor == t) return dl.rows * dl.cols;
                }
                return 0;
            };
            for (const auto& ph : r.phases) {
                INFO("phase " << ph.name);
                for (std::size_t t = 0; t < sim::kTensorCount; ++t) {
                    const auto tensor = static_cast<Tensor>(t);
                    const auto& all = ph.counters.at(Level::HBM, tensor);
                    const auto& u = ph.hbm_unique[t];
                    // Touched at all in this direction: exactly the tensor once; else nothing.
                    CHECK(u.read_elements == (all.read_elements > 0 ? size_of(tensor) : 0));
                    CHECK(u.write_elements == (all.write_elements > 0 ? size_of(tensor) : 0));
                    CHECK(u.read_bytes ==
                          u.read_elements * static_cast<std::int64_t>(sim::element_bytes(tensor, c.dtype)));
                }
            }
        }
    }
}

// Classroom machine, fp32 (M = 96 elements), N = 16, d = 4, the backward passes. The working sets and
// the rule's shrinking are worked out from the buffer lists of each algorithm.
TEST_CASE("hand count: classroom N = 16, d = 4, FlashAttention backward (Algorithm 4)",
          "[kernels][counts][hand][backward]") {
    const auto r = count_only("flash", problem(16, 4, sim::Dtype::fp32), "classroom", {}, 0, false, Pass::backward);
    REQUIRE(r.fit.ok);
    // Rule B_c = 6, B_r = 4: (4 B_c d + 4 B_r d + 2 B_r B_c) x 4 B + 3 B_r x 4 B = 832 + 48 = 880 B > 384 B.
    // Neither block alone can shrink enough, so both shrink to the largest square, 2 x 2: (32 + 32 + 8)
    // x 4 + 24 = 312 B (3 x 3 needs 492 B); B_c cannot grow back (3 needs 392 B). T_r = T_c = 8.
    CHECK(r.tiling.B_r == 2);
    CHECK(r.tiling.B_c == 2);
    CHECK(r.counters.sram_peak_bytes == 312);
    // Reads: K, V once (64 each); per K/V block Q_i, O_i, dO_i, dQ_i (8 x 64 = 512 each) and l_i, m_i
    // (8 x 16 = 128 each): 128 + 2048 + 256 = 2432.
    CHECK(hbm_r(r, Tensor::K) == 64);
    CHECK(hbm_r(r, Tensor::dQ) == 512);
    CHECK(hbm_r(r, Tensor::l) == 128);
    CHECK(r.counters.at(Level::HBM).read_elements == 2432);
    // Writes: dQ = 0 (64) and dQ_i per K/V block (512); dK, dV once (64 each): 704.
    CHECK(hbm_w(r, Tensor::dQ) == 576);
    CHECK(hbm_w(r, Tensor::dK) == 64);
    CHECK(r.counters.at(Level::HBM).write_elements == 704);
    // No N x N matrix in HBM.
    for (Tensor t : {Tensor::S, Tensor::P, Tensor::dS, Tensor::dP}) CHECK(r.counters.at(Level::HBM, t).total_elements() == 0);
    // Five GEMMs of 2 N^2 d = 2048 each: 10240. Other: 7 x 256 + 8 blocks x 2 x 64 (D_i) = 2816.
    CHECK(r.counters.matmul_flops == 10240);
    CHECK(r.counters.other_flops == 2816);
}

TEST_CASE("hand count: classroom N = 16, d = 4, FlashAttention-2 backward", "[kernels][counts][hand][backward]") {
    const auto r = count_only("flash2", problem(16, 4, sim::Dtype::fp32), "classroom", {}, 0, false, Pass::backward);
    REQUIRE(r.fit.ok);
    // Rule B_c = 6, B_r = 4. The main pass holds (4 B_c d + 2 B_r d + 2 B_r B_c) x 4 B + B_r d x 4 B (the
    // fp32 dS_ij K_j) + 2 B_r x 4 B (L_i, D_i) = 704 + 64 + 32 = 800 B > 384 B; K/V-side first: with
    // B_r = 4, 96 B_c + 224 <= 384 gives B_c = 1 (320 B). T_r = 4, T_c = 16.
    CHECK(r.tiling.B_r == 4);
    CHECK(r.tiling.B_c == 1);
    CHECK(r.counters.sram_peak_bytes == 320);
    // Reads: pass 1 dO, O (64 each); pass 2 K, V (64 each), per K/V block Q_i, dO_i (16 x 64 = 1024
    // each), L_i, D_i (16 x 16 = 256 each), the atomics' reads of dQacc (1024); pass 3 dQacc (64).
    CHECK(hbm_r(r, Tensor::dO) == 64 + 1024);
    CHECK(hbm_r(r, Tensor::dQacc) == 1024 + 64);
    CHECK(r.counters.at(Level::HBM).read_elements == 128 + 128 + 2048 + 512 + 1024 + 64);
    // Writes: D (16), dQacc = 0 (64) and 16 atomic updates (1024), dK, dV (64 each), dQ (64): 1296.
    CHECK(hbm_w(r, Tensor::dQacc) == 1088);
    CHECK(r.counters.at(Level::HBM).write_elements == 1296);
    // fp32 accumulator: 4 B per element whatever the dtype.
    CHECK(r.counters.at(Level::HBM, Tensor::dQacc).write_bytes == 1088 * 4);
    REQUIRE(r.phases.size() == 3);
    CHECK(r.phases[0].parallel_units == 4);   // T_r: the D pass
    CHECK(r.phases[1].parallel_units == 16);  // T_c: one thread block per K/V block
    CHECK(r.phases[2].parallel_units == 4);   // T_r: the conversion
    // matmul 10 x 256 x 4 = 10240; other: 2 x 64 (D) + 5 x 256 + 64 (dK *= tau) + 64 (dQ = tau dQacc).
    CHECK(r.counters.matmul_flops == 10240);
    CHECK(r.counters.other_flops == 128 + 1280 + 64 + 64);
}

TEST_CASE("hand count: classroom N = 16, d = 4, standard attention backward (Algorithm 3, no L2)",
          "[kernels][counts][hand][backward]") {
    const auto r = count_only("standard", problem(16, 4, sim::Dtype::fp32), "classroom", {}, 0, false, Pass::backward);
    REQUIRE(r.fit.ok);
    // Rule B_r = 4, B_c = 6 (GEMM tiles (24 + 16 + 24) x 4 = 256 B fit). T_r = 4, T_c = 3. The softmax
    // backward holds rows of P and dP: 2 x 64 B per row, 384 / 128 = 3 rows: 384 B, the peak.
    CHECK(r.tiling.B_r == 4);
    CHECK(r.tiling.B_c == 6);
    CHECK(r.counters.sram_peak_bytes == 384);
    // No L2: re-reads go to HBM. dO (line 1) and Q (line 5) are re-read by the 2 later K/V blocks (128),
    // V (line 2) and K (line 4) by the 3 later Q blocks (192).
    // Reads: P 256 (l.1) + 256 (l.3); dP 256; dS 2 x 256; dO 64 + 128 (l.1) + 64 (l.2); Q 64 + 128;
    // V 64 + 192; K 64 + 192: 2240.
    CHECK(hbm_r(r, Tensor::P) == 512);
    CHECK(hbm_r(r, Tensor::dO) == 256);
    CHECK(hbm_r(r, Tensor::Q) == 192);
    CHECK(hbm_r(r, Tensor::V) == 256);
    CHECK(r.counters.at(Level::HBM).read_elements == 2240);
    // Writes: dV 64, dP 256, dS 256, dQ 64, dK 64: 704 (2N^2 + 3Nd).
    CHECK(r.counters.at(Level::HBM).write_elements == 704);
    // Four GEMMs: 8 x 256 x 4 = 8192. Softmax backward 4 x 256 + tau 256 = 1280.
    CHECK(r.counters.matmul_flops == 8192);
    CHECK(r.counters.other_flops == 1280);
    REQUIRE(r.phases.size() == 5);
}
