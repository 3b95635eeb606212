// sim/l2.h: the L2 model's LRU, sectors and write-back on hand cases, and the replay's grid order.
#include <catch2/catch.hpp>

#include "sim/l2.h"

using namespace tilesim::sim;

namespace {

// 64 sets of 2 ways of 128-B lines (16 KiB): the smallest L2 the model builds, with one group of 64
// sets, so line L lives in set L mod 64 and addresses 0, 8192, 16384 share set 0.
L2Config two_way() {
    return {16 * 1024, 128, 32, 2};
}

}  // namespace

TEST_CASE("l2: least recently used within a set, line by line", "[sim][l2]") {
    L2Cache c(two_way());
    REQUIRE(c.sets() == 64);
    c.read(0, 128);      // miss: set 0 = {0}
    c.read(8192, 128);   // miss: {8192, 0}
    c.read(0, 128);      // hit: {0, 8192}
    c.read(16384, 128);  // miss: evicts the least recent, 8192: {16384, 0}
    CHECK(c.holds(0));
    CHECK(c.holds(16384));
    CHECK_FALSE(c.holds(8192));
    c.read(0, 128);     // hit
    c.read(8192, 128);  // miss again: evicts 16384
    CHECK_FALSE(c.holds(16384));
    // 6 reads of one line each: 2 hits, 4 misses fetched whole from DRAM.
    CHECK(c.stats().read_request_bytes == 6 * 128);
    CHECK(c.stats().read_hit_bytes == 2 * 128);
    CHECK(c.stats().dram_read_bytes == 4 * 128);
    CHECK(c.stats().dram_write_bytes == 0);
}

TEST_CASE("l2: sectors: a partial read fetches only its sectors, the rest of the line follows later",
          "[sim][l2]") {
    L2Cache c(two_way());
    c.read(0, 32);  // one sector of line 0
    CHECK(c.stats().read_request_bytes == 32);
    CHECK(c.stats().dram_read_bytes == 32);
    c.read(0, 128);  // the whole line: 1 sector hits, 3 come from DRAM
    CHECK(c.stats().read_request_bytes == 160);
    CHECK(c.stats().read_hit_bytes == 32);
    CHECK(c.stats().dram_read_bytes == 128);
    // A run across a line boundary touches the sectors it covers: bytes 96..160 = sector 3 of line 0
    // (present) and sector 0 of line 1 (fetched).
    c.read(96, 64);
    CHECK(c.stats().read_hit_bytes == 64);
    CHECK(c.stats().dram_read_bytes == 160);
}

TEST_CASE("l2: writes allocate without fetching, dirty lines go back on eviction and at the flush",
          "[sim][l2]") {
    L2Cache c(two_way());
    c.write(0, 128);    // set 0 = {0 dirty}: no DRAM read
    c.write(8192, 64);  // {8192 (2 dirty sectors), 0}
    CHECK(c.stats().dram_read_bytes == 0);
    CHECK(c.stats().write_request_bytes == 192);
    c.read(0, 128);  // written data reads back as hits
    CHECK(c.stats().read_hit_bytes == 128);
    c.read(16384, 128);  // evicts 8192: its 2 dirty sectors are written back
    CHECK(c.stats().dram_write_bytes == 64);
    c.flush();  // line 0 is still dirty
    CHECK(c.stats().dram_write_bytes == 64 + 128);
    CHECK(c.stats().flush_write_bytes == 128);
    c.flush();  // nothing left dirty
    CHECK(c.stats().dram_write_bytes == 192);
}

TEST_CASE("l2 replay: head-major grid order shares a head's K among its blocks, sequence-major does not",
          "[sim][l2]") {
    // Two heads, two blocks per head; each block reads all of its head's K (8 rows of 512 fp16: 8 KiB)
    // one row a step. Two blocks run at once, on a direct-mapped L2 of 8 KiB (64 sets of one line):
    // one head's K, and row r of head 1 lands in the set of row r of head 0.
    // Head-major: (h0, b0) and (h0, b1) run together and read each row of K_h0 side by side: fetched
    // once, then a hit; then head 1: DRAM = 2 x 8 KiB, compulsory, and 16 KiB of hits. Sequence-major:
    // (h0, b0) with (h1, b0), then (h0, b1) with (h1, b1): each row of one head evicts the other's, so
    // every read misses: 32 KiB from DRAM.
    PhaseAccesses ph;
    ph.recorded = true;
    ph.blocks.resize(2);
    for (auto& b : ph.blocks) {
        for (std::int64_t r = 0; r < 8; ++r) {
            b.step_begin.push_back(static_cast<std::uint32_t>(b.list.size()));
            b.list.push_back({Tensor::K, AccessKind::read, {r, 0, 1, 512}});
        }
    }
    L2ReplayInput in;
    in.phases = {&ph};
    in.slots = {2};
    in.tensors = {};  // K's shape comes from the tiles: 8 x 512
    in.dtype = Dtype::fp16;
    in.heads = 2;
    in.config = {8 * 1024, 128, 32, 1};
    in.order = GridOrder::head_major;
    const L2Stats head = replay_l2(in).at(0);
    in.order = GridOrder::sequence_major;
    const L2Stats seq = replay_l2(in).at(0);
    // Every block reads 8 KiB: 4 blocks = 32 KiB requested either way.
    CHECK(head.read_request_bytes == 32 * 1024);
    CHECK(seq.read_request_bytes == 32 * 1024);
    CHECK(head.dram_read_bytes == 2 * 8 * 1024);  // compulsory
    CHECK(head.read_hit_bytes == 16 * 1024);
    CHECK(seq.dram_read_bytes == 32 * 1024);
    CHECK(seq.read_hit_bytes == 0);
}

TEST_CASE("l2 replay: K and V are shared by the query heads of a group, the rest is per head", "[sim][l2]") {
    // One block per head reading K's only row and writing O's: 4 query heads, 2 K/V heads (groups of 2).
    PhaseAccesses ph;
    ph.recorded = true;
    ph.blocks.resize(1);
    ph.blocks[0].step_begin = {0};
    ph.blocks[0].list = {{Tensor::K, AccessKind::read, {0, 0, 1, 64}},
                         {Tensor::O, AccessKind::write, {0, 0, 1, 64}}};
    L2ReplayInput in;
    in.phases = {&ph};
    in.slots = {4};
    in.dtype = Dtype::fp16;
    in.heads = 4;
    in.kv_group = 2;
    in.config = {1 << 20, 128, 32, 16};
    const L2Stats s = replay_l2(in).at(0);
    // K: 4 reads of 128 B, 2 distinct rows: 2 misses. O: 4 distinct rows written, flushed at the end.
    CHECK(s.read_request_bytes == 4 * 128);
    CHECK(s.dram_read_bytes == 2 * 128);
    CHECK(s.write_request_bytes == 4 * 128);
    CHECK(s.dram_write_bytes == 4 * 128);
    CHECK(s.flush_write_bytes == 4 * 128);
}

TEST_CASE("l2: a tensor updated by atomics lives once in the L2, in its home partition", "[sim][l2]") {
    // 1 MiB partition of 16 ways (512 sets), two partitions. 1 MB of dQ accumulator written: as ordinary
    // data it would fill this partition (the hash spreads groups of lines unevenly, so some sets
    // overflow); homed, about half its lines are this partition's (each standing for two of the GPU),
    // half the partition: nothing is evicted before the flush, the convert pass's reads all hit, and
    // the flush writes back all of it, counted twice.
    const L2Config cfg{1 << 20, 128, 32, 16, 2};
    const std::int64_t lines = 8000, bytes = lines * 128;
    L2Cache home(cfg);
    home.write_home(0, bytes);
    CHECK(home.stats().dram_write_bytes == 0);
    CHECK(home.stats().write_request_bytes == Approx(bytes).epsilon(0.05));
    std::int64_t held = 0;
    for (std::int64_t line = 0; line < lines; ++line) held += home.holds(static_cast<std::uint64_t>(line) * 128);
    CHECK(home.stats().write_request_bytes == 2 * held * 128);  // each held line counts for two
    home.read_home(0, bytes);
    CHECK(home.stats().read_hit_bytes == home.stats().read_request_bytes);
    CHECK(home.stats().dram_read_bytes == 0);
    home.flush();
    CHECK(home.stats().dram_write_bytes == home.stats().write_request_bytes);
    // Twice as much as ordinary data overflows the partition: lines go back to DRAM before the flush.
    L2Cache plain(cfg);
    plain.write(0, 2 * bytes);
    CHECK(plain.stats().dram_write_bytes > 0);
    CHECK(plain.stats().write_request_bytes == 2 * bytes);
    // One partition: home accesses are plain ones.
    L2Cache one(L2Config{1 << 20, 128, 32, 16, 1});
    one.write_home(0, 4096);
    CHECK(one.stats().write_request_bytes == 4096);
    CHECK(one.holds(0));
}
