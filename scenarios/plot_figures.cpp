// `tilesim plot` figures: HBM traffic against N, block size and SRAM size (plot_figures.h); the
// roofline and the timeline are in plot_timeline.cpp.
#include "scenarios/plot_figures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "kernels/bounds.h"
#include "kernels/registry.h"
#include "scenarios/plot_text.h"
#include "scenarios/sweep.h"

namespace tilesim::scenarios {

using plot::Series;

std::optional<PlotKind> parse_plot_kind(std::string_view text) {
    if (text == "io-vs-n") return PlotKind::io_vs_n;
    if (text == "io-vs-block") return PlotKind::io_vs_block;
    if (text == "io-vs-sram") return PlotKind::io_vs_sram;
    if (text == "roofline") return PlotKind::roofline;
    if (text == "timeline") return PlotKind::timeline;
    return std::nullopt;
}

std::string default_over(PlotKind kind, const Scenario& s) {
    const std::int64_t N = s.problem.N_kv, M = s.hardware.sram_bytes;
    switch (kind) {
        case PlotKind::io_vs_n:
            return fmt::format("seq_len={}..{}", std::max<std::int64_t>(1, N / 4), 16 * N);
        case PlotKind::io_vs_block: {
            const std::int64_t n = std::min<std::int64_t>(N, 4096);
            return fmt::format("block_cols={}..{}", std::max<std::int64_t>(1, n / 256), n);
        }
        case PlotKind::io_vs_sram:
            return fmt::format("sram_bytes={}..{}", std::max<std::int64_t>(1, M / 8), 8 * M);
        default:
            return {};
    }
}

std::string pretty_math(std::string_view text) {
    std::string s(text);
    auto replace_all = [&s](const std::string& from, const std::string& to) {
        for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
            s.replace(p, from.size(), to);
    };
    replace_all("Theta", "Θ");
    replace_all("Omega", "Ω");
    replace_all("sqrt(M)", "√M");
    replace_all("^2", "²");
    return s;
}

namespace text {

std::string si(double v, const std::string& unit, bool space) {
    static const char* kUp[] = {"", "k", "M", "G", "T", "P", "E"};
    static const char* kDown[] = {"", "m", "µ", "n", "p"};
    if (!(v > 0) || !std::isfinite(v)) return fmt::format("0{}{}", space ? " " : "", unit);
    int e3 = static_cast<int>(std::floor(std::log10(v) / 3 + 1e-9));
    e3 = std::clamp(e3, -4, 6);
    const double mant = v / std::pow(1000.0, e3);
    const std::string prefix = e3 >= 0 ? kUp[e3] : kDown[-e3];
    const std::string suffix = prefix + unit;
    return fmt::format("{:.3g}{}{}", mant, suffix.empty() || !space ? "" : " ", suffix);
}

std::string count(double v) {
    return v < 1000 ? fmt::format("{:.3g}", v) : si(v, "", false);
}

std::string binary(std::int64_t b) {
    if (b >= (std::int64_t{1} << 20) && b % (std::int64_t{1} << 20) == 0)
        return fmt::format("{} MiB", b >> 20);
    if (b >= 1024 && b % 1024 == 0) return fmt::format("{} KiB", b >> 10);
    return fmt::format("{} B", b);
}

std::string problem_line(const Scenario& s, bool with_N) {
    const auto& p = s.problem;
    std::string line = fmt::format("{} on {}: B = {}, H = {}, ", s.name, s.hardware_name, p.batch, p.heads);
    if (with_N) line += fmt::format("N = {}, ", p.N_kv);
    line += fmt::format("d = {}, {}, {}", p.d, sim::dtype_name(p.dtype), kernels::passes_name(p.passes));
    if (with_N && p.N_q != p.N_kv) line += fmt::format(", N_q = {}", p.N_q);
    if (p.mask.active()) line += ", mask " + kernels::mask_text(p.mask);
    return line;
}

}  // namespace text

namespace {

double hbm_bytes_of(const std::vector<AlgorithmRun>& runs, const std::string& key, bool* misfit) {
    double total = 0;
    bool any = false;
    for (const auto& r : runs) {
        if (r.key() != key) continue;
        if (!r.fit.ok) {
            if (misfit) *misfit = true;
            return -1;
        }
        total += static_cast<double>(r.total.at(sim::Level::HBM).total_bytes());
        any = true;
    }
    return any ? total : -1;
}

// The key's name in a legend: its first pass's definition name, "(fwd + bwd)" when both run.
std::string display_name(const std::string& key, const Scenario& s) {
    const auto passes = passes_of(s);
    const auto* d = passes.empty() ? nullptr : kernels::find_definition(key, passes.front());
    std::string name = d != nullptr ? std::string(d->name) : key;
    if (passes.size() > 1) name += " (fwd + bwd)";
    return name;
}

// The key's Theta() as text (its passes' distinct texts joined) and its value at (N, d, M).
std::string theta_text(const std::string& key, const Scenario& s) {
    std::vector<std::string> texts;
    for (auto pass : passes_of(s)) {
        const auto* d = kernels::find_definition(key, pass);
        if (d == nullptr || d->theta.text == nullptr) continue;
        const std::string t = pretty_math(d->theta.text);
        if (std::find(texts.begin(), texts.end(), t) == texts.end()) texts.push_back(t);
    }
    std::string out;
    for (const auto& t : texts) out += (out.empty() ? "" : " + ") + t;
    return out;
}

double theta_value(const std::string& key, const Scenario& s, double N, double d, double M) {
    double v = 0;
    for (auto pass : passes_of(s)) {
        const auto* def = kernels::find_definition(key, pass);
        if (def != nullptr && def->theta.elements != nullptr) v += def->theta.elements(N, d, M);
    }
    return v;
}

struct IoAxis {
    std::string key;  // the swept key
    std::string title, x_label;
    plot::TickFormat ticks;
};

IoAxis io_axis(PlotKind kind, const std::string& key) {
    IoAxis a;
    a.key = key;
    if (kind == PlotKind::io_vs_n) {
        a.title = "HBM traffic against sequence length N";
        a.x_label = "sequence length N (tokens)";
        a.ticks = [](double v) { return text::count(v); };
    } else if (kind == PlotKind::io_vs_block) {
        const bool rows = key == "block_rows";
        a.title = rows ? "HBM traffic against Q block size B_r" : "HBM traffic against K/V block size B_c";
        a.x_label = rows ? "Q block size B_r (rows); B_c by each algorithm's rule unless set"
                         : "K/V block size B_c (rows); B_r by each algorithm's rule unless set";
        a.ticks = [](double v) { return text::count(v); };
    } else {
        a.title = "HBM traffic against SRAM size M";
        a.x_label = "SRAM per thread block M (bytes); blocks by each algorithm's rule unless set";
        a.ticks = [](double v) { return text::si(v, "B", true); };
    }
    return a;
}

// The (N, d, M in elements) a Theta() is evaluated at for the swept value x.
void theta_point(PlotKind kind, const Scenario& s, double x, double& N, double& d, double& M) {
    N = static_cast<double>(s.problem.N_kv);
    d = static_cast<double>(s.problem.d);
    const double el = static_cast<double>(sim::dtype_bytes(s.problem.dtype));
    M = static_cast<double>(s.hardware.sram_bytes) / el;
    if (kind == PlotKind::io_vs_n) N = x;
    if (kind == PlotKind::io_vs_sram) M = x / el;
}

// The scenario's own value of the swept key, when it has one.
std::optional<double> own_value(const Scenario& s, const std::string& key) {
    if (key == "seq_len") return static_cast<double>(s.problem.N_kv);
    if (key == "sram_bytes") return static_cast<double>(s.hardware.sram_bytes);
    if (key == "block_cols" && s.tiling.B_c > 0) return static_cast<double>(s.tiling.B_c);
    if (key == "block_rows" && s.tiling.B_r > 0) return static_cast<double>(s.tiling.B_r);
    return std::nullopt;
}

// The bounds' three curves over the sweep (their passes added, all heads).
std::vector<Series> bound_series(const SweepResult& sw) {
    Series comp, prop3, saha;
    comp.label = "compulsory: inputs read once, outputs written once";
    prop3.label = "Prop. 3 (Dao et al.): Ω(N²d²/M)";
    saha.label = "Saha & Ye: Θ(min(N²d/√M, N²d²/M))";
    comp.key = "compulsory";
    prop3.key = "prop3";
    saha.key = "saha_ye";
    comp.color = plot::hex(plot::kMuted);
    comp.width = 2.5;
    comp.dash = {14, 6};
    prop3.color = plot::hex(0x888888);
    prop3.width = 2.5;
    prop3.dash = {4, 5};
    saha.color = plot::hex(0x111111);
    saha.width = 2;
    saha.dash = {16, 5, 3, 5};
    for (auto* b : {&comp, &prop3, &saha}) {
        b->role = "bound";
        b->legend_rank = 2;
    }
    for (const auto& pt : sw.points) {
        Scenario at = sw.base;
        apply_setting(at, sw.key, pt.value_text);
        const kernels::Problem p = problem_of(at);
        const double bh = static_cast<double>(p.bh());
        double c = 0, p3 = 0, sy = 0;
        for (auto pass : passes_of(at)) {
            const kernels::IoBounds b = kernels::io_bounds(p, pass, at.hardware);
            c += static_cast<double>(b.compulsory_bytes) * bh;
            p3 += b.prop3_bytes * bh;
            sy += b.saha_ye_bytes * bh;
        }
        for (auto [ser, v] : {std::pair{&comp, c}, {&prop3, p3}, {&saha, sy}}) {
            ser->x.push_back(pt.value);
            ser->y.push_back(v);
        }
    }
    return {comp, prop3, saha};
}

// The sweep --over asks for (or the default), refusing a key this figure does not sweep.
std::pair<std::string, std::vector<std::string>> checked_over(PlotKind kind, const Scenario& base,
                                                              const PlotOptions& o) {
    auto over = parse_over(o.over.empty() ? default_over(kind, base) : o.over);
    const std::vector<std::string> allowed = kind == PlotKind::io_vs_n ? std::vector<std::string>{"seq_len"}
                                             : kind == PlotKind::io_vs_block
                                                 ? std::vector<std::string>{"block_cols", "block_rows"}
                                                 : std::vector<std::string>{"sram_bytes"};
    if (std::find(allowed.begin(), allowed.end(), over.first) == allowed.end()) {
        std::string names;
        for (const auto& a : allowed) names += (names.empty() ? "" : " or ") + a;
        throw ScenarioError("--over " + over.first + ": this figure sweeps " + names + ", e.g. --over " +
                            default_over(kind, base) + " (`tilesim sweep` sweeps any key)");
    }
    return over;
}

// One series per algorithm key: its HBM bytes at every point (passes added), -1 where it does not fit.
std::vector<Series> data_series(const Scenario& s, const SweepResult& sw, int& misfits) {
    std::vector<Series> data;
    for (const auto& k : s.algorithms) {
        const int idx = std::max(0, kernels::key_index(k));
        Series d;
        d.label = display_name(k, s);
        d.key = k;
        d.color = plot::palette(idx);
        d.marker = plot::marker_for(idx);
        for (const auto& pt : sw.points) {
            bool misfit = false;
            d.x.push_back(pt.value);
            d.y.push_back(hbm_bytes_of(pt.runs, k, &misfit));
            misfits += misfit ? 1 : 0;
        }
        data.push_back(std::move(d));
    }
    return data;
}

// The one point where every Theta curve meets its data: the scenario's own value when it is swept and
// every algorithm fits there, else the first (smallest) value where every algorithm fits.
std::optional<std::size_t> theta_anchor(const Scenario& s, const SweepResult& sw,
                                        const std::vector<Series>& data) {
    auto all_fit = [&](std::size_t i) {
        return std::all_of(data.begin(), data.end(), [i](const Series& d) { return d.y[i] > 0; });
    };
    const auto own = own_value(s, sw.key);
    for (std::size_t i = 0; i < sw.points.size(); ++i) {
        if (own && sw.points[i].value == *own && all_fit(i)) return i;
    }
    for (std::size_t i = 0; i < sw.points.size(); ++i) {
        if (all_fit(i)) return i;
    }
    return std::nullopt;
}

// Each algorithm's Theta scaled to meet its data at `anchor`; `flat` gets the keys whose Theta does
// not change over the sweep (they say nothing there and are left out).
std::vector<Series> theta_series(PlotKind kind, const Scenario& s, const SweepResult& sw,
                                 const std::vector<Series>& data, std::size_t anchor,
                                 std::vector<std::string>& flat) {
    std::vector<Series> out;
    for (const auto& d : data) {
        const std::string txt = theta_text(d.key, s);
        if (txt.empty()) continue;
        std::vector<double> f;
        for (const auto& pt : sw.points) {
            double N = 0, dd = 0, M = 0;
            theta_point(kind, s, pt.value, N, dd, M);
            f.push_back(theta_value(d.key, s, N, dd, M));
        }
        const auto [lo, hi] = std::minmax_element(f.begin(), f.end());
        if (!(f[anchor] > 0) || *hi - *lo <= 1e-9 * *hi) {
            flat.push_back(d.key);
            continue;
        }
        // Drawn over the data in a lighter tint: where the bound runs along its data (standard
        // attention's does, exactly) the dashes show on the line instead of hiding under it.
        Series t;
        t.label = txt + ", scaled (" + d.key + ")";
        t.key = d.key;
        t.role = "theta";
        t.legend_rank = 1;
        t.color = plot::Color{static_cast<std::uint8_t>((d.color.r + 255) / 2),
                              static_cast<std::uint8_t>((d.color.g + 255) / 2),
                              static_cast<std::uint8_t>((d.color.b + 255) / 2), 1};
        t.width = 2.5;
        t.dash = {12, 7};
        for (std::size_t i = 0; i < f.size(); ++i) {
            t.x.push_back(sw.points[i].value);
            t.y.push_back(d.y[anchor] / f[anchor] * f[i]);
        }
        out.push_back(std::move(t));
    }
    return out;
}

}  // namespace

plot::LogLogChart io_chart(PlotKind kind, const Scenario& base, const PlotOptions& o) {
    const auto [key, values] = checked_over(kind, base, o);
    Scenario s = base;
    s.numerics = false;  // figures count; they never need the arithmetic
    const SweepResult sw = run_sweep(s, key, values, false);
    const IoAxis axis = io_axis(kind, key);

    plot::LogLogChart ch;
    ch.width = o.width;
    ch.height = o.height;
    ch.title = axis.title;
    ch.subtitle = text::problem_line(s, kind != PlotKind::io_vs_n) + "; count-only runs";
    ch.x_label = axis.x_label;
    ch.y_label = fmt::format("HBM traffic, bytes (all B×H = {} heads)", s.problem.bh());
    ch.x_ticks = axis.ticks;
    ch.y_ticks = [](double v) { return text::si(v, "B", true); };

    // Bounds first (underneath), the data, then the Theta curves over it.
    auto bounds = bound_series(sw);
    // While M >= d^2 the tight bound is Proposition 3's: one curve hides the other, and the caption says so.
    const bool bounds_coincide =
        std::equal(bounds[1].y.begin(), bounds[1].y.end(), bounds[2].y.begin(), bounds[2].y.end(),
                   [](double a, double b) { return std::abs(a - b) <= 1e-9 * std::abs(a); });
    for (auto& b : bounds) ch.series.push_back(std::move(b));
    int misfits = 0;
    const auto data = data_series(s, sw, misfits);
    const auto anchor = theta_anchor(s, sw, data);
    std::vector<std::string> flat;
    const auto theta = kind != PlotKind::io_vs_block && anchor
                           ? theta_series(kind, s, sw, data, *anchor, flat)
                           : std::vector<Series>{};
    ch.series.insert(ch.series.end(), data.begin(), data.end());
    ch.series.insert(ch.series.end(), theta.begin(), theta.end());

    // The caption states what the eye must know to read the figure honestly.
    if (kind == PlotKind::io_vs_block) {
        ch.notes.push_back("A Θ bound depends on N, d and M, not on the block size: none is drawn here.");
    } else if (anchor) {
        const auto x0 = static_cast<std::int64_t>(sw.points[*anchor].value);
        const std::string where =
            kind == PlotKind::io_vs_n ? fmt::format("N = {}", x0) : "M = " + text::binary(x0);
        ch.notes.push_back("Light dashes: each algorithm's Θ bound, scaled to meet its run at " + where +
                           " (a Θ has no constant: compare slopes, not heights).");
        if (!flat.empty()) {
            std::string who;
            for (const auto& k : flat) who += (who.empty() ? "" : ", ") + k;
            ch.notes.back() += " Not drawn: " + who + " (its Θ does not change here).";
        }
    }
    ch.notes.push_back(std::string("Grey: IO lower bounds (kernels/bounds.h); Prop. 3 and Saha & Ye are "
                                   "asymptotic, drawn with constant 1 in elements × element size") +
                       (bounds_coincide ? "; here they coincide (M ≥ d²: the tight bound is Prop. 3's, which "
                                          "FlashAttention's tiling meets)."
                                        : "."));
    if (misfits > 0) {
        ch.notes.push_back(fmt::format(
            "Gaps: {} run{} where the blocks do not fit in SRAM (`tilesim sweep` says by how much).", misfits,
            misfits == 1 ? "" : "s"));
    }
    return ch;
}

plot::Canvas make_plot(PlotKind kind, const Scenario& s, const PlotOptions& o, const plot::TextMeasure& m) {
    if (!o.over.empty() && (kind == PlotKind::roofline || kind == PlotKind::timeline)) {
        throw ScenarioError(std::string("--over: the ") +
                            (kind == PlotKind::roofline ? "roofline" : "timeline") +
                            " plots one run and sweeps nothing; drop --over (use --set to change the run)");
    }
    switch (kind) {
        case PlotKind::io_vs_n:
        case PlotKind::io_vs_block:
        case PlotKind::io_vs_sram:
            return plot::draw(io_chart(kind, s, o), m);
        case PlotKind::roofline:
            return plot::draw(roofline_chart(s, o), m);
        case PlotKind::timeline: {
            Scenario c = s;
            c.numerics = false;
            RunControls rc;
            rc.trace = true;
            return plot::draw(timeline_chart(run_scenario(c, rc), o), m);
        }
    }
    return plot::Canvas(o.width, o.height);
}

}  // namespace tilesim::scenarios
