#include "scenarios/sweep.h"

#include "scenarios/work.h"

#include <cmath>
#include <mutex>
#include <thread>

namespace tilesim::scenarios {

std::pair<std::string, std::vector<std::string>> parse_over(std::string_view spec) {
    const auto eq = spec.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == spec.size()) {
        throw ScenarioError("--over '" + std::string(spec) +
                            "': expected key=v1,v2,... or key=lo..hi, e.g. --over seq_len=256,512,1024");
    }
    std::string key(spec.substr(0, eq));
    std::string_view rest = spec.substr(eq + 1);
    std::vector<std::string> values;
    if (const auto dots = rest.find(".."); dots != std::string_view::npos) {
        if (rest.find(',') != std::string_view::npos) {
            throw ScenarioError("--over '" + std::string(spec) + "': mixes a list and a range; give a list (" + key +
                                "=256,512,1024) or a range of powers of two (" + key + "=256..1024)");
        }
        // lo..hi: powers of two (doubling) from lo to hi inclusive.
        const std::string lo_s(rest.substr(0, dots)), hi_s(rest.substr(dots + 2));
        char* e1 = nullptr;
        char* e2 = nullptr;
        const long long lo = std::strtoll(lo_s.c_str(), &e1, 10);
        const long long hi = std::strtoll(hi_s.c_str(), &e2, 10);
        if (lo_s.empty() || hi_s.empty() || *e1 != '\0' || *e2 != '\0') {
            throw ScenarioError("--over '" + std::string(spec) + "': a range lo..hi takes two whole numbers, e.g. " +
                                key + "=128..65536");
        }
        if (lo < 1 || hi < lo) {
            throw ScenarioError("--over '" + std::string(spec) +
                                "': a range needs 1 <= lo <= hi, e.g. seq_len=128..65536");
        }
        // Stop before doubling past hi: `v *= 2` on v > hi / 2 could overflow (hi near LLONG_MAX).
        for (long long v = lo;; v *= 2) {
            values.push_back(std::to_string(v));
            if (v > hi / 2) break;
        }
    } else {
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            std::string item(rest.substr(0, comma));
            if (!item.empty()) values.push_back(item);
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    if (values.empty()) throw ScenarioError("--over '" + std::string(spec) + "': no values given");
    return {key, values};
}

std::optional<double> loglog_slope(const std::vector<double>& x, const std::vector<double>& y) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    std::size_t n = 0;
    for (std::size_t k = 0; k < x.size() && k < y.size(); ++k) {
        if (x[k] <= 0 || y[k] <= 0) continue;
        const double lx = std::log(x[k]), ly = std::log(y[k]);
        sx += lx;
        sy += ly;
        sxx += lx * lx;
        sxy += lx * ly;
        ++n;
    }
    if (n < 2) return std::nullopt;
    const double denom = static_cast<double>(n) * sxx - sx * sx;
    if (!(std::abs(denom) > 1e-12 * static_cast<double>(n) * sxx)) return std::nullopt;  // all x equal
    return (static_cast<double>(n) * sxy - sx * sy) / denom;
}

SweepResult run_sweep(const Scenario& base, const std::string& key, const std::vector<std::string>& values,
                      bool numerics, const RunControls& controls) {
    SweepResult out;
    out.base = base;
    out.key = key;
    // Build and validate every point first: a bad value fails before any work is done.
    std::vector<Scenario> scenarios;
    for (const auto& v : values) {
        Scenario s = base;
        s.numerics = numerics;
        apply_setting(s, key, v);
        validate(s);
        char* end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        if (end == v.c_str() || *end != '\0') {
            throw ScenarioError("--over " + key + ": value '" + v +
                                "' is not a number; sweeps need numeric keys");
        }
        SweepPoint pt;
        pt.value_text = v;
        pt.value = x;
        out.points.push_back(pt);
        scenarios.push_back(std::move(s));
    }
    // The whole sweep's work against the limit, before any point starts (each point alone may be small).
    WorkEstimate total;
    double biggest = -1;
    for (std::size_t k = 0; k < scenarios.size(); ++k) {
        Scenario built = scenarios[k];
        built.problem = problem_of(scenarios[k]);
        const WorkEstimate w = estimate_work(built, controls);
        total.tile_steps += w.tile_steps;
        total.numerics_flops += w.numerics_flops;
        if (w.tile_steps > biggest) {
            biggest = w.tile_steps;
            total.largest = key + " = " + values[k] + ", " + w.largest;
        }
    }
    check_work(total, controls.max_work_seconds);
    // Points are independent: spread them over the cores, largest first for balance.
    std::mutex mu;
    std::int64_t done = 0;
    std::size_t next = 0;
    std::exception_ptr error;
    const std::size_t n = scenarios.size();
    auto worker = [&] {
        for (;;) {
            std::size_t k;
            {
                std::lock_guard<std::mutex> lock(mu);
                if (next >= n || error) return;
                k = n - 1 - next++;
            }
            try {
                RunControls c;
                c.cancel = controls.cancel;
                c.max_work_seconds = 0;  // checked for the whole sweep above
                ScenarioResult r = run_scenario(scenarios[k], c);
                std::lock_guard<std::mutex> lock(mu);
                out.points[k].runs = std::move(r.runs);
                ++done;
                if (controls.progress) controls.progress(done, static_cast<std::int64_t>(n));
            } catch (...) {
                std::lock_guard<std::mutex> lock(mu);
                if (!error) error = std::current_exception();
            }
        }
    };
    const std::size_t threads =
        std::max<std::size_t>(1, std::min<std::size_t>(n, std::thread::hardware_concurrency()));
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);

    const std::size_t runs = out.points.empty() ? 0 : out.points.front().runs.size();
    for (std::size_t a = 0; a < runs; ++a) {
        std::vector<double> xs, ys;
        for (const auto& pt : out.points) {
            const auto& r = pt.runs.at(a);
            if (!r.fit.ok) continue;
            xs.push_back(pt.value);
            ys.push_back(static_cast<double>(r.total.at(sim::Level::HBM).total_bytes()));
        }
        out.fits.push_back(
            {out.points.front().runs[a].def, loglog_slope(xs, ys), static_cast<std::int64_t>(xs.size())});
    }
    return out;
}

}  // namespace tilesim::scenarios
