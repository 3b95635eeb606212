// Backward numerics: dQ, dK, dV of every backward definition against the fp64 reference gradients,
// and the reference itself against central finite differences of the loss L = sum(O o dO).
//
// Tolerance. As for the forward (test_numerics.cpp), the kernels compute in fp32 from fp32 inputs and
// the reference in fp64 from the same inputs, so every difference is the kernels' rounding. The
// gradients are larger than O: dV = P^T dO sums up to N rows of dO (|dV| ~ sqrt(N) for a diffuse
// softmax, up to N for a peaked one), and dQ, dK sum N products tau dS K with |dS| <= |dP| + |D|. So
// the bar is relative to the gradient's own size: max |g - ref| <= kGradTol * max(1, max |ref|) and
// ||g - ref||_F <= kGradTol ||ref||_F, with kGradTol = 2e-5. fp32 rounding of a length-N sum is
// ~ sqrt(N) u ~ 2e-6 relative at N = 1031 for random signs (u = 6e-8); the observed worst is below
// 3e-6 (measured when this suite was written, N <= 1031, d <= 128), so 2e-5 is over 6x above what fp32
// achieves and far below a real bug (a wrong D_i, a missing tau or rescale, a dropped ragged block
// is an O(0.1 .. 1) relative error). With Q x 30 the scores' absolute rounding grows 30x (the forward
// reasons the same), so the bar there is 4e-4.
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

constexpr double kGradTol = 2e-5;
constexpr double kGradTolLargeQ = 4e-4;

// Every backward definition in the table (each has a forward of the same key).
std::vector<std::string_view> backward_keys() {
    std::vector<std::string_view> out;
    for (const auto* def : kernels::definitions()) {
        if (def->pass == Pass::backward) out.push_back(def->key);
    }
    return out;
}

struct GradientRun {
    kernels::RunResult forward, backward;
    kernels::HbmState hbm;
};

// The algorithm's forward (for O and its statistics), then its backward, on one head.
GradientRun run_backward(std::string_view key, const kernels::Problem& p, const kernels::HbmState& in,
                         const sim::HardwareSpec& hw, kernels::TilingRequest req = {}, std::int64_t extra = 0) {
    kernels::RunOptions o;
    o.numerics = true;
    o.extra_passes = extra;
    GradientRun g{{}, {}, in};
    g.forward = kernels::run(*kernels::find_definition(key, Pass::forward), p, req, hw, &g.hbm, o);
    REQUIRE(g.forward.fit.ok);
    g.backward = kernels::run(*kernels::find_definition(key, Pass::backward), p, req, hw, &g.hbm, o);
    return g;
}

void check_one(const kernels::Mat& got, const kernels::MatD& ref, double tol, const char* name) {
    REQUIRE(got.rows() == ref.rows());
    REQUIRE(got.cols() == ref.cols());
    CHECK(got.allFinite());
    const auto err = kernels::compare(got, ref);
    const double scale = std::max(1.0, ref.size() > 0 ? ref.cwiseAbs().maxCoeff() : 0.0);
    INFO(name << ": max abs error " << err.max_abs << " (scale " << scale << "), relative Frobenius error "
              << err.rel_fro);
    CHECK(err.max_abs <= tol * scale);
    // rel_fro falls back to the absolute norm when the reference is 0 (N = 1 makes dS = 0).
    CHECK(err.rel_fro <= tol * (ref.norm() > 0 ? 1.0 : scale));
}

void check_gradients(const GradientRun& g, const kernels::HbmState& in, double tol) {
    REQUIRE(g.backward.fit.ok);
    const auto ref = kernels::reference_gradients(kernels::inputs_of(in), in[Tensor::dO]);
    check_one(g.hbm[Tensor::dQ], ref.dQ, tol, "dQ");
    check_one(g.hbm[Tensor::dK], ref.dK, tol, "dK");
    check_one(g.hbm[Tensor::dV], ref.dV, tol, "dV");
}

// L = sum(O o dO) in fp64 for inputs given in fp64 (the finite-difference oracle).
double loss(const kernels::MatD& Q, const kernels::MatD& K, const kernels::MatD& V, const kernels::MatD& dO) {
    kernels::MatD S = (Q * K.transpose()) / std::sqrt(static_cast<double>(Q.cols()));
    for (Eigen::Index r = 0; r < S.rows(); ++r) {
        S.row(r) = (S.row(r).array() - S.row(r).maxCoeff()).exp();
        S.row(r) /= S.row(r).sum();
    }
    return ((S * V).array() * dO.array()).sum();
}

}  // namespace

TEST_CASE("reference gradients match central finite differences of sum(O o dO)", "[kernels][gradients]") {
    // Tiny sizes, every element perturbed: h = 1e-5 in fp64 gives a truncation error ~ h^2 |L'''| ~ 1e-10
    // and a rounding error ~ 1e-16 / h ~ 1e-11, so 1e-7 is a safe bar for O(1) derivatives.
    for (auto [N, d] : {std::pair<std::int64_t, std::int64_t>{1, 1}, {3, 2}, {5, 4}, {7, 3}}) {
        const auto hbm = kernels::random_inputs(problem(N, d), static_cast<std::uint64_t>(10 * N + d));
        const kernels::Inputs in = kernels::inputs_of(hbm);
        const auto g = kernels::reference_gradients(in, hbm[Tensor::dO]);
        const kernels::MatD Q = in.Q.cast<double>(), K = in.K.cast<double>(), V = in.V.cast<double>();
        const kernels::MatD dO = hbm[Tensor::dO].cast<double>();
        const double h = 1e-5;
        auto fd = [&](int which, Eigen::Index r, Eigen::Index c) {
            kernels::MatD X[3] = {Q, K, V};
            X[which](r, c) += h;
            const double up = loss(X[0], X[1], X[2], dO);
            X[which](r, c) -= 2 * h;
            const double down = loss(X[0], X[1], X[2], dO);
            return (up - down) / (2 * h);
        };
        const kernels::MatD* grads[3] = {&g.dQ, &g.dK, &g.dV};
        for (int which = 0; which < 3; ++which) {
            for (Eigen::Index r = 0; r < N; ++r) {
                for (Eigen::Index c = 0; c < d; ++c) {
                    INFO("N = " << N << " d = " << d << " tensor " << which << " (" << r << ", " << c << ")");
                    CHECK((*grads[which])(r, c) == Approx(fd(which, r, c)).margin(1e-7));
                }
            }
        }
    }
}

TEST_CASE("backward numerics: every algorithm's dQ, dK, dV match the fp64 reference on ragged sizes",
          "[kernels][gradients]") {
    const auto a100 = *sim::find_preset("A100-40GB");
    const std::int64_t Ns[] = {1, 2, 3, 7, 17, 18, 63, 65, 100, 129};
    const std::int64_t ds[] = {1, 4, 16, 64};
    const kernels::TilingRequest reqs[] = {{0, 0}, {7, 13}, {16, 5}};
    int checked = 0;
    for (std::int64_t N : Ns) {
        for (std::int64_t d : ds) {
            const auto in = kernels::random_inputs(problem(N, d), static_cast<std::uint64_t>(N * 977 + d));
            for (const auto& req : reqs) {
                for (auto key : backward_keys()) {
                    INFO(key << " N = " << N << " d = " << d << " B_r = " << req.B_r << " B_c = " << req.B_c);
                    check_gradients(run_backward(key, problem(N, d), in, a100, req), in, kGradTol);
                    ++checked;
                }
            }
        }
    }
    CHECK(checked == 10 * 4 * 3 * static_cast<int>(backward_keys().size()));
    CHECK_FALSE(backward_keys().empty());
}

TEST_CASE("backward numerics: N = 1031 on the A100 and H100 rules, and d = 128", "[kernels][gradients]") {
    for (std::int64_t d : {64, 128}) {
        const auto in = kernels::random_inputs(problem(1031, d), 42);
        for (const char* preset : {"A100-40GB", "H100-SXM"}) {
            for (auto key : backward_keys()) {
                INFO(key << " on " << preset << " d = " << d);
                check_gradients(run_backward(key, problem(1031, d), in, *sim::find_preset(preset)), in, kGradTol);
            }
        }
    }
}

TEST_CASE("backward numerics: classroom machine, eager passes, two-pass softmax backward", "[kernels][gradients]") {
    const auto toy = *sim::find_preset("classroom");
    for (std::int64_t N : {1, 16, 18, 33}) {
        const auto in = kernels::random_inputs(problem(N, 4, sim::Dtype::fp32), 5);
        for (auto key : backward_keys()) {
            for (std::int64_t extra : {0, 1, 3}) {
                INFO(key << " N = " << N << " extra passes " << extra);
                check_gradients(run_backward(key, problem(N, 4, sim::Dtype::fp32), in, toy, {}, extra), in, kGradTol);
            }
        }
    }
    // Classroom, N = 100, d = 1: two rows of P and dP (800 B) do not fit in 384 B, so the softmax
    // backward streams each row twice.
    const auto p = problem(100, 1, sim::Dtype::fp32);
    const auto in = kernels::random_inputs(p, 8);
    const auto g = run_backward("standard", p, in, toy);
    CHECK(g.backward.counters.at(sim::Level::HBM, Tensor::dP).read_elements == 2 * 100 * 100);
    check_gradients(g, in, kGradTol);
}

TEST_CASE("backward numerics: large-magnitude scores (Q x 30)", "[kernels][gradients]") {
    const auto a100 = *sim::find_preset("A100-40GB");
    for (std::int64_t N : {17, 129}) {
        auto in = kernels::random_inputs(problem(N, 16), 99);
        in[Tensor::Q] *= 30.0F;
        for (auto key : backward_keys()) {
            INFO(key << " N = " << N);
            check_gradients(run_backward(key, problem(N, 16), in, a100, {8, 8}), in, kGradTolLargeQ);
        }
    }
}

TEST_CASE("backward: the forward's outputs are inputs, the gradients the only outputs", "[kernels][gradients]") {
    // What each backward reads from its forward is declared as an input (so the GUI draws it present
    // from the start and kernels::run refuses a backward without it), and no backward overwrites O.
    const auto p = problem(16, 4, sim::Dtype::fp32);
    const auto toy = *sim::find_preset("classroom");
    for (auto key : backward_keys()) {
        const auto& bwd = *kernels::find_definition(key, Pass::backward);
        INFO(key);
        CHECK(bwd.outputs == std::vector<Tensor>{Tensor::dQ, Tensor::dK, Tensor::dV});
        const auto in = kernels::random_inputs(p, 3);
        const auto g = run_backward(key, p, in, toy);
        REQUIRE(g.backward.fit.ok);
        kernels::HbmState before = in;
        kernels::RunOptions o;
        REQUIRE(kernels::run(*kernels::find_definition(key, Pass::forward), p, {}, toy, &before, o).fit.ok);
        CHECK(g.hbm[Tensor::O] == before[Tensor::O]);
        for (const auto& t : bwd.tensors(p, g.backward.tiling)) {
            if (!t.input) continue;
            INFO(sim::tensor_name(t.tensor));
            CHECK(before.has(t.tensor));  // the forward (or the inputs) provide it
        }
    }
}
