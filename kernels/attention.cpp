#include "kernels/attention.h"

#include <random>
#include <stdexcept>

#include "kernels/tiling.h"

namespace tilesim::kernels {

Inputs random_inputs(std::int64_t N, std::int64_t d, std::uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<float> dist(0.0F, 1.0F);
    Inputs in;
    for (Mat* m : {&in.Q, &in.K, &in.V}) {
        m->resize(N, d);
        for (Eigen::Index k = 0; k < m->size(); ++k) m->data()[k] = dist(gen);
    }
    return in;
}

std::int64_t numerics_bytes(AlgorithmId alg, const Problem& p) {
    const std::int64_t f = sizeof(float);
    const std::int64_t qkvo = 4 * p.N * p.d * f + 2 * p.N * f;
    // The fp64 reference materialises S (N x N doubles) and casts Q, K, V, O to double.
    const std::int64_t reference = p.N * p.N * 8 + 4 * p.N * p.d * 8;
    switch (alg) {
        case AlgorithmId::standard:
            return qkvo + 2 * p.N * p.N * f + reference;  // S and P in "HBM"
        case AlgorithmId::flash:
        case AlgorithmId::flash2:
            return qkvo + reference;
    }
    return qkvo;
}

RunResult run(AlgorithmId alg, const Problem& p, const TilingRequest& req, const sim::HardwareSpec& hw,
              const Inputs* inputs, const RunOptions& options) {
    RunResult r;
    r.algorithm = alg;
    r.tiling = resolve_tiling(alg, p, req, hw, &r.fit);
    if (!r.fit.ok) return r;
    if (options.numerics && (inputs == nullptr || inputs->Q.rows() != p.N || inputs->Q.cols() != p.d)) {
        throw std::invalid_argument("kernels::run: numerics need N x d inputs");
    }
    sim::Hierarchy h(hw, p.dtype, options.trace, options.max_trace_events);
    const Inputs* in = options.numerics ? inputs : nullptr;
    switch (alg) {
        case AlgorithmId::standard:
            run_standard(p, r.tiling, h, in, options, r);
            break;
        case AlgorithmId::flash:
            run_flash(p, r.tiling, h, in, options, r);
            break;
        case AlgorithmId::flash2:
            run_flash2(p, r.tiling, h, in, options, r);
            break;
    }
    r.counters = h.counters();
    r.phases = h.phases();
    r.trace = h.take_trace();
    return r;
}

}  // namespace tilesim::kernels
