#include "sim/l2.h"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace tilesim::sim {

namespace {

// Lines that map to consecutive sets (8 KB of addresses): a stream walks the set array in order (fast
// on the host), while the hash of the group spreads strided tiles (heads at power-of-two strides).
constexpr std::uint64_t kGroupLines = 64;

std::uint64_t hash64(std::uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

bool kv_tensor(Tensor t) {
    return t == Tensor::K || t == Tensor::V || t == Tensor::dK || t == Tensor::dV;
}

}  // namespace

std::string_view grid_order_name(GridOrder g) {
    return g == GridOrder::head_major ? "head-major" : "sequence-major";
}

L2Stats& L2Stats::operator+=(const L2Stats& o) {
    read_request_bytes += o.read_request_bytes;
    read_hit_bytes += o.read_hit_bytes;
    write_request_bytes += o.write_request_bytes;
    dram_read_bytes += o.dram_read_bytes;
    dram_write_bytes += o.dram_write_bytes;
    flush_write_bytes += o.flush_write_bytes;
    return *this;
}

L2Stats L2Stats::operator-(const L2Stats& o) const {
    L2Stats d = *this;
    d.read_request_bytes -= o.read_request_bytes;
    d.read_hit_bytes -= o.read_hit_bytes;
    d.write_request_bytes -= o.write_request_bytes;
    d.dram_read_bytes -= o.dram_read_bytes;
    d.dram_write_bytes -= o.dram_write_bytes;
    d.flush_write_bytes -= o.flush_write_bytes;
    return d;
}

namespace {
// Set bits of a sector mask (a table: no popcount instruction is assumed of the host).
std::int64_t popcount8(std::uint8_t m) {
    static constexpr std::array<std::uint8_t, 256> kBits = [] {
        std::array<std::uint8_t, 256> t{};
        for (unsigned i = 0; i < 256; ++i) t[i] = static_cast<std::uint8_t>((i & 1U) + t[i / 2]);
        return t;
    }();
    return kBits[m];
}

}  // namespace

L2Cache::L2Cache(const L2Config& c)
    : line_bytes_(c.line_bytes),
      sector_bytes_(c.sector_bytes),
      ways_(std::max<std::int64_t>(1, c.ways)),
      partitions_(std::clamp<std::int64_t>(c.partitions, 1, 255)) {
    if (line_bytes_ <= 0 || sector_bytes_ <= 0 || line_bytes_ % sector_bytes_ != 0 ||
        line_bytes_ / sector_bytes_ > 8) {
        throw std::invalid_argument("L2 model: a line must hold 1 to 8 whole sectors");
    }
    sectors_per_line_ = static_cast<std::int32_t>(line_bytes_ / sector_bytes_);
    // Whole groups of sets; at least one group (a tiny L2 still works, as a small cache).
    const std::int64_t lines = std::max<std::int64_t>(0, c.capacity_bytes / line_bytes_);
    const auto group = static_cast<std::int64_t>(kGroupLines);
    sets_ = std::max<std::int64_t>(group, (lines / ways_) / group * group);
    const auto n = static_cast<std::size_t>(sets_ * ways_);
    tag_.assign(n, 0);
    valid_.assign(n, 0);
    dirty_.assign(n, 0);
    weight_.assign(n, 1);
}

std::size_t L2Cache::set_of(std::uint64_t line) const {
    const auto groups = static_cast<std::uint64_t>(sets_) / kGroupLines;
    // Multiply-shift maps the hash's top 32 bits onto [0, groups) without a division (groups < 2^32).
    const std::uint64_t g = ((hash64(line / kGroupLines) >> 32) * groups) >> 32;
    return static_cast<std::size_t>(g * kGroupLines + line % kGroupLines);
}

template <std::size_t W>
std::size_t L2Cache::touch(std::uint64_t line, std::size_t set) {
    const std::size_t base = set * W;
    const auto tag = static_cast<std::uint32_t>(line / kGroupLines + 1);
    std::uint32_t* tags = &tag_[base];
    // A fixed-width scan with no early exit: the compiler makes it a few vector compares.
    std::size_t at = W;
    for (std::size_t w = W; w-- > 0;) at = tags[w] == tag ? w : at;
    std::uint8_t valid = 0, dirty = 0, weight = 1;
    if (at < W) {
        valid = valid_[base + at];
        dirty = dirty_[base + at];
        weight = weight_[base + at];
    } else {
        // A miss: the last way is the least recently used (or empty); write back its dirty sectors.
        at = W - 1;
        if (tags[at] != 0 && dirty_[base + at] != 0) {
            stats_.dram_write_bytes += popcount8(dirty_[base + at]) * sector_bytes_ * weight_[base + at];
        }
    }
    // Move to the front: the ways before it shift back by one.
    std::copy_backward(tags, tags + at, tags + at + 1);
    std::copy_backward(&valid_[base], &valid_[base] + at, &valid_[base] + at + 1);
    std::copy_backward(&dirty_[base], &dirty_[base] + at, &dirty_[base] + at + 1);
    std::copy_backward(&weight_[base], &weight_[base] + at, &weight_[base] + at + 1);
    tags[0] = tag;
    valid_[base] = valid;
    dirty_[base] = dirty;
    weight_[base] = weight;
    return base;
}

std::size_t L2Cache::touch_any(std::uint64_t line, std::size_t set) {
    switch (ways_) {
        case 4:
            return touch<4>(line, set);
        case 8:
            return touch<8>(line, set);
        case 16:
            return touch<16>(line, set);
        case 32:
            return touch<32>(line, set);
        default:
            break;
    }
    // Other associativities: the same, one way at a time.
    const auto W = static_cast<std::size_t>(ways_);
    const std::size_t base = set * W;
    const auto tag = static_cast<std::uint32_t>(line / kGroupLines + 1);
    std::size_t at = 0;
    while (at < W && tag_[base + at] != tag) ++at;
    std::uint8_t valid = 0, dirty = 0, weight = 1;
    if (at < W) {
        valid = valid_[base + at];
        dirty = dirty_[base + at];
        weight = weight_[base + at];
    } else {
        at = W - 1;
        if (tag_[base + at] != 0 && dirty_[base + at] != 0) {
            stats_.dram_write_bytes += popcount8(dirty_[base + at]) * sector_bytes_ * weight_[base + at];
        }
    }
    for (std::size_t k = at; k > 0; --k) {
        tag_[base + k] = tag_[base + k - 1];
        valid_[base + k] = valid_[base + k - 1];
        dirty_[base + k] = dirty_[base + k - 1];
        weight_[base + k] = weight_[base + k - 1];
    }
    tag_[base] = tag;
    valid_[base] = valid;
    dirty_[base] = dirty;
    weight_[base] = weight;
    return base;
}

template <bool Write, bool Home>
void L2Cache::access(std::uint64_t addr, std::int64_t bytes) {
    if (bytes <= 0) return;
    const auto lb = static_cast<std::uint64_t>(line_bytes_), sb = static_cast<std::uint64_t>(sector_bytes_);
    const std::uint64_t end = addr + static_cast<std::uint64_t>(bytes);
    const auto full = static_cast<std::uint8_t>((1U << sectors_per_line_) - 1U);
    std::size_t group_set = 0;  // the set of the first line of the current group
    for (std::uint64_t line = addr / lb; line * lb < end; ++line) {
        if (line == addr / lb || line % kGroupLines == 0) group_set = set_of(line) - line % kGroupLines;
        std::int64_t k = 1;  // lines of the GPU this access stands for
        if constexpr (Home) {
            // Homed in another partition (a hash of the address, independent of the set's): skipped.
            if ((hash64(line ^ 0x5bd1e995ULL) >> 40) % static_cast<std::uint64_t>(partitions_) != 0) continue;
            k = partitions_;
        }
        // Sectors of this line that [addr, end) touches (all of them inside a run).
        std::uint8_t mask = full;
        std::int64_t req = line_bytes_;
        const std::uint64_t lo = std::max(addr, line * lb), hi = std::min(end, (line + 1) * lb);
        if (lo != line * lb || hi != (line + 1) * lb) {
            const auto s0 = static_cast<unsigned>((lo - line * lb) / sb);
            const auto s1 = static_cast<unsigned>((hi - line * lb + sb - 1) / sb);
            mask = static_cast<std::uint8_t>(((1U << s1) - 1U) & ~((1U << s0) - 1U));
            req = popcount8(mask) * sector_bytes_;
        }
        const std::size_t w = touch_any(line, group_set + line % kGroupLines);
        weight_[w] = static_cast<std::uint8_t>(k);
        if constexpr (Write) {
            stats_.write_request_bytes += req * k;
            valid_[w] |= mask;
            dirty_[w] |= mask;
        } else {
            stats_.read_request_bytes += req * k;
            const auto missing = static_cast<std::uint8_t>(mask & ~valid_[w]);
            const std::int64_t miss = popcount8(missing) * sector_bytes_;
            stats_.read_hit_bytes += (req - miss) * k;
            stats_.dram_read_bytes += miss * k;
            valid_[w] |= mask;
        }
    }
}

void L2Cache::read(std::uint64_t addr, std::int64_t bytes) {
    access<false, false>(addr, bytes);
}

void L2Cache::write(std::uint64_t addr, std::int64_t bytes) {
    access<true, false>(addr, bytes);
}

void L2Cache::read_home(std::uint64_t addr, std::int64_t bytes) {
    access<false, true>(addr, bytes);
}

void L2Cache::write_home(std::uint64_t addr, std::int64_t bytes) {
    access<true, true>(addr, bytes);
}

void L2Cache::flush() {
    for (std::size_t w = 0; w < tag_.size(); ++w) {
        if (tag_[w] != 0 && dirty_[w] != 0) {
            const std::int64_t b = popcount8(dirty_[w]) * sector_bytes_ * weight_[w];
            stats_.dram_write_bytes += b;
            stats_.flush_write_bytes += b;
            dirty_[w] = 0;
        }
    }
}

bool L2Cache::holds(std::uint64_t addr) const {
    const std::uint64_t line = addr / static_cast<std::uint64_t>(line_bytes_);
    const std::size_t base = set_of(line) * static_cast<std::size_t>(ways_);
    const auto tag = static_cast<std::uint32_t>(line / kGroupLines + 1);
    for (std::size_t w = base; w < base + static_cast<std::size_t>(ways_); ++w) {
        if (tag_[w] == tag) return true;
    }
    return false;
}

namespace {

// Where each head's copy of each tensor lives: [heads, rows, cols] row-major, one region per tensor.
struct Layout {
    std::array<bool, kTensorCount> home{};  // updated by atomics somewhere in the run: home slices only
    std::array<std::uint64_t, kTensorCount> base{};
    std::array<std::int64_t, kTensorCount> rows{}, cols{}, elem{};
    std::int64_t kv_group = 1;

    std::uint64_t head_offset(Tensor t, std::int64_t head) const {
        const auto k = static_cast<std::size_t>(t);
        const std::int64_t h = kv_tensor(t) ? head / kv_group : head;
        return base[k] + static_cast<std::uint64_t>(h * rows[k] * cols[k] * elem[k]);
    }
};

Layout make_layout(const L2ReplayInput& in) {
    Layout L;
    L.kv_group = std::max<std::int64_t>(1, in.kv_group);
    for (const auto& d : in.tensors) {
        const auto k = static_cast<std::size_t>(d.tensor);
        L.rows[k] = std::max(L.rows[k], d.rows);
        L.cols[k] = std::max(L.cols[k], d.cols);
    }
    // A tensor no declaration covers (or covers too narrowly) takes the extent its tiles reach.
    for (const PhaseAccesses* ph : in.phases) {
        for (const auto& b : ph->blocks) {
            for (const auto& a : b.list) {
                const auto k = static_cast<std::size_t>(a.tensor);
                L.rows[k] = std::max(L.rows[k], a.tile.row0 + a.tile.rows);
                L.cols[k] = std::max(L.cols[k], a.tile.col0 + a.tile.cols);
                if (a.kind == AccessKind::atomic) L.home[k] = true;
            }
        }
    }
    const std::uint64_t align = 1ULL << 21;
    std::uint64_t next = align;
    const std::int64_t kv_heads = (in.heads + L.kv_group - 1) / L.kv_group;
    for (std::size_t k = 0; k < kTensorCount; ++k) {
        const auto t = static_cast<Tensor>(k);
        L.elem[k] = static_cast<std::int64_t>(element_bytes(t, in.dtype));
        L.base[k] = next;
        const std::int64_t heads = kv_tensor(t) ? kv_heads : in.heads;
        const auto bytes = static_cast<std::uint64_t>(heads * L.rows[k] * L.cols[k] * L.elem[k]);
        next += (bytes + align - 1) / align * align;
    }
    return L;
}

void replay_access(L2Cache& c, const Layout& L, std::int64_t head, const Access& a) {
    const auto k = static_cast<std::size_t>(a.tensor);
    const std::uint64_t base = L.head_offset(a.tensor, head);
    const std::int64_t cols = L.cols[k], e = L.elem[k];
    const bool home = L.home[k];
    auto touch = [&](std::uint64_t addr, std::int64_t bytes) {
        if (a.kind != AccessKind::write) home ? c.read_home(addr, bytes) : c.read(addr, bytes);
        if (a.kind != AccessKind::read) home ? c.write_home(addr, bytes) : c.write(addr, bytes);
    };
    if (a.tile.col0 == 0 && a.tile.cols == cols) {  // whole rows: one contiguous run
        touch(base + static_cast<std::uint64_t>(a.tile.row0 * cols * e), a.tile.rows * cols * e);
        return;
    }
    for (std::int64_t r = a.tile.row0; r < a.tile.row0 + a.tile.rows; ++r) {
        touch(base + static_cast<std::uint64_t>((r * cols + a.tile.col0) * e), a.tile.cols * e);
    }
}

// One pass: the grid's blocks in order, `slots` at a time, steps interleaved round-robin.
void replay_phase(L2Cache& c, const Layout& L, const PhaseAccesses& ph, std::int64_t slots,
                  std::int64_t heads, GridOrder order) {
    const auto P = static_cast<std::int64_t>(ph.blocks.size());
    const std::int64_t total = P * heads;
    struct Cursor {
        std::int64_t head, block;
        std::size_t step;
    };
    std::int64_t next = 0;
    auto take = [&](Cursor* out) {
        while (next < total) {
            const std::int64_t g = next++;
            const std::int64_t head = order == GridOrder::head_major ? g / P : g % heads;
            const std::int64_t block = order == GridOrder::head_major ? g % P : g / heads;
            if (!ph.blocks[static_cast<std::size_t>(block)].list.empty()) {
                *out = {head, block, 0};
                return true;
            }
        }
        return false;
    };
    std::vector<Cursor> active;
    Cursor cur{};
    while (static_cast<std::int64_t>(active.size()) < std::max<std::int64_t>(1, slots) && take(&cur)) {
        active.push_back(cur);
    }
    while (!active.empty()) {
        std::size_t alive = 0;
        for (std::size_t s = 0; s < active.size(); ++s) {
            Cursor& a = active[s];
            const BlockAccesses& b = ph.blocks[static_cast<std::size_t>(a.block)];
            const std::size_t from = b.step_begin[a.step];
            const std::size_t to =
                a.step + 1 < b.step_begin.size() ? b.step_begin[a.step + 1] : b.list.size();
            for (std::size_t k = from; k < to; ++k) replay_access(c, L, a.head, b.list[k]);
            ++a.step;
            // A finished block hands its slot to the next block of the grid, which starts next round.
            if (a.step < b.step_begin.size() || take(&a)) active[alive++] = a;
        }
        active.resize(alive);
    }
}

}  // namespace

std::vector<L2Stats> replay_l2(const L2ReplayInput& in) {
    L2Cache cache(in.config);
    const Layout layout = make_layout(in);
    std::vector<L2Stats> out;
    L2Stats before;
    for (std::size_t p = 0; p < in.phases.size(); ++p) {
        const std::int64_t slots = p < in.slots.size() ? in.slots[p] : 1;
        replay_phase(cache, layout, *in.phases[p], slots, std::max<std::int64_t>(1, in.heads), in.order);
        if (p + 1 == in.phases.size()) cache.flush();
        out.push_back(cache.stats() - before);
        before = cache.stats();
    }
    return out;
}

}  // namespace tilesim::sim
