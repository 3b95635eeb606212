// Trace exports: one-table CSV, Perfetto / Chrome trace-event JSON, Dinero IV din (trace_export.h).
#include "scenarios/trace_export.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "kernels/registry.h"
#include "scenarios/report.h"
#include "sim/cost_model.h"

namespace tilesim::scenarios {

using sim::Event;
using sim::Level;
using sim::Op;

std::optional<TraceFormat> parse_trace_format(std::string_view text) {
    if (text == "csv") return TraceFormat::csv;
    if (text == "perfetto") return TraceFormat::perfetto;
    if (text == "dinero") return TraceFormat::dinero;
    return std::nullopt;
}

TraceClock serial_clock(const sim::Trace& t, const sim::HardwareSpec& hw) {
    TraceClock c;
    const auto& ev = t.events();
    c.spans.reserve(ev.size());
    double now = 0;
    for (const auto& e : ev) {
        const double d = sim::event_seconds(hw, e);
        c.spans.push_back({now, d});
        now += d;
    }
    c.total_s = now;
    c.description =
        "each event of head 0 alone on the whole " + hw.name +
        " (sim::event_seconds: bytes at HBM or L2 bandwidth, FLOPs at the tensor-core rate), end to end "
        "in program order";
    if (now <= 0 && !ev.empty()) {
        // No rates to time anything with: one microsecond per move or compute step, said so.
        c.step_index = true;
        c.description =
            "step index (the machine has no rates to time events with): 1 us per move or compute step";
        double s = 0;
        for (std::size_t k = 0; k < ev.size(); ++k) {
            const bool work = ev[k].op == Op::Load || ev[k].op == Op::Store || ev[k].op == Op::Compute;
            c.spans[k] = {s, work ? 1e-6 : 0.0};
            s += c.spans[k].dur_s;
        }
        c.total_s = s;
    }
    return c;
}

namespace {

bool timed(Op op) {
    return op == Op::Load || op == Op::Store || op == Op::Compute;
}

}  // namespace

std::optional<TraceClock> scheduled_clock(const AlgorithmRun& run) {
    if (!run.trace || run.timeline.phases.empty()) return std::nullopt;
    const auto& ev = run.trace->events();
    const auto& passes = run.timeline.phases;
    if (std::none_of(ev.begin(), ev.end(), [](const Event& e) { return e.agent >= 0; })) return std::nullopt;
    // Each pass starts where the one before it ends, as the timeline runs them (annotate_trace).
    std::vector<double> pass_start(passes.size() + 1, 0.0);
    for (std::size_t k = 0; k < passes.size(); ++k) pass_start[k + 1] = pass_start[k] + passes[k].time_s;
    auto start_of_pass = [&](std::int32_t p) {
        return p >= 0 && static_cast<std::size_t>(p) < passes.size() ? pass_start[static_cast<std::size_t>(p)]
                                                                     : 0.0;
    };
    TraceClock c;
    c.scheduled = true;
    c.total_s = run.timeline.total_s;
    c.spans.resize(ev.size());
    // Untimed events borrow a neighbour's time within their (pass, block): a release the end of the
    // block's latest timed event, an allocation the start of its next one.
    std::map<std::pair<std::int32_t, std::int64_t>, double> last_end;
    std::vector<std::size_t> waiting;  // allocations before their block's next timed event
    for (std::size_t k = 0; k < ev.size(); ++k) {
        const Event& e = ev[k];
        const std::pair key{e.phase, e.block};
        if (timed(e.op) && e.agent >= 0) {
            c.spans[k] = {e.start_s, e.end_s - e.start_s};
            last_end[key] = e.end_s;
            for (auto w = waiting.begin(); w != waiting.end();) {
                if (ev[*w].phase == e.phase && ev[*w].block == e.block) {
                    c.spans[*w].start_s = e.start_s;
                    w = waiting.erase(w);
                } else {
                    ++w;
                }
            }
            continue;
        }
        const auto it = last_end.find(key);
        c.spans[k] = {it != last_end.end() ? it->second : start_of_pass(e.phase), 0.0};
        if (e.op == Op::Phase) c.spans[k].start_s = start_of_pass(e.phase);
        if (e.op == Op::Allocate) waiting.push_back(k);
    }
    std::string schedule(sim::schedule_name(run.schedule));
    c.description = "the scheduled timeline (schedule " + schedule +
                    ", docs/timeline.md): each event of head 0 from the start to the end the timeline gives "
                    "it on its agent, thread blocks in their SM waves, passes one after another";
    return c;
}

TraceClock run_clock(const AlgorithmRun& run, const sim::HardwareSpec& hw) {
    if (auto c = scheduled_clock(run)) return std::move(*c);
    TraceClock c = serial_clock(*run.trace, hw);
    if (!c.step_index)
        c.description = "the serial clock (no scheduled timeline: schedule " +
                        std::string(sim::schedule_name(run.schedule)) + "): " + c.description;
    return c;
}

std::int32_t agent_track(sim::Agent agent, std::int32_t row) {
    return kFirstAgentTrack + static_cast<std::int32_t>(agent) +
           row * static_cast<std::int32_t>(sim::kAgentCount);
}

std::string agent_label(sim::Agent agent) {
    switch (agent) {
        case sim::Agent::copy:
            return "copy engine (loads, stores)";
        case sim::Agent::tensor:
            return "tensor cores (matmul)";
        case sim::Agent::sfu:
            return "SFU (exp)";
        case sim::Agent::fma:
            return "FP32 lanes (max, sum, scale)";
        case sim::Agent::smem:
            return "shared memory";
        case sim::Agent::l2:
            return "L2";
        case sim::Agent::dram:
            return "DRAM";
    }
    return "?";
}

std::string_view track_name(Track t) {
    switch (t) {
        case Track::passes:
            return "kernel passes";
        case Track::hbm:
            return "HBM (loads, stores, atomics)";
        case Track::l2:
            return "L2 (loads into SRAM)";
        case Track::sram:
            return "SRAM (allocations)";
        case Track::matmul:
            return "compute: matmul (tensor cores)";
        case Track::vector:
            return "compute: softmax and other (exp, max, sum)";
    }
    return "?";
}

Track track_of(const Event& e) {
    switch (e.op) {
        case Op::Phase:
            return Track::passes;
        case Op::Allocate:
        case Op::Release:
            return Track::sram;
        case Op::Compute:
            return e.mma_flops > 0 ? Track::matmul : Track::vector;
        case Op::Load:
        case Op::Store:
            return e.from == Level::HBM || e.to == Level::HBM ? Track::hbm : Track::l2;
    }
    return Track::vector;
}

EventKind kind_of(const Event& e) {
    switch (e.op) {
        case Op::Phase:
            return EventKind::pass;
        case Op::Allocate:
        case Op::Release:
            return EventKind::sram;
        case Op::Compute:
            return e.mma_flops > 0 ? EventKind::matmul : EventKind::vector;
        case Op::Load:
        case Op::Store:
            if (e.from == Level::HBM) return EventKind::hbm_load;  // HBM -> SRAM, or HBM -> L2
            if (e.to == Level::HBM)
                return e.has(sim::flags::kAtomic) ? EventKind::hbm_atomic : EventKind::hbm_store;
            return EventKind::l2_load;
    }
    return EventKind::vector;
}

std::string_view kind_label(EventKind k) {
    switch (k) {
        case EventKind::hbm_load:
            return "load from HBM";
        case EventKind::hbm_store:
            return "store to HBM";
        case EventKind::hbm_atomic:
            return "atomic add at HBM";
        case EventKind::l2_load:
            return "load from L2";
        case EventKind::matmul:
            return "matmul";
        case EventKind::vector:
            return "softmax & other";
        case EventKind::sram:
            return "SRAM allocate/release";
        case EventKind::pass:
            return "kernel pass";
    }
    return "?";
}

std::string run_title(const AlgorithmRun& r) {
    return std::string(r.key()) + " " + std::string(kernels::pass_name(r.pass()));
}

// ---- CSV ----

std::string trace_csv_table(const ScenarioResult& r) {
    // The columns are trace_csv's (report.cpp), so the one-run and the all-runs tables cannot drift.
    std::string out;
    bool header = false;
    for (const auto& run : r.runs) {
        if (!run.trace) continue;
        const std::string body = trace_csv(*run.trace);
        const std::size_t nl = body.find('\n');
        if (!header) {
            out += "algorithm,pass," + body.substr(0, nl + 1);
            header = true;
        }
        const std::string prefix =
            std::string(run.key()) + "," + std::string(kernels::pass_name(run.pass())) + ",";
        for (std::size_t pos = nl + 1; pos < body.size();) {
            const std::size_t end = body.find('\n', pos);
            out += prefix;
            out.append(body, pos, end - pos + 1);
            pos = end + 1;
        }
    }
    if (!header) out = "algorithm,pass," + trace_csv(sim::Trace{}).substr(0);
    return out;
}

// ---- Perfetto ----

namespace {

std::string json_str(std::string_view s) {
    return nlohmann::json(std::string(s)).dump();
}

// Times in whole nanoseconds, printed as microseconds: a slice's end and the next one's start are the
// same number, so slices on one track never overlap by a rounding.
std::string us(std::int64_t ns) {
    return fmt::format("{}.{:03d}", ns / 1000, static_cast<int>(ns % 1000));
}
std::int64_t to_ns(double s) {
    return std::llround(s * 1e9);
}

std::string flag_text(std::uint8_t f) {
    std::string out;
    for (auto [bit, name] : {std::pair{sim::flags::kRecompute, "recompute"},
                             {sim::flags::kAtomic, "atomic"},
                             {sim::flags::kMasked, "masked"},
                             {sim::flags::kInit, "init"}}) {
        if ((f & bit) != 0) out += (out.empty() ? "" : "|") + std::string(name);
    }
    return out;
}

std::string event_name(const Event& e) {
    const std::string t(sim::tensor_name(e.tensor));
    switch (kind_of(e)) {
        case EventKind::hbm_load:
            return "load " + t;
        case EventKind::hbm_store:
            return "store " + t;
        case EventKind::hbm_atomic:
            return "atomic add " + t;
        case EventKind::l2_load:
            return "load " + t + " (L2)";
        default:
            return "compute " + t;
    }
}

void metadata(std::string& out, std::string_view name, int pid, int tid, const std::string& args) {
    out += fmt::format("{{\"name\":\"{}\",\"ph\":\"M\",\"ts\":0,\"pid\":{},\"tid\":{},\"args\":{{{}}}}},\n",
                       name, pid, tid, args);
}

// Each event's track (Perfetto tid). Serial clock: track_of. Scheduled clock: its agent's track, in
// the lowest row where it overlaps no earlier slice (first fit by start time uses the fewest rows);
// compared in the whole nanoseconds the JSON carries, so a rounding never makes two slices overlap.
std::vector<std::int32_t> event_tracks(const sim::Trace& t, const TraceClock& clock) {
    const auto& ev = t.events();
    std::vector<std::int32_t> out(ev.size());
    std::vector<std::size_t> placed;
    for (std::size_t k = 0; k < ev.size(); ++k) {
        out[k] = static_cast<std::int32_t>(track_of(ev[k]));
        if (clock.scheduled && timed(ev[k].op) && ev[k].agent >= 0) placed.push_back(k);
    }
    auto ns = [&](std::size_t k) {
        return std::pair{to_ns(clock.spans[k].start_s), to_ns(clock.spans[k].start_s + clock.spans[k].dur_s)};
    };
    std::stable_sort(placed.begin(), placed.end(), [&](std::size_t a, std::size_t b) {
        return std::pair{ev[a].agent, ns(a)} < std::pair{ev[b].agent, ns(b)};
    });
    std::vector<std::vector<std::int64_t>> row_end(sim::kAgentCount);
    for (std::size_t k : placed) {
        auto& rows = row_end[static_cast<std::size_t>(ev[k].agent)];
        const auto [s, f] = ns(k);
        std::size_t r = 0;
        while (r < rows.size() && rows[r] > s) ++r;
        if (r == rows.size()) rows.push_back(0);
        rows[r] = f;
        out[k] = agent_track(static_cast<sim::Agent>(ev[k].agent), static_cast<std::int32_t>(r));
    }
    return out;
}

std::string tid_name(std::int32_t tid) {
    if (tid < kFirstAgentTrack) return std::string(track_name(static_cast<Track>(tid)));
    const auto n = static_cast<std::int32_t>(sim::kAgentCount);
    const std::int32_t row = (tid - kFirstAgentTrack) / n;
    const std::string name = agent_label(static_cast<sim::Agent>((tid - kFirstAgentTrack) % n));
    return row == 0 ? name : fmt::format("{} #{}", name, row + 1);
}

void perfetto_run(std::string& out, const AlgorithmRun& run, const TraceClock& clock, int pid) {
    const sim::Trace& t = *run.trace;
    const std::vector<std::int32_t> tracks = event_tracks(t, clock);
    metadata(out, "process_name", pid, 0,
             "\"name\":" + json_str(run_title(run) + ": " + std::string(run.def->name)));
    metadata(out, "process_sort_index", pid, 0, fmt::format("\"sort_index\":{}", pid));
    // Agents in their enum order, each agent's rows together.
    std::set<std::pair<std::int32_t, std::int32_t>> used;  // (sort index, tid)
    for (std::int32_t tid : tracks) {
        const auto n = static_cast<std::int32_t>(sim::kAgentCount);
        used.emplace(tid < kFirstAgentTrack ? tid
                                            : kFirstAgentTrack + ((tid - kFirstAgentTrack) % n) * 64 +
                                                  (tid - kFirstAgentTrack) / n,
                     tid);
    }
    for (const auto& [sort, tid] : used) {
        metadata(out, "thread_name", pid, tid, "\"name\":" + json_str(tid_name(tid)));
        metadata(out, "thread_sort_index", pid, tid, fmt::format("\"sort_index\":{}", sort));
    }
    auto phase_name = [&](std::int32_t p) {
        return p >= 0 && static_cast<std::size_t>(p) < t.phases().size()
                   ? t.phases()[static_cast<std::size_t>(p)].name
                   : std::string();
    };
    auto buffer_name = [&](std::int32_t b) {
        return b >= 0 && static_cast<std::size_t>(b) < t.buffers().size()
                   ? t.buffers()[static_cast<std::size_t>(b)].what
                   : std::string();
    };
    const std::int64_t end_ns = to_ns(clock.total_s);
    const auto& ev = t.events();
    for (std::size_t k = 0; k < ev.size(); ++k) {
        const Event& e = ev[k];
        const std::int64_t s = to_ns(clock.spans[k].start_s),
                           f = to_ns(clock.spans[k].start_s + clock.spans[k].dur_s);
        const std::int32_t tr = tracks[k];
        if (e.op == Op::Phase) {
            // The pass lasts until the next pass marker (or the end of the run).
            std::int64_t stop = end_ns;
            for (std::size_t n = k + 1; n < ev.size(); ++n) {
                if (ev[n].op == Op::Phase) {
                    stop = to_ns(clock.spans[n].start_s);
                    break;
                }
            }
            out += fmt::format(
                "{{\"name\":{},\"cat\":\"pass\",\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":{},\"tid\":0,"
                "\"args\":{{\"step\":{},\"phase\":{}}}}},\n",
                json_str(phase_name(e.phase)), us(s), us(stop - s), pid, e.step, e.phase);
            continue;
        }
        if (e.op == Op::Allocate || e.op == Op::Release) {
            out += fmt::format(
                "{{\"name\":{},\"cat\":\"sram\",\"ph\":\"i\",\"s\":\"t\",\"ts\":{},\"pid\":{},\"tid\":{},"
                "\"args\":{{\"step\":{},\"buffer\":{},\"sram_used_bytes\":{}}}}},\n",
                json_str(std::string(sim::op_name(e.op)) + " " + buffer_name(e.buffer)), us(s), pid, tr,
                e.step, json_str(buffer_name(e.buffer)), e.sram_used_bytes);
            if (clock.scheduled) continue;
            out += fmt::format(
                "{{\"name\":\"SRAM used "
                "(bytes)\",\"ph\":\"C\",\"ts\":{},\"pid\":{},\"tid\":{},\"args\":{{\"bytes\":{}}}}},\n",
                us(s), pid, tr, e.sram_used_bytes);
            continue;
        }
        out += fmt::format(
            "{{\"name\":{},\"cat\":{},\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":{},\"tid\":{},\"args\":{{"
            "\"step\":{},"
            "\"line\":{},\"tensor\":\"{}\",\"row0\":{},\"col0\":{},\"rows\":{},\"cols\":{},\"from\":\"{}\","
            "\"to\":\"{}\","
            "\"bytes\":{},\"flops\":{},\"mma_flops\":{},\"exp_flops\":{},\"i\":{},\"j\":{},\"block\":{},"
            "\"phase\":{},\"buffer\":{},\"flags\":\"{}\"}}}},\n",
            json_str(event_name(e)), json_str(kind_label(kind_of(e))), us(s), us(f - s), pid, tr, e.step,
            json_str(e.label), sim::tensor_name(e.tensor), e.tile.row0, e.tile.col0, e.tile.rows, e.tile.cols,
            sim::level_name(e.from), sim::level_name(e.to), e.bytes, e.flops, e.mma_flops, e.exp_flops, e.i,
            e.j, e.block, json_str(phase_name(e.phase)), json_str(buffer_name(e.buffer)), flag_text(e.flags));
    }
}

}  // namespace

std::string perfetto_json(const ScenarioResult& r) {
    std::string out = "{\"traceEvents\":[\n";
    int pid = 0;
    std::string clock_text;
    nlohmann::json clocks = nlohmann::json::object();
    nlohmann::json truncated = nlohmann::json::array();
    for (const auto& run : r.runs) {
        ++pid;  // the run's position, so pids stay the same whichever runs have traces
        if (!run.trace) continue;
        const TraceClock clock = run_clock(run, r.scenario.hardware);
        perfetto_run(out, run, clock, pid);
        clocks[run_title(run)] = clock.scheduled ? "scheduled" : clock.step_index ? "step index" : "serial";
        if (clock_text.empty()) clock_text = clock.description;
        if (run.trace->truncated())
            truncated.push_back({{"run", run_title(run)}, {"dropped_events", run.trace->dropped_events()}});
    }
    if (out.size() >= 2 && out.compare(out.size() - 2, 2, ",\n") == 0) out.erase(out.size() - 2, 1);
    const auto& s = r.scenario;
    const nlohmann::json other = {
        {"tool", "tilesim"},
        {"scenario", s.name},
        {"hardware", s.hardware_name},
        {"clock", clock_text},
        {"heads", fmt::format("head 0 of B*H = {} (every head runs the same schedule)", s.problem.bh())},
        {"clocks", clocks},
        {"tracks",
         "tid 0 kernel passes, 3 SRAM (allocations); serial clock: 1 HBM, 2 L2, 4 matmul, 5 other compute; "
         "scheduled clock: 16 + agent + 7 x row, agents copy, tensor, sfu, fma, smem, l2, dram in that "
         "order, a second row (#2, ...) where an agent's work overlaps in time (blocks running at once)"},
        {"truncated", truncated}};
    out += "],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":" + other.dump() + "\n}\n";
    return out;
}

// ---- Dinero ----

DinOptions parse_din_granularity(std::string_view text) {
    DinOptions o;
    if (text == "element") return o;
    char* end = nullptr;
    const std::string s(text);
    const long long g = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || g < 1 || g > 4096 || (g & (g - 1)) != 0) {
        throw ScenarioError(
            "--din-granularity '" + s +
            "': expected `element` or a power of two from 1 to 4096 (bytes per access, e.g. 32 for a "
            "sector, 128 for a cache line)");
    }
    o.granularity = g;
    return o;
}

std::vector<DinRegion> din_layout(const std::vector<const sim::Trace*>& traces, sim::Dtype dtype) {
    // Shapes: the largest declared for each HBM tensor, grown to cover any tile an event moves (so an
    // undeclared tensor still gets a region).
    std::map<int, std::pair<std::int64_t, std::int64_t>> shape;
    std::vector<int> order;
    auto grow = [&](sim::Tensor t, std::int64_t rows, std::int64_t cols) {
        const int k = static_cast<int>(t);
        auto [it, fresh] = shape.try_emplace(k, rows, cols);
        if (fresh) order.push_back(k);
        it->second.first = std::max(it->second.first, rows);
        it->second.second = std::max(it->second.second, cols);
    };
    for (const auto* t : traces) {
        for (const auto& d : t->tensors()) {
            if (d.in_hbm) grow(d.tensor, d.rows, d.cols);
        }
    }
    for (const auto* t : traces) {
        for (const auto& e : t->events()) {
            if ((e.op == Op::Load || e.op == Op::Store) && (e.from == Level::HBM || e.to == Level::HBM))
                grow(e.tensor, e.tile.row0 + e.tile.rows, e.tile.col0 + e.tile.cols);
        }
    }
    std::vector<DinRegion> out;
    std::uint64_t next = 0;
    for (int k : order) {
        DinRegion reg;
        reg.tensor = static_cast<sim::Tensor>(k);
        reg.rows = shape[k].first;
        reg.cols = shape[k].second;
        reg.element_bytes = static_cast<std::int64_t>(sim::element_bytes(reg.tensor, dtype));
        reg.base = next;
        next = (reg.base + reg.bytes() + 4095) / 4096 * 4096;
        out.push_back(reg);
    }
    if (next > (std::uint64_t{1} << 32)) {
        throw ScenarioError(
            fmt::format("--trace-format dinero: the run's HBM tensors need {} of address space, more than "
                        "din's 32-bit addresses "
                        "hold (4 GiB); lower seq_len or head_dim for the address trace",
                        binary_bytes(static_cast<std::int64_t>(next))));
    }
    return out;
}

namespace {

void hex_line(std::string& out, char label, std::uint64_t addr) {
    char buf[20];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[addr & 0xF];
        addr >>= 4;
    } while (addr != 0);
    out += label;
    out += ' ';
    while (n > 0) out += buf[--n];
    out += '\n';
}

void din_event(std::string& out, const Event& e, const DinRegion& reg, const DinOptions& o) {
    const bool read = e.from == Level::HBM;
    const bool atomic = e.to == Level::HBM && e.has(sim::flags::kAtomic);
    const auto eb = static_cast<std::uint64_t>(reg.element_bytes);
    auto emit = [&](std::uint64_t a) {
        if (read || atomic) hex_line(out, '0', a);  // an atomic reads the old value, then writes the sum
        if (!read) hex_line(out, '1', a);
    };
    for (std::int64_t row = e.tile.row0; row < e.tile.row0 + e.tile.rows; ++row) {
        const std::uint64_t a =
            reg.base + (static_cast<std::uint64_t>(row) * static_cast<std::uint64_t>(reg.cols) +
                        static_cast<std::uint64_t>(e.tile.col0)) *
                           eb;
        const std::uint64_t len = static_cast<std::uint64_t>(e.tile.cols) * eb;
        if (len == 0) continue;
        if (o.granularity == 0) {
            for (std::uint64_t x = a; x < a + len; x += eb) emit(x);
        } else {
            const auto g = static_cast<std::uint64_t>(o.granularity);
            for (std::uint64_t c = a / g; c <= (a + len - 1) / g; ++c) emit(c * g);
        }
    }
}

}  // namespace

std::string dinero_din(const ScenarioResult& r, const DinOptions& o) {
    std::string out;
    bool first = true;
    for (const auto& key : r.scenario.algorithms) {
        std::vector<const AlgorithmRun*> runs;
        std::vector<const sim::Trace*> traces;
        for (const auto& run : r.runs) {
            if (run.key() != key || !run.trace) continue;
            if (run.trace->truncated()) {
                throw ScenarioError(
                    fmt::format("--trace-format dinero: the trace of {} stops at {} events (the cap), so its "
                                "accesses would not "
                                "add up to the counters; lower seq_len for the address trace",
                                run_title(run), run.trace->max_events()));
            }
            runs.push_back(&run);
            traces.push_back(run.trace.get());
        }
        if (runs.empty()) continue;
        const auto layout = din_layout(traces, r.scenario.problem.dtype);
        std::map<int, const DinRegion*> where;
        for (const auto& reg : layout) where[static_cast<int>(reg.tensor)] = &reg;
        if (!first) out += "4 0\n";  // a new algorithm starts from a cold cache
        first = false;
        for (const auto* run : runs) {
            for (const auto& e : run->trace->events()) {
                if ((e.op != Op::Load && e.op != Op::Store) || (e.from != Level::HBM && e.to != Level::HBM))
                    continue;
                din_event(out, e, *where.at(static_cast<int>(e.tensor)), o);
            }
        }
    }
    return out;
}

std::string export_trace(const ScenarioResult& r, TraceFormat format, const DinOptions& o) {
    switch (format) {
        case TraceFormat::csv:
            return trace_csv_table(r);
        case TraceFormat::perfetto:
            return perfetto_json(r);
        case TraceFormat::dinero:
            return dinero_din(r, o);
    }
    return {};
}

}  // namespace tilesim::scenarios
