#pragma once
// Model work off the UI thread.
//
// Every run of the model and every sweep goes through a LatestJob: one worker thread, newest request
// wins. Submitting while a job runs asks the running one to stop (the runner checks a cancel flag
// between algorithms and heads) and queues the new one in its place, so dragging a slider never
// builds a backlog and the window never waits for the model.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "scenarios/runner.h"
#include "scenarios/sweep.h"
#include "viz/lanes.h"

namespace tilesim::viz {

// Asks the OS to favour other threads over the calling one (a worker): on a machine with few cores
// the UI thread, and a software OpenGL renderer's threads, then win, so frames keep their pace while
// the model runs. Does nothing where the OS offers no per-thread priority.
void lower_thread_priority();

// Progress reported by a running job, read by the UI thread.
struct JobProgress {
    std::atomic<std::int64_t> done{0};
    std::atomic<std::int64_t> total{0};
};

template <class Result>
class LatestJob {
  public:
    using Work = std::function<Result(const std::atomic<bool>& cancel, JobProgress& progress)>;

    LatestJob() : worker_([this] { loop(); }) {}
    ~LatestJob() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            quit_ = true;
            cancel_ = true;
        }
        cv_.notify_all();
        worker_.join();
    }
    LatestJob(const LatestJob&) = delete;
    LatestJob& operator=(const LatestJob&) = delete;

    void submit(Work w) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            pending_ = std::move(w);
            cancel_ = running_;  // stop the stale job; the pending one starts as soon as it returns
            ++submitted_;
            if (!running_) started_ = std::chrono::steady_clock::now();
        }
        cv_.notify_all();
    }
    // The newest finished result, once. Results of superseded jobs are dropped.
    std::optional<Result> take() {
        std::lock_guard<std::mutex> lock(mu_);
        return std::exchange(result_, std::nullopt);
    }
    // Work submitted and not yet taken or superseded.
    bool busy() const {
        std::lock_guard<std::mutex> lock(mu_);
        return running_ || pending_ != nullptr;
    }
    double seconds_running() const {
        std::lock_guard<std::mutex> lock(mu_);
        if (!running_ && pending_ == nullptr) return 0.0;
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    }
    const JobProgress& progress() const { return progress_; }

  private:
    void loop() {
        lower_thread_priority();
        for (;;) {
            Work w;
            std::uint64_t ticket = 0;
            {
                std::unique_lock<std::mutex> lock(mu_);
                cv_.wait(lock, [this] { return quit_ || pending_ != nullptr; });
                if (quit_) return;
                w = std::move(pending_);
                pending_ = nullptr;
                running_ = true;
                cancel_ = false;
                ticket = submitted_;
                progress_.done = 0;
                progress_.total = 0;
            }
            std::optional<Result> r;
            r.emplace(w(cancel_, progress_));
            {
                std::lock_guard<std::mutex> lock(mu_);
                running_ = false;
                // Keep it only if nothing newer was asked for meanwhile.
                if (ticket == submitted_) result_ = std::move(r);
            }
        }
    }

    mutable std::mutex mu_;
    std::condition_variable cv_;
    Work pending_;
    std::optional<Result> result_;
    std::atomic<bool> cancel_{false};
    JobProgress progress_;
    bool running_ = false;
    bool quit_ = false;
    std::uint64_t submitted_ = 0;
    std::chrono::steady_clock::time_point started_{};
    std::thread worker_;  // last: starts after every other member exists
};

// ---- The two kinds of model work the GUI asks for ----

// A run of every algorithm with traces, prepared for replay.
struct ModelRequest {
    scenarios::Scenario scenario;  // algorithms: every key that runs its passes, for the race
    bool numerics = true;
    std::int32_t watch_block = 0;
    std::int64_t max_trace_events = 400'000;  // per lane: shared by its passes
};
struct ModelOutput {
    ModelRequest request;
    std::optional<scenarios::ScenarioResult> result;
    std::vector<LaneData> lanes;  // one per algorithm key, in the scenario's order
    std::string error;            // run_scenario threw: the message, shown inline
    double seconds = 0;
    const LaneData* lane(std::string_view key) const;
};
ModelOutput run_model(const ModelRequest& req, const std::atomic<bool>& cancel, JobProgress& progress);

// A sweep for the plots panel.
struct SweepRequest {
    scenarios::Scenario base;
    std::string key;  // "seq_len", "sram_bytes" or "block_cols"
    std::vector<std::string> values;
};
struct SweepOutput {
    SweepRequest request;
    std::optional<scenarios::SweepResult> result;
    std::string error;
    double seconds = 0;
};
SweepOutput run_sweep_job(const SweepRequest& req, const std::atomic<bool>& cancel, JobProgress& progress);

}  // namespace tilesim::viz
