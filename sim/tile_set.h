#pragma once
// A set of 64-bit tile keys with open addressing and linear probing: the hierarchy inserts one key
// per HBM move, millions per sweep, where std::unordered_set's node allocations would dominate.
#include <cstdint>
#include <vector>

namespace tilesim::sim {

class TileSet {
  public:
    // True when `key` was not in the set (it is now).
    bool insert(std::uint64_t key) {
        const std::uint64_t stored = key + 1;  // 0 marks an empty slot
        if ((size_ + 1) * 2 > slots_.size()) grow();
        std::size_t i = hash(stored) & (slots_.size() - 1);
        while (slots_[i] != 0) {
            if (slots_[i] == stored) return false;
            i = (i + 1) & (slots_.size() - 1);
        }
        slots_[i] = stored;
        ++size_;
        return true;
    }
    void clear() {
        slots_.assign(kInitial, 0);
        size_ = 0;
    }
    std::size_t size() const { return size_; }

  private:
    static constexpr std::size_t kInitial = 64;
    static std::size_t hash(std::uint64_t x) {  // splitmix64 finaliser: spreads the packed fields
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebULL;
        x ^= x >> 31;
        return static_cast<std::size_t>(x);
    }
    void grow() {
        std::vector<std::uint64_t> old = std::move(slots_);
        slots_.assign(old.empty() ? kInitial : old.size() * 2, 0);
        size_ = 0;
        for (std::uint64_t s : old) {
            if (s != 0) insert(s - 1);
        }
    }
    std::vector<std::uint64_t> slots_ = std::vector<std::uint64_t>(kInitial, 0);
    std::size_t size_ = 0;
};

}  // namespace tilesim::sim
