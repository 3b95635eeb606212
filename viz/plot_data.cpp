#include "viz/plot_data.h"

#include "kernels/bounds.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "kernels/registry.h"
#include "kernels/tiling.h"
#include "viz/theme.h"

namespace tilesim::viz {

double hbm_total(const std::vector<scenarios::AlgorithmRun>& runs, std::string_view key) {
    double total = 0;
    bool any = false;
    for (const auto& r : runs) {
        if (r.key() != key) continue;
        if (!r.fit.ok) return -1.0;
        total += static_cast<double>(r.total.at(sim::Level::HBM).total_bytes());
        any = true;
    }
    return any ? total : -1.0;
}

std::vector<PlotSeries> data_series(const scenarios::SweepResult& sw) {
    std::vector<PlotSeries> out;
    for (const auto& key : sw.base.algorithms) {
        PlotSeries s;
        s.label = key;
        s.color = algorithm_color(key);
        for (const auto& p : sw.points) {
            s.x.push_back(p.value);
            s.y.push_back(hbm_total(p.runs, key));
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::string theta_text(std::string_view key, const scenarios::Scenario& s) {
    std::vector<std::string> texts;
    for (auto pass : scenarios::passes_of(s)) {
        const auto* d = kernels::find_definition(key, pass);
        if (d == nullptr) continue;
        const std::string t(d->theta.text);
        if (std::find(texts.begin(), texts.end(), t) == texts.end()) texts.push_back(t);
    }
    std::string out;
    for (const auto& t : texts) out += (out.empty() ? "" : " + ") + t;
    return out;
}

double theta_elements(std::string_view key, const scenarios::Scenario& s, const ThetaPoint& at) {
    double v = 0;
    for (auto pass : scenarios::passes_of(s)) {
        const auto* d = kernels::find_definition(key, pass);
        if (d != nullptr && d->theta.elements != nullptr) v += d->theta.elements(at.N, at.d, at.M);
    }
    return v;
}

std::vector<PlotSeries> theta_series(const std::vector<std::string>& keys, const scenarios::Scenario& s,
                                     const std::vector<double>& xs, const ThetaAxis& axis, double x0,
                                     const std::vector<scenarios::AlgorithmRun>& now,
                                     std::vector<std::string>* scaled_to) {
    std::vector<PlotSeries> out;
    std::set<std::string> seen;
    for (const auto& key : keys) {
        const std::string text = theta_text(key, s);
        const double y0 = hbm_total(now, key);
        if (text.empty() || y0 <= 0 || xs.empty() || !seen.insert(text).second) continue;
        auto f = [&](double x) { return theta_elements(key, s, axis(x)); };
        const double f0 = f(x0), lo = f(xs.front()), hi = f(xs.back());
        if (!(f0 > 0) || std::abs(hi - lo) <= 1e-9 * std::max(std::abs(hi), std::abs(lo))) continue;
        PlotSeries c;
        c.label = pretty_math(text);
        c.color = algorithm_color(key, 200);
        c.dashed = true;
        c.markers = false;
        for (double x : xs) {
            c.x.push_back(x);
            c.y.push_back(y0 / f0 * f(x));
        }
        out.push_back(std::move(c));
        if (scaled_to != nullptr) scaled_to->push_back(key);
    }
    return out;
}

std::vector<PlotSeries> bounds_series(const scenarios::Scenario& base, const std::string& key,
                                      const std::vector<double>& xs) {
    PlotSeries compulsory, tight;
    compulsory.label = "compulsory: Q, K, V read, O written once";
    compulsory.color = rgb(colors::kTheory, 200);
    compulsory.markers = false;
    tight.label = "Saha & Ye, min(N^2 d / sqrt(M), N^2 d^2 / M), constant 1";
    tight.color = rgb(colors::kTheory, 140);
    tight.dashed = true;
    tight.markers = false;
    for (double x : xs) {
        double c = -1, t = -1;
        try {
            scenarios::Scenario s = base;
            scenarios::apply_setting(s, key, std::to_string(static_cast<std::int64_t>(x)));
            const kernels::Problem p = scenarios::problem_of(s);
            c = t = 0;
            for (auto pass : scenarios::passes_of(s)) {
                const kernels::IoBounds b = kernels::io_bounds(p, pass, s.hardware);
                c += static_cast<double>(b.compulsory_bytes);
                t += b.saha_ye_bytes;
            }
            c *= static_cast<double>(p.bh());
            t *= static_cast<double>(p.bh());
        } catch (const std::exception&) {
            c = t = -1;  // the value does not apply to this scenario: a gap
        }
        compulsory.x.push_back(x);
        compulsory.y.push_back(c > 0 ? c : -1);
        tight.x.push_back(x);
        tight.y.push_back(t > 0 ? t : -1);
    }
    return {compulsory, tight};
}

std::vector<double> dense_block_sizes(double lo, double hi) {
    std::vector<double> out;
    if (!(lo >= 1) || !(hi >= lo)) return out;
    for (double e = std::log2(lo); e <= std::log2(hi) + 1e-9; e += 0.25) {
        const double b = std::round(std::exp2(e));
        if (out.empty() || b > out.back()) out.push_back(b);
    }
    return out;
}

PlotSeries closed_form_series(std::string_view key, const scenarios::Scenario& base,
                              const std::vector<double>& bcs) {
    PlotSeries c;
    c.label = std::string(key) + ": closed form";
    // Light grey, not the algorithm's colour: it runs along that algorithm's own data line and must
    // show on top of it.
    c.color = rgb(colors::kTheory, 230);
    c.dashed = true;
    c.markers = false;
    kernels::RunOptions o;
    o.numerics = false;
    o.extra_passes = base.extra_passes;
    for (double bc : bcs) {
        scenarios::Scenario s = base;
        s.tiling.B_c = static_cast<std::int64_t>(bc);
        double bytes = 0;
        for (auto pass : scenarios::passes_of(s)) {
            const auto* def = kernels::find_definition(key, pass);
            if (def == nullptr) {
                bytes = -1;
                break;
            }
            // The closed form is per simulated unit: a (batch, head), or for a definition that packs
            // a KV group's query heads a (batch, KV head) of g N_q rows (kernels::unit_problem); all
            // units are unit.bh() of them, as the runner scales its counts.
            const kernels::Problem unit = kernels::unit_problem(*def, s.problem);
            sim::FitStatus fit;
            const kernels::Tiling t = kernels::resolve_tiling(*def, unit, s.tiling, s.hardware, &fit);
            if (!fit.ok) {
                bytes = -1;
                break;
            }
            const kernels::ClosedForm f = def->closed_form(unit, t, s.hardware, o);
            double unit_bytes = 0;
            for (std::size_t k = 0; k < sim::kTensorCount; ++k) {
                const auto el =
                    static_cast<double>(sim::element_bytes(static_cast<sim::Tensor>(k), s.problem.dtype));
                unit_bytes += el * static_cast<double>(f.hbm_read_by_tensor[k] + f.hbm_write_by_tensor[k]);
            }
            bytes += unit_bytes * static_cast<double>(unit.bh());
        }
        c.x.push_back(bc);
        c.y.push_back(bytes > 0 ? bytes : -1.0);
    }
    return c;
}

}  // namespace tilesim::viz
