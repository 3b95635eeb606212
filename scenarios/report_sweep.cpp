// Reports of a sweep: JSON, the terminal table (with log-log slopes) and CSV.
#include <fmt/format.h>
#include <algorithm>

#include "kernels/bounds.h"
#include "kernels/registry.h"
#include "scenarios/report.h"

namespace tilesim::scenarios {

using nlohmann::json;
using sim::Level;

namespace {

// "flash" for a forward, "flash bwd" for a backward: a sweep column's name.
std::string column_name(const kernels::AlgorithmDef& def) {
    return def.pass == kernels::Pass::forward ? std::string(def.key) : std::string(def.key) + " bwd";
}

double hbm_total(const AlgorithmRun& r) {
    return static_cast<double>(r.total.at(Level::HBM).total_bytes());
}

}  // namespace

json to_json(const SweepResult& r) {
    json points = json::array();
    for (const auto& pt : r.points) {
        Scenario s = r.base;
        apply_setting(s, r.key, pt.value_text);
        json runs = json::array();
        for (const auto& run : pt.runs) runs.push_back(run_json(run, s));
        points.push_back({{"value", pt.value}, {"runs", runs}});
    }
    json fits = json::array();
    for (const auto& f : r.fits) {
        fits.push_back({{"algorithm", std::string(f.def->key)},
                        {"pass", std::string(kernels::pass_name(f.def->pass))},
                        {"loglog_slope", f.slope ? json(*f.slope) : json(nullptr)},
                        {"points", f.points}});
    }
    return json{{"tool", "tilesim"},
                {"scenario", scenario_json(r.base)},
                {"over", r.key},
                {"points", points},
                {"fits", fits}};
}

std::string to_table(const SweepResult& r) {
    std::string out = fmt::format("tilesim sweep over {} ({}; {} head(s), HBM traffic for all heads)\n\n", r.key,
                                  r.base.name, r.base.problem.bh());
    const std::vector<AlgorithmRun> none;
    const auto& first = r.points.empty() ? none : r.points.front().runs;
    out += fmt::format("{:>10}", r.key);
    for (const auto& run : first) out += fmt::format(" {:>14}", column_name(*run.def));
    // One ratio column per algorithm against the baseline of its pass: how many times less it moves.
    std::vector<std::pair<std::size_t, std::size_t>> ratios;  // (baseline run, other run)
    for (std::size_t b = 0; b < first.size(); ++b) {
        if (!first[b].def->baseline) continue;
        for (std::size_t o = 0; o < first.size(); ++o) {
            if (o != b && !first[o].def->baseline && first[o].pass() == first[b].pass()) ratios.emplace_back(b, o);
        }
    }
    for (auto [b, o] : ratios) {
        out += fmt::format(" {:>15}", fmt::format("{}/{}", first[b].key(), column_name(*first[o].def)));
    }
    // The forward's IO lower bounds at each point (kernels/bounds.h: the asymptotic one with constant 1).
    out += fmt::format(" {:>12} {:>12}", "compulsory", "Saha & Ye");
    out += "\n";
    for (const auto& pt : r.points) {
        out += fmt::format("{:>10}", pt.value_text);
        for (const auto& run : pt.runs) {
            out += fmt::format(" {:>14}", run.fit.ok ? human_bytes(hbm_total(run)) : std::string("does not fit"));
        }
        for (auto [b, o] : ratios) {
            const auto& base = pt.runs[b];
            const auto& other = pt.runs[o];
            out += base.fit.ok && other.fit.ok ? fmt::format(" {:>14.2f}x", hbm_total(base) / hbm_total(other))
                                               : fmt::format(" {:>15}", "-");
        }
        Scenario at = r.base;
        apply_setting(at, r.key, pt.value_text);
        const kernels::IoBounds bnd = kernels::io_bounds(problem_of(at), kernels::Pass::forward, at.hardware);
        const double bh = static_cast<double>(at.problem.bh());
        out += fmt::format(" {:>12} {:>12}", human_bytes(static_cast<double>(bnd.compulsory_bytes) * bh),
                           human_bytes(bnd.saha_ye_bytes * bh));
        out += "\n";
    }
    // What did not fit, by how much and what would, as `tilesim run` says it (a few lines at most).
    std::size_t misfits = 0;
    std::string misfit_lines;
    for (const auto& pt : r.points) {
        for (const auto& run : pt.runs) {
            if (run.fit.ok) continue;
            if (++misfits <= 6)
                misfit_lines += fmt::format("  {} = {}, {} {}: {}; fix: {}\n", r.key, pt.value_text, run.key(),
                                            kernels::pass_name(run.pass()), run.fit.reason, run.fit.fix);
        }
    }
    if (misfits > 0) {
        out += "\ndoes not fit:\n" + misfit_lines;
        if (misfits > 6) out += fmt::format("  (and {} more; `tilesim run` with that value says each)\n", misfits - 6);
    }
    out += fmt::format("\nlog-log slope of HBM traffic against {}:\n", r.key);
    for (const auto& f : r.fits) {
        const std::string slope = f.slope ? fmt::format("{:>9.3f}", *f.slope) : fmt::format("{:>9}", "undefined");
        out += fmt::format("  {:<14} {}  ({} point{}; theory {})\n", column_name(*f.def), slope, f.points,
                           f.points == 1 ? "" : "s",
                           problem_of(r.base).mask.active() && f.def->theta.masked_text != nullptr
                               ? f.def->theta.masked_text
                               : f.def->theta.text);
    }
    if (std::any_of(r.fits.begin(), r.fits.end(), [](const SweepFit& f) { return !f.slope; })) {
        out += "  (a slope needs at least two points that fit, at different values)\n";
    }
    return out;
}

std::string to_csv(const SweepResult& r) {
    std::string out = fmt::format(
        "algorithm,{},fits,B_r,B_c,hbm_read_bytes,hbm_write_bytes,hbm_total_bytes,hbm_read_elements,"
        "hbm_write_elements,flops,predicted_ms,pass\n",
        r.key);
    for (const auto& pt : r.points) {
        for (const auto& run : pt.runs) {
            const auto key = run.key();
            const auto pass = kernels::pass_name(run.pass());
            if (!run.fit.ok) {
                out += fmt::format("{},{},false,,,,,,,,,,{}\n", key, pt.value_text, pass);
                continue;
            }
            const auto& h = run.total.at(Level::HBM);
            out += fmt::format("{},{},true,{},{},{},{},{},{},{},{},{:.6g},{}\n", key, pt.value_text, run.tiling.B_r,
                               run.tiling.B_c, h.read_bytes, h.write_bytes, h.total_bytes(), h.read_elements,
                               h.write_elements, run.total.flops(), run.cost.total_s * 1e3, pass);
        }
    }
    return out;
}

}  // namespace tilesim::scenarios
