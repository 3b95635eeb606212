#include "sim/work.h"

#include <algorithm>
#include <utility>

namespace tilesim::sim {

namespace {

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    // splitmix64-style combine: order-sensitive, spreads small integers.
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h;
}

std::uint64_t mix_op(std::uint64_t h, const WorkOp& op) {
    h = mix(h, static_cast<std::uint64_t>(op.kind) | (static_cast<std::uint64_t>(op.tensor) << 8) |
                   (static_cast<std::uint64_t>(op.flags) << 16));
    h = mix(h, static_cast<std::uint64_t>(op.bytes));
    h = mix(h, static_cast<std::uint64_t>(op.mma_flops));
    h = mix(h, static_cast<std::uint64_t>(op.exp_flops ^ (op.fma_flops << 20)));
    return mix(h, static_cast<std::uint64_t>(op.sram_bytes));
}

template <class F>
std::int64_t sum_ops(const BlockWork& w, F f) {
    std::int64_t s = 0;
    for (const auto& run : w.runs) {
        std::int64_t per_step = 0;
        for (const auto& op : run.step.ops) per_step += f(op);
        s += per_step * run.repeat;
    }
    return s;
}

}  // namespace

std::int64_t BlockWork::steps() const {
    std::int64_t n = 0;
    for (const auto& run : runs) n += run.repeat;
    return n;
}

std::int64_t BlockWork::load_bytes() const {
    return sum_ops(*this, [](const WorkOp& op) { return op.kind == WorkKind::load ? op.bytes : 0; });
}

std::int64_t BlockWork::store_bytes() const {
    return sum_ops(*this, [](const WorkOp& op) { return op.kind == WorkKind::store ? op.bytes : 0; });
}

std::int64_t BlockWork::mma_flops() const {
    return sum_ops(*this, [](const WorkOp& op) { return op.mma_flops; });
}

bool PhaseWork::has_tensor_work() const {
    for (std::size_t c = 0; c < classes.size(); ++c) {
        if (class_blocks[c] > 0 && classes[c].mma_flops() > 0) return true;
    }
    return false;
}

void WorkRecorder::begin_phase(std::int64_t blocks) {
    if (open_) close_block();
    work_ = PhaseWork{};
    work_.block_class.assign(static_cast<std::size_t>(std::max<std::int64_t>(1, blocks)), -1);
    by_hash_.clear();
    block_ = 0;
    open_ = false;
}

void WorkRecorder::begin_block(std::int64_t block) {
    if (open_ && block == block_) return;
    if (open_) close_block();
    block_ = block;
}

void WorkRecorder::open_block() {
    // Fresh, or re-entered: the block's class's work continues, and the class loses a member.
    if (block_ >= work_.blocks()) work_.block_class.resize(static_cast<std::size_t>(block_ + 1), -1);
    flat_ops_.clear();
    flat_runs_.clear();
    const std::int32_t c = work_.block_class[static_cast<std::size_t>(block_)];
    if (c >= 0) {
        for (const auto& run : work_.classes[static_cast<std::size_t>(c)].runs) {
            flat_runs_.push_back({flat_ops_.size(), run.step.ops.size(), run.repeat});
            flat_ops_.insert(flat_ops_.end(), run.step.ops.begin(), run.step.ops.end());
        }
        --work_.class_blocks[static_cast<std::size_t>(c)];
        work_.block_class[static_cast<std::size_t>(block_)] = -1;
    }
    open_ = true;
}

void WorkRecorder::close_step() {
    step_has_body_ = false;
    if (step_.empty()) return;
    if (!flat_runs_.empty()) {
        FlatRun& last = flat_runs_.back();
        if (last.count == step_.size() &&
            std::equal(step_.begin(), step_.end(),
                       flat_ops_.begin() + static_cast<std::ptrdiff_t>(last.begin))) {
            ++last.repeat;
            step_.clear();
            return;
        }
    }
    flat_runs_.push_back({flat_ops_.size(), step_.size(), 1});
    flat_ops_.insert(flat_ops_.end(), step_.begin(), step_.end());
    step_.clear();
}

std::uint64_t WorkRecorder::flat_hash() const {
    std::uint64_t h = 0;
    for (const FlatRun& run : flat_runs_) {
        h = mix(h, static_cast<std::uint64_t>(run.repeat));
        for (std::size_t k = run.begin; k < run.begin + run.count; ++k) h = mix_op(h, flat_ops_[k]);
    }
    return h;
}

bool WorkRecorder::flat_equals(const BlockWork& w) const {
    if (w.runs.size() != flat_runs_.size()) return false;
    for (std::size_t r = 0; r < flat_runs_.size(); ++r) {
        const FlatRun& f = flat_runs_[r];
        const WorkRun& run = w.runs[r];
        if (run.repeat != f.repeat || run.step.ops.size() != f.count) return false;
        if (!std::equal(run.step.ops.begin(), run.step.ops.end(),
                        flat_ops_.begin() + static_cast<std::ptrdiff_t>(f.begin)))
            return false;
    }
    return true;
}

void WorkRecorder::close_block() {
    close_step();
    open_ = false;
    if (flat_runs_.empty()) return;
    const std::uint64_t h = flat_hash();
    std::int32_t id = -1;
    auto [lo, hi] = by_hash_.equal_range(h);
    for (auto it = lo; it != hi && id < 0; ++it) {
        if (flat_equals(work_.classes[static_cast<std::size_t>(it->second)])) id = it->second;
    }
    if (id < 0) {
        BlockWork w;
        for (const FlatRun& f : flat_runs_) {
            WorkRun run;
            run.repeat = f.repeat;
            run.step.ops.assign(flat_ops_.begin() + static_cast<std::ptrdiff_t>(f.begin),
                                flat_ops_.begin() + static_cast<std::ptrdiff_t>(f.begin + f.count));
            w.runs.push_back(std::move(run));
        }
        id = static_cast<std::int32_t>(work_.classes.size());
        work_.classes.push_back(std::move(w));
        work_.class_blocks.push_back(0);
        by_hash_.emplace(h, id);
    }
    work_.block_class[static_cast<std::size_t>(block_)] = id;
    ++work_.class_blocks[static_cast<std::size_t>(id)];
}

PhaseWork WorkRecorder::finish() {
    if (open_) close_block();
    PhaseWork out = std::move(work_);
    work_ = PhaseWork{};
    by_hash_.clear();
    return out;
}

}  // namespace tilesim::sim
