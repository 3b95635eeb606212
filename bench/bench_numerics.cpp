// Numerics overhead: FlashAttention on the model (every tile move counted, real arithmetic) against
// the plain Eigen reference, same process, same inputs. Prints the ratio; target <= 1.5.
// Usage: bench_numerics [N=4096] [d=64] [repeats=3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "kernels/attention.h"
#include "kernels/reference.h"
#include "sim/hardware.h"

using namespace tilesim;

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
kernels::Mat plain_fp32(const kernels::Inputs& in) {
    const float tau = 1.0F / std::sqrt(static_cast<float>(in.Q.cols()));
    kernels::Mat S = tau * (in.Q * in.K.transpose());
    for (Eigen::Index r = 0; r < S.rows(); ++r) {
        const float mx = S.row(r).maxCoeff();
        S.row(r) = (S.row(r).array() - mx).exp();
        S.row(r) /= S.row(r).sum();
    }
    return S * in.V;
}

}  // namespace

int main(int argc, char** argv) {
    const std::int64_t N = argc > 1 ? std::atoll(argv[1]) : 4096;
    const std::int64_t d = argc > 2 ? std::atoll(argv[2]) : 64;
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
    const auto hw = *sim::find_preset("A100-40GB");
    kernels::Problem p;
    p.N = N;
    p.d = d;
    const auto in = kernels::random_inputs(N, d, 1);
    kernels::RunOptions opt;
    double err = 0;
    const double t_ref = best_of(repeats, [&] { (void)kernels::reference_attention(in); });
    const double t_f32 = best_of(repeats, [&] { (void)plain_fp32(in); });
    std::printf("N = %lld, d = %lld, one head, A100-40GB tiling, best of %d\n", static_cast<long long>(N),
                static_cast<long long>(d), repeats);
    std::printf("%-34s %10.1f ms\n", "reference (Eigen, fp64)", t_ref * 1e3);
    std::printf("%-34s %10.1f ms\n", "plain Eigen, fp32", t_f32 * 1e3);
    for (auto alg : {kernels::AlgorithmId::flash, kernels::AlgorithmId::flash2}) {
        kernels::RunResult r;
        const double t = best_of(repeats, [&] { r = kernels::run(alg, p, {}, hw, &in, opt); });
        err = kernels::compare(*r.O, kernels::reference_attention(in)).max_abs;
        std::printf("%-34s %10.1f ms   model/reference = %.2f   model/plain-fp32 = %.2f   max|err| = %.1e\n",
                    alg == kernels::AlgorithmId::flash ? "FlashAttention (Alg 1) on model"
                                                       : "FlashAttention-2 on model",
                    t * 1e3, t / t_ref, t / t_f32, err);
    }
    return 0;
}
