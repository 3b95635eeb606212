#include "viz/session.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "kernels/registry.h"
#include "kernels/tiling.h"
#include "scenarios/report.h"
#include "viz/algorithms.h"
#include "viz/theme.h"

namespace tilesim::viz {

namespace {
double since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::int64_t pow2_floor(std::int64_t v) {
    std::int64_t p = 1;
    while (p * 2 <= v) p *= 2;
    return p;
}
}  // namespace

std::int64_t tile_pairs(const scenarios::Scenario& s) {
    std::int64_t worst = 1;
    for (const auto& key : runnable_keys(s)) {
        for (auto pass : scenarios::passes_of(s)) {
            const auto* def = kernels::find_definition(key, pass);
            sim::FitStatus st;
            const auto t = kernels::resolve_tiling(*def, s.problem, s.tiling, s.hardware, &st);
            if (t.B_r > 0 && t.B_c > 0) {
                worst = std::max(worst, kernels::ceil_div(s.problem.N_q, t.B_r) *
                                            kernels::ceil_div(s.problem.N_kv, t.B_c));
            }
        }
    }
    return worst;
}

namespace {
// Keeps the values whose run stays within the budget, or within a few times the current run's cost.
std::vector<std::string> affordable(const scenarios::Scenario& base, const std::string& key,
                                    const std::vector<std::int64_t>& values) {
    const std::int64_t limit = std::max(kSweepPairBudget, 4 * tile_pairs(base));
    std::vector<std::string> out;
    for (std::int64_t v : values) {
        scenarios::Scenario s = base;
        try {
            scenarios::apply_setting(s, key, std::to_string(v));
        } catch (const std::exception&) {
            continue;
        }
        if (tile_pairs(s) <= limit) out.push_back(std::to_string(v));
    }
    return out;
}
}  // namespace

std::vector<std::string> n_sweep_values(const scenarios::Scenario& s) {
    // Six octaves below (not under 16) to four above: both the small-N regime, where Nd dominates,
    // and the N^2 regime show when the budget allows.
    const std::int64_t N = std::max<std::int64_t>(s.problem.N_kv, 1);
    const std::int64_t p = pow2_floor(N);
    const std::int64_t lo = std::max<std::int64_t>(16, p / 64);
    const std::int64_t hi = std::min<std::int64_t>(p * 16, std::int64_t{1} << 20);
    std::vector<std::int64_t> v;
    for (std::int64_t n = lo; n <= hi; n *= 2) v.push_back(n);
    auto out = affordable(s, "seq_len", v);
    // At least three points, the current N's octave among them, whatever the budget says.
    for (std::int64_t n = lo; n <= std::max(p, lo * 4) && out.size() < 3; n *= 2) {
        if (std::find(out.begin(), out.end(), std::to_string(n)) == out.end())
            out.push_back(std::to_string(n));
    }
    if (std::find(out.begin(), out.end(), std::to_string(p)) == out.end()) out.push_back(std::to_string(p));
    std::sort(out.begin(), out.end(),
              [](const std::string& a, const std::string& b) { return std::stoll(a) < std::stoll(b); });
    return out;
}

std::vector<std::string> sram_sweep_values(const scenarios::Scenario& s) {
    scenarios::Scenario base = s;
    base.tiling = {};  // the sweep follows the paper's rule (see request_sweeps)
    std::vector<std::int64_t> v;
    for (int k = -4; k <= 4; ++k) {
        const double m = static_cast<double>(s.hardware.sram_bytes) * std::pow(2.0, k);
        if (m >= 64) v.push_back(static_cast<std::int64_t>(m));
    }
    return affordable(base, "sram_bytes", v);
}

std::vector<std::string> block_sweep_values(const scenarios::Scenario& s) {
    std::vector<std::int64_t> v;
    const std::int64_t N = s.problem.N_kv;
    for (std::int64_t b = 2; b <= std::min<std::int64_t>(N, 4096); b *= 2) v.push_back(b);
    auto out = affordable(s, "block_cols", v);
    if (out.empty()) out.push_back(std::to_string(std::min<std::int64_t>(N, 4096)));
    return out;
}

Session::Session(SessionOptions opt)
    : opt_(std::move(opt)),
      model_job_(std::make_unique<LatestJob<ModelOutput>>()),
      n_job_(std::make_unique<LatestJob<SweepOutput>>()),
      side_job_(std::make_unique<LatestJob<SweepOutput>>()) {
    const std::string err = load_scenario(opt_.scenario);
    if (!err.empty()) {
        // The caller checked the id; fall back to the classroom rather than start empty.
        load_scenario("classroom");
        field_errors_["scenario"] = err;
    }
}

std::string Session::load_scenario(const std::string& id_or_path) {
    try {
        scenarios::Scenario s = scenarios::resolve_scenario(id_or_path);
        scenarios::validate(s);
        scenario_ = std::move(s);
    } catch (const std::exception& e) {
        field_errors_["scenario"] = e.what();
        return e.what();
    }
    scenario_id_ = id_or_path;
    field_errors_.clear();
    keys_ = runnable_keys(scenario_);
    // Lead with the scenario's first algorithm; race it against the table's baseline (or, when it
    // is the baseline, the next algorithm).
    focus_ = scenario_.algorithms.empty() ? std::string() : scenario_.algorithms.front();
    if (std::find(keys_.begin(), keys_.end(), focus_) == keys_.end())
        focus_ = keys_.empty() ? "" : keys_.front();
    rival_ = default_rival();
    watch_block_ = 0;
    playback_.to_start();
    pick_speed_ = true;
    loaded_json_ = scenarios::scenario_json(scenario_).dump();
    edited_ = false;
    request_all();
    return {};
}

std::string Session::set_value(const std::string& key, const std::string& value) {
    scenarios::Scenario s = scenario_;
    try {
        scenarios::apply_setting(s, key, value);
        scenarios::validate(s);
    } catch (const std::exception& e) {
        field_errors_[key] = e.what();
        return e.what();
    }
    field_errors_.erase(key);
    scenario_ = std::move(s);
    edited_ = scenarios::scenario_json(scenario_).dump() != loaded_json_;
    // A new N or block size changes the trace's length: choose the speed again as at start-up,
    // unless the person has set one of their own since.
    if (playback_.speed() == picked_speed_) pick_speed_ = true;
    // A change of passes may change which algorithms can run: keep the choices that still can.
    keys_ = runnable_keys(scenario_);
    auto runnable = [&](const std::string& k) {
        return std::find(keys_.begin(), keys_.end(), k) != keys_.end();
    };
    if (!runnable(focus_)) focus_ = keys_.empty() ? "" : keys_.front();
    if (rival_ && (!runnable(*rival_) || *rival_ == focus_)) rival_ = default_rival();
    request_all();
    return {};
}

std::string Session::description() const {
    if (!edited_) return scenario_.description;
    const auto& p = scenario_.problem;
    auto n = [](std::int64_t v) { return std::to_string(v); };
    std::string s = "Edited: " + scenario_.hardware.name + ", batch " + n(p.batch) + ", " + n(p.heads) +
                    (p.heads == 1 ? " head" : " heads");
    if (p.kv_heads != p.heads) s += " in " + n(p.kv_heads) + " KV groups";
    s += ", N = " + n(p.N_kv);
    if (p.N_q != p.N_kv) s += " (N_q = " + n(p.N_q) + ")";
    s += ", d = " + n(p.d) + ", " + std::string(sim::dtype_name(p.dtype)) + ", " +
         std::string(kernels::passes_name(p.passes));
    return s;
}

const std::string* Session::field_error(const std::string& key) const {
    const auto it = field_errors_.find(key);
    return it == field_errors_.end() ? nullptr : &it->second;
}

std::string Session::set_focus(std::string_view key) {
    if (std::find(keys_.begin(), keys_.end(), key) == keys_.end()) {
        return "'" + std::string(key) + "' has no definition for pass = \"" +
               std::string(kernels::passes_name(scenario_.problem.passes)) + "\"; choose one of " + [&] {
                   std::string all;
                   for (const auto& k : keys_) all += (all.empty() ? "" : ", ") + k;
                   return all;
               }();
    }
    focus_ = std::string(key);
    if (rival_ && *rival_ == focus_) rival_ = default_rival();
    rebuild_lanes();
    request_sweeps();  // the plots follow the algorithms on screen
    return {};
}

void Session::set_rival(std::optional<std::string> key) {
    const bool runnable = key && std::find(keys_.begin(), keys_.end(), *key) != keys_.end();
    rival_ = runnable && *key != focus_ ? key : std::nullopt;
    rebuild_lanes();
    request_sweeps();
}

std::optional<std::string> Session::default_rival() const {
    return viz::default_rival(focus_, keys_);
}

void Session::set_watch_block(std::int32_t i) {
    if (i == watch_block_ || i < 0) return;
    watch_block_ = i;
    change_time_ = std::chrono::steady_clock::now();
    change_pending_ = true;
    request_model();
}

void Session::set_force_numerics(bool on) {
    if (on == force_numerics_) return;
    force_numerics_ = on;
    change_time_ = std::chrono::steady_clock::now();
    change_pending_ = true;
    request_model();
}

bool Session::numerics_wanted() const {
    const std::int64_t N = std::max(scenario_.problem.N_q, scenario_.problem.N_kv);
    return scenario_.numerics && (force_numerics_ || N <= opt_.numerics_max_N);
}

void Session::set_side_kind(SideSweep k) {
    if (k == side_kind_) return;
    side_kind_ = k;
    side_sweep_.reset();
    request_sweeps();
}

void Session::request_all() {
    change_time_ = std::chrono::steady_clock::now();
    change_pending_ = true;
    request_model();
    request_sweeps();
}

void Session::request_model() {
    ModelRequest req;
    req.scenario = scenario_;
    // Every algorithm that can run the scenario's passes runs, whatever the scenario lists, so any
    // pair can race.
    req.scenario.algorithms = keys_;
    req.numerics = numerics_wanted();
    req.watch_block = watch_block_;
    req.max_trace_events = opt_.max_trace_events;
    model_job_->submit(
        [req](const std::atomic<bool>& cancel, JobProgress& p) { return run_model(req, cancel, p); });
}

void Session::request_sweeps() {
    scenarios::Scenario base = scenario_;
    // The plots show the scenario's own algorithms and the two on screen, in table order: every key
    // that can run (the decode kernels on a training scenario) would crowd them.
    std::vector<std::string> shown;
    for (const auto& k : keys_) {
        const bool listed = std::find(scenario_.algorithms.begin(), scenario_.algorithms.end(), k) !=
                            scenario_.algorithms.end();
        if (listed || k == focus_ || (rival_ && k == *rival_)) shown.push_back(k);
    }
    base.algorithms = shown.empty() ? keys_ : shown;
    base.numerics = false;

    // The N sweep depends on N only through its range (the marker comes from the main run), so
    // moving N within an octave costs nothing.
    scenarios::Scenario keyed = base;
    keyed.problem.N_kv = 0;
    if (!keyed.seq_len_q_set) keyed.problem.N_q = 0;
    keyed.name.clear();
    keyed.description.clear();
    const auto values = n_sweep_values(base);
    std::string key = scenarios::scenario_json(keyed).dump();
    for (const auto& v : values) key += "," + v;
    if (key != n_sweep_key_ || !n_sweep_) {
        n_sweep_key_ = key;
        SweepRequest r{base, "seq_len", values};
        n_job_->submit([r](const std::atomic<bool>& c, JobProgress& p) { return run_sweep_job(r, c, p); });
    }
    SweepRequest side;
    side.base = base;
    if (side_kind_ == SideSweep::sram) {
        // Block sizes follow the paper's rule as M changes; fixed blocks would hide the 1/M law.
        side.base.tiling = {};
        side.key = "sram_bytes";
        side.values = sram_sweep_values(base);
    } else {
        side.key = "block_cols";
        side.values = block_sweep_values(base);
    }
    side_job_->submit(
        [side](const std::atomic<bool>& c, JobProgress& p) { return run_sweep_job(side, c, p); });
}

void Session::update() {
    if (auto out = model_job_->take()) {
        model_ = std::make_shared<const ModelOutput>(std::move(*out));
        rebuild_lanes();
        // A fresh scenario plays in under a minute at first: 4 steps a second for a classroom
        // trace, faster for long ones. After that the speed is the person's.
        if (pick_speed_ && playback_.focus() != nullptr) {
            playback_.set_speed(
                std::max(4.0, std::round(static_cast<double>(playback_.focus()->size()) / 45.0)));
            picked_speed_ = playback_.speed();
            pick_speed_ = false;
        }
    }
    if (auto out = n_job_->take()) n_sweep_ = std::make_shared<const SweepOutput>(std::move(*out));
    if (auto out = side_job_->take()) side_sweep_ = std::make_shared<const SweepOutput>(std::move(*out));
    if (change_pending_ && !busy()) {
        change_pending_ = false;
        last_latency_ = since(change_time_);
    }
    sync_replays();
}

void Session::sync_replays() {
    for (std::size_t i = 0; i < lanes_.size(); ++i) lanes_[i].replay.seek(playback_.event(i));
}

bool Session::busy() const {
    return model_job_->busy() || sweeps_busy();
}

std::size_t Lane::pass_of(std::int64_t event) const {
    if (data == nullptr || data->pass_starts.empty()) return 0;
    const auto& st = data->pass_starts;
    const auto it = std::upper_bound(st.begin(), st.end(), event);
    return it == st.begin() ? 0 : static_cast<std::size_t>(it - st.begin()) - 1;
}

std::string Lane::tile_name(sim::Tensor t, const sim::Rect& tile, std::int64_t event) const {
    const sim::TensorDecl* d = nullptr;
    const std::size_t pass = pass_of(event);
    if (pass < runs.size() && runs[pass]->trace) d = runs[pass]->trace->tensor(t);
    if (d == nullptr && trace() != nullptr) d = trace()->tensor(t);
    return viz::tile_name(t, d, tile);
}

const scenarios::AlgorithmRun* Session::run_of(std::string_view key, kernels::Pass pass) const {
    if (!model_ || !model_->result) return nullptr;
    return model_->result->find(key, pass);
}

const LaneData* Session::lane_data(std::string_view key) const {
    return model_ ? model_->lane(key) : nullptr;
}

void Session::rebuild_lanes() {
    lanes_.clear();
    std::vector<std::string> keys{focus_};
    if (rival_) keys.push_back(*rival_);
    std::vector<std::shared_ptr<const TraceIndex>> indices;
    for (const auto& key : keys) {
        Lane lane;
        lane.key = key;
        lane.data = lane_data(key);
        if (lane.data != nullptr) {
            const auto& runs = model_->result->runs;
            for (std::size_t k : lane.data->runs) lane.runs.push_back(&runs[k]);
            if (lane.data->failed) lane.failed = &runs[*lane.data->failed];
            lane.index = lane.data->index;
            if (lane.data->trace && lane.failed == nullptr)
                lane.replay = Replay(lane.data->trace, model_->result->scenario.hardware);
        }
        indices.push_back(lane.index);
        lanes_.push_back(std::move(lane));
    }
    playback_.set_lanes(std::move(indices));
    sync_replays();
}

bool Session::wait_idle(double timeout_s) {
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
        update();
        if (!busy()) {
            update();  // take results that finished between the two checks
            return true;
        }
        if (since(t0) > timeout_s) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

}  // namespace tilesim::viz
