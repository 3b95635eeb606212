// Simulated counts == closed forms, exactly, over a grid of N, d, block sizes and machines.
// Two derivations are checked: kernels::closed_form (the library's) and expected_counts (the tests' own
// transcription of the paper's formulas, tests/kernels/expected_counts.h). Count-only mode keeps the
// grid fast; count-only and numerics give identical counters (test_counts_hand.cpp).
#include <catch2/catch.hpp>
#include <sstream>

#include "kernels/registry.h"
#include "kernels/tiling.h"
#include "tests/kernels/expected_counts.h"

using namespace tilesim;
using kernels::AlgorithmDef;
using kernels::Pass;
using sim::Level;
using sim::Tensor;

namespace {

const std::int64_t kNs[] = {1, 2, 3, 7, 16, 17, 18, 63, 64, 65, 100, 127, 128, 129, 1000, 1024, 1031};
const std::int64_t kDs[] = {1, 4, 16, 64, 128};
// Block requests (B_r, B_c); 0 = the paper's rule. B_r != B_c both ways, blocks not dividing N,
// blocks larger than N (clamped), one side explicit and the other by the rule.
const std::pair<std::int64_t, std::int64_t> kBlocks[] = {
    {0, 0}, {3, 5}, {16, 16}, {8, 32}, {32, 8}, {64, 64}, {128, 64}, {0, 16}, {16, 0}, {4096, 4096}};

struct Machine {
    const char* preset;
    sim::Dtype dtype;
};
// The toy machine in fp32 (it has no L2 and tiny SRAM: re-reads and two-pass softmax show up), the
// GPUs in fp16 and one in fp32 (statistics stay 4 bytes in every case), and fp8 on a GPU and on the toy
// machine (1-byte inputs, bf16 outputs: blocks from the same M differ).
const Machine kMachines[] = {{"classroom", sim::Dtype::fp32},   {"T4", sim::Dtype::fp16},
                             {"A100-40GB", sim::Dtype::fp16},   {"H100-SXM", sim::Dtype::fp32},
                             {"H100-SXM", sim::Dtype::fp8e4m3}, {"classroom", sim::Dtype::fp8e5m2}};

std::int64_t bytes_from_elements(const std::array<std::int64_t, sim::kTensorCount>& el, sim::Dtype dt) {
    std::int64_t b = 0;
    for (std::size_t t = 0; t < sim::kTensorCount; ++t) {
        b += el[t] * static_cast<std::int64_t>(sim::element_bytes(static_cast<Tensor>(t), dt));
    }
    return b;
}

struct GridStats {
    int ran = 0;
    int did_not_fit = 0;
};

// Checks one configuration. Returns false when it did not fit (after checking that it really cannot).
bool check_one(const AlgorithmDef& alg, const sim::HardwareSpec& hw, sim::Dtype dt, std::int64_t N, std::int64_t d,
               std::int64_t req_r, std::int64_t req_c) {
    const kernels::Problem p = kernels::Problem::square(N, d, dt);
    kernels::RunOptions opt;
    opt.numerics = false;
    const kernels::RunResult r = kernels::run(alg, p, {req_r, req_c}, hw, nullptr, opt);
    std::ostringstream where;
    where << alg.key << " " << kernels::pass_name(alg.pass) << " on " << hw.name << " " << sim::dtype_name(dt) << ", N = " << N
          << ", d = " << d << ", requested B_r = " << req_r << ", B_c = " << req_c
          << " -> B_r = " << r.tiling.B_r << ", B_c = " << r.tiling.B_c;
    INFO(where.str());
    const bool explicit_r = req_r > 0, explicit_c = req_c > 0;
    if (!r.fit.ok) {
        // A misfit must be genuine: the requested (clamped) explicit blocks overflow, or, for blocks
        // the rule chooses, not even a single row/column block fits.
        const std::int64_t br = explicit_r ? std::min(req_r, N) : 1;
        const std::int64_t bc = explicit_c ? std::min(req_c, N) : 1;
        CHECK(kernels::working_set_bytes(alg, p, br, bc, hw) > hw.sram_bytes);
        CHECK(r.fit.needed_bytes > r.fit.capacity_bytes);
        CHECK(r.fit.capacity_bytes == hw.sram_bytes);
        CHECK_FALSE(r.fit.reason.empty());
        CHECK_FALSE(r.fit.fix.empty());
        CHECK(r.counters.transfers == 0);  // nothing ran
        return false;
    }
    // Explicit sizes are honoured (clamped to N); the rule's never exceed N; T = ceil(N / B).
    if (explicit_r) CHECK(r.tiling.B_r == std::min(req_r, N));
    if (explicit_c) CHECK(r.tiling.B_c == std::min(req_c, N));
    REQUIRE(r.tiling.B_r >= 1);
    REQUIRE(r.tiling.B_c >= 1);
    CHECK(r.tiling.B_r <= N);
    CHECK(r.tiling.B_c <= N);
    CHECK(r.tiling.T_r == test::cdiv(N, r.tiling.B_r));
    CHECK(r.tiling.T_c == test::cdiv(N, r.tiling.B_c));
    CHECK(kernels::working_set_bytes(alg, p, r.tiling.B_r, r.tiling.B_c, hw) <= hw.sram_bytes);

    const auto& c = r.counters;
    test::Expected x = test::expected_counts(alg.key, alg.pass, {N, d, r.tiling.B_r, r.tiling.B_c, dt}, hw);
    const kernels::ClosedForm cf = alg.closed_form(p, r.tiling, hw, opt);
    for (std::size_t t = 0; t < sim::kTensorCount; ++t) {
        const auto tensor = static_cast<Tensor>(t);
        INFO("tensor " << sim::tensor_name(tensor));
        CHECK(c.at(Level::HBM, tensor).read_elements == x.read[t]);
        CHECK(c.at(Level::HBM, tensor).write_elements == x.write[t]);
        CHECK(cf.hbm_read(tensor) == x.read[t]);
        CHECK(cf.hbm_write(tensor) == x.write[t]);
        CHECK(c.at(Level::HBM, tensor).read_bytes ==
              x.read[t] * static_cast<std::int64_t>(sim::element_bytes(tensor, dt)));
    }
    CHECK(c.at(Level::HBM).read_elements == x.read_total);
    CHECK(c.at(Level::HBM).write_elements == x.write_total);
    CHECK(cf.hbm_read_elements() == x.read_total);
    CHECK(cf.hbm_write_elements() == x.write_total);
    CHECK(c.at(Level::HBM).read_bytes == bytes_from_elements(x.read, dt));
    CHECK(c.at(Level::HBM).write_bytes == bytes_from_elements(x.write, dt));
    CHECK(c.at(Level::L2).read_elements == x.l2_read);
    CHECK(cf.l2_read_elements == x.l2_read);
    CHECK(c.at(Level::L2).write_elements == 0);  // kernels never fill the L2 explicitly
    CHECK(c.matmul_flops == x.matmul_flops);
    CHECK(cf.matmul_flops == x.matmul_flops);
    CHECK(c.other_flops == x.other_flops);
    CHECK(cf.other_flops == x.other_flops);
    CHECK(c.exp_flops == x.exp_flops);
    CHECK(cf.exp_flops == x.exp_flops);
    CHECK(c.sram_peak_bytes == x.sram_peak_bytes);
    CHECK(cf.sram_peak_bytes == x.sram_peak_bytes);
    CHECK(c.sram_peak_bytes <= hw.sram_bytes);

    // The paper's totals, in the facts file's own shape.
    const std::int64_t Nd = N * d, N2 = N * N;
    const std::int64_t paper = alg.paper_elements(p, r.tiling);
    const std::string_view key = alg.key;
    const auto e = static_cast<std::int64_t>(sim::dtype_bytes(dt));
    const bool l2_holds = hw.l2_bytes >= Nd * e;
    if (alg.pass == Pass::forward) {
        if (key == "flash") {
            CHECK(c.at(Level::HBM).read_elements == test::fa1_paper_reads(N, d, r.tiling.T_c));
            CHECK(c.at(Level::HBM).write_elements == test::fa1_paper_writes_with_init(N, d, r.tiling.T_c));
            // The headline formula omits the initialisation (Nd + 2N).
            CHECK(paper == c.at(Level::HBM).total_elements() - (Nd + 2 * N));
        } else if (key == "flash2") {
            CHECK(c.at(Level::HBM).read_elements == test::fa2_paper_reads(N, d, r.tiling.T_r));
            CHECK(c.at(Level::HBM).write_elements == test::fa2_paper_writes(N, d));
            CHECK(paper == c.at(Level::HBM).total_elements());
        } else if (key == "standard" && l2_holds && N * e <= hw.sram_bytes) {
            // Exactly the paper's Algorithm 0: reads 3Nd + 2N^2, writes Nd + 2N^2.
            CHECK(c.at(Level::HBM).read_elements == 3 * Nd + 2 * N2);
            CHECK(c.at(Level::HBM).write_elements == Nd + 2 * N2);
            CHECK(paper == c.at(Level::HBM).total_elements());
        }
    } else {
        if (key == "flash") {
            // Algorithm 4 plus line 5's dQ = 0 (Nd writes).
            CHECK(c.at(Level::HBM).read_elements == test::alg4_paper_reads(N, d, r.tiling.T_c));
            CHECK(c.at(Level::HBM).write_elements == test::alg4_paper_writes(N, d, r.tiling.T_c) + Nd);
            CHECK(paper == c.at(Level::HBM).total_elements() - Nd);
        } else if (key == "standard" && l2_holds && 2 * N * e <= hw.sram_bytes) {
            CHECK(c.at(Level::HBM).read_elements == test::alg3_paper_reads(N, d));
            CHECK(c.at(Level::HBM).write_elements == test::alg3_paper_writes(N, d));
            CHECK(paper == c.at(Level::HBM).total_elements());
        } else if (key == "flash2") {
            CHECK(paper == c.at(Level::HBM).total_elements());
        }
    }
    return true;
}

GridStats run_grid(const AlgorithmDef& alg, const Machine& m) {
    const auto hw = sim::find_preset(m.preset);
    REQUIRE(hw);
    GridStats s;
    for (std::int64_t N : kNs) {
        for (std::int64_t d : kDs) {
            for (auto [br, bc] : kBlocks) {
                if (check_one(alg, *hw, m.dtype, N, d, br, bc)) {
                    ++s.ran;
                } else {
                    ++s.did_not_fit;
                }
            }
        }
    }
    return s;
}

void grid_for(std::string_view key, Pass pass) {
    const AlgorithmDef* alg = kernels::find_definition(key, pass);
    REQUIRE(alg != nullptr);
    for (const auto& m : kMachines) {
        const GridStats s = run_grid(*alg, m);
        INFO(m.preset << ": " << s.ran << " configurations ran, " << s.did_not_fit << " did not fit");
        // The grid must actually run: a grid that silently does not fit checks nothing. On the GPUs
        // most of it fits; the 384-byte toy machine cannot hold one row of Q and K in fp32 once
        // d >= 64 (2 x 64 x 4 B = 512 B), so only d <= 16 runs there (every misfit is checked above).
        const int total = s.ran + s.did_not_fit;
        CHECK(total == static_cast<int>(std::size(kNs) * std::size(kDs) * std::size(kBlocks)));
        // The backward holds about twice the forward's buffers, so fewer explicit blocks fit.
        if (std::string(m.preset) == "classroom") {
            // Forward: d = 1 and 4 fit nearly everywhere. Backward: about twice the buffers, so only
            // d <= 4 with small blocks fits in 384 B (a tenth of the grid).
            CHECK(s.ran * (pass == Pass::forward ? 5 : 10) >= total);
        } else {
            CHECK(s.ran * (pass == Pass::forward ? 2 : 3) > total);
        }
    }
}

}  // namespace

TEST_CASE("grid: standard attention counts equal both closed forms exactly", "[kernels][counts][grid]") {
    grid_for("standard", Pass::forward);
}

TEST_CASE("grid: FlashAttention (Algorithm 1) counts equal both closed forms exactly",
          "[kernels][counts][grid]") {
    grid_for("flash", Pass::forward);
}

TEST_CASE("grid: FlashAttention-2 counts equal both closed forms exactly", "[kernels][counts][grid]") {
    grid_for("flash2", Pass::forward);
}

TEST_CASE("grid: standard attention backward (Algorithm 3) counts equal both closed forms exactly",
          "[kernels][counts][grid][backward]") {
    grid_for("standard", Pass::backward);
}

TEST_CASE("grid: FlashAttention backward (Algorithm 4) counts equal both closed forms exactly",
          "[kernels][counts][grid][backward]") {
    grid_for("flash", Pass::backward);
}

TEST_CASE("grid: FlashAttention-2 backward counts equal both closed forms exactly",
          "[kernels][counts][grid][backward]") {
    grid_for("flash2", Pass::backward);
}

TEST_CASE("grid: FlashAttention decode counts equal both closed forms exactly (square problems)",
          "[kernels][counts][grid][decode]") {
    grid_for("decode", Pass::forward);
}

TEST_CASE("grid: Flash-Decoding counts equal both closed forms exactly (square problems)",
          "[kernels][counts][grid][decode]") {
    grid_for("flash-decoding", Pass::forward);
}

TEST_CASE("grid: every definition in the table is covered by the grid above", "[kernels][counts][grid]") {
    // A definition added to the table without a grid (and the tests' own closed form) fails here. The
    // decode definitions also have their own grid over N_q, splits, pages and groups
    // (test_counts_decode.cpp).
    for (const auto* def : kernels::definitions()) {
        INFO(def->key << " " << kernels::pass_name(def->pass));
        const bool known = def->key == "standard" || def->key == "flash" || def->key == "flash2" ||
                           def->key == "decode" || def->key == "flash-decoding";
        CHECK(known);
    }
}

TEST_CASE("grid: standard attention with eager passes adds k N^2 reads and writes of S (and of dS backward)",
          "[kernels][counts][grid]") {
    // Also through both derivations; k = 1..3 on a few machines and ragged sizes.
    for (Pass pass : {Pass::forward, Pass::backward}) {
        const AlgorithmDef& def = *kernels::find_definition("standard", pass);
        const Tensor eager = pass == Pass::forward ? Tensor::S : Tensor::dS;
        for (const auto& m : kMachines) {
            const auto hw = sim::find_preset(m.preset);
            REQUIRE(hw);
            for (std::int64_t N : {1, 17, 100, 129}) {
                for (std::int64_t k = 0; k <= 3; ++k) {
                    const kernels::Problem p = kernels::Problem::square(N, 4, m.dtype);
                    kernels::RunOptions opt;
                    opt.numerics = false;
                    opt.extra_passes = k;
                    const auto r = kernels::run(def, p, {}, *hw, nullptr, opt);
                    INFO(kernels::pass_name(pass) << " " << m.preset << " N = " << N << " k = " << k);
                    REQUIRE(r.fit.ok);
                    const auto x = test::expected_counts("standard", pass,
                                                         {N, 4, r.tiling.B_r, r.tiling.B_c, m.dtype, k}, *hw);
                    const auto cf = def.closed_form(p, r.tiling, *hw, opt);
                    CHECK(r.counters.at(Level::HBM, eager).read_elements ==
                          x.read[static_cast<std::size_t>(eager)]);
                    CHECK(r.counters.at(Level::HBM, eager).write_elements ==
                          x.write[static_cast<std::size_t>(eager)]);
                    CHECK(r.counters.at(Level::HBM).read_elements == x.read_total);
                    CHECK(r.counters.at(Level::HBM).write_elements == x.write_total);
                    CHECK(cf.hbm_read_elements() == x.read_total);
                    CHECK(cf.hbm_write_elements() == x.write_total);
                    CHECK(r.counters.other_flops == x.other_flops);
                    CHECK(cf.other_flops == x.other_flops);
                    // Forward: QK^T, k eager passes, softmax, PV. Backward: dV, dP, softmax backward,
                    // k eager backward passes, dQ, dK.
                    CHECK(r.phases.size() == static_cast<std::size_t>((pass == Pass::forward ? 3 : 5) + k));
                }
            }
        }
    }
}
