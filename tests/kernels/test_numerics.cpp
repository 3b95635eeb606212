// Numerics: O of every algorithm against the fp64 reference, and the online-softmax probe.
//
// Tolerance. The kernels compute in fp32 (unit roundoff u = 2^-24 ~ 6e-8) from fp32 inputs; the
// reference computes softmax(QK^T / sqrt(d)) V in fp64 from the same fp32 inputs, so it is exact to
// ~1e-16 and every difference is the kernels' rounding. Inputs are N(0, 1), so each output is a convex
// combination of rows of V with |O| <= max |V| ~ 4. The rounding error of a length-d dot product of
// S is ~ sqrt(d) u |q||k| tau ~ 1e-7; exp turns an absolute error in S into the same relative error
// in P, and the sums over N columns (of P V and of l) add ~ sqrt(N) u relative error for random
// signs, ~ N u worst case. For N <= 1031 the worst case is 1031 x 6e-8 x 4 ~ 2.5e-4 but the observed
// errors are below 7.3e-7 over N in {1 .. 1031}, d in {1 .. 128} (measured when this suite was
// written), so the bar is 1e-5: over 10x above what fp32 achieves, and 1000x below what a real bug
// gives (a missing rescale, a dropped ragged block or a wrong max is an O(0.01 .. 1) error). The
// relative Frobenius error is held to the same 1e-5.
// With Q scaled by 30, S ~ 30 N(0, 1): its absolute rounding error grows with the magnitude of the
// products, ~ 30 sqrt(d) u ~ 1.4e-5 at d = 64, and P inherits it as relative error, so O is off by up to
// ~ 1.4e-5 x max |V| ~ 6e-5 (measured: 5.2e-5 at d = 64 .. 128). The bar there is 2e-4. A kernel that
// forgot the max subtraction would produce Inf/NaN (e^100 overflows fp32), not a small error.
#include <catch2/catch.hpp>
#include <cmath>

#include "kernels/reference.h"
#include "kernels/registry.h"
#include "tests/kernels/problem_util.h"

using namespace tilesim;
using kernels::Pass;
using sim::Tensor;
using test::problem;

namespace {

constexpr double kTol = 1e-5;
constexpr double kTolLargeQ = 2e-4;

// One forward run with numerics: its result and the HBM it leaves (O and the statistics).
struct Numbers {
    kernels::RunResult r;
    kernels::HbmState hbm;
    const kernels::Mat& O() const { return hbm[Tensor::O]; }
};

Numbers run_numerics(std::string_view key, const kernels::Problem& p, const kernels::HbmState& in,
                     const sim::HardwareSpec& hw, kernels::TilingRequest req = {}, std::int32_t watch = -1,
                     bool trace = false, std::int64_t extra = 0) {
    kernels::RunOptions o;
    o.numerics = true;
    o.watch_block = watch;
    o.trace = trace;
    o.extra_passes = extra;
    Numbers n{{}, in};
    n.r = kernels::run(*kernels::find_definition(key, Pass::forward), p, req, hw, &n.hbm, o);
    return n;
}

void check_against_reference(const Numbers& n, const kernels::HbmState& in, double tol) {
    REQUIRE(n.r.fit.ok);
    REQUIRE(n.O().rows() == in[Tensor::Q].rows());
    REQUIRE(n.O().cols() == in[Tensor::Q].cols());
    CHECK(n.O().allFinite());
    const auto ref = kernels::reference_attention(kernels::inputs_of(in));
    const auto err = kernels::compare(n.O(), ref);
    INFO("max abs error " << err.max_abs << ", relative Frobenius error " << err.rel_fro);
    CHECK(err.max_abs <= tol);
    CHECK(err.rel_fro <= tol);
}

kernels::HbmState inputs(std::int64_t N, std::int64_t d, std::uint64_t seed) {
    return kernels::random_inputs(problem(N, d), seed);
}

// fp64 attention of the rows [r0, r0 + rows) over the first `cols` keys only: what an online softmax
// that has folded in those keys must hold. Also returns the row max and row sum of exp(S - max).
struct Partial {
    kernels::MatD O;
    Eigen::VectorXd m, l;
};
Partial partial_attention(const kernels::HbmState& in, std::int64_t r0, std::int64_t rows, std::int64_t cols) {
    const kernels::MatD Q = in[Tensor::Q].middleRows(r0, rows).cast<double>();
    const kernels::MatD K = in[Tensor::K].topRows(cols).cast<double>();
    const kernels::MatD V = in[Tensor::V].topRows(cols).cast<double>();
    kernels::MatD S = (Q * K.transpose()) / std::sqrt(static_cast<double>(in[Tensor::Q].cols()));
    Partial p;
    p.m = S.rowwise().maxCoeff();
    for (Eigen::Index r = 0; r < S.rows(); ++r) S.row(r) = (S.row(r).array() - p.m(r)).exp();
    p.l = S.rowwise().sum();
    p.O = (S * V).array().colwise() / p.l.array();
    return p;
}

}  // namespace

TEST_CASE("numerics: every algorithm matches the fp64 reference on ragged sizes", "[kernels][numerics]") {
    const auto a100 = *sim::find_preset("A100-40GB");
    // N not a multiple of the blocks, N smaller than a block, B_r != B_c, d = 1.
    const std::int64_t Ns[] = {1, 2, 3, 7, 17, 18, 63, 65, 100, 129, 257};
    const std::int64_t ds[] = {1, 4, 16, 64, 128};
    const kernels::TilingRequest reqs[] = {{0, 0}, {7, 13}, {16, 5}, {64, 64}};
    int checked = 0;
    for (std::int64_t N : Ns) {
        for (std::int64_t d : ds) {
            const auto in = inputs(N, d, static_cast<std::uint64_t>(N * 1000 + d));
            for (const auto& req : reqs) {
                for (auto key : kernels::algorithm_key_list()) {
                    INFO(key << " N = " << N << " d = " << d << " B_r = " << req.B_r << " B_c = " << req.B_c);
                    check_against_reference(run_numerics(key, problem(N, d), in, a100, req), in, kTol);
                    ++checked;
                }
            }
        }
    }
    CHECK(checked == 11 * 5 * 4 * static_cast<int>(kernels::algorithm_key_list().size()));
}

TEST_CASE("numerics: N = 1031 (ragged against every block) on A100 and H100 rules", "[kernels][numerics]") {
    const auto in = inputs(1031, 64, 42);
    for (const char* preset : {"A100-40GB", "H100-SXM"}) {
        for (auto key : kernels::algorithm_key_list()) {
            INFO(key << " on " << preset);
            check_against_reference(run_numerics(key, problem(1031, 64), in, *sim::find_preset(preset)), in, kTol);
        }
    }
}

TEST_CASE("numerics: the classroom machine (tiny blocks, no L2) and eager passes", "[kernels][numerics]") {
    const auto toy = *sim::find_preset("classroom");
    for (std::int64_t N : {1, 16, 18, 33}) {
        const auto in = inputs(N, 4, 5);
        for (auto key : kernels::algorithm_key_list()) {
            for (std::int64_t extra : {0, 2}) {
                INFO(key << " N = " << N << " extra passes " << extra);
                const auto r = run_numerics(key, problem(N, 4, sim::Dtype::fp32), in, toy, {}, -1, false, extra);
                check_against_reference(r, in, kTol);
            }
        }
    }
}

TEST_CASE("numerics: large-magnitude scores (Q x 30) stay finite and accurate", "[kernels][numerics]") {
    // Row maxima of S reach ~100: exp(S) alone would overflow fp32 (e^89 > 3.4e38), so this only
    // passes if every algorithm subtracts the running max before exponentiating.
    const auto a100 = *sim::find_preset("A100-40GB");
    for (std::int64_t N : {17, 129, 300}) {
        for (std::int64_t d : {16, 64}) {
            auto in = inputs(N, d, 99);
            in[Tensor::Q] *= 30.0F;
            const auto ref = kernels::reference_attention(kernels::inputs_of(in));
            REQUIRE(ref.allFinite());
            for (auto key : kernels::algorithm_key_list()) {
                for (const kernels::TilingRequest& req : {kernels::TilingRequest{}, kernels::TilingRequest{8, 8}}) {
                    INFO(key << " N = " << N << " d = " << d << " B = " << req.B_r);
                    check_against_reference(run_numerics(key, problem(N, d), in, a100, req), in, kTolLargeQ);
                }
            }
        }
    }
}

TEST_CASE("numerics: standard attention's two-pass softmax (a row of S does not fit)",
          "[kernels][numerics]") {
    // fp32 with 2 KiB of SRAM: a row of S at N = 1031 is 4124 B, so the softmax streams each row twice
    // in chunks of 512 elements (the last one ragged). The GEMM tiles by the rule: M = 512,
    // ceil(512 / 64) = 8, tiles (8 x 16 + 8 x 16 + 64) x 4 = 1280 B fit.
    auto hw = *sim::find_preset("A100-40GB");
    hw.sram_bytes = 2048;
    const auto p = problem(1031, 16, sim::Dtype::fp32);
    const auto in = inputs(1031, 16, 3);
    const auto r = run_numerics("standard", p, in, hw);
    REQUIRE(r.r.fit.ok);
    CHECK(r.r.counters.at(sim::Level::HBM, sim::Tensor::S).read_elements == 2 * 1031 * 1031);  // two passes
    check_against_reference(r, in, kTol);
    // And with the large-magnitude inputs, where the running max changes chunk to chunk.
    auto big = in;
    big[Tensor::Q] *= 30.0F;
    check_against_reference(run_numerics("standard", p, big, hw), big, kTolLargeQ);
    // The classroom case too (N = 100, d = 1, 96-element chunks).
    const auto in2 = inputs(100, 1, 4);
    const auto r2 = run_numerics("standard", problem(100, 1, sim::Dtype::fp32), in2, *sim::find_preset("classroom"));
    CHECK(r2.r.counters.at(sim::Level::HBM, sim::Tensor::S).read_elements == 2 * 100 * 100);
    check_against_reference(r2, in2, kTol);
}

TEST_CASE("the reference itself: rows of softmax sum to one, uniform keys average V", "[kernels][numerics]") {
    // Q = 0 makes every score 0: P is uniform, so O is the column mean of V, exactly.
    kernels::Inputs in = kernels::inputs_of(inputs(5, 3, 1));
    in.Q.setZero();
    const auto ref = kernels::reference_attention(in);
    const Eigen::RowVectorXd mean = in.V.cast<double>().colwise().mean();
    for (Eigen::Index r = 0; r < 5; ++r) CHECK((ref.row(r) - mean).cwiseAbs().maxCoeff() < 1e-12);
    // compare(): max abs and relative Frobenius of a known difference.
    kernels::Mat O = ref.cast<float>();
    O(0, 0) += 0.5F;
    const auto e = kernels::compare(O, ref);
    CHECK(e.max_abs == Approx(0.5).epsilon(1e-6));
    CHECK(e.rel_fro == Approx(0.5 / ref.norm()).epsilon(1e-5));
}

TEST_CASE("softmax probe, FlashAttention (Algorithm 1): m_i rises, l_i and O_i match the partial softmax",
          "[kernels][numerics][probe]") {
    // Classroom N = 18, d = 4: B_r = B_c = 4, T_c = 5, the last K/V block ragged (2 rows). Watch Q block 1.
    const auto toy = *sim::find_preset("classroom");
    auto in = inputs(18, 4, 11);
    in[Tensor::Q] *= 3.0F;  // sharper rows so the running max actually moves
    const auto n = run_numerics("flash", problem(18, 4, sim::Dtype::fp32), in, toy, {}, 1, true);
    const auto& r = n.r;
    REQUIRE(r.fit.ok);
    REQUIRE(r.probe.size() == 5);  // one snapshot per K/V block
    const std::int64_t r0 = 4, rows = 4, B_c = r.tiling.B_c;
    for (std::size_t k = 0; k < r.probe.size(); ++k) {
        const auto& s = r.probe[k];
        INFO("after K/V block " << k);
        CHECK(s.j == static_cast<std::int32_t>(k));
        CHECK(s.O_normalised);
        REQUIRE(s.m.size() == rows);
        REQUIRE(s.l.size() == rows);
        if (k > 0) {
            for (Eigen::Index q = 0; q < rows; ++q) CHECK(s.m(q) >= r.probe[k - 1].m(q));  // non-decreasing
        }
        // After folding in blocks 0..k the state is the softmax over the first min(18, (k+1) B_c) keys.
        const std::int64_t seen = std::min<std::int64_t>(18, (static_cast<std::int64_t>(k) + 1) * B_c);
        const Partial want = partial_attention(in, r0, rows, seen);
        for (Eigen::Index q = 0; q < rows; ++q) {
            CHECK(s.m(q) == Approx(want.m(q)).margin(1e-5));
            CHECK(s.l(q) == Approx(want.l(q)).epsilon(1e-5));
        }
        CHECK((s.O.cast<double>() - want.O).cwiseAbs().maxCoeff() <= kTol);  // FA1 keeps O_i normalised
        // The step points at this update's last event in the trace (the store of m_i for block (1, k)).
        REQUIRE(r.trace);
        REQUIRE(s.step >= 0);
        REQUIRE(s.step < static_cast<std::int64_t>(r.trace->events().size()));
        const auto& e = r.trace->events()[static_cast<std::size_t>(s.step)];
        CHECK(e.i == 1);
        CHECK(e.j == static_cast<std::int32_t>(k));
    }
    // The final statistics are the full row's: the reference row max and sum.
    const Partial full = partial_attention(in, r0, rows, 18);
    const auto& last = r.probe.back();
    for (Eigen::Index q = 0; q < rows; ++q) {
        CHECK(last.m(q) == Approx(full.m(q)).margin(1e-5));
        CHECK(last.l(q) == Approx(full.l(q)).epsilon(1e-5));
    }
    // The last snapshot of O_i is the output's rows.
    CHECK((last.O - n.O().middleRows(r0, rows)).cwiseAbs().maxCoeff() == 0.0F);
}

TEST_CASE("softmax probe, FlashAttention-2: O_i is unnormalised until the end, O_i / l_i is the output",
          "[kernels][numerics][probe]") {
    const auto toy = *sim::find_preset("classroom");
    auto in = inputs(18, 4, 12);
    in[Tensor::Q] *= 3.0F;
    // Watch the ragged last Q block (rows 16, 17).
    const auto n = run_numerics("flash2", problem(18, 4, sim::Dtype::fp32), in, toy, {}, 4, true);
    const auto& r = n.r;
    REQUIRE(r.fit.ok);
    REQUIRE(r.tiling.B_r == 4);
    REQUIRE(r.probe.size() == static_cast<std::size_t>(r.tiling.T_c));
    const std::int64_t r0 = 16, rows = 2, B_c = r.tiling.B_c;
    for (std::size_t k = 0; k < r.probe.size(); ++k) {
        const auto& s = r.probe[k];
        INFO("after K/V block " << k);
        CHECK(s.j == static_cast<std::int32_t>(k));
        CHECK_FALSE(s.O_normalised);
        REQUIRE(s.m.size() == rows);
        REQUIRE(s.O.rows() == rows);
        if (k > 0) {
            for (Eigen::Index q = 0; q < rows; ++q) CHECK(s.m(q) >= r.probe[k - 1].m(q));
        }
        const std::int64_t seen = std::min<std::int64_t>(18, (static_cast<std::int64_t>(k) + 1) * B_c);
        const Partial want = partial_attention(in, r0, rows, seen);
        for (Eigen::Index q = 0; q < rows; ++q) {
            CHECK(s.m(q) == Approx(want.m(q)).margin(1e-5));
            CHECK(s.l(q) == Approx(want.l(q)).epsilon(1e-5));
        }
        // Deferred rescale: the held O_i is l_i times the normalised partial output.
        const kernels::MatD normalised = s.O.cast<double>().array().colwise() / s.l.cast<double>().array();
        CHECK((normalised - want.O).cwiseAbs().maxCoeff() <= kTol);
        const auto& e = r.trace->events().at(static_cast<std::size_t>(s.step));
        CHECK(e.i == 4);
        CHECK(e.j == static_cast<std::int32_t>(k));
    }
    const auto& last = r.probe.back();
    const kernels::Mat final_rows = last.O.array().colwise() / last.l.array();
    CHECK((final_rows - n.O().middleRows(r0, rows)).cwiseAbs().maxCoeff() <= 1e-6F);
}

TEST_CASE("softmax probe: off by default, empty for standard attention, out-of-range blocks, count-only",
          "[kernels][numerics][probe]") {
    const auto toy = *sim::find_preset("classroom");
    const auto p = problem(16, 4, sim::Dtype::fp32);
    const auto in = kernels::random_inputs(p, 1);
    CHECK(run_numerics("flash", p, in, toy).r.probe.empty());
    CHECK(run_numerics("standard", p, in, toy, {}, 0).r.probe.empty());
    CHECK(run_numerics("flash", p, in, toy, {}, 99).r.probe.empty());
    CHECK(run_numerics("flash2", p, in, toy, {}, 99).r.probe.empty());
    // Without a trace, snapshots still come, with step -1.
    const auto r = run_numerics("flash", p, in, toy, {}, 0, false).r;
    REQUIRE(r.probe.size() == 4);
    CHECK(r.probe[0].step == -1);
    kernels::RunOptions o;
    o.numerics = false;
    o.watch_block = 0;
    CHECK(kernels::run(*kernels::find_definition("flash", Pass::forward), p, {}, toy, nullptr, o).probe.empty());
    // The definitions say which kind of online softmax the panel can show.
    CHECK(kernels::find_definition("flash", Pass::forward)->softmax == kernels::OnlineSoftmax::normalised);
    CHECK(kernels::find_definition("flash2", Pass::forward)->softmax == kernels::OnlineSoftmax::deferred);
    CHECK(kernels::find_definition("standard", Pass::forward)->softmax == kernels::OnlineSoftmax::none);
}
