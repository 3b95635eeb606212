// Numerics overhead: the model's FlashAttention (every tile move counted, real arithmetic) against plain
// Eigen in the same process on the same inputs, forward and backward. Prints the ratios.
// Targets: forward <= 1.5x the fp64 reference; FlashAttention backward within 2x of a plain fp32 Eigen
// backward (docs/benchmarks.md).
// Usage: bench_numerics [N=4096] [d=64] [repeats=3] [N_backward=2048]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "kernels/reference.h"
#include "kernels/registry.h"
#include "sim/hardware.h"

using namespace tilesim;
using sim::Tensor;

namespace {

template <class F>
double best_of(int repeats, F&& f) {
    double best = 1e30;
    for (int r = 0; r < repeats; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

// The same computation as the reference but in fp32: the floor a tiled fp32 kernel can reach.
kernels::Mat softmax_scores(const kernels::Inputs& in) {
    const float tau = 1.0F / std::sqrt(static_cast<float>(in.Q.cols()));
    kernels::Mat S = tau * (in.Q * in.K.transpose());
    for (Eigen::Index r = 0; r < S.rows(); ++r) {
        const float mx = S.row(r).maxCoeff();
        S.row(r) = (S.row(r).array() - mx).exp();
        S.row(r) /= S.row(r).sum();
    }
    return S;
}

kernels::Mat plain_forward(const kernels::Inputs& in) {
    return softmax_scores(in) * in.V;
}

// A plain fp32 backward from scratch (P recomputed densely): dV = P^T dO, dP = dO V^T,
// dS = P o (dP - rowsum(P o dP)), dQ = tau dS K, dK = tau dS^T Q.
void plain_backward(const kernels::Inputs& in, const kernels::Mat& dO, kernels::Mat& dQ, kernels::Mat& dK,
                    kernels::Mat& dV) {
    const float tau = 1.0F / std::sqrt(static_cast<float>(in.Q.cols()));
    const kernels::Mat P = softmax_scores(in);
    dV.noalias() = P.transpose() * dO;
    kernels::Mat dP = dO * in.V.transpose();
    const kernels::Vec D = (P.array() * dP.array()).rowwise().sum();
    dP = tau * (P.array() * (dP.colwise() - D).array());
    dQ.noalias() = dP * in.K;
    dK.noalias() = dP.transpose() * in.Q;
}

void forward_table(std::int64_t N, std::int64_t d, int repeats, const sim::HardwareSpec& hw) {
    const auto p = kernels::Problem::square(N, d);
    const auto hbm = kernels::random_inputs(p, 1);
    const auto in = kernels::inputs_of(hbm);
    const double t_ref = best_of(repeats, [&] { (void)kernels::reference_attention(in); });
    const double t_f32 = best_of(repeats, [&] { (void)plain_forward(in); });
    std::printf("forward: N = %lld, d = %lld, one head, A100-40GB tiling, best of %d\n", static_cast<long long>(N),
                static_cast<long long>(d), repeats);
    std::printf("  %-38s %10.1f ms\n", "reference (Eigen, fp64)", t_ref * 1e3);
    std::printf("  %-38s %10.1f ms\n", "plain Eigen, fp32", t_f32 * 1e3);
    const auto ref = kernels::reference_attention(in);
    for (auto key : {"flash", "flash2"}) {
        const auto& def = *kernels::find_definition(key, kernels::Pass::forward);
        kernels::HbmState h;
        const double t = best_of(repeats, [&] {
            h = hbm;
            (void)kernels::run(def, p, {}, hw, &h, {});
        });
        std::printf("  %-38s %10.1f ms   model/reference = %.2f   model/plain-fp32 = %.2f   max|err| = %.1e\n",
                    std::string(def.name).c_str(), t * 1e3, t / t_ref, t / t_f32,
                    kernels::compare(h[Tensor::O], ref).max_abs);
    }
}

void backward_table(std::int64_t N, std::int64_t d, int repeats, const sim::HardwareSpec& hw) {
    const auto p = kernels::Problem::square(N, d);
    const auto hbm = kernels::random_inputs(p, 2);
    const auto in = kernels::inputs_of(hbm);
    kernels::Mat dQ, dK, dV;
    const double t_plain = best_of(repeats, [&] { plain_backward(in, hbm[Tensor::dO], dQ, dK, dV); });
    const auto ref = kernels::reference_gradients(in, hbm[Tensor::dO]);
    std::printf("backward: N = %lld, d = %lld, one head, A100-40GB tiling, best of %d\n", static_cast<long long>(N),
                static_cast<long long>(d), repeats);
    std::printf("  %-38s %10.1f ms\n", "plain Eigen backward, fp32", t_plain * 1e3);
    for (auto key : {"flash", "flash2"}) {
        // The forward's outputs (O, statistics) first, untimed: the backward starts from them.
        kernels::HbmState fwd = hbm;
        (void)kernels::run(*kernels::find_definition(key, kernels::Pass::forward), p, {}, hw, &fwd, {});
        const auto& def = *kernels::find_definition(key, kernels::Pass::backward);
        kernels::HbmState h;
        const double t = best_of(repeats, [&] {
            h = fwd;
            (void)kernels::run(def, p, {}, hw, &h, {});
        });
        const double err = std::max({kernels::compare(h[Tensor::dQ], ref.dQ).max_abs,
                                     kernels::compare(h[Tensor::dK], ref.dK).max_abs,
                                     kernels::compare(h[Tensor::dV], ref.dV).max_abs});
        std::printf("  %-38s %10.1f ms   model/plain-fp32 = %.2f   max|err| (dQ, dK, dV) = %.1e\n",
                    std::string(def.name).c_str(), t * 1e3, t / t_plain, err);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::int64_t N = argc > 1 ? std::atoll(argv[1]) : 4096;
    const std::int64_t d = argc > 2 ? std::atoll(argv[2]) : 64;
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
    const std::int64_t N_bwd = argc > 4 ? std::atoll(argv[4]) : 2048;
    const auto hw = *sim::find_preset("A100-40GB");
    forward_table(N, d, repeats, hw);
    backward_table(N_bwd, d, repeats, hw);
    return 0;
}
