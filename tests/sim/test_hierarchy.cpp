// sim/hierarchy.h: every transfer counted per level and per tensor, SRAM allocation and fit status,
// phases and the trace. Expected numbers are worked out in the comments from the tile shapes.
#include <catch2/catch.hpp>
#include <stdexcept>

#include "sim/hierarchy.h"

using namespace tilesim::sim;

namespace {
// A small machine with round numbers: 256 B of SRAM and a 1 MiB L2.
HardwareSpec small_machine() {
    HardwareSpec hw;
    hw.name = "test";
    hw.hbm_bytes_per_s = 1e9;
    hw.sram_bytes = 256;
    hw.sram_bytes_per_s = 1e10;
    hw.sm_count = 2;
    hw.l2_bytes = 1 << 20;
    hw.l2_bytes_per_s = 2e9;
    hw.matmul_flops_per_s = 1e12;
    hw.vector_flops_per_s = 1e11;
    return hw;
}
}  // namespace

TEST_CASE("a load counts an HBM read and an SRAM write, per level and per tensor, in elements and bytes",
          "[sim][hierarchy]") {
    Hierarchy h(small_machine(), Dtype::fp16, false);
    FitStatus st;
    REQUIRE(h.allocate(Tensor::Q, 4, 8, "Q_i", &st).has_value());
    REQUIRE(st.ok);
    // A 3 x 8 tile of fp16: 24 elements, 48 bytes.
    h.load(Tensor::Q, {0, 0, 3, 8}, 0, -1, "load");
    const Counters& c = h.counters();
    CHECK(c.at(Level::HBM).read_elements == 24);
    CHECK(c.at(Level::HBM).read_bytes == 48);
    CHECK(c.at(Level::HBM).write_elements == 0);
    CHECK(c.at(Level::SRAM).write_elements == 24);
    CHECK(c.at(Level::SRAM).write_bytes == 48);
    CHECK(c.at(Level::SRAM).read_elements == 0);
    CHECK(c.at(Level::HBM, Tensor::Q).read_elements == 24);
    CHECK(c.at(Level::HBM, Tensor::K).read_elements == 0);
    CHECK(c.at(Level::L2).total_bytes() == 0);
    CHECK(c.transfers == 1);

    // A store of the same tile: an SRAM read and an HBM write.
    h.store(Tensor::Q, {0, 0, 3, 8}, 0, -1, "store");
    CHECK(c.at(Level::HBM).write_elements == 24);
    CHECK(c.at(Level::HBM).write_bytes == 48);
    CHECK(c.at(Level::SRAM).read_bytes == 48);
    CHECK(c.transfers == 2);
}

TEST_CASE("element sizes: fp32 doubles the bytes of fp16, statistics are 4 bytes whatever the dtype",
          "[sim][hierarchy]") {
    for (Dtype dt : {Dtype::fp16, Dtype::bf16, Dtype::fp32, Dtype::fp64}) {
        Hierarchy h(small_machine(), dt, false);
        FitStatus st;
        REQUIRE(h.allocate(Tensor::O, 2, 4, "O_i", &st));
        REQUIRE(h.allocate(Tensor::l, 8, 1, "l_i", &st));
        REQUIRE(h.allocate(Tensor::m, 8, 1, "m_i", &st));
        REQUIRE(h.allocate(Tensor::L, 8, 1, "L_i", &st));
        h.load(Tensor::O, {0, 0, 2, 4}, -1, -1, "");   // 8 elements of the dtype
        h.load(Tensor::l, {0, 0, 8, 1}, -1, -1, "");   // 8 fp32 elements = 32 B
        h.store(Tensor::m, {0, 0, 5, 1}, -1, -1, "");  // 5 fp32 elements = 20 B
        h.store(Tensor::L, {0, 0, 3, 1}, -1, -1, "");  // 3 fp32 elements = 12 B
        const auto e = static_cast<std::int64_t>(dtype_bytes(dt));
        const Counters& c = h.counters();
        CHECK(c.at(Level::HBM, Tensor::O).read_bytes == 8 * e);
        CHECK(c.at(Level::HBM, Tensor::l).read_bytes == 32);
        CHECK(c.at(Level::HBM, Tensor::m).write_bytes == 20);
        CHECK(c.at(Level::HBM, Tensor::L).write_bytes == 12);
        CHECK(c.at(Level::HBM).read_bytes == 8 * e + 32);
        CHECK(c.at(Level::HBM).read_elements == 16);
        CHECK(c.at(Level::HBM).write_bytes == 32);
        CHECK(c.at(Level::HBM).write_elements == 8);
        CHECK(h.bytes_of(Tensor::l, 10) == 40);
        CHECK(h.bytes_of(Tensor::S, 10) == 10 * e);
    }
}

TEST_CASE("SRAM allocation tracks occupancy and peak, release frees, double release is a logic error",
          "[sim][hierarchy]") {
    Hierarchy h(small_machine(), Dtype::fp32, false);  // 256 B = 64 fp32 elements
    FitStatus st;
    auto a = h.allocate(Tensor::K, 4, 4, "K_j", &st);  // 64 B
    auto b = h.allocate(Tensor::V, 4, 8, "V_j", &st);  // 128 B
    REQUIRE(a);
    REQUIRE(b);
    CHECK(h.sram_used_bytes() == 192);
    CHECK(h.counters().sram_peak_bytes == 192);
    h.release(*a);
    CHECK(h.sram_used_bytes() == 128);
    CHECK(h.counters().sram_peak_bytes == 192);         // the peak remembers
    auto c = h.allocate(Tensor::l, 16, 1, "l_i", &st);  // 64 B (fp32 statistics)
    REQUIRE(c);
    CHECK(h.sram_used_bytes() == 192);
    auto d = h.allocate(Tensor::S, 4, 4, "S_ij", &st);  // 64 B: exactly full
    REQUIRE(d);
    CHECK(h.sram_used_bytes() == 256);
    CHECK(h.counters().sram_peak_bytes == 256);
    h.release(*b);
    h.release(*c);
    h.release(*d);
    CHECK(h.sram_used_bytes() == 0);
    CHECK(h.counters().sram_peak_bytes == 256);
    CHECK_THROWS_AS(h.release(*d), std::logic_error);
}

TEST_CASE("an allocation that overflows SRAM fails with a status naming the sizes, and changes nothing",
          "[sim][hierarchy]") {
    Hierarchy h(small_machine(), Dtype::fp16, false);  // 256 B
    FitStatus st;
    REQUIRE(h.allocate(Tensor::Q, 8, 8, "Q_i (B_r x d)", &st));  // 128 B
    // 10 x 8 fp16 = 160 B on top of 128 B: 288 B > 256 B.
    auto bad = h.allocate(Tensor::K, 10, 8, "K_j (B_c x d)", &st);
    CHECK_FALSE(bad.has_value());
    CHECK_FALSE(st.ok);
    CHECK(st.needed_bytes == 288);
    CHECK(st.capacity_bytes == 256);
    CHECK_THAT(st.reason, Catch::Contains("K_j (B_c x d)") && Catch::Contains("10 x 8") &&
                              Catch::Contains("160 B") && Catch::Contains("128 B") &&
                              Catch::Contains("288 B") && Catch::Contains("256 B"));
    CHECK_THAT(st.fix, Catch::Contains("block") && Catch::Contains("SRAM"));
    CHECK(h.sram_used_bytes() == 128);
    CHECK(h.counters().sram_peak_bytes == 128);
    // A null status pointer is allowed: still a clean failure.
    CHECK_FALSE(h.allocate(Tensor::K, 10, 8, "K_j", nullptr).has_value());
    // What fits exactly still fits.
    CHECK(h.allocate(Tensor::K, 8, 8, "K_j", &st).has_value());
}

TEST_CASE("a tile moved into SRAM larger than every live buffer of its tensor is a kernel bug (logic_error)",
          "[sim][hierarchy]") {
    Hierarchy h(small_machine(), Dtype::fp16, false);
    FitStatus st;
    // No buffer for K at all.
    CHECK_THROWS_AS(h.load(Tensor::K, {0, 0, 1, 1}, -1, -1, ""), std::logic_error);
    auto q = h.allocate(Tensor::Q, 4, 4, "Q_i", &st);
    REQUIRE(q);
    CHECK_NOTHROW(h.load(Tensor::Q, {0, 0, 4, 4}, -1, -1, ""));  // 16 elements: fits the 16-element buffer
    CHECK_NOTHROW(h.load(Tensor::Q, {0, 0, 2, 8}, -1, -1, ""));  // 16 elements, another shape
    CHECK_THROWS_AS(h.load(Tensor::Q, {0, 0, 3, 6}, -1, -1, ""), std::logic_error);  // 18 > 16
    // A buffer of another tensor does not help.
    REQUIRE(h.allocate(Tensor::K, 8, 8, "K_j", &st));
    CHECK_THROWS_AS(h.load(Tensor::Q, {0, 0, 5, 4}, -1, -1, ""), std::logic_error);
    // L2 -> SRAM is checked the same way.
    CHECK_THROWS_AS(h.transfer(Tensor::Q, {0, 0, 5, 4}, Level::L2, Level::SRAM, -1, -1, ""),
                    std::logic_error);
    // After release, no Q buffer is live: even one element throws. The failed moves counted nothing.
    h.release(*q);
    CHECK_THROWS_AS(h.load(Tensor::Q, {0, 0, 1, 1}, -1, -1, ""), std::logic_error);
    CHECK(h.counters().at(Level::HBM, Tensor::Q).read_elements == 32);
    CHECK(h.counters().transfers == 2);
    // Stores out of SRAM need no buffer check (line 2 of Algorithm 1 writes zeros straight to HBM).
    CHECK_NOTHROW(h.store(Tensor::O, {0, 0, 100, 100}, -1, -1, ""));
}

TEST_CASE("unsupported level pairs are rejected", "[sim][hierarchy]") {
    Hierarchy h(small_machine(), Dtype::fp16, false);
    CHECK_THROWS_AS(h.transfer(Tensor::Q, {0, 0, 1, 1}, Level::HBM, Level::HBM, -1, -1, ""),
                    std::logic_error);
    CHECK_THROWS_AS(h.transfer(Tensor::Q, {0, 0, 1, 1}, Level::L2, Level::HBM, -1, -1, ""), std::logic_error);
    CHECK_THROWS_AS(h.transfer(Tensor::Q, {0, 0, 1, 1}, Level::SRAM, Level::SRAM, -1, -1, ""),
                    std::logic_error);
    CHECK(h.counters().transfers == 0);
}

TEST_CASE("L2 transfers are counted at the L2, not at HBM", "[sim][hierarchy]") {
    Hierarchy h(small_machine(), Dtype::fp16, false);
    FitStatus st;
    REQUIRE(h.allocate(Tensor::K, 4, 8, "K_j", &st));
    // HBM -> L2 (8 x 8 = 64 elements, 128 B): an HBM read and an L2 write.
    h.transfer(Tensor::K, {0, 0, 8, 8}, Level::HBM, Level::L2, -1, -1, "fill L2");
    // L2 -> SRAM twice (4 x 8 = 32 elements each): L2 reads, SRAM writes, no HBM.
    h.transfer(Tensor::K, {0, 0, 4, 8}, Level::L2, Level::SRAM, -1, 0, "re-load");
    h.transfer(Tensor::K, {4, 0, 4, 8}, Level::L2, Level::SRAM, -1, 1, "re-load");
    const Counters& c = h.counters();
    CHECK(c.at(Level::HBM).read_elements == 64);
    CHECK(c.at(Level::HBM).read_bytes == 128);
    CHECK(c.at(Level::L2).write_elements == 64);
    CHECK(c.at(Level::L2).read_elements == 64);
    CHECK(c.at(Level::L2).read_bytes == 128);
    CHECK(c.at(Level::L2, Tensor::K).read_elements == 64);
    CHECK(c.at(Level::SRAM).write_elements == 64);
    CHECK(c.at(Level::HBM).write_elements == 0);
    CHECK(c.transfers == 3);
}

TEST_CASE("compute counts flops and SRAM traffic but moves nothing between levels", "[sim][hierarchy]") {
    Hierarchy h(small_machine(), Dtype::fp32, false);
    h.compute(Tensor::S, {0, 0, 4, 4}, 128, 16, 32, 16, 0, 0, "S = QK^T");
    h.compute(Tensor::P, {0, 0, 4, 4}, 0, 64, 16, 16, 0, 0, "softmax");
    const Counters& c = h.counters();
    CHECK(c.matmul_flops == 128);
    CHECK(c.other_flops == 80);
    CHECK(c.flops() == 208);
    CHECK(c.at(Level::SRAM).read_elements == 48);
    CHECK(c.at(Level::SRAM).read_bytes == 192);  // fp32
    CHECK(c.at(Level::SRAM).write_elements == 32);
    CHECK(c.at(Level::SRAM).write_bytes == 128);
    CHECK(c.at(Level::HBM).total_elements() == 0);
    CHECK(c.transfers == 0);
}

TEST_CASE("phases: each pass has its own counters and peak, their sum is the total", "[sim][hierarchy]") {
    Hierarchy h(small_machine(), Dtype::fp16, false);
    FitStatus st;
    h.begin_phase("one", 3);
    auto q = h.allocate(Tensor::Q, 4, 8, "Q_i", &st);  // 64 B
    h.load(Tensor::Q, {0, 0, 4, 8}, 0, -1, "");        // 32 elements
    h.compute(Tensor::S, {0, 0, 4, 4}, 100, 10, 0, 0, 0, 0, "");
    h.release(*q);
    h.begin_phase("two", 0);                              // parallel units are at least 1
    auto s = h.allocate(Tensor::S, 8, 8, "S rows", &st);  // 128 B
    h.load(Tensor::S, {0, 0, 8, 8}, -1, -1, "");          // 64 elements
    h.store(Tensor::P, {0, 0, 8, 8}, -1, -1, "");         // 64 elements
    h.release(*s);
    const auto& ph = h.phases();
    REQUIRE(ph.size() == 2);
    CHECK(ph[0].name == "one");
    CHECK(ph[0].parallel_units == 3);
    CHECK(ph[1].parallel_units == 1);
    CHECK(ph[0].counters.at(Level::HBM).read_elements == 32);
    CHECK(ph[0].counters.matmul_flops == 100);
    CHECK(ph[0].counters.sram_peak_bytes == 64);
    CHECK(ph[1].counters.at(Level::HBM).read_elements == 64);
    CHECK(ph[1].counters.at(Level::HBM).write_elements == 64);
    CHECK(ph[1].counters.matmul_flops == 0);
    CHECK(ph[1].counters.sram_peak_bytes == 128);
    Counters sum;
    for (const auto& p : ph) sum += p.counters;
    CHECK(sum.level == h.counters().level);
    CHECK(sum.by_tensor == h.counters().by_tensor);
    CHECK(sum.flops() == h.counters().flops());
    CHECK(sum.transfers == h.counters().transfers);
    CHECK(sum.sram_peak_bytes == h.counters().sram_peak_bytes);
}

TEST_CASE("moves before any begin_phase land in an implicit 'main' phase", "[sim][hierarchy]") {
    Hierarchy h(small_machine(), Dtype::fp16, false);
    h.store(Tensor::O, {0, 0, 2, 2}, -1, -1, "");
    h.store(Tensor::O, {2, 0, 2, 2}, -1, -1, "");
    REQUIRE(h.phases().size() == 1);
    CHECK(h.phases()[0].name == "main");
    CHECK(h.phases()[0].counters.at(Level::HBM).write_elements == 8);
}

TEST_CASE("trace: one event per move, compute, phase and buffer, in program order, self-describing",
          "[sim][hierarchy][trace]") {
    Hierarchy h(small_machine(), Dtype::fp16, true);
    FitStatus st;
    h.declare({Tensor::Q, 12, 8, 4, 8, true, true});
    h.begin_phase("p0", 1);
    auto q = h.allocate(Tensor::Q, 4, 8, "Q_i", &st);  // 64 B
    auto s = h.allocate(Tensor::S, 4, 4, "S_ij/P_ij", &st, Tensor::P);  // 32 B, P in place of S
    h.load(Tensor::Q, {4, 0, 4, 8}, 1, -1, "label-load");
    h.compute(Tensor::S, {4, 0, 4, 4}, 256, 16, 48, 16, 1, 0, "label-compute", flags::kRecompute);
    h.compute(Tensor::P, {4, 0, 4, 4}, 0, 16, 16, 16, 1, 0, "label-exp");
    h.store(Tensor::S, {4, 0, 4, 4}, 1, 0, "label-store");
    h.release(*s);
    h.release(*q);
    h.begin_phase("p1", 2);
    REQUIRE(h.trace() != nullptr);
    const Trace& tr = *h.trace();
    const auto& ev = tr.events();
    REQUIRE(ev.size() == 10);
    for (std::size_t k = 0; k < ev.size(); ++k) CHECK(ev[k].step == static_cast<std::int64_t>(k));
    // The side tables: declared tensors, buffers (with names, sizes, alias) and phases.
    REQUIRE(tr.tensors().size() == 1);
    CHECK(tr.tensor(Tensor::Q)->rows == 12);
    CHECK(tr.tensor(Tensor::Q)->block_rows == 4);
    CHECK(tr.tensor(Tensor::K) == nullptr);
    REQUIRE(tr.buffers().size() == 2);
    CHECK(tr.buffers()[0].what == "Q_i");
    CHECK(tr.buffers()[0].bytes == 64);
    CHECK(tr.buffers()[1].alias == Tensor::P);
    REQUIRE(tr.phases().size() == 2);
    CHECK(tr.phases()[1].name == "p1");
    CHECK(tr.phases()[1].parallel_units == 2);

    CHECK(ev[0].op == Op::Phase);
    CHECK(ev[0].phase == 0);
    CHECK(ev[1].op == Op::Allocate);
    CHECK(ev[1].buffer == 0);
    CHECK(ev[1].bytes == 64);
    CHECK(ev[1].sram_used_bytes == 64);
    CHECK(ev[2].op == Op::Allocate);
    CHECK(ev[2].buffer == 1);
    CHECK(ev[3].op == Op::Load);
    CHECK(ev[3].tensor == Tensor::Q);
    CHECK(ev[3].buffer == 0);  // the Q buffer
    CHECK(ev[3].tile == Rect{4, 0, 4, 8});
    CHECK(ev[3].from == Level::HBM);
    CHECK(ev[3].to == Level::SRAM);
    CHECK(ev[3].bytes == 64);
    CHECK(ev[3].sram_used_bytes == 96);
    CHECK(ev[3].i == 1);
    CHECK(ev[3].j == -1);
    CHECK(ev[3].phase == 0);
    CHECK(std::string(ev[3].label) == "label-load");
    CHECK(ev[4].op == Op::Compute);
    CHECK(ev[4].flops == 272);
    CHECK(ev[4].bytes == 0);
    CHECK(ev[4].j == 0);
    CHECK(ev[4].buffer == 1);
    CHECK(ev[4].has(flags::kRecompute));
    CHECK(ev[5].buffer == 1);  // P lands in S's buffer (its alias)
    CHECK_FALSE(ev[5].has(flags::kRecompute));
    CHECK(ev[6].op == Op::Store);
    CHECK(ev[6].from == Level::SRAM);
    CHECK(ev[6].to == Level::HBM);
    CHECK(ev[6].bytes == 32);
    CHECK(ev[7].op == Op::Release);
    CHECK(ev[7].buffer == 1);
    CHECK(ev[7].sram_used_bytes == 64);
    CHECK(ev[8].op == Op::Release);
    CHECK(ev[8].buffer == 0);
    CHECK(ev[9].op == Op::Phase);
    CHECK(ev[9].phase == 1);
    CHECK(ev[9].sram_used_bytes == 0);
    CHECK_FALSE(tr.truncated());
    CHECK(op_name(Op::Load) == "load");
    CHECK(op_name(Op::Phase) == "phase");
    CHECK(op_name(Op::Allocate) == "allocate");

    // take_trace hands ownership over.
    auto t = h.take_trace();
    REQUIRE(t);
    CHECK(t->events().size() == 10);
    CHECK(h.trace() == nullptr);
}

TEST_CASE("trace: append renumbers the later run's steps, phases and buffers", "[sim][hierarchy][trace]") {
    auto one_run = [](const char* phase) {
        Hierarchy h(small_machine(), Dtype::fp16, true);
        FitStatus st;
        h.declare({Tensor::Q, 4, 8, 4, 8, true, true});
        h.begin_phase(phase, 1);
        const auto b = h.allocate(Tensor::Q, 4, 8, "Q_i", &st);
        h.load(Tensor::Q, {0, 0, 4, 8}, 0, -1, "load");
        h.release(*b);
        return h.take_trace();
    };
    auto first = one_run("forward");
    auto second = one_run("backward");
    first->append(*second);
    const auto& ev = first->events();
    REQUIRE(ev.size() == 8);
    for (std::size_t k = 0; k < ev.size(); ++k) CHECK(ev[k].step == static_cast<std::int64_t>(k));
    REQUIRE(first->phases().size() == 2);
    CHECK(first->phases()[1].name == "backward");
    CHECK(ev[4].op == Op::Phase);
    CHECK(ev[4].phase == 1);
    CHECK(ev[6].phase == 1);
    CHECK(ev[6].buffer == 1);  // the second run's buffer 0 is now buffer 1
    CHECK(first->buffers().size() == 2);
    // Each run's declarations are kept, the later one's from its first pass on.
    REQUIRE(first->tensors().size() == 2);
    CHECK(first->tensors()[1].first_phase == 1);
    CHECK(first->tensor(Tensor::Q, 0) == &first->tensors()[0]);
    CHECK(first->tensor(Tensor::Q, 1) == &first->tensors()[1]);
    CHECK(first->tensor(Tensor::Q) == &first->tensors()[0]);
}

TEST_CASE("no trace unless asked, a capped trace keeps the first events and says truncated()",
          "[sim][hierarchy][trace]") {
    {
        Hierarchy h(small_machine(), Dtype::fp16, false);
        h.store(Tensor::O, {0, 0, 1, 1}, -1, -1, "");
        CHECK(h.trace() == nullptr);
    }
    Hierarchy h(small_machine(), Dtype::fp16, true, 3);
    h.begin_phase("only", 1);                                                 // event 0
    for (int k = 0; k < 5; ++k) h.store(Tensor::O, {k, 0, 1, 1}, k, -1, "");  // events 1..5
    REQUIRE(h.trace() != nullptr);
    CHECK(h.trace()->max_events() == 3);
    REQUIRE(h.trace()->events().size() == 3);
    CHECK(h.trace()->truncated());
    CHECK(h.trace()->events()[0].op == Op::Phase);
    for (int k = 0; k < 2; ++k) CHECK(h.trace()->events()[static_cast<std::size_t>(k) + 1].tile.row0 == k);
    // Counting is not capped.
    CHECK(h.counters().transfers == 5);
    CHECK(h.counters().at(Level::HBM).write_elements == 5);

    Trace exact(2);
    Event e;
    exact.add(e);
    exact.add(e);
    CHECK_FALSE(exact.truncated());  // exactly at the cap is not truncated
    exact.add(e);
    CHECK(exact.truncated());
}
