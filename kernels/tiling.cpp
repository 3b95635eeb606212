#include "kernels/tiling.h"

#include <algorithm>
#include <sstream>

namespace tilesim::kernels {

using sim::Tensor;

RowPass row_pass_shape(const Problem& p, const sim::HardwareSpec& hw, std::int64_t rows_held) {
    // Rows of S, P, dP or dS: all stored alike (bf16 for an fp8 problem).
    const auto e = static_cast<std::int64_t>(sim::element_bytes(Tensor::S, p.dtype));
    RowPass s;
    const std::int64_t rows = hw.sram_bytes / (rows_held * p.N_kv * e);
    if (rows >= 1) {
        s.one_pass = true;
        s.rows = std::min(rows, p.N_q);
    } else {
        // A row does not fit: stream it in chunks, once for the statistics, once more to write.
        s.one_pass = false;
        s.chunk = std::max<std::int64_t>(1, hw.sram_bytes / (rows_held * e));
    }
    return s;
}

std::int64_t working_set_bytes(const AlgorithmDef& def, const Problem& p, std::int64_t B_r, std::int64_t B_c,
                               const sim::HardwareSpec& hw) {
    std::int64_t worst = 0;
    for (const auto& pass : def.working_sets(p, B_r, B_c, hw)) {
        std::int64_t bytes = 0;
        for (const auto& b : pass) {
            bytes += b.rows * b.cols * static_cast<std::int64_t>(sim::element_bytes(b.tensor, p.dtype));
        }
        worst = std::max(worst, bytes);
    }
    return worst;
}

namespace {

bool fits(const AlgorithmDef& alg, const Problem& p, std::int64_t B_r, std::int64_t B_c,
          const sim::HardwareSpec& hw) {
    return working_set_bytes(alg, p, B_r, B_c, hw) <= hw.sram_bytes;
}

// Largest value v in [1, hi] with ok(v), or 0 (fit is monotone in each block size).
template <class F>
std::int64_t largest_fitting(std::int64_t hi, F ok) {
    std::int64_t lo = 0;
    while (lo < hi) {
        const std::int64_t mid = lo + (hi - lo + 1) / 2;
        if (ok(mid)) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

std::string describe(const AlgorithmDef& alg, const Problem& p, std::int64_t B_r, std::int64_t B_c,
                     const sim::HardwareSpec& hw) {
    std::ostringstream os;
    std::int64_t worst = -1;
    for (const auto& pass : alg.working_sets(p, B_r, B_c, hw)) {
        std::int64_t bytes = 0;
        std::ostringstream parts;
        for (const auto& b : pass) {
            const std::int64_t nb =
                b.rows * b.cols * static_cast<std::int64_t>(sim::element_bytes(b.tensor, p.dtype));
            bytes += nb;
            if (parts.tellp() > 0) parts << " + ";
            parts << b.what << " " << b.rows << "x" << b.cols << " = " << nb << " B";
        }
        if (bytes > worst) {
            worst = bytes;
            os.str("");
            os << parts.str() << " = " << bytes << " B";
        }
    }
    return os.str();
}

}  // namespace

Tiling resolve_tiling(const AlgorithmDef& alg, const Problem& p, const TilingRequest& req,
                      const sim::HardwareSpec& hw, sim::FitStatus* status) {
    Tiling t;
    sim::FitStatus st = sim::FitStatus::fits();
    const auto e = static_cast<std::int64_t>(sim::dtype_bytes(p.dtype));
    const std::int64_t M = hw.sram_bytes / e;  // SRAM capacity in elements: the paper's M
    std::ostringstream note;
    if (M < 1 || p.N_q < 1 || p.N_kv < 1 || p.d < 1) {
        st =
            sim::FitStatus::fails("SRAM holds " + std::to_string(hw.sram_bytes) + " B, less than one element",
                                  "raise sram_bytes", e, hw.sram_bytes);
        if (status != nullptr) *status = st;
        return t;
    }
    const TilingRule::Blocks rule = alg.rule.blocks(p, M);
    const bool q_resident = alg.rule.q_resident;
    const bool auto_r = req.B_r <= 0;
    const bool auto_c = req.B_c <= 0;
    t.B_r = auto_r ? rule.B_r : req.B_r;
    t.B_c = auto_c ? rule.B_c : req.B_c;
    if (auto_r || auto_c) {
        note << alg.rule.name << " (" << alg.rule.text << ") with M = " << M << " elements: B_r = " << rule.B_r
             << ", B_c = " << rule.B_c;
    } else {
        note << "explicit";
    }
    if (t.B_r > p.N_q || t.B_c > p.N_kv) {
        if (p.N_q == p.N_kv) {
            note << "; clamped to N = " << p.N_q;
        } else {
            note << "; clamped to N_q = " << p.N_q << ", N_kv = " << p.N_kv;
        }
        t.B_r = std::min(t.B_r, p.N_q);
        t.B_c = std::min(t.B_c, p.N_kv);
    }
    if (!fits(alg, p, t.B_r, t.B_c, hw)) {
        const std::string over = describe(alg, p, t.B_r, t.B_c, hw);
        // Shrink only what the rule chose: the larger (resident-side) block first, then the other.
        const std::int64_t before_r = t.B_r, before_c = t.B_c;
        auto shrink_c = [&] {
            if (!auto_c) return;
            const std::int64_t c =
                largest_fitting(t.B_c, [&](std::int64_t v) { return fits(alg, p, t.B_r, v, hw); });
            if (c > 0) t.B_c = c;
        };
        auto shrink_r = [&] {
            if (!auto_r) return;
            const std::int64_t r =
                largest_fitting(t.B_r, [&](std::int64_t v) { return fits(alg, p, v, t.B_c, hw); });
            if (r > 0) t.B_r = r;
        };
        if (q_resident) {
            shrink_r();
            if (!fits(alg, p, t.B_r, t.B_c, hw)) shrink_c();
        } else {
            shrink_c();
            if (!fits(alg, p, t.B_r, t.B_c, hw)) shrink_r();
        }
        // Shrinking one block with the other held at the rule's value may not be enough (e.g. the
        // classroom machine in fp32 with d = 16: the rule's 2 x 2 needs 544 B, 2 x 1 and 1 x 2 still
        // overflow 384 B, but 1 x 1 needs 268 B). When the rule chose both, shrink them together to the
        // largest square that fits, then grow the resident block back as far as it fits, then the other.
        if (!fits(alg, p, t.B_r, t.B_c, hw) && auto_r && auto_c) {
            const std::int64_t b = largest_fitting(std::max(t.B_r, t.B_c), [&](std::int64_t v) {
                return fits(alg, p, std::min(v, t.B_r), std::min(v, t.B_c), hw);
            });
            if (b > 0) {
                t.B_r = std::min(b, t.B_r);
                t.B_c = std::min(b, t.B_c);
                // Grow the resident block first, then the other, so that neither can take one more row.
                auto grow_r = [&] {
                    t.B_r =
                        largest_fitting(before_r, [&](std::int64_t v) { return fits(alg, p, v, t.B_c, hw); });
                };
                auto grow_c = [&] {
                    t.B_c =
                        largest_fitting(before_c, [&](std::int64_t v) { return fits(alg, p, t.B_r, v, hw); });
                };
                if (q_resident) {
                    grow_r();
                    grow_c();
                } else {
                    grow_c();
                    grow_r();
                }
            }
        }
        if (fits(alg, p, t.B_r, t.B_c, hw)) {
            note << "; rule's B_r = " << before_r << ", B_c = " << before_c << " overflow SRAM (" << over
                 << " > " << hw.sram_bytes << " B), shrunk to fit";
        } else {
            // Suggest the largest explicit size that would fit with the other one fixed.
            const std::int64_t c_ok =
                largest_fitting(t.B_c, [&](std::int64_t v) { return fits(alg, p, t.B_r, v, hw); });
            const std::int64_t r_ok =
                largest_fitting(t.B_r, [&](std::int64_t v) { return fits(alg, p, v, t.B_c, hw); });
            std::ostringstream fix;
            if (c_ok > 0) fix << "set block_cols <= " << c_ok;
            if (r_ok > 0) fix << (c_ok > 0 ? ", or " : "set ") << "block_rows <= " << r_ok;
            if (c_ok == 0 && r_ok == 0) {
                // Neither alone is enough: suggest shrinking both, to the largest square that fits.
                const std::int64_t b = largest_fitting(std::max(t.B_r, t.B_c), [&](std::int64_t v) {
                    return fits(alg, p, std::min(v, t.B_r), std::min(v, t.B_c), hw);
                });
                if (b > 0) {
                    fix << "set block_rows <= " << std::min(b, t.B_r)
                        << " and block_cols <= " << std::min(b, t.B_c);
                }
            }
            fix << (fix.tellp() > 0 ? ", or " : "") << "raise sram_bytes to at least "
                << working_set_bytes(alg, p, t.B_r, t.B_c, hw);
            st = sim::FitStatus::fails(
                "tiles do not fit in SRAM with B_r = " + std::to_string(t.B_r) +
                    ", B_c = " + std::to_string(t.B_c) + ", d = " + std::to_string(p.d) + ": " +
                    describe(alg, p, t.B_r, t.B_c, hw) + " > " + std::to_string(hw.sram_bytes) + " B of SRAM",
                fix.str(), working_set_bytes(alg, p, t.B_r, t.B_c, hw), hw.sram_bytes);
        }
    }
    t.T_r = ceil_div(p.N_q, std::max<std::int64_t>(1, t.B_r));
    t.T_c = ceil_div(p.N_kv, std::max<std::int64_t>(1, t.B_c));
    t.note = note.str();
    if (st.ok && alg.finish_tiling != nullptr) alg.finish_tiling(p, hw, t);
    if (status != nullptr) *status = st;
    return t;
}

}  // namespace tilesim::kernels
