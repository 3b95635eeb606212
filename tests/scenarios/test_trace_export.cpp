// Trace exports (scenarios/trace_export.h): the CSV is one table, the Perfetto JSON follows the
// trace-event schema and its HBM slices add up to the counters, the din file follows Dinero's
// grammar line by line and its accesses add up to the HBM counters byte for byte.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "scenarios/report.h"
#include "scenarios/trace_export.h"

namespace ts = tilesim::scenarios;
using nlohmann::json;
using tilesim::sim::Level;

namespace {

ts::ScenarioResult traced(const std::string& scenario, const std::vector<std::string>& sets = {}) {
    ts::Scenario s = ts::resolve_scenario(scenario);
    ts::apply_settings(s, sets);
    s.numerics = false;
    ts::RunControls c;
    c.trace = true;
    return ts::run_scenario(s, c);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream is(text);
    for (std::string l; std::getline(is, l);) out.push_back(l);
    return out;
}

// Per algorithm key: HBM read and write bytes of one head, its passes added.
std::map<std::string, std::pair<std::int64_t, std::int64_t>> hbm_per_head(const ts::ScenarioResult& r) {
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> out;
    for (const auto& run : r.runs) {
        auto& [rd, wr] = out[std::string(run.key())];
        rd += run.per_head.at(Level::HBM).read_bytes;
        wr += run.per_head.at(Level::HBM).write_bytes;
    }
    return out;
}

// Reads a din file back: bytes read and written per algorithm (split at "4 0"), each address mapped
// to its tensor's element size through the layout the exporter documents (a second reading of it).
struct DinTotals {
    std::vector<std::pair<std::int64_t, std::int64_t>> per_algorithm;
    std::size_t lines = 0;
};
DinTotals read_din(const std::string& text, const ts::ScenarioResult& r, std::int64_t granularity) {
    static const std::regex kLine("^([0-4]) ([0-9a-f]{1,8})$");  // label, hex address without 0x, <= ffffffff
    DinTotals t;
    std::size_t alg = 0;
    std::vector<std::vector<ts::DinRegion>> layouts;
    for (const auto& key : r.scenario.algorithms) {
        std::vector<const tilesim::sim::Trace*> traces;
        for (const auto& run : r.runs)
            if (run.key() == key) traces.push_back(run.trace.get());
        layouts.push_back(ts::din_layout(traces, r.scenario.problem.dtype));
    }
    t.per_algorithm.assign(layouts.size(), {0, 0});
    for (const auto& l : lines_of(text)) {
        std::smatch m;
        REQUIRE(std::regex_match(l, m, kLine));
        ++t.lines;
        const int label = std::stoi(m[1]);
        if (label == 4) {
            ++alg;
            continue;
        }
        REQUIRE(label <= 1);  // only reads and writes: no instruction fetches, no other escapes
        const std::uint64_t a = std::stoull(m[2], nullptr, 16);
        std::int64_t bytes = granularity;
        if (granularity == 0) {
            const ts::DinRegion* reg = nullptr;
            for (const auto& rg : layouts.at(alg))
                if (a >= rg.base && a < rg.base + rg.bytes()) reg = &rg;
            REQUIRE(reg != nullptr);
            CHECK((a - reg->base) % static_cast<std::uint64_t>(reg->element_bytes) == 0);
            bytes = reg->element_bytes;
        } else {
            CHECK(a % static_cast<std::uint64_t>(granularity) == 0);
        }
        (label == 0 ? t.per_algorithm.at(alg).first : t.per_algorithm.at(alg).second) += bytes;
    }
    CHECK(alg + 1 == layouts.size());
    return t;
}

}  // namespace

TEST_CASE("trace csv: one table, one header, an algorithm and a pass column", "[trace][csv]") {
    const auto r = traced("classroom", {"pass=forward+backward"});
    const std::string csv = ts::trace_csv_table(r);
    const auto lines = lines_of(csv);
    std::size_t events = 0;
    for (const auto& run : r.runs) events += run.trace->events().size();
    REQUIRE(lines.size() == 1 + events);
    CHECK(lines[0] ==
          "algorithm,pass,step,op,tensor,row0,col0,rows,cols,from,to,bytes,flops,sram_used_bytes,i,j,label,"
          "phase,buffer,flags,agent,start_s,end_s");
    std::map<std::string, std::size_t> rows;
    for (std::size_t k = 1; k < lines.size(); ++k) {
        CHECK(lines[k].rfind('#', 0) == std::string::npos);
        const auto c1 = lines[k].find(','), c2 = lines[k].find(',', c1 + 1);
        rows[lines[k].substr(0, c2)]++;
    }
    for (const auto& run : r.runs)
        CHECK(rows[std::string(run.key()) + "," + std::string(tilesim::kernels::pass_name(run.pass()))] ==
              run.trace->events().size());
}

TEST_CASE("trace perfetto: the trace-event schema, a process per run, slices on a track never overlap",
          "[trace][perfetto]") {
    const auto r = traced("classroom", {"pass=forward+backward"});
    const json j = json::parse(ts::perfetto_json(r));
    REQUIRE(j.at("traceEvents").is_array());
    CHECK(j.at("displayTimeUnit") == "ns");
    // The classroom runs each definition's own schedule: the scheduled timeline's clock.
    CHECK_THAT(j.at("otherData").at("clock").get<std::string>(), Catch::Contains("scheduled timeline"));
    std::set<int> processes;
    std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> slices;
    std::map<int, std::int64_t> hbm_bytes;  // per pid, atomics counted as a read and a write
    for (const auto& e : j["traceEvents"]) {
        for (const char* k : {"name", "ph", "ts", "pid", "tid"}) REQUIRE(e.contains(k));
        CHECK(e["ts"].get<double>() >= 0);
        const std::string ph = e["ph"];
        CHECK(std::set<std::string>{"X", "M", "i", "C"}.count(ph) == 1);
        if (ph == "M" && e["name"] == "process_name") processes.insert(e["pid"].get<int>());
        if (ph != "X") continue;
        REQUIRE(e.contains("dur"));
        CHECK(e["dur"].get<double>() >= 0);
        const int pid = e["pid"], tid = e["tid"];
        slices[{pid, tid}].emplace_back(e["ts"].get<double>(), e["dur"].get<double>());
        const std::string cat = e["cat"];
        if (cat == "load from HBM" || cat == "store to HBM" || cat == "atomic add at HBM") {
            const auto bytes = e["args"]["bytes"].get<std::int64_t>();
            hbm_bytes[pid] +=
                e["args"]["flags"].get<std::string>().find("atomic") != std::string::npos ? 2 * bytes : bytes;
        }
    }
    CHECK(processes.size() == r.runs.size());
    for (auto& [track, v] : slices) {
        std::sort(v.begin(), v.end());
        for (std::size_t k = 1; k < v.size(); ++k)
            CHECK(v[k].first >= v[k - 1].first + v[k - 1].second - 1e-9);
    }
    for (std::size_t k = 0; k < r.runs.size(); ++k)
        CHECK(hbm_bytes[static_cast<int>(k) + 1] == r.runs[k].per_head.at(Level::HBM).total_bytes());
}

TEST_CASE("trace dinero: din grammar line by line, accesses add up to the HBM counters", "[trace][dinero]") {
    // Forward and backward: FlashAttention-2's dQ atomics (a read and a write each), standard
    // attention's L2 re-reads (not HBM traffic, so not in the file); a ragged classroom too.
    for (const char* scenario : {"classroom", "classroom-ragged"}) {
        INFO(scenario);
        const auto r = traced(scenario, {"pass=forward+backward"});
        const std::string din = ts::dinero_din(r);
        const auto totals = read_din(din, r, 0);
        const auto want = hbm_per_head(r);
        for (std::size_t a = 0; a < r.scenario.algorithms.size(); ++a) {
            INFO(r.scenario.algorithms[a]);
            CHECK(totals.per_algorithm[a].first == want.at(r.scenario.algorithms[a]).first);
            CHECK(totals.per_algorithm[a].second == want.at(r.scenario.algorithms[a]).second);
        }
    }
    SECTION("per 32-byte sector: one access per aligned chunk each tile row touches") {
        const auto r = traced("classroom-ragged");
        const std::string din = ts::dinero_din(r, ts::parse_din_granularity("32"));
        const auto totals = read_din(din, r, 32);
        // The same count, made independently from the trace and the layout.
        std::size_t want_lines = r.scenario.algorithms.size() - 1;  // the flushes
        for (const auto& key : r.scenario.algorithms) {
            std::vector<const tilesim::sim::Trace*> traces;
            for (const auto& run : r.runs)
                if (run.key() == key) traces.push_back(run.trace.get());
            const auto layout = ts::din_layout(traces, r.scenario.problem.dtype);
            for (const auto* t : traces) {
                for (const auto& e : t->events()) {
                    const bool move = e.op == tilesim::sim::Op::Load || e.op == tilesim::sim::Op::Store;
                    if (!move || (e.from != Level::HBM && e.to != Level::HBM)) continue;
                    const ts::DinRegion* reg = nullptr;
                    for (const auto& rg : layout)
                        if (rg.tensor == e.tensor) reg = &rg;
                    REQUIRE(reg != nullptr);
                    const int per = e.has(tilesim::sim::flags::kAtomic) ? 2 : 1;
                    for (std::int64_t row = e.tile.row0; row < e.tile.row0 + e.tile.rows; ++row) {
                        const std::uint64_t first =
                            reg->base +
                            static_cast<std::uint64_t>((row * reg->cols + e.tile.col0) * reg->element_bytes);
                        const std::uint64_t last =
                            first + static_cast<std::uint64_t>(e.tile.cols * reg->element_bytes) - 1;
                        want_lines += per * (last / 32 - first / 32 + 1);
                    }
                }
            }
        }
        CHECK(totals.lines == want_lines);
        const auto want = hbm_per_head(r);
        for (std::size_t a = 0; a < r.scenario.algorithms.size(); ++a) {
            CHECK(totals.per_algorithm[a].first >= want.at(r.scenario.algorithms[a]).first);  // whole sectors
        }
    }
}

TEST_CASE("trace dinero: layouts, granularity and the limits are checked", "[trace][dinero][errors]") {
    tilesim::sim::Trace t;
    t.declare({tilesim::sim::Tensor::Q, 100, 3, 10, 3, true, true, 0});
    t.declare({tilesim::sim::Tensor::l, 100, 1, 10, 1, true, false, 0});
    t.declare({tilesim::sim::Tensor::S, 100, 100, 10, 10, false, false, 0});  // on chip only: no region
    const auto layout = ts::din_layout({&t}, tilesim::sim::Dtype::fp16);
    REQUIRE(layout.size() == 2);
    CHECK(layout[0].base == 0);
    CHECK(layout[0].bytes() == 600);      // 100 x 3 fp16
    CHECK(layout[1].base == 4096);        // the next 4 KiB boundary
    CHECK(layout[1].element_bytes == 4);  // l is fp32 whatever the inputs

    tilesim::sim::Trace huge;
    huge.declare({tilesim::sim::Tensor::S, 65536, 65536, 64, 64, true, false, 0});  // 8 GiB of fp16
    CHECK_THROWS_WITH(ts::din_layout({&huge}, tilesim::sim::Dtype::fp16), Catch::Contains("32-bit"));

    CHECK(ts::parse_din_granularity("element").granularity == 0);
    CHECK(ts::parse_din_granularity("128").granularity == 128);
    for (const char* bad : {"0", "33", "8192", "sector", "", "-32"})
        CHECK_THROWS_WITH(ts::parse_din_granularity(bad), Catch::Contains("power of two"));

    ts::Scenario s = ts::resolve_scenario("classroom");
    s.numerics = false;
    ts::RunControls c;
    c.trace = true;
    c.max_trace_events = 10;
    const auto r = ts::run_scenario(s, c);
    CHECK_THROWS_WITH(ts::dinero_din(r), Catch::Contains("cap"));
}

TEST_CASE("trace clock: events end to end at event_seconds, or steps when there are no rates", "[trace]") {
    const auto r = traced("classroom");
    const auto& t = *r.runs[1].trace;
    const auto c = ts::serial_clock(t, r.scenario.hardware);
    REQUIRE(c.spans.size() == t.events().size());
    double sum = 0;
    for (std::size_t k = 0; k < c.spans.size(); ++k) {
        CHECK(c.spans[k].start_s == Approx(sum).margin(1e-18));
        CHECK(c.spans[k].dur_s == Approx(tilesim::sim::event_seconds(r.scenario.hardware, t.events()[k])));
        sum += c.spans[k].dur_s;
    }
    CHECK_FALSE(c.step_index);
    tilesim::sim::HardwareSpec no_rates = r.scenario.hardware;
    no_rates.hbm_bytes_per_s = no_rates.l2_bytes_per_s = no_rates.matmul_flops_per_s = 0;
    const auto steps = ts::serial_clock(t, no_rates);
    CHECK(steps.step_index);
    CHECK(steps.total_s > 0);
    CHECK_THAT(steps.description, Catch::Contains("step index"));
}

namespace {

// Perfetto's complete slices per (pid, tid), in microseconds.
using Slices = std::map<std::pair<int, int>, std::vector<std::pair<double, double>>>;
Slices slices_of(const json& j) {
    Slices out;
    for (const auto& e : j["traceEvents"]) {
        if (e["ph"] == "X") out[{e["pid"].get<int>(), e["tid"].get<int>()}].emplace_back(e["ts"], e["dur"]);
    }
    return out;
}

// The union of the slices of `pid` on agent `a`'s tracks (every row), as sorted disjoint intervals.
std::vector<std::pair<double, double>> agent_union(const Slices& s, int pid, tilesim::sim::Agent a) {
    std::vector<std::pair<double, double>> v;
    for (const auto& [track, list] : s) {
        if (track.first != pid || track.second < ts::kFirstAgentTrack) continue;
        if ((track.second - ts::kFirstAgentTrack) % static_cast<int>(tilesim::sim::kAgentCount) !=
            static_cast<int>(a))
            continue;
        for (const auto& [t, d] : list) {
            if (d > 0) v.emplace_back(t, t + d);
        }
    }
    std::sort(v.begin(), v.end());
    std::vector<std::pair<double, double>> out;
    for (const auto& iv : v) {
        if (!out.empty() && iv.first <= out.back().second) {
            out.back().second = std::max(out.back().second, iv.second);
        } else {
            out.push_back(iv);
        }
    }
    return out;
}

double overlap(const std::vector<std::pair<double, double>>& x,
               const std::vector<std::pair<double, double>>& y) {
    double total = 0;
    for (const auto& a : x) {
        for (const auto& b : y)
            total += std::max(0.0, std::min(a.second, b.second) - std::max(a.first, b.first));
    }
    return total;
}

// The pid of `key`'s forward run (runs in order, pids from 1).
int pid_of(const ts::ScenarioResult& r, std::string_view key) {
    for (std::size_t k = 0; k < r.runs.size(); ++k) {
        if (r.runs[k].key() == key) return static_cast<int>(k) + 1;
    }
    FAIL("no run " << key);
    return 0;
}

}  // namespace

TEST_CASE("trace perfetto: the scheduled clock puts events on agent tracks at the timeline's times",
          "[trace][perfetto][timeline]") {
    const auto r = traced("classroom", {"seq_len=64"});
    const json j = json::parse(ts::perfetto_json(r));
    const Slices slices = slices_of(j);
    for (const auto& run : r.runs) CHECK(j["otherData"]["clocks"][ts::run_title(run)] == "scheduled");
    for (const auto& [track, v0] : slices) {
        auto v = v0;
        std::sort(v.begin(), v.end());
        for (std::size_t k = 1; k < v.size(); ++k)
            CHECK(v[k].first >= v[k - 1].first + v[k - 1].second - 1e-9);
        // Only the pass track and agent tracks carry slices under this clock.
        CHECK((track.second == 0 || track.second >= ts::kFirstAgentTrack));
    }
    for (std::size_t k = 0; k < r.runs.size(); ++k) {
        const auto& run = r.runs[k];
        CAPTURE(run.key());
        const auto clock = ts::scheduled_clock(run);
        REQUIRE(clock);
        // Every timed event keeps the timeline's own start and end.
        const auto& ev = run.trace->events();
        double last = 0;
        for (std::size_t e = 0; e < ev.size(); ++e) {
            if (ev[e].agent < 0) continue;
            CHECK(clock->spans[e].start_s == ev[e].start_s);
            CHECK(clock->spans[e].start_s + clock->spans[e].dur_s == Approx(ev[e].end_s).epsilon(1e-12));
            last = std::max(last, ev[e].end_s);
        }
        // One head, one wave: the work ends where the timeline's makespan does.
        CHECK(clock->total_s == run.timeline.total_s);
        CHECK(last == Approx(run.timeline.total_s).epsilon(1e-9));
        // In the JSON (whole nanoseconds): the passes' slices end at the makespan to the nanosecond.
        double end_us = 0;
        for (const auto& [t, d] : slices.at({static_cast<int>(k) + 1, 0})) end_us = std::max(end_us, t + d);
        CHECK(end_us == Approx(run.timeline.total_s * 1e6).margin(1e-3));
    }
}

TEST_CASE("trace perfetto: pingpong's SFU slices overlap its tensor slices, sync's do not",
          "[trace][perfetto][timeline]") {
    using tilesim::sim::Agent;
    auto sfu_under_tensor = [](const std::string& schedule) {
        // An H100 (the classroom's toy rates make its GEMM events shared-memory bound): four Q blocks of
        // one head, FlashAttention-2 alone.
        const auto r = traced("gpt2-medium", {"hardware=H100-SXM", "batch=1", "heads=1", "seq_len=512",
                                              "algorithms=flash2", "schedule=" + schedule});
        const Slices s = slices_of(json::parse(ts::perfetto_json(r)));
        const int pid = pid_of(r, "flash2");
        const auto sfu = agent_union(s, pid, Agent::sfu), tensor = agent_union(s, pid, Agent::tensor);
        REQUIRE_FALSE(sfu.empty());
        REQUIRE_FALSE(tensor.empty());
        return overlap(sfu, tensor);
    };
    CHECK(sfu_under_tensor("sync") == Approx(0).margin(1e-9));
    CHECK(sfu_under_tensor("pingpong") > 1e-3);  // more than a nanosecond of softmax under the GEMMs
}

TEST_CASE("trace perfetto: schedule = paper keeps the serial clock and says so", "[trace][perfetto]") {
    const auto r = traced("classroom", {"schedule=paper"});
    const json j = json::parse(ts::perfetto_json(r));
    CHECK_THAT(j["otherData"]["clock"].get<std::string>(),
               Catch::Contains("serial clock") && Catch::Contains("event_seconds"));
    for (const auto& run : r.runs) {
        CHECK(j["otherData"]["clocks"][ts::run_title(run)] == "serial");
        CHECK_FALSE(ts::scheduled_clock(run));
    }
    for (const auto& [track, v] : slices_of(j)) CHECK(track.second < ts::kFirstAgentTrack);
}
