#include "sim/program.h"

#include "sim/trace.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace tilesim::sim {

namespace {

constexpr std::size_t kCopy = 0, kTensor = 1, kSfu = 2, kFma = 3, kSmem = 4;
// A streaming kernel's block works on this many chunks of rows at once (its warps), so its loads,
// arithmetic and stores overlap; 8 makes the fill and drain of the pipeline an eighth of a block.
constexpr std::int64_t kStreamChunks = 8;

// A step as the builders see it: the loads that start it, then its body (arithmetic and stores, in
// program order, consecutive non-matmul arithmetic merged into one op: a warp's softmax is one
// instruction stream feeding the FP32 lanes, the special-function unit and shared memory at once).
struct Step {
    std::vector<WorkOp> loads, body;
    std::vector<std::int32_t> load_src, body_src, body_count;  // positions in the step's WorkOps
    std::int32_t index = 0;
};

bool is_gemm(const WorkOp& w) {
    return w.kind == WorkKind::compute && w.mma_flops > 0;
}

Step split(const WorkStep& s) {
    Step out;
    for (std::size_t k = 0; k < s.ops.size(); ++k) {
        const WorkOp& op = s.ops[k];
        const auto at = static_cast<std::int32_t>(k);
        if (op.kind == WorkKind::load && out.body.empty()) {
            out.loads.push_back(op);
            out.load_src.push_back(at);
        } else if (op.kind == WorkKind::compute && !is_gemm(op) && !out.body.empty() &&
                   out.body.back().kind == WorkKind::compute && !is_gemm(out.body.back())) {
            WorkOp& m = out.body.back();
            m.exp_flops += op.exp_flops;
            m.fma_flops += op.fma_flops;
            m.sram_bytes += op.sram_bytes;
            ++out.body_count.back();
        } else {
            out.body.push_back(op);
            out.body_src.push_back(at);
            out.body_count.push_back(1);
        }
    }
    return out;
}

std::vector<Step> expand(const BlockWork& w, std::int64_t keep, Program& p, bool record_runs) {
    std::vector<Step> out;
    for (std::size_t r = 0; r < w.runs.size(); ++r) {
        const std::int64_t kept = std::min(w.runs[r].repeat, std::max<std::int64_t>(3, keep));
        if (record_runs) {
            p.run_repeat.push_back(w.runs[r].repeat);
            p.run_kept.push_back(kept);
        }
        const Step s = split(w.runs[r].step);
        for (std::int64_t k = 0; k < kept; ++k) {
            out.push_back(s);
            out.back().index = static_cast<std::int32_t>(out.size() - 1);
            if (record_runs) p.step_run.push_back(static_cast<std::int32_t>(r));
        }
    }
    return out;
}

// One op of `w`'s work scaled by `f` (a warp group's share, a streaming chunk).
SimOp make_op(const WorkOp& w, double f, const SmRates& r, std::int32_t lane, std::int32_t copy,
              std::int32_t step) {
    SimOp o;
    o.lane = lane;
    o.kind = w.kind;
    o.tensor = w.tensor;
    o.copy = copy;
    o.step = step;
    switch (w.kind) {
        case WorkKind::load:
            o.delay = r.latency_s;
            o.work[kCopy] = f * static_cast<double>(w.bytes) / r.copy_bytes;
            o.blocking = false;
            break;
        case WorkKind::store:
            o.work[kCopy] = f * static_cast<double>(w.bytes) / r.copy_bytes;
            o.blocking = false;
            break;
        case WorkKind::compute:
            o.work[kTensor] = f * static_cast<double>(w.mma_flops) / r.tensor_flops;
            o.work[kSfu] = f * static_cast<double>(w.exp_flops) / r.sfu_ops;
            o.work[kFma] = f * static_cast<double>(w.fma_flops) / r.fma_ops;
            // Shared memory feeds the tensor cores their operands (ldmatrix, wgmma descriptors); the
            // element-wise arithmetic of a tile (the softmax) runs on registers.
            if (w.mma_flops > 0) o.work[kSmem] = f * static_cast<double>(w.sram_bytes) / r.smem_bytes;
            if (w.mma_flops == 0 && r.serial_sfu_ops > 0 && r.serial_fma_ops > 0) {
                // Each warp group of the lane runs its share in its own stream (bench/gpu/overlap.cu:
                // a lone group's 64 x 128 softmax takes 807 clocks; its 8192 exponentials alone, 512).
                o.serial = f *
                           (static_cast<double>(w.exp_flops) / r.serial_sfu_ops +
                            static_cast<double>(w.fma_flops) / r.serial_fma_ops) /
                           std::max(1.0, r.lane_warp_groups);
            }
            if (w.mma_flops == 0) o.slowed_by_tensor = std::max(1.0, r.slowdown_under_tensor);
            break;
    }
    return o;
}

// make_op for step `s`'s i-th load (or body op), remembering which of the step's WorkOps it stands for.
SimOp step_op(const Step& s, bool load, std::size_t i, double f, const SmRates& r, std::int32_t lane,
              std::int32_t copy) {
    SimOp op = make_op(load ? s.loads[i] : s.body[i], f, r, lane, copy, s.index);
    op.source = load ? s.load_src[i] : s.body_src[i];
    op.sources = load ? 1 : s.body_count[i];
    return op;
}

// A memory-streaming block: `kStreamChunks` chunks flow through a load lane, an arithmetic lane and
// a store lane; chunk g's loads wait for chunk g - 2's arithmetic (double-buffered rows).
void build_streaming(Program& p, const std::vector<Step>& steps, std::int32_t copy, const SmRates& r) {
    const auto L = static_cast<std::int32_t>(p.lanes.size());
    const std::string who = "block " + std::to_string(copy);
    p.lanes.push_back(who + ": loads");
    p.lanes.push_back(who + ": arithmetic");
    p.lanes.push_back(who + ": stores");
    p.lane_ops.resize(p.lanes.size());
    const double f = 1.0 / static_cast<double>(kStreamChunks);
    std::vector<std::int32_t> computed;  // per chunk, its last arithmetic op (or -1)
    for (const Step& s : steps) {
        for (std::int64_t g = 0; g < kStreamChunks; ++g) {
            std::vector<std::int32_t> loaded;
            std::vector<std::int32_t> wait;
            if (computed.size() >= 2 && computed[computed.size() - 2] >= 0)
                wait.push_back(computed[computed.size() - 2]);
            for (std::size_t i = 0; i < s.loads.size(); ++i) {
                loaded.push_back(p.add_op(step_op(s, true, i, f, r, L, copy), wait));
            }
            std::int32_t last = -1;
            for (std::size_t i = 0; i < s.body.size(); ++i) {
                const bool store = s.body[i].kind == WorkKind::store;
                const std::int32_t id = p.add_op(step_op(s, false, i, f, r, L + (store ? 2 : 1), copy),
                                                 last >= 0 ? std::vector{last} : loaded);
                if (!store) last = id;
            }
            computed.push_back(last);
        }
    }
}

// The lanes of one tensor-core block: loads by the producer (or the consumer itself), arithmetic by
// one or two consumer warp groups, each taking an equal share of every op.
class TensorBlockBuilder {
  public:
    TensorBlockBuilder(Program& p, const std::vector<Step>& steps, const BlockShape& sh, std::int32_t copy,
                       std::int64_t stages, const SmRates& r)
        : p_(p), steps_(steps), sh_(sh), copy_(copy), stages_(std::max<std::int64_t>(1, stages)), r_(r) {
        const std::string who = "block " + std::to_string(copy);
        if (sh.producer) {
            producer_ = lane(who + ": producer");
        }
        for (std::int32_t c = 0; c < sh.consumers; ++c) {
            consumers_.push_back(
                lane(sh.consumers == 1 ? who
                                       : who + ": warp group " + std::string(1, static_cast<char>('A' + c))));
        }
        loads_.assign(steps.size(), {});
        loaded_.assign(steps.size(), false);
        last_.assign(steps.size(), std::vector<std::int32_t>(consumers_.size(), -1));
        head_last_.assign(steps.size(), std::vector<std::int32_t>(consumers_.size(), -1));
        // Runs of consecutive GEMMs in each step's body (which load each one reads: ensure_loads).
        for (const Step& st : steps) {
            std::vector<std::int32_t> run_of(st.body.size(), -1);
            std::int32_t runs = 0;
            for (std::size_t i = 0; i < st.body.size(); ++i) {
                if (!is_gemm(st.body[i])) continue;
                if (i == 0 || !is_gemm(st.body[i - 1])) ++runs;
                run_of[i] = runs - 1;
            }
            run_of_.push_back(std::move(run_of));
            run_count_.push_back(static_cast<std::size_t>(runs));
            run_last_.emplace_back(consumers_.size(),
                                   std::vector<std::int32_t>(static_cast<std::size_t>(runs), -1));
        }
    }

    void build() {
        const std::size_t n = steps_.size();
        if (!sh_.pipelined) {
            for (std::size_t k = 0; k < n; ++k) issue(k, 0, steps_[k].body.size(), Wait::loads, true);
        } else {
            // FA3 Algorithm 2: a step's trailing GEMMs (O_i += P~_ij V_j) are deferred until the next
            // step's head GEMMs (S = Q K_j+1^T) are issued; both run while the group computes the next
            // softmax. A step with arithmetic or stores after its last GEMM (the epilogue) is not deferred.
            std::size_t deferred = n;  // the step whose tail waits, or n
            for (std::size_t k = 0; k < n; ++k) {
                const Parts q = parts(k);
                issue(k, 0, q.head, Wait::loads, false);  // async: the group moves on to the softmax
                if (deferred < n) {
                    issue(deferred, parts(deferred).tail, steps_[deferred].body.size(), Wait::none, false);
                    deferred = n;
                }
                issue(k, q.head, q.tail, q.head > 0 ? Wait::head : Wait::loads, true);
                if (q.tail < steps_[k].body.size() && q.tail_is_end && k + 1 < n) {
                    deferred = k;
                } else {
                    issue(k, q.tail, steps_[k].body.size(), Wait::none, true);
                }
            }
        }
        for (std::size_t k = 0; k < n; ++k) ensure_loads(k);  // a step of loads alone
        if (sh_.pingpong) link_windows();
    }

  private:
    std::int32_t lane(const std::string& name) {
        p_.lanes.push_back(name);
        p_.lane_ops.emplace_back();
        return static_cast<std::int32_t>(p_.lanes.size() - 1);
    }

    // A step's body as FA3's pipelining sees it: [0, head) leading GEMMs; [head, tail) the softmax and
    // whatever precedes the last GEMMs; [tail, end) the last run of GEMMs, and `tail_is_end` when
    // nothing follows them.
    struct Parts {
        std::size_t head = 0, tail = 0;
        bool tail_is_end = false;
    };
    Parts parts(std::size_t k) const {
        const auto& b = steps_[k].body;
        Parts q;
        while (q.head < b.size() && is_gemm(b[q.head])) ++q.head;
        std::size_t end = b.size(), last = b.size();
        while (last > q.head && !is_gemm(b[last - 1])) --last;  // one past the last GEMM
        std::size_t first = last;
        while (first > q.head && is_gemm(b[first - 1])) --first;
        q.tail = last > q.head ? first : end;
        q.tail_is_end = last == end && last > q.head;
        if (!q.tail_is_end) q.tail = end;  // nothing to defer: the whole rest runs in place
        return q;
    }

    // Issues step k's loads once: by the producer, or by the consumer itself in its own order. With a
    // ring, each tensor has `stages` slots (FA3 keeps separate pipelines for K and V): a load waits
    // until the load of the same tensor `stages` earlier is released by the GEMMs that read it. Which
    // GEMMs read which tile is taken from program order: a step's i-th load feeds its i-th run of
    // GEMMs, the last run taking the rest (FA2's K_j feeds S = Q K_j^T, V_j feeds O += P V_j).
    void ensure_loads(std::size_t k) {
        if (loaded_[k]) return;
        loaded_[k] = true;
        const std::int32_t by = sh_.producer ? producer_ : consumers_[0];
        for (std::size_t i = 0; i < steps_[k].loads.size(); ++i) {
            const WorkOp& w = steps_[k].loads[i];
            auto& history = tensor_loads_[static_cast<std::size_t>(w.tensor)];
            std::vector<std::int32_t> wait;
            if (sh_.ring && history.size() >= static_cast<std::size_t>(stages_)) {
                const auto [kk, ii] = history[history.size() - static_cast<std::size_t>(stages_)];
                wait = release_of(kk, ii);
            }
            // A tile stored from a buffer must have left it before the next tile is loaded into it
            // (FA1's O_i written back, then O_i+1 loaded where it was).
            const std::int32_t stored = last_store_[static_cast<std::size_t>(w.tensor)];
            if (stored >= 0) wait.push_back(stored);
            history.emplace_back(k, i);
            loads_[k].push_back(p_.add_op(step_op(steps_[k], true, i, 1.0, r_, by, copy_), wait));
            if (run_count_[k] == 0) prologue_.push_back(loads_[k].back());  // Q_i: read by every later GEMM
        }
    }

    // The loads GEMM run `r` of step k reads (load i feeds run min(i, runs - 1)), and the prologue's.
    std::vector<std::int32_t> loads_of_run(std::size_t k, std::size_t r) const {
        std::vector<std::int32_t> out = prologue_;
        const std::size_t runs = run_count_[k];
        for (std::size_t i = 0; i < loads_[k].size(); ++i) {
            if (std::min(i, runs - 1) == r) out.push_back(loads_[k][i]);
        }
        return out;
    }

    // The ops whose end frees the slot of step k's load i, on every consumer.
    std::vector<std::int32_t> release_of(std::size_t k, std::size_t i) const {
        std::vector<std::int32_t> out;
        const std::size_t runs = run_count_[k];
        for (std::size_t c = 0; c < consumers_.size(); ++c) {
            const std::int32_t id = runs == 0 ? last_[k][c] : run_last_[k][c][std::min(i, runs - 1)];
            if (id >= 0) out.push_back(id);
        }
        return out;
    }

    enum class Wait { none, loads, head };

    // Issues body ops [from, to) of step k on every consumer, each taking its share. The first op
    // waits for the step's tiles (and, for a GEMM issued ahead, the previous step's: Q_i came with
    // step 0), or for the step's head GEMMs (the softmax needs S_ij); a GEMM after the head also waits
    // for the previous such GEMM (O_i accumulates in order). `blocking` false: issued asynchronously
    // (wgmma), the group moves on.
    void issue(std::size_t k, std::size_t from, std::size_t to, Wait wait_for, bool blocking) {
        if (from >= to) return;
        ensure_loads(k);
        const double f = 1.0 / static_cast<double>(consumers_.size());
        const std::size_t head = parts(k).head;
        for (std::size_t c = 0; c < consumers_.size(); ++c) {
            std::vector<std::int32_t> wait;
            // A GEMM run waits for its own tiles (below); an initialisation (m_i = -inf, l_i = 0) for
            // none; anything else first in the step waits for all of them.
            const WorkOp& first = steps_[k].body[from];
            const bool init = first.kind == WorkKind::compute && (first.flags & flags::kInit) != 0;
            if (wait_for == Wait::loads && !is_gemm(first) && !init) {
                wait = loads_[k];
            } else if (wait_for == Wait::head && head_last_[k][c] >= 0) {
                wait = {head_last_[k][c]};
            }
            for (std::size_t i = from; i < to; ++i) {
                const WorkOp& w = steps_[k].body[i];
                SimOp op = step_op(steps_[k], false, i, f, r_, consumers_[c], copy_);
                if (!blocking && w.kind == WorkKind::compute) op.blocking = false;
                const bool run_start = is_gemm(w) && (i == 0 || !is_gemm(steps_[k].body[i - 1]));
                if (run_start) {
                    const auto mine = loads_of_run(k, static_cast<std::size_t>(run_of_[k][i]));
                    wait.insert(wait.end(), mine.begin(), mine.end());
                }
                const bool accumulating = is_gemm(w) && i >= head;
                if (accumulating && tail_last_[c] >= 0) wait.push_back(tail_last_[c]);
                // A warp group's GEMMs run in the order it issued them (its wgmma queue), never side
                // by side: the one issued first ends first.
                if (is_gemm(w) && gemm_last_[c] >= 0) wait.push_back(gemm_last_[c]);
                // Ping-pong without intra-warpgroup pipelining: the group's turn holds two GEMMs
                // (PV_j, then QK_j+1^T) and it waits for the first before issuing the second
                // (wgmma.wait_group 0), while the named barrier holds the other group off the tensor
                // cores: the first drains and the second refills the pipe, the cores idle meanwhile.
                // Issued back to back (pipelined: wait_group 1 after both), the turn has no such gap.
                if (sh_.pingpong && is_gemm(w) && follows_blocking_gemm(consumers_[c]))
                    op.delay = r_.wgmma_wait_s;
                // Likewise any arithmetic that waits for a wgmma's result (the softmax for S_ij, after
                // wait_group): the group sees the GEMM complete a wgmma round trip after the tensor cores
                // finish it (bench/gpu/overlap.cu: 68-81 clocks a wait).
                if (!is_gemm(w) && w.kind == WorkKind::compute && r_.wait_after_gemm &&
                    (follows_blocking_gemm(consumers_[c]) || waits_on_gemm(wait)))
                    op.delay = r_.wgmma_wait_s;
                const std::int32_t id = p_.add_op(op, wait);
                if (is_gemm(w)) gemm_last_[c] = id;
                wait = {};
                if (w.kind == WorkKind::compute) last_[k][c] = id;
                if (w.kind == WorkKind::store) last_store_[static_cast<std::size_t>(w.tensor)] = id;
                if (is_gemm(w)) run_last_[k][c][static_cast<std::size_t>(run_of_[k][i])] = id;
                if (is_gemm(w) && i < head) head_last_[k][c] = id;
                if (accumulating) tail_last_[c] = id;
            }
        }
    }

    // Whether one of `ops` is a GEMM.
    bool waits_on_gemm(const std::vector<std::int32_t>& ops) const {
        return std::any_of(ops.begin(), ops.end(), [&](std::int32_t id) {
            return id >= 0 && p_.ops[static_cast<std::size_t>(id)].work[kTensor] > 0;
        });
    }

    // Whether the last op issued on `lane` is a GEMM the lane waits for.
    bool follows_blocking_gemm(std::int32_t lane) const {
        const auto& ops = p_.lane_ops[static_cast<std::size_t>(lane)];
        if (ops.empty()) return false;
        const SimOp& prev = p_.ops[static_cast<std::size_t>(ops.back())];
        return prev.blocking && prev.work[kTensor] > 0;
    }

    // Ping-pong: a group's GEMM window (a run of GEMMs in its issue order) starts after the other
    // group's previous window, alternating A, B, A, B.
    void link_windows() {
        std::vector<std::vector<std::pair<std::int32_t, std::int32_t>>> windows(consumers_.size());
        for (std::size_t c = 0; c < consumers_.size(); ++c) {
            const auto& lane_ops = p_.lane_ops[static_cast<std::size_t>(consumers_[c])];
            std::int32_t open = -1, prev = -1;
            for (std::int32_t id : lane_ops) {
                const bool g = p_.ops[static_cast<std::size_t>(id)].work[kTensor] > 0;
                if (g && open < 0) open = id;
                if (!g && open >= 0) {
                    windows[c].push_back({open, prev});
                    open = -1;
                }
                prev = id;
            }
            if (open >= 0) windows[c].push_back({open, prev});
        }
        if (windows.size() != 2) return;
        if (sh_.ring && r_.ring_wait_s > 0) {
            for (std::size_t c = 0; c < windows.size(); ++c) {
                for (const auto& win : windows[c]) handshake_before(consumers_[c], win.first);
            }
        }
        for (std::size_t w = 0; w < windows[0].size() && w < windows[1].size(); ++w) {
            if (w > 0)
                p_.deps[static_cast<std::size_t>(windows[0][w].first)].push_back(windows[1][w - 1].second);
            p_.deps[static_cast<std::size_t>(windows[1][w].first)].push_back(windows[0][w].second);
        }
    }

    // A ping-pong group's mbarrier handshakes with the ring (its waits for the window's tiles, its
    // release of the last slot) come before it waits for its turn: an op of no work on its lane just
    // before the window's first GEMM, after the lane's previous op and the tiles that GEMM waits for,
    // so that it overlaps the other group's window instead of following it (HardwareSpec::ring_wait_s).
    void handshake_before(std::int32_t lane, std::int32_t first) {
        const SimOp& gemm_op = p_.ops[static_cast<std::size_t>(first)];
        SimOp h;
        h.lane = lane;
        h.tensor = gemm_op.tensor;
        h.copy = copy_;
        h.step = gemm_op.step;
        h.sources = 0;  // stands for no event of the trace
        h.delay = r_.ring_wait_s;
        const auto id = static_cast<std::int32_t>(p_.ops.size());
        p_.ops.push_back(h);
        p_.deps.push_back(p_.deps[static_cast<std::size_t>(first)]);
        auto& order = p_.lane_ops[static_cast<std::size_t>(lane)];
        order.insert(std::find(order.begin(), order.end(), first), id);
    }

    Program& p_;
    const std::vector<Step>& steps_;
    BlockShape sh_;
    std::int32_t copy_;
    std::int64_t stages_;
    SmRates r_;
    std::int32_t producer_ = -1;
    std::vector<std::int32_t> consumers_;
    std::vector<std::vector<std::int32_t>> loads_;
    std::vector<bool> loaded_;
    std::vector<std::vector<std::int32_t>> last_;       // per step, per consumer: its last arithmetic op
    std::vector<std::vector<std::int32_t>> head_last_;  // per step, per consumer: its last head GEMM
    std::vector<std::vector<std::int32_t>> run_of_;     // per step, per body op: its GEMM run, or -1
    std::vector<std::size_t> run_count_;                // per step: GEMM runs
    std::vector<std::vector<std::vector<std::int32_t>>> run_last_;  // per step, consumer, run: last GEMM
    std::array<std::vector<std::pair<std::size_t, std::size_t>>, kTensorCount> tensor_loads_;  // (step, load)
    std::vector<std::int32_t> prologue_;  // loads of steps without GEMMs (Q_i)
    std::array<std::int32_t, kTensorCount> last_store_ = [] {
        std::array<std::int32_t, kTensorCount> a{};
        a.fill(-1);
        return a;
    }();
    std::vector<std::int32_t> tail_last_ = std::vector<std::int32_t>(2, -1);  // per consumer: last tail GEMM
    std::vector<std::int32_t> gemm_last_ =
        std::vector<std::int32_t>(2, -1);  // per consumer: last GEMM issued
};

// The tensor rate of an SM for this dtype, relative to fp16: fp8 doubles it where the GPU has an fp8
// path, fp32 runs as TF32 at half, fp64 at the GPU's fp64 tensor fraction.
double dtype_factor(const HardwareSpec& hw, Dtype d) {
    switch (d) {
        case Dtype::fp8e4m3:
        case Dtype::fp8e5m2:
            return hw.fp8_tensor_factor;
        case Dtype::fp16:
        case Dtype::bf16:
            return 1.0;
        case Dtype::fp32:
            return 0.5;
        case Dtype::fp64:
            return hw.fp64_tensor_factor;
    }
    return 1.0;
}

}  // namespace

SmRates sm_rates(const HardwareSpec& hw, MmaKind mma, Dtype dtype, bool tensor_phase) {
    const auto sms = static_cast<double>(std::max<std::int64_t>(1, hw.sm_count));
    SmRates r;
    const double tensor = mma == MmaKind::wgmma ? hw.wgmma_flops_per_s : hw.mma_sync_flops_per_s;
    r.tensor_flops = std::max(1.0, tensor * dtype_factor(hw, dtype) / sms);
    r.sfu_ops = std::max(1.0, hw.sfu_ops_per_s / sms);
    r.fma_ops = std::max(1.0, hw.fma_ops_per_s() / sms);
    r.smem_bytes = std::max(1.0, hw.sram_bytes_per_s / sms);
    r.copy_bytes = std::max(1.0, hw.sm_port_bytes_per_s);
    r.latency_s = hw.memory_latency_s;  // the timeline blends in the L2's for the share of hits
    r.wgmma_wait_s = mma == MmaKind::wgmma ? hw.wgmma_wait_s : 0.0;
    r.ring_wait_s = mma == MmaKind::wgmma ? hw.ring_wait_s : 0.0;
    if (mma == MmaKind::wgmma && tensor_phase) {
        if (hw.loaded_clock_hz > 0 && hw.clock_hz > 0) {
            const double f = hw.loaded_clock_hz / hw.clock_hz;
            r.sfu_ops = std::max(1.0, r.sfu_ops * f);
            r.fma_ops = std::max(1.0, r.fma_ops * f);
            r.smem_bytes = std::max(1.0, r.smem_bytes * f);
        }
        if (hw.warpgroup_serial_softmax) {
            r.serial_sfu_ops = r.sfu_ops;
            r.serial_fma_ops = r.fma_ops;
        }
        r.slowdown_under_tensor = std::max(1.0, hw.wgmma_softmax_slowdown);
        r.wait_after_gemm = true;
    }
    return r;
}

SmRates shared_by(SmRates r, std::int64_t copies) {
    const auto c = static_cast<double>(std::max<std::int64_t>(1, copies));
    r.copy_bytes /= c;
    r.tensor_flops /= c;
    r.sfu_ops /= c;
    r.fma_ops /= c;
    r.smem_bytes /= c;
    return r;
}

std::int32_t Program::add_op(const SimOp& op, std::vector<std::int32_t> on) {
    const auto id = static_cast<std::int32_t>(ops.size());
    ops.push_back(op);
    deps.push_back(std::move(on));
    lane_ops.at(static_cast<std::size_t>(op.lane)).push_back(id);
    return id;
}

namespace {}  // namespace

Program build_program(const BlockWork& w, const BlockShape& shape, std::int64_t copies, std::int64_t stages,
                      const SmRates& rates, std::int64_t keep) {
    Program p;
    SmRates r = rates;
    r.lane_warp_groups = static_cast<double>(std::max<std::int32_t>(1, shape.lane_warp_groups));
    std::vector<Step> steps = expand(w, keep, p, true);
    for (std::int64_t c = 0; c < std::max<std::int64_t>(1, copies); ++c) {
        const auto copy = static_cast<std::int32_t>(c);
        if (shape.streaming) {
            build_streaming(p, steps, copy, r);
        } else {
            TensorBlockBuilder(p, steps, shape, copy,
                               shape.pipelined ? std::max<std::int64_t>(2, stages) : stages, r)
                .build();
        }
    }
    return p;
}

}  // namespace tilesim::sim
