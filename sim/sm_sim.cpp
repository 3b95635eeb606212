// sim::run_program: one SM running a program's lanes, event by event (sim/program.h).
#include <algorithm>
#include <limits>
#include <stdexcept>

#include "sim/program.h"

namespace tilesim::sim {

namespace {

constexpr double kEps = 1e-15;  // seconds: below this a part is finished (rounding of the last step)

constexpr std::size_t kTensorAgent = 1;  // sim::Agent::tensor

class SmSimulation {
  public:
    explicit SmSimulation(const Program& p) : p_(p), n_(p.ops.size()) {
        res_.op_issue.assign(n_, 0);
        res_.op_start.assign(n_, 0);
        res_.op_done.assign(n_, -1);
        res_.part_end.assign(n_, {});
        link();
        cursor_.assign(p.lane_ops.size(), 0);
        waiting_on_.assign(p.lane_ops.size(), -1);
        delay_.assign(n_, 0);
        left_.assign(n_, {});
        serial_.assign(n_, 0);
        for (auto& o : owner_) o.assign(p.lane_ops.size(), -1);
    }

    SimResult run() {
        while (done_ < n_) {
            issue();
            if (active_.empty()) {
                if (done_ < n_)
                    throw std::logic_error("timeline: ops wait on each other (a schedule builder bug)");
                break;
            }
            share();
            advance(next_event());
        }
        res_.makespan = t_;
        return std::move(res_);
    }

  private:
    // Who waits on whom, as flat arrays (one allocation, not one per op).
    void link() {
        pending_.assign(n_, 0);
        dep_start_.assign(n_ + 1, 0);
        for (std::size_t i = 0; i < n_; ++i) {
            for (std::int32_t d : p_.deps[i]) {
                if (d < 0) continue;
                ++pending_[i];
                ++dep_start_[static_cast<std::size_t>(d) + 1];
            }
        }
        for (std::size_t i = 0; i < n_; ++i) dep_start_[i + 1] += dep_start_[i];
        dependents_.resize(static_cast<std::size_t>(dep_start_[n_]));
        std::vector<std::int32_t> fill(dep_start_.begin(), dep_start_.end() - 1);
        for (std::size_t i = 0; i < n_; ++i) {
            for (std::int32_t d : p_.deps[i]) {
                if (d >= 0)
                    dependents_[static_cast<std::size_t>(fill[static_cast<std::size_t>(d)]++)] =
                        static_cast<std::int32_t>(i);
            }
        }
    }

    bool finished(std::size_t i) const {
        if (delay_[i] > kEps || serial_[i] > kEps) return false;
        return std::all_of(left_[i].begin(), left_[i].end(), [](double x) { return x <= kEps; });
    }

    // How much slower op i progresses now: its factor while the tensor cores work, else 1.
    double slow(std::size_t i) const { return tensor_busy_ ? p_.ops[i].slowed_by_tensor : 1.0; }

    void finish(std::size_t i) {
        res_.op_done[i] = t_;
        ++done_;
        for (std::int32_t k = dep_start_[i]; k < dep_start_[i + 1]; ++k) {
            --pending_[static_cast<std::size_t>(dependents_[static_cast<std::size_t>(k)])];
        }
    }

    // Issues what every lane can, in order (an op with no work at all ends at once).
    void issue() {
        for (bool progress = true; progress;) {
            progress = false;
            for (std::size_t l = 0; l < p_.lane_ops.size(); ++l) {
                while (cursor_[l] < p_.lane_ops[l].size()) {
                    if (waiting_on_[l] >= 0 && res_.op_done[static_cast<std::size_t>(waiting_on_[l])] < 0)
                        break;
                    const std::int32_t id = p_.lane_ops[l][cursor_[l]];
                    const auto i = static_cast<std::size_t>(id);
                    if (pending_[i] > 0) break;
                    ++cursor_[l];
                    waiting_on_[l] = p_.ops[i].blocking ? id : -1;
                    res_.op_issue[i] = t_;
                    delay_[i] = p_.ops[i].delay;
                    left_[i] = p_.ops[i].work;
                    serial_[i] = p_.ops[i].serial;
                    res_.op_start[i] = t_ + delay_[i];
                    progress = true;
                    if (finished(i)) {
                        finish(i);
                    } else {
                        active_.push_back(id);
                    }
                }
            }
        }
    }

    // Processor sharing between lanes: each agent's rate is split between the lanes working on it.
    // Within a lane an agent serves one op at a time, in issue order (a block's copy queue, a warp
    // group's wgmma queue): `active_` is in issue order, so the first op of a lane on an agent is it.
    void share() {
        users_.fill(0);
        for (std::int32_t id : active_) {  // last round's owners were active ops' lanes: clear those
            const auto l = static_cast<std::size_t>(p_.ops[static_cast<std::size_t>(id)].lane);
            for (auto& o : owner_) o[l] = -1;
        }
        for (std::int32_t id : active_) {
            const auto i = static_cast<std::size_t>(id);
            if (delay_[i] > kEps) continue;
            const auto l = static_cast<std::size_t>(p_.ops[i].lane);
            for (std::size_t a = 0; a < kSmAgentCount; ++a) {
                if (left_[i][a] > kEps && owner_[a][l] < 0) {
                    owner_[a][l] = id;
                    ++users_[a];
                }
            }
        }
        tensor_busy_ = users_[kTensorAgent] > 0;
    }

    bool serving(std::size_t i, std::size_t a) const {
        return left_[i][a] > kEps &&
               owner_[a][static_cast<std::size_t>(p_.ops[i].lane)] == static_cast<std::int32_t>(i);
    }

    // Time to the next end of a latency or of an op's part at the current shares.
    double next_event() const {
        double dt = std::numeric_limits<double>::infinity();
        for (std::int32_t id : active_) {
            const auto i = static_cast<std::size_t>(id);
            if (delay_[i] > kEps) {
                dt = std::min(dt, delay_[i]);
                continue;
            }
            const double s = slow(i);
            for (std::size_t a = 0; a < kSmAgentCount; ++a) {
                if (serving(i, a)) dt = std::min(dt, left_[i][a] * users_[a] * s);
            }
            if (serial_[i] > kEps) dt = std::min(dt, serial_[i] * s);
        }
        return dt;
    }

    void advance(double dt) {
        t_ += dt;
        for (std::size_t a = 0; a < kSmAgentCount; ++a) res_.busy[a] += users_[a] > 0 ? dt : 0;
        std::size_t keep = 0;
        for (std::int32_t id : active_) {
            const auto i = static_cast<std::size_t>(id);
            if (delay_[i] > kEps) {
                delay_[i] = std::max(0.0, delay_[i] - dt);
            } else {
                const double s = slow(i);
                serial_[i] = std::max(0.0, serial_[i] - dt / s);
                for (std::size_t a = 0; a < kSmAgentCount; ++a) {
                    if (!serving(i, a)) continue;
                    left_[i][a] -= dt / (users_[a] * s);
                    if (left_[i][a] <= kEps) {
                        left_[i][a] = 0;
                        res_.part_end[i][a] = t_;
                    }
                }
            }
            if (finished(i)) {
                finish(i);
            } else {
                active_[keep++] = id;
            }
        }
        active_.resize(keep);
    }

    const Program& p_;
    std::size_t n_;
    SimResult res_;
    std::vector<std::int32_t> pending_, dep_start_, dependents_;
    std::vector<std::size_t> cursor_;
    std::vector<std::int32_t> waiting_on_;
    std::vector<double> delay_;
    std::vector<double> serial_;  // per op: what is left of its own instruction stream's least time
    std::vector<std::array<double, kSmAgentCount>> left_;
    std::vector<std::int32_t> active_;                            // in issue order
    std::array<std::vector<std::int32_t>, kSmAgentCount> owner_;  // per agent, per lane: the op it serves
    std::array<int, kSmAgentCount> users_{};
    bool tensor_busy_ = false;  // some op works on the tensor cores (this round's shares)
    std::size_t done_ = 0;
    double t_ = 0;
};

}  // namespace

SimResult run_program(const Program& p) {
    return SmSimulation(p).run();
}

}  // namespace tilesim::sim
