// The decode definitions (decode, flash-decoding): simulated counts == the definitions' closed forms ==
// the tests' own transcription (expected_counts.h) over N_q, N_kv, d, split counts, page sizes and KV
// group sizes on ragged sizes; FA2's split heuristic against its transcription and hand values; hand
// counts on the classroom machine with the arithmetic in the comments; standard attention at N_q = 1.
#include <catch2/catch.hpp>
#include <sstream>

#include "kernels/paging.h"
#include "kernels/registry.h"
#include "kernels/split_heuristic.h"
#include "kernels/tiling.h"
#include "tests/kernels/expected_counts.h"

using namespace tilesim;
using kernels::AlgorithmDef;
using kernels::Pass;
using sim::Level;
using sim::Tensor;

namespace {

const AlgorithmDef& def_of(std::string_view key) {
    const AlgorithmDef* d = kernels::find_definition(key, Pass::forward);
    REQUIRE(d != nullptr);
    return *d;
}

// One decode problem: batch 1, H = g query heads sharing H_kv = 1 K/V head.
kernels::Problem decode_problem(std::int64_t N_q, std::int64_t N_kv, std::int64_t d, sim::Dtype dt,
                                std::int64_t g, std::int64_t page, kernels::PageOrder order,
                                std::int64_t splits) {
    kernels::Problem p;
    p.batch = 1;
    p.heads = g;
    p.kv_heads = 1;
    p.N_q = N_q;
    p.N_kv = N_kv;
    p.d = d;
    p.dtype = dt;
    p.page_size = page;
    p.page_order = page > 0 ? order : kernels::PageOrder::contiguous;
    p.kv_splits = splits;
    return p;
}

kernels::RunResult count_only(const AlgorithmDef& def, const kernels::Problem& p, const sim::HardwareSpec& hw,
                              kernels::TilingRequest req = {}, bool trace = false) {
    kernels::RunOptions o;
    o.numerics = false;
    o.trace = trace;
    return kernels::run(def, kernels::unit_problem(def, p), req, hw, nullptr, o);
}

// Checks one configuration through both derivations. Returns false when it does not fit (checked genuine).
bool check_decode(const AlgorithmDef& def, const sim::HardwareSpec& hw, const kernels::Problem& p) {
    const kernels::Problem up = kernels::unit_problem(def, p);
    const auto r = count_only(def, p, hw);
    std::ostringstream where;
    where << def.key << " on " << hw.name << " " << sim::dtype_name(p.dtype) << ": N_q = " << p.N_q
          << ", N_kv = " << p.N_kv << ", d = " << p.d << ", H/H_kv = " << p.heads
          << ", page = " << p.page_size << " (" << kernels::page_order_name(p.page_order)
          << "), kv_splits = " << p.kv_splits << " -> B_r = " << r.tiling.B_r << ", B_c = " << r.tiling.B_c
          << ", S = " << r.tiling.splits;
    INFO(where.str());
    if (!r.fit.ok) {
        // The rule's blocks shrink down to 1 x 1 before giving up, so a misfit means even that overflows.
        CHECK(kernels::working_set_bytes(def, up, 1, 1, hw) > hw.sram_bytes);
        CHECK(r.counters.transfers == 0);
        return false;
    }
    // The unit: a packed KV group has g N_q query rows; an unpacked head N_q.
    CHECK(up.N_q == (def.packs_gqa ? p.heads / p.kv_heads : 1) * p.N_q);
    CHECK(r.tiling.T_r == test::cdiv(up.N_q, r.tiling.B_r));
    CHECK(r.tiling.T_c == test::cdiv(p.N_kv, r.tiling.B_c));
    // The split count: kv_splits, or FA2's heuristic over B x H x T_r tiles and 2 slots per SM.
    std::int64_t S = 1;
    if (def.splits_kv) {
        S = p.kv_splits > 0
                ? p.kv_splits
                : test::fa2_splits(p.batch * p.heads * r.tiling.T_r, 2 * hw.sm_count, r.tiling.T_c);
    }
    CHECK(r.tiling.splits == S);
    test::Expected x;
    const test::DecodeShape shape{up.N_q, p.N_kv, p.d, r.tiling.B_r, r.tiling.B_c, p.dtype, S, p.page_size};
    if (def.splits_kv) {
        test::flash_decoding_counts(shape, x);
    } else {
        test::decode_counts(shape, x);
    }
    kernels::RunOptions o;
    o.numerics = false;
    const kernels::ClosedForm cf = def.closed_form(up, r.tiling, hw, o);
    const auto& c = r.counters;
    for (std::size_t t = 0; t < sim::kTensorCount; ++t) {
        const auto tensor = static_cast<Tensor>(t);
        INFO("tensor " << sim::tensor_name(tensor));
        CHECK(c.at(Level::HBM, tensor).read_elements == x.read[t]);
        CHECK(c.at(Level::HBM, tensor).write_elements == x.write[t]);
        CHECK(cf.hbm_read(tensor) == x.read[t]);
        CHECK(cf.hbm_write(tensor) == x.write[t]);
        const auto eb = static_cast<std::int64_t>(sim::element_bytes(tensor, p.dtype));
        CHECK(c.at(Level::HBM, tensor).read_bytes == x.read[t] * eb);
        CHECK(c.at(Level::HBM, tensor).write_bytes == x.write[t] * eb);
    }
    CHECK(c.at(Level::L2).total_elements() == 0);
    CHECK(c.matmul_flops == x.matmul_flops);
    CHECK(cf.matmul_flops == x.matmul_flops);
    CHECK(c.other_flops == x.other_flops);
    CHECK(cf.other_flops == x.other_flops);
    CHECK(c.exp_flops == x.exp_flops);
    CHECK(cf.exp_flops == x.exp_flops);
    CHECK(c.sram_peak_bytes == x.sram_peak_bytes);
    CHECK(cf.sram_peak_bytes == x.sram_peak_bytes);
    CHECK(c.sram_peak_bytes <= hw.sram_bytes);
    // Passes: one, or the split pass (T_r S thread blocks per unit) and the combine (T_r).
    REQUIRE(r.phases.size() == (S > 1 ? 2U : 1U));
    CHECK(r.phases[0].parallel_units == r.tiling.T_r * S);
    if (S > 1) CHECK(r.phases[1].parallel_units == r.tiling.T_r);
    return true;
}

struct Machine {
    const char* preset;
    sim::Dtype dtype;
};
const Machine kMachines[] = {{"classroom", sim::Dtype::fp32},
                             {"A100-40GB", sim::Dtype::fp16},
                             {"H100-SXM", sim::Dtype::bf16},
                             {"H200", sim::Dtype::fp16}};
const std::int64_t kNq[] = {1, 2, 4};
const std::int64_t kNkv[] = {1, 7, 63, 64, 65, 1000, 4097};
const std::int64_t kD[] = {4, 64, 128};
const std::int64_t kGroups[] = {1, 4, 8};
const std::int64_t kPages[] = {0, 1, 16, 256};
const std::int64_t kSplits[] = {0, 1, 2, 3, 7};

void decode_grid(std::string_view key) {
    const AlgorithmDef& def = def_of(key);
    for (const auto& m : kMachines) {
        const auto hw = *sim::find_preset(m.preset);
        int ran = 0, total = 0, split_runs = 0, empty_split_runs = 0;
        for (std::int64_t N_q : kNq) {
            for (std::int64_t N_kv : kNkv) {
                for (std::int64_t d : kD) {
                    for (std::int64_t g : kGroups) {
                        for (std::int64_t page : kPages) {
                            // Every other configuration shuffles its pages: the counts must not notice.
                            const auto order = (N_kv + d + g) % 2 == 0 ? kernels::PageOrder::shuffled
                                                                       : kernels::PageOrder::contiguous;
                            for (std::int64_t splits : kSplits) {
                                if (!def.splits_kv && splits > 0) continue;
                                const auto p = decode_problem(N_q, N_kv, d, m.dtype, g, page, order, splits);
                                ++total;
                                if (!check_decode(def, hw, p)) continue;
                                ++ran;
                                const auto t = kernels::resolve_tiling(def, kernels::unit_problem(def, p), {},
                                                                       hw, nullptr);
                                split_runs += t.splits > 1 ? 1 : 0;
                                empty_split_runs +=
                                    test::cdiv(t.T_c, test::cdiv(t.T_c, t.splits)) < t.splits ? 1 : 0;
                            }
                        }
                    }
                }
            }
        }
        INFO(m.preset << ": " << ran << " of " << total << " configurations ran");
        // The grid must run: on the GPUs all of it fits; the 384-byte toy machine holds d = 4 only.
        if (std::string(m.preset) == "classroom") {
            CHECK(ran * 4 >= total);
        } else {
            CHECK(ran == total);
        }
        if (def.splits_kv) {
            CHECK(split_runs > 0);        // the combine is exercised
            CHECK(empty_split_runs > 0);  // and splits left without K/V blocks
        }
    }
}

}  // namespace

TEST_CASE("decode grid: FlashAttention decode (packed GQA, paged) counts equal both closed forms",
          "[kernels][counts][decode]") {
    decode_grid("decode");
}

TEST_CASE("decode grid: Flash-Decoding (split counts, pages, groups) counts equal both closed forms",
          "[kernels][counts][decode]") {
    decode_grid("flash-decoding");
}

TEST_CASE("FA2's split heuristic: the model's copy equals the tests' transcription and FA2's own examples",
          "[kernels][decode][heuristic]") {
    // The measured H200 case (facts file, section 4): B 1, H 32, L_q 1, L_k 32768, d 128: 32 tiles, 2 x 132
    // slots, 256 K/V blocks of 128: FA2's launch had 7 splits. The best eligible efficiency is 0.97 (8
    // splits: 256 / 264), and 7 splits reach 224 / 264 = 0.848 >= 0.85 x 0.97 = 0.824.
    CHECK(kernels::num_splits_heuristic(32, 264, 256, 128) == 7);
    // B 8: 256 tiles >= 0.8 x 264 = 211.2: no split (measured: no split either).
    CHECK(kernels::num_splits_heuristic(256, 264, 256, 128) == 1);
    // FA2's comment: 48 heads on 108 SMs: 2 splits (efficiency 96 / 108 = 0.89) beat 3 (0.67).
    CHECK(kernels::num_splits_heuristic(48, 108, 1000, 128) == 2);
    // The classroom machine (1 SM, 2 slots): one tile, 2 K/V blocks: 2 splits fill both slots.
    CHECK(kernels::num_splits_heuristic(1, 2, 2, 128) == 2);
    // One K/V block: nothing to split.
    CHECK(kernels::num_splits_heuristic(1, 264, 1, 128) == 1);
    // 11 splits of 64 blocks give 6 x 10 + 4: ineligible (12 would be 6 x 11 - 2, i.e. 11 again).
    for (std::int64_t tiles = 1; tiles <= 300; tiles += 7) {
        for (std::int64_t slots : {2, 80, 216, 264}) {
            for (std::int64_t kv : {1, 2, 3, 7, 10, 37, 64, 256, 1000}) {
                INFO("tiles " << tiles << " slots " << slots << " kv blocks " << kv);
                const int s = kernels::num_splits_heuristic(tiles, slots, kv, 128);
                CHECK(s == test::fa2_splits(tiles, slots, kv));
                CHECK(s >= 1);
                CHECK(s <= std::min<std::int64_t>({128, slots, kv}));
            }
        }
    }
}

// Classroom machine: 384 B of SRAM, fp32 (M = 96 elements), no L2, 1 SM. N_q = 1, N_kv = 18, d = 4.
// decode's rule asks B_r = 64, B_c = 256: clamped to 1 x 18, the working set (2 x 18 x 4 + 2 x 1 x 4 + 18)
// x 4 B + 2 x 4 B (l, m) = 688 B > 384 B. B_r cannot shrink below 1, so B_c does: 36 B_c + 40 <= 384 gives
// B_c = 9 (364 B); T_r = 1, T_c = 2.
TEST_CASE("hand count: classroom decode, N_q = 1 against N_kv = 18", "[kernels][counts][hand][decode]") {
    const auto hw = *sim::find_preset("classroom");
    const auto p = decode_problem(1, 18, 4, sim::Dtype::fp32, 1, 0, kernels::PageOrder::contiguous, 0);
    const auto r = count_only(def_of("decode"), p, hw);
    REQUIRE(r.fit.ok);
    CHECK(r.tiling.B_r == 1);
    CHECK(r.tiling.B_c == 9);
    CHECK(r.tiling.T_c == 2);
    CHECK(r.counters.sram_peak_bytes == 364);
    // Reads: Q 4, K and V 18 x 4 = 72 each (one Q block). Writes: O 4, L 1.
    CHECK(r.counters.at(Level::HBM, Tensor::Q).read_elements == 4);
    CHECK(r.counters.at(Level::HBM, Tensor::K).read_elements == 72);
    CHECK(r.counters.at(Level::HBM, Tensor::V).read_elements == 72);
    CHECK(r.counters.at(Level::HBM).read_elements == 148);
    CHECK(r.counters.at(Level::HBM).write_elements == 5);
    // Matmul 4 N_q N_kv d = 288. Other: 5 x 18 (scores) + 2 blocks x (5 + 2 x 4) + 4 (O /= l) + 2 (L) = 122.
    // Exp: 18 + 2 (rescales) + 1 (log) = 21.
    CHECK(r.counters.matmul_flops == 288);
    CHECK(r.counters.other_flops == 122);
    CHECK(r.counters.exp_flops == 21);
    // Moves: Q, K_0, V_0, K_1, V_1, O, L.
    CHECK(r.counters.transfers == 7);
    REQUIRE(r.phases.size() == 1);
    CHECK(r.phases[0].parallel_units == 1);
}

TEST_CASE("hand count: classroom decode on a paged cache (4-token pages, shuffled)",
          "[kernels][counts][hand][decode]") {
    const auto hw = *sim::find_preset("classroom");
    const auto p = decode_problem(1, 18, 4, sim::Dtype::fp32, 1, 4, kernels::PageOrder::shuffled, 0);
    // Pages: ceil(18 / 4) = 5, the last holding 18 - 16 = 2 tokens: 5 x 4 - 18 = 2 wasted slots.
    const auto g = kernels::page_geometry(p);
    CHECK(g.pages == 5);
    CHECK(g.last_page_len == 2);
    CHECK(g.wasted_slots == 2);
    // SRAM: the page-table entries one K/V block can span, min(5, ceil(9 / 4) + 1) = 4 int32 = 16 B, on top
    // of 36 B_c + 40: B_c = 9 still fits (380 B).
    const auto r = count_only(def_of("decode"), p, hw, {}, true);
    REQUIRE(r.fit.ok);
    CHECK(r.tiling.B_c == 9);
    CHECK(r.counters.sram_peak_bytes == 380);
    // K_0 = tokens 0..8 spans pages 0, 1, 2: entries 0..2 read (3), three gathers each of K and V.
    // K_1 = tokens 9..17 spans pages 2, 3, 4: page 2's entry is held, so entries 3..4 (2), three gathers
    // each.
    CHECK(r.counters.at(Level::HBM, Tensor::PT).read_elements == 5);
    CHECK(r.counters.at(Level::HBM, Tensor::PT).read_bytes == 20);    // int32
    CHECK(r.counters.at(Level::HBM, Tensor::K).read_elements == 72);  // the same elements as contiguous
    // Moves: Q (1), 2 page-table reads, 6 + 6 gathers, O, L: 1 + 2 + 12 + 1 + 1 = 17 (contiguous: 7).
    CHECK(r.counters.transfers == 17);
    // The gathered tiles sit where the page table puts them: physical page x 4 + offset in the page.
    const auto table = kernels::page_table(p);
    REQUIRE(table.size() == 5);
    std::vector<sim::Rect> k_tiles;
    for (const auto& e : r.trace->events()) {
        if (e.op == sim::Op::Load && e.tensor == Tensor::K) k_tiles.push_back(e.tile);
    }
    // Logical runs: [0,4) [4,8) [8,9) | [9,12) [12,16) [16,18).
    const std::int64_t starts[] = {0, 4, 8, 9, 12, 16}, lens[] = {4, 4, 1, 3, 4, 2};
    REQUIRE(k_tiles.size() == 6);
    for (std::size_t k = 0; k < 6; ++k) {
        const std::int64_t page = starts[k] / 4;
        CHECK(k_tiles[k].row0 == table[static_cast<std::size_t>(page)] * 4 + starts[k] % 4);
        CHECK(k_tiles[k].rows == lens[k]);
    }
    // The same counts with the pages in order; only the addresses differ.
    auto q = p;
    q.page_order = kernels::PageOrder::contiguous;
    const auto in_order = count_only(def_of("decode"), q, hw);
    CHECK(in_order.counters.by_tensor == r.counters.by_tensor);
    CHECK(in_order.counters.transfers == r.counters.transfers);
    CHECK(kernels::page_table(q) == std::vector<std::int64_t>{0, 1, 2, 3, 4});
    CHECK(table != kernels::page_table(q));  // the seeded permutation moved at least one page
}

// Flash-Decoding on the same problem: the heuristic on 1 SM (2 slots): 1 tile < 1.6, 2 K/V blocks, so
// candidates 1, 2 with efficiencies 0.5 and 1.0: 2 splits of n = 1 block each.
TEST_CASE("hand count: classroom flash-decoding, 2 splits and the combine",
          "[kernels][counts][hand][decode]") {
    const auto hw = *sim::find_preset("classroom");
    const auto p = decode_problem(1, 18, 4, sim::Dtype::fp32, 1, 0, kernels::PageOrder::contiguous, 0);
    const auto r = count_only(def_of("flash-decoding"), p, hw);
    REQUIRE(r.fit.ok);
    CHECK(r.tiling.B_c == 9);
    CHECK(r.tiling.splits == 2);
    CHECK_THAT(r.tiling.splits_note, Catch::Contains("FA2's heuristic") && Catch::Contains("2 splits"));
    // Split pass: each split loads Q (2 x 4 = 8), K and V once in all (72 each); writes Oacc 2 x 4 = 8
    // and Lacc 2 (fp32). Combine: reads Oacc 8 and Lacc 2, writes O 4 and L 1.
    CHECK(r.counters.at(Level::HBM, Tensor::Q).read_elements == 8);
    CHECK(r.counters.at(Level::HBM, Tensor::K).read_elements == 72);
    CHECK(r.counters.at(Level::HBM, Tensor::Oacc).write_elements == 8);
    CHECK(r.counters.at(Level::HBM, Tensor::Oacc).read_elements == 8);
    CHECK(r.counters.at(Level::HBM, Tensor::Lacc).write_elements == 2);
    CHECK(r.counters.at(Level::HBM, Tensor::Lacc).read_elements == 2);
    CHECK(r.counters.at(Level::HBM, Tensor::O).write_elements == 4);
    CHECK(r.counters.at(Level::HBM, Tensor::L).write_elements == 1);
    // Other flops: 90 (scores) + 2 blocks x 13 + 2 split epilogues x (4 + 2) = 128; the combine: L in
    // 4 x 2 + 2 = 10, two weights and multiply-adds 2 x (2 + 8) = 20: 158.
    CHECK(r.counters.other_flops == 158);
    // Exp: 18 + 2 + 2 (split logs) + 3 (combine: 2 exps and a log) + 2 (weights) = 27.
    CHECK(r.counters.exp_flops == 27);
    REQUIRE(r.phases.size() == 2);
    CHECK(r.phases[0].parallel_units == 2);  // T_r x S thread blocks
    CHECK(r.phases[1].parallel_units == 1);  // the combine, T_r
    // SRAM: the split pass as decode (364 B); the combine (2 x 1 x 4 + 2 + 1) x 4 = 44 B.
    CHECK(r.counters.sram_peak_bytes == 364);
    CHECK(r.phases[1].counters.sram_peak_bytes == 44);
}

TEST_CASE(
    "hand count: flash-decoding splits read the page of a boundary twice, empty splits write 0 and -inf",
    "[kernels][counts][hand][decode]") {
    const auto hw = *sim::find_preset("classroom");
    // 2 splits over 4-token pages: split 0 = tokens 0..8 (pages 0, 1, 2), split 1 = 9..17 (pages 2, 3, 4):
    // 3 + 3 = 6 entries = 5 pages + 1 boundary (9) inside a page.
    const auto paged = decode_problem(1, 18, 4, sim::Dtype::fp32, 1, 4, kernels::PageOrder::shuffled, 2);
    const auto r = count_only(def_of("flash-decoding"), paged, hw);
    REQUIRE(r.fit.ok);
    CHECK(r.counters.at(Level::HBM, Tensor::PT).read_elements == 6);
    // Blocks of 2 (explicit): T_c = 9, kv_splits = 7: n = ceil(9 / 7) = 2, so splits 0..4 take blocks
    // (0,1) (2,3) (4,5) (6,7) (8) and splits 5, 6 get none. Q is loaded by the 5 busy splits (5 x 4 = 20);
    // all 7 write their partials (Oacc 7 x 4 = 28, Lacc 7); the combine reads all 7.
    const auto p = decode_problem(1, 18, 4, sim::Dtype::fp32, 1, 0, kernels::PageOrder::contiguous, 7);
    const auto e = count_only(def_of("flash-decoding"), p, hw, {0, 2});
    REQUIRE(e.fit.ok);
    CHECK(e.tiling.T_c == 9);
    CHECK(e.tiling.splits == 7);
    CHECK_THAT(e.tiling.splits_note, Catch::Contains("the last 2 empty"));
    CHECK(e.counters.at(Level::HBM, Tensor::Q).read_elements == 20);
    CHECK(e.counters.at(Level::HBM, Tensor::Oacc).write_elements == 28);
    CHECK(e.counters.at(Level::HBM, Tensor::Oacc).read_elements == 28);
    CHECK(e.counters.at(Level::HBM, Tensor::Lacc).write_elements == 7);
    CHECK(e.counters.at(Level::HBM, Tensor::K).read_elements == 72);
}

TEST_CASE("standard attention at N_q = 1: the closed form already covers decoding",
          "[kernels][counts][hand][decode]") {
    // Algorithm 0 with one query row: S and P are 1 x N_kv. Classroom fp32, N_kv = 18, d = 4: rule B_c = 6,
    // B_r = min(6, 4) = 4, clamped to 1; T_r = 1, so K and V are read once (no re-reads, no L2 needed).
    // Reads: Q 4, K 72, V 72, S 18 (a row of 72 B fits), P 18 = 184. Writes: S 18, P 18, O 4 = 40.
    // The paper's 4Nd + 4N^2 with N_q != N_kv: 2 N_q d + 2 N_kv d + 4 N_q N_kv = 8 + 144 + 72 = 224 = 184
    // + 40.
    const auto hw = *sim::find_preset("classroom");
    const auto& standard = def_of("standard");
    kernels::Problem p = kernels::Problem::square(18, 4, sim::Dtype::fp32);
    p.N_q = 1;
    const auto r = count_only(standard, p, hw);
    REQUIRE(r.fit.ok);
    CHECK(r.tiling.B_r == 1);
    CHECK(r.counters.at(Level::HBM).read_elements == 184);
    CHECK(r.counters.at(Level::HBM).write_elements == 40);
    CHECK(standard.paper_elements(p, r.tiling) == 224);
    kernels::RunOptions o;
    o.numerics = false;
    const auto cf = standard.closed_form(p, r.tiling, hw, o);
    CHECK(cf.hbm_read_elements() == 184);
    CHECK(cf.hbm_write_elements() == 40);
    // On every preset and a few N_q, the closed form is the simulation (exact, per tensor).
    for (const auto& m : kMachines) {
        const auto gpu = *sim::find_preset(m.preset);
        for (std::int64_t N_q : {1, 2, 4}) {
            for (std::int64_t N_kv : {1, 65, 4097}) {
                kernels::Problem q = kernels::Problem::square(N_kv, 4, m.dtype);
                q.N_q = N_q;
                const auto s = count_only(standard, q, gpu);
                INFO(m.preset << " N_q = " << N_q << " N_kv = " << N_kv);
                REQUIRE(s.fit.ok);
                const auto f = standard.closed_form(q, s.tiling, gpu, o);
                for (std::size_t t = 0; t < sim::kTensorCount; ++t) {
                    CHECK(s.counters.by_tensor[0][t].read_elements == f.hbm_read_by_tensor[t]);
                    CHECK(s.counters.by_tensor[0][t].write_elements == f.hbm_write_by_tensor[t]);
                }
                CHECK(s.counters.at(Level::L2).read_elements == f.l2_read_elements);
            }
        }
    }
}
