#pragma once
// The GUI's state without any drawing: the scenario being explored, the edits a person made, the
// model runs and sweeps in flight, the lanes being animated and the play head.
//
// Every edit goes through scenarios::apply_setting, the key table the CLI and the TOML files use,
// so a value means the same everywhere and a bad one gets the same one-line message (kept per key
// for the controls panel to show beside the field). A valid edit re-runs the model off the UI
// thread; the views keep showing the previous result until the new one arrives.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "viz/jobs.h"
#include "viz/playback.h"
#include "viz/replay.h"

namespace tilesim::viz {

// One animated algorithm: its passes' runs, their joined trace, its index and a replay cursor at the
// play head.
struct Lane {
    std::string key;
    const LaneData* data = nullptr;                    // null while the model has not answered
    std::vector<const scenarios::AlgorithmRun*> runs;  // its passes, in order
    const scenarios::AlgorithmRun* failed = nullptr;   // the first pass that did not fit in SRAM
    std::shared_ptr<const TraceIndex> index;           // null when a pass did not fit
    Replay replay;
    const sim::Trace* trace() const { return data != nullptr ? data->trace.get() : nullptr; }
    bool runs_ok() const { return data != nullptr && failed == nullptr; }
    // The pass the event belongs to (0 = the first), from the lane's pass starts.
    std::size_t pass_of(std::int64_t event) const;
    // The name of a tile moved or computed at `event` ("K_5"), from the declaration of the pass it
    // belongs to: a backward may cut a tensor in other blocks than its forward, and the joined trace
    // keeps only the first declaration of each tensor.
    std::string tile_name(sim::Tensor t, const sim::Rect& tile, std::int64_t event) const;
};

// The right-hand plot: HBM traffic against SRAM size or against the K/V block size.
enum class SideSweep { sram, block };

struct SessionOptions {
    std::string scenario = "classroom";
    // Numerics (the online-softmax numbers, the error against the reference) cost O(N^2 d) and would
    // break the 100 ms update budget for long sequences; counts are identical without them.
    std::int64_t numerics_max_N = 256;
    std::int64_t max_trace_events = 400'000;
};

class Session {
  public:
    explicit Session(SessionOptions opt = {});

    // ---- Scenario and edits ----
    // Loads a built-in id or a TOML path; "" on success, else the message (the old scenario stays).
    std::string load_scenario(const std::string& id_or_path);
    const std::string& scenario_id() const { return scenario_id_; }
    const scenarios::Scenario& scenario() const { return scenario_; }
    // Applies key = value to the scenario; "" on success, else the message, also kept for `key`.
    std::string set_value(const std::string& key, const std::string& value);
    const std::string* field_error(const std::string& key) const;
    // One line saying what is being explored: the scenario's own description while it is as loaded;
    // after an edit (its text names N, d, ... that may no longer hold) the current values instead.
    std::string description() const;
    bool edited() const { return edited_; }
    const std::map<std::string, std::string>& field_errors() const { return field_errors_; }

    // ---- What is shown ----
    // The keys that can run the scenario's passes (table order): the choices for focus and rival.
    const std::vector<std::string>& keys() const { return keys_; }
    const std::string& focus() const { return focus_; }
    // "" on success, else why not (a key that does not run this scenario's passes: nothing changes).
    std::string set_focus(std::string_view key);
    const std::optional<std::string>& rival() const { return rival_; }
    void set_rival(std::optional<std::string> key);
    // The rival R (the race key) brings back: the table's baseline, or the first other key.
    std::optional<std::string> default_rival() const;
    std::int32_t watch_block() const { return watch_block_; }
    void set_watch_block(std::int32_t i);
    bool force_numerics() const { return force_numerics_; }
    void set_force_numerics(bool on);
    bool numerics_wanted() const;  // for the current scenario and N
    std::int64_t numerics_max_N() const { return opt_.numerics_max_N; }
    SideSweep side_kind() const { return side_kind_; }
    void set_side_kind(SideSweep k);

    // ---- Model ----
    // Takes finished jobs and rebuilds the lanes; call once per frame, before drawing.
    void update();
    // Moves every lane's replay to the play head; call after input may have moved it.
    void sync_replays();
    bool busy() const;
    bool model_busy() const { return model_job_->busy(); }
    double model_seconds_running() const { return model_job_->seconds_running(); }
    const JobProgress& model_progress() const { return model_job_->progress(); }
    const ModelOutput* model() const { return model_.get(); }
    const scenarios::AlgorithmRun* run_of(std::string_view key, kernels::Pass pass) const;
    const LaneData* lane_data(std::string_view key) const;
    std::vector<Lane>& lanes() { return lanes_; }
    const std::vector<Lane>& lanes() const { return lanes_; }
    Playback& playback() { return playback_; }
    const Playback& playback() const { return playback_; }

    // ---- Sweeps for the plots ----
    const SweepOutput* n_sweep() const { return n_sweep_.get(); }
    const SweepOutput* side_sweep() const { return side_sweep_.get(); }
    bool sweeps_busy() const { return n_job_->busy() || side_job_->busy(); }

    // Seconds from the last edit until every view's data had arrived (model and sweeps); 0 before.
    double last_update_latency() const { return last_latency_; }
    // Blocks until no job is in flight (headless use); false on timeout.
    bool wait_idle(double timeout_s);

  private:
    void request_all();
    void request_model();
    void request_sweeps();
    void rebuild_lanes();

    SessionOptions opt_;
    std::string scenario_id_;
    scenarios::Scenario scenario_;
    std::map<std::string, std::string> field_errors_;
    std::vector<std::string> keys_;
    std::string focus_;
    std::optional<std::string> rival_;
    std::int32_t watch_block_ = 0;
    bool force_numerics_ = false;
    SideSweep side_kind_ = SideSweep::sram;

    std::unique_ptr<LatestJob<ModelOutput>> model_job_;
    std::unique_ptr<LatestJob<SweepOutput>> n_job_;
    std::unique_ptr<LatestJob<SweepOutput>> side_job_;
    std::shared_ptr<const ModelOutput> model_;
    std::shared_ptr<const SweepOutput> n_sweep_;
    std::shared_ptr<const SweepOutput> side_sweep_;
    std::string n_sweep_key_;  // the N sweep does not depend on N: re-run only when this changes

    std::vector<Lane> lanes_;
    Playback playback_;
    std::chrono::steady_clock::time_point change_time_{};
    bool change_pending_ = false;
    bool pick_speed_ = true;    // a new scenario: choose a speed for its trace when it arrives
    double picked_speed_ = -1;  // the speed last chosen that way (the person has not changed it since)
    std::string loaded_json_;   // the scenario as loaded, to tell whether it has been edited
    bool edited_ = false;
    double last_latency_ = 0;
};

// Sweep values, exposed for tests. A count-only run costs about 0.1-0.3 us per (Q block, K/V block)
// pair and algorithm, so each sweep keeps to points of at most kSweepPairBudget pairs (or, beyond
// that, no more than the current run's own cost): the plots then update within the 100 ms budget.
// N: powers of two around the current N (always including a point at or above it); M: the current
// SRAM size / 16 .. x 16; B_c: powers of two up to N.
inline constexpr std::int64_t kSweepPairBudget = std::int64_t{1} << 15;
// The most Q block x K/V block pairs (T_r x T_c) any definition the scenario runs iterates over
// (each with its own tiling rule where the scenario leaves the blocks to it).
std::int64_t tile_pairs(const scenarios::Scenario& s);
std::vector<std::string> n_sweep_values(const scenarios::Scenario& s);
std::vector<std::string> sram_sweep_values(const scenarios::Scenario& s);
std::vector<std::string> block_sweep_values(const scenarios::Scenario& s);

}  // namespace tilesim::viz
