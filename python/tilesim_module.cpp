// The `tilesim` Python module: the model's runs and sweeps as the same dicts `tilesim run --format
// json` and `tilesim sweep --format json` print, figures and trace exports, for a class working in a
// notebook. A thin consumer like the CLI: settings are turned into the CLI's `--set key=value` text
// and go through the same key table, so a bad value raises ValueError with the CLI's message.
#include <pybind11/pybind11.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/plot_command.h"
#include "kernels/registry.h"
#include "plot/font.h"
#include "plot/svg.h"
#include "scenarios/plot_figures.h"
#include "scenarios/report.h"
#include "scenarios/runner.h"
#include "scenarios/sweep.h"
#include "scenarios/trace_export.h"

namespace py = pybind11;
namespace ts = tilesim::scenarios;

namespace {

// JSON to Python values, as json.loads of the CLI's text would give them (non-finite numbers are
// null there: nlohmann writes NaN and infinity as null).
py::object to_python(const nlohmann::json& j) {
    using T = nlohmann::json::value_t;
    switch (j.type()) {
        case T::boolean:
            return py::bool_(j.get<bool>());
        case T::number_integer:
            return py::int_(j.get<std::int64_t>());
        case T::number_unsigned:
            return py::int_(j.get<std::uint64_t>());
        case T::number_float: {
            const double v = j.get<double>();
            return std::isfinite(v) ? py::object(py::float_(v)) : py::object(py::none());
        }
        case T::string:
            return py::str(j.get_ref<const std::string&>());
        case T::array: {
            py::list l;
            for (const auto& v : j) l.append(to_python(v));
            return l;
        }
        case T::object: {
            py::dict d;
            for (const auto& [k, v] : j.items()) d[py::str(k)] = to_python(v);
            return d;
        }
        default:
            return py::none();
    }
}

// A setting's value as the text `--set` would take: True -> "true", 0.25 -> "0.25", ["a", "b"] -> "a,b".
std::string setting_text(const std::string& key, const py::handle& v) {
    if (py::isinstance<py::bool_>(v)) return v.cast<bool>() ? "true" : "false";
    if (py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v) || py::isinstance<py::str>(v))
        return py::str(v).cast<std::string>();
    if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
        std::string out;
        for (const auto& item : v) out += (out.empty() ? "" : ",") + setting_text(key, item);
        return out;
    }
    throw py::value_error("setting " + key + ": expected int, float, str, bool or a list of them, got " +
                          py::str(v.get_type().attr("__name__")).cast<std::string>());
}

// kwargs -> ["key=value", ...]. A trailing underscore is dropped, so pass_="forward+backward" reaches
// the `pass` key (a Python keyword).
std::vector<std::string> settings_of(const py::kwargs& kw) {
    std::vector<std::string> out;
    for (const auto& [k, v] : kw) {
        std::string key = py::str(k).cast<std::string>();
        if (!key.empty() && key.back() == '_') key.pop_back();
        out.push_back(key + "=" + setting_text(key, v));
    }
    return out;
}

ts::Scenario load(const std::string& scenario, const std::vector<std::string>& sets) {
    ts::Scenario s = scenario.empty() ? ts::default_scenario() : ts::resolve_scenario(scenario);
    ts::apply_settings(s, sets);
    return s;
}

// Runs the model with the GIL released; misfits raise as the CLI reports them ("flash forward: ...;
// fix: ..."), one line each.
ts::ScenarioResult run_checked(const ts::Scenario& s, const ts::RunControls& c) {
    ts::ScenarioResult r;
    {
        py::gil_scoped_release unlocked;
        r = ts::run_scenario(s, c);
    }
    std::string errors;
    for (const auto& run : r.runs) {
        if (run.fit.ok) continue;
        errors += (errors.empty() ? "" : "\n") + std::string(run.key()) + " " +
                  std::string(tilesim::kernels::pass_name(run.pass())) + ": " + run.fit.reason +
                  "; fix: " + run.fit.fix;
    }
    if (!errors.empty()) throw ts::ScenarioError(errors);
    return r;
}

std::string over_text(const py::object& over) {
    if (py::isinstance<py::str>(over)) return over.cast<std::string>();
    if (py::isinstance<py::dict>(over)) {
        const auto d = over.cast<py::dict>();
        if (d.size() == 1) {
            for (const auto& [k, v] : d) {
                const std::string key = py::str(k).cast<std::string>();
                return key + "=" +
                       (py::isinstance<py::str>(v) ? v.cast<std::string>() : setting_text(key, v));
            }
        }
    }
    throw py::value_error(
        "over: expected \"key=v1,v2,...\", \"key=lo..hi\" or {key: [values]}, e.g. "
        "over=\"seq_len=128..4096\"");
}

py::object run(const std::string& scenario, const py::kwargs& kw) {
    const ts::Scenario s = load(scenario, settings_of(kw));
    return to_python(ts::to_json(run_checked(s, {})));
}

py::object sweep(const std::string& scenario, const py::object& over, bool numerics, const py::kwargs& kw) {
    const ts::Scenario s = load(scenario, settings_of(kw));
    const auto [key, values] = ts::parse_over(over_text(over));
    ts::SweepResult r;
    {
        py::gil_scoped_release unlocked;
        r = ts::run_sweep(s, key, values, numerics);
    }
    return to_python(ts::to_json(r));
}

std::string trace(const std::string& scenario, const std::string& format, const std::string& granularity,
                  const py::kwargs& kw) {
    const auto f = ts::parse_trace_format(format);
    if (!f) throw ts::ScenarioError("format '" + format + "': choose one of: " + ts::kTraceFormats);
    const ts::DinOptions din = ts::parse_din_granularity(granularity);
    ts::RunControls c;
    c.trace = true;
    return ts::export_trace(run_checked(load(scenario, settings_of(kw)), c), *f, din);
}

py::object plot(const std::string& kind, const std::string& scenario, const py::object& output,
                const std::string& over, const py::kwargs& kw) {
    if (!output.is_none()) {
        tilesim::cli::PlotArgs a;
        a.kind = kind;
        a.scenario = scenario;
        a.output = py::str(output).cast<std::string>();
        a.over = over;
        a.sets = settings_of(kw);
        {
            py::gil_scoped_release unlocked;
            tilesim::cli::run_plot_command(a);
        }
        return output;
    }
    const auto k = ts::parse_plot_kind(kind);
    if (!k) throw ts::ScenarioError("unknown plot kind '" + kind + "'; choose one of: " + ts::kPlotKinds);
    const ts::Scenario s = load(scenario, settings_of(kw));
    ts::PlotOptions o;
    o.over = over;
    std::string svg;
    {
        py::gil_scoped_release unlocked;
        const auto fonts = tilesim::plot::find_fonts(nullptr);
        svg = tilesim::plot::to_svg(ts::make_plot(*k, s, o, tilesim::plot::text_measure(fonts)));
    }
    return py::str(svg);
}

py::dict list() {
    py::list scenarios, hardware, algorithms;
    for (const auto& b : ts::builtin_scenarios()) {
        py::dict d;
        d["id"] = std::string(b.id);
        d["summary"] = std::string(b.summary);
        scenarios.append(d);
    }
    for (const auto& h : tilesim::sim::hardware_presets()) {
        py::dict d;
        d["name"] = h.name;
        d["description"] = h.description;
        hardware.append(d);
    }
    for (const auto* a : tilesim::kernels::definitions()) {
        py::dict d;
        d["key"] = std::string(a->key);
        d["pass"] = std::string(tilesim::kernels::pass_name(a->pass));
        d["name"] = std::string(a->name);
        d["description"] = std::string(a->description);
        algorithms.append(d);
    }
    py::dict out;
    out["scenarios"] = scenarios;
    out["hardware"] = hardware;
    out["algorithms"] = algorithms;
    return out;
}

py::list keys() {
    py::list out;
    for (const auto& k : ts::key_docs()) {
        py::dict d;
        d["key"] = std::string(k.key);
        d["type"] = std::string(k.type);
        d["doc"] = std::string(k.doc);
        out.append(d);
    }
    return out;
}

}  // namespace

PYBIND11_MODULE(tilesim, m) {
    m.doc() =
        "tilesim: why FlashAttention is fast, counted byte by byte on a model of HBM and SRAM "
        "(the same runs, dicts and errors as the tilesim command; see docs/exports.md)";
    // Bad input is the CLI's one-line message as a ValueError; anything else a RuntimeError.
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const ts::ScenarioError& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        }
    });
    m.def(
        "run", &run, py::arg("scenario") = "",
        "run(scenario='', **settings) -> dict: `tilesim run SCENARIO --set k=v ... --format json` as a dict. "
        "Settings: any scenario key (tilesim.keys()); pass_= for `pass`.");
    m.def("sweep", &sweep, py::arg("scenario") = "", py::arg("over"), py::arg("numerics") = false,
          "sweep(scenario='', over='seq_len=128..4096', numerics=False, **settings) -> dict: `tilesim sweep "
          "... "
          "--format json` as a dict. over: 'key=v1,v2', 'key=lo..hi' or {key: [values]}.");
    m.def("trace", &trace, py::arg("scenario") = "", py::arg("format") = "csv",
          py::arg("din_granularity") = "element",
          "trace(scenario='', format='csv', din_granularity='element', **settings) -> str: the trace export "
          "`tilesim run --trace FILE --trace-format FORMAT` writes (csv, perfetto, dinero).");
    m.def(
        "plot", &plot, py::arg("kind"), py::arg("scenario") = "", py::arg("output") = py::none(),
        py::arg("over") = "",
        "plot(kind, scenario='', output=None, over='', **settings): the figure of `tilesim plot`; with "
        "output "
        "(.svg or .png) writes it and returns the path, without returns the SVG text (IPython.display.SVG).");
    m.def("list", &list,
          "list() -> dict: built-in scenarios, hardware presets and algorithms (`tilesim list`).");
    m.def("keys", &keys, "keys() -> list: the scenario keys (`tilesim keys`).");
}
