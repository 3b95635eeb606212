// kernels::run: resolve the tiling, build the hierarchy, declare the tensors, run the definition.
#include <random>
#include <stdexcept>

#include "kernels/algorithm.h"
#include "kernels/tiling.h"

namespace tilesim::kernels {

std::string_view pass_name(Pass p) {
    return p == Pass::forward ? "forward" : "backward";
}

std::string_view passes_name(Passes p) {
    switch (p) {
        case Passes::forward:
            return "forward";
        case Passes::backward:
            return "backward";
        case Passes::forward_backward:
            return "forward+backward";
    }
    return "?";
}

std::string_view mask_name(MaskKind m) {
    switch (m) {
        case MaskKind::none:
            return "none";
    }
    return "?";
}

bool ScheduleSupport::supports(sim::Schedule s) const {
    if (s == sim::Schedule::paper) return true;
    for (auto x : supported) {
        if (x == s) return true;
    }
    return false;
}

std::int64_t ClosedForm::hbm_read_elements() const {
    std::int64_t s = 0;
    for (auto v : hbm_read_by_tensor) s += v;
    return s;
}

std::int64_t ClosedForm::hbm_write_elements() const {
    std::int64_t s = 0;
    for (auto v : hbm_write_by_tensor) s += v;
    return s;
}

HbmState random_inputs(const Problem& p, std::uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<float> dist(0.0F, 1.0F);
    HbmState hbm;
    auto fill = [&](sim::Tensor t, std::int64_t rows) {
        Mat& m = hbm[t];
        m.resize(rows, p.d);
        for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = dist(gen);
    };
    // Q, K, V first, in this order, so a forward's inputs do not depend on whether dO is drawn.
    fill(sim::Tensor::Q, p.N_q);
    fill(sim::Tensor::K, p.N_kv);
    fill(sim::Tensor::V, p.N_kv);
    fill(sim::Tensor::dO, p.N_q);
    return hbm;
}

RunResult run(const AlgorithmDef& def, const Problem& p, const TilingRequest& req, const sim::HardwareSpec& hw,
              HbmState* hbm, const RunOptions& options) {
    RunResult r;
    r.def = &def;
    r.tiling = resolve_tiling(def, p, req, hw, &r.fit);
    if (!r.fit.ok) return r;
    const std::vector<sim::TensorDecl> tensors = def.tensors(p, r.tiling);
    HbmState* state = options.numerics ? hbm : nullptr;
    if (options.numerics) {
        if (hbm == nullptr) throw std::invalid_argument("kernels::run: numerics need the HBM inputs");
        for (const auto& t : tensors) {
            if (!t.input) continue;
            const Mat& m = (*hbm)[t.tensor];
            if (m.rows() != t.rows || m.cols() != t.cols) {
                throw std::invalid_argument("kernels::run: " + std::string(def.key) + " needs " +
                                            std::string(sim::tensor_name(t.tensor)) + " as " +
                                            std::to_string(t.rows) + " x " + std::to_string(t.cols));
            }
        }
    }
    sim::Hierarchy h(hw, p.dtype, options.trace, options.max_trace_events);
    h.record_accesses(options.record_accesses);
    for (const auto& t : tensors) h.declare(t);
    RunContext ctx{def, p, r.tiling, h, options, state, r.probe};
    def.run(ctx);
    r.counters = h.counters();
    r.declared = h.declared();
    r.phases = h.take_phases();
    r.trace = h.take_trace();
    return r;
}

}  // namespace tilesim::kernels
