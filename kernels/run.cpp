// kernels::run: resolve the tiling, build the hierarchy, declare the tensors, run the definition.
#include <optional>
#include <stdexcept>

#include "kernels/algorithm.h"
#include "kernels/paging.h"
#include "kernels/tiling.h"
#include "sim/numeric.h"

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

void RunContext::store(sim::Tensor t, const sim::Rect& tile, std::int32_t i, std::int32_t j, const char* label,
                       std::uint8_t flags) {
    if (hbm != nullptr && o.rounding) {
        const sim::Dtype fmt = sim::storage_dtype(t, p.dtype);
        Mat& m = (*hbm)[t];
        if (sim::has_format(fmt) && m.size() > 0) {
            for (std::int64_t r = tile.row0; r < tile.row0 + tile.rows; ++r) {
                sim::round_span(fmt, m.row(r).data() + tile.col0, tile.cols);
            }
        }
    }
    h.store(t, tile, i, j, label, flags);
}

Mat RunContext::operand(const Mat& x) const {
    if (!o.rounding) return x;
    const sim::Dtype fmt = sim::is_fp8(p.dtype) && def.pass == Pass::backward ? sim::Dtype::bf16 : p.dtype;
    Mat r = x;
    sim::round_span(fmt, r.data(), r.size());
    return r;
}

Problem unit_problem(const AlgorithmDef& def, const Problem& p) {
    const std::int64_t g = query_heads_per_unit(def, p);
    if (g == 1) return p;
    // pack_gqa: the group's g query heads become g x N_q rows of one Q tile against one K/V head.
    Problem u = p;
    u.heads = p.kv_heads;
    u.N_q = g * p.N_q;
    return u;
}

std::int64_t query_heads_per_unit(const AlgorithmDef& def, const Problem& p) {
    if (!def.packs_gqa || p.kv_heads < 1 || p.heads % p.kv_heads != 0) return 1;
    return p.heads / p.kv_heads;
}

RunResult run(const AlgorithmDef& def, const Problem& p, const TilingRequest& req, const sim::HardwareSpec& hw,
              HbmState* hbm, const RunOptions& options) {
    RunResult r;
    r.def = &def;
    r.tiling = resolve_tiling(def, p, req, hw, &r.fit);
    if (!r.fit.ok) return r;
    const std::vector<sim::TensorDecl> tensors = def.tensors(p, r.tiling);
    HbmState* state = options.numerics ? hbm : nullptr;
    // A paged KV cache: the kernel finds K and V scattered in pages (kernels/paging.h). The caller's
    // inputs stay logical (as the reference reads them); the run works on a paged copy and hands back
    // its outputs.
    std::optional<HbmState> paged;
    if (options.numerics && hbm != nullptr && def.paged_kv && p.page_size > 0) {
        paged = *hbm;
        lay_out_pages(p, *paged);
        state = &*paged;
    }
    if (options.numerics) {
        if (hbm == nullptr) throw std::invalid_argument("kernels::run: numerics need the HBM inputs");
        for (const auto& t : tensors) {
            if (!t.input) continue;
            const Mat& m = (*state)[t.tensor];
            if (m.rows() != t.rows || m.cols() != t.cols) {
                throw std::invalid_argument("kernels::run: " + std::string(def.key) + " needs " +
                                            std::string(sim::tensor_name(t.tensor)) + " as " +
                                            std::to_string(t.rows) + " x " + std::to_string(t.cols));
            }
        }
    }
    sim::Hierarchy h(hw, p.dtype, options.trace, options.max_trace_events);
    h.set_tick(options.tick);
    h.record_accesses(options.record_accesses);
    for (const auto& t : tensors) h.declare(t);
    RunContext ctx{def, p, r.tiling, h, options, state, r.probe};
    def.run(ctx);
    if (paged) {
        for (sim::Tensor t : def.outputs) (*hbm)[t] = std::move((*paged)[t]);
    }
    r.counters = h.counters();
    r.declared = h.declared();
    r.phases = h.take_phases();
    r.trace = h.take_trace();
    return r;
}

}  // namespace tilesim::kernels
