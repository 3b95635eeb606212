// Masked counts == both closed forms, exactly: every definition (forward and backward, standard and
// both FlashAttention orders) under causal, sliding-window, document and block-sparse masks (and their
// intersections), ragged against B_r != B_c, N_q != N_kv (bottom-right causal), N = 1, with and without
// the framework's eager mask pass. The tests' tile sums come from a scan of every element
// (tests/kernels/mask_brute.h), the definitions' from kernels::mask_stats.
#include <catch2/catch.hpp>
#include <sstream>

#include "kernels/registry.h"
#include "kernels/tiling.h"
#include "tests/kernels/expected_counts.h"

using namespace tilesim;
using kernels::Mask;
using kernels::Pass;
using sim::Level;
using sim::Tensor;

namespace {

std::vector<std::pair<std::string, Mask>> masks(std::int64_t N_q, std::int64_t N_kv) {
    std::vector<std::pair<std::string, Mask>> out;
    Mask causal;
    causal.causal = true;
    out.emplace_back("causal", causal);
    Mask sliding;
    sliding.causal = true;
    sliding.window = 5;
    out.emplace_back("sliding:5", sliding);
    Mask docs;
    docs.doc_starts = kernels::equal_documents(N_kv, 3);
    out.emplace_back("3 documents", docs);
    Mask random;
    random.blocks = std::make_shared<kernels::BlockMask>(kernels::make_pattern("random", 0.4, 6, N_q, N_kv, 9));
    out.emplace_back("random 0.4 / 6", random);
    Mask random_causal = random;
    random_causal.causal = true;
    out.emplace_back("causal + random", random_causal);
    return out;
}

void check(const kernels::AlgorithmDef& def, const kernels::Problem& p, const sim::HardwareSpec& hw,
           kernels::TilingRequest req, std::int64_t extra, const std::string& mask_name) {
    kernels::RunOptions o;
    o.numerics = false;
    o.extra_passes = extra;
    const auto r = kernels::run(def, p, req, hw, nullptr, o);
    std::ostringstream where;
    where << def.key << " " << kernels::pass_name(def.pass) << " on " << hw.name << ", " << mask_name << ", N_q = " << p.N_q
          << ", N_kv = " << p.N_kv << ", d = " << p.d << ", extra " << extra << " -> " << r.tiling.B_r << " x "
          << r.tiling.B_c;
    INFO(where.str());
    if (!r.fit.ok) return;  // misfits are the unmasked grid's business
    const auto x = test::expected_counts(
        def.key, def.pass, {p.N_q, p.d, r.tiling.B_r, r.tiling.B_c, p.dtype, extra, p.N_kv, &p.mask}, hw);
    const auto cf = def.closed_form(p, r.tiling, hw, o);
    for (std::size_t t = 0; t < sim::kTensorCount; ++t) {
        const auto tensor = static_cast<Tensor>(t);
        INFO("tensor " << sim::tensor_name(tensor));
        CHECK(r.counters.at(Level::HBM, tensor).read_elements == x.read[t]);
        CHECK(r.counters.at(Level::HBM, tensor).write_elements == x.write[t]);
        CHECK(cf.hbm_read(tensor) == x.read[t]);
        CHECK(cf.hbm_write(tensor) == x.write[t]);
    }
    CHECK(r.counters.at(Level::L2).read_elements == x.l2_read);
    CHECK(r.counters.matmul_flops == x.matmul_flops);
    CHECK(cf.matmul_flops == x.matmul_flops);
    CHECK(r.counters.other_flops == x.other_flops);
    CHECK(cf.other_flops == x.other_flops);
    CHECK(r.counters.exp_flops == x.exp_flops);
    CHECK(cf.exp_flops == x.exp_flops);
    CHECK(r.counters.sram_peak_bytes == x.sram_peak_bytes);
    CHECK(cf.sram_peak_bytes == x.sram_peak_bytes);
}

}  // namespace

TEST_CASE("masked counts equal both closed forms, every definition, ragged and rectangular",
          "[kernels][counts][mask]") {
    struct Machine {
        const char* preset;
        sim::Dtype dtype;
    };
    const Machine machines[] = {{"classroom", sim::Dtype::fp32}, {"A100-40GB", sim::Dtype::fp16}};
    const std::pair<std::int64_t, std::int64_t> sizes[] = {{1, 1}, {17, 17}, {30, 30}, {7, 40}, {40, 9}, {1, 33}};
    const kernels::TilingRequest reqs[] = {{0, 0}, {3, 5}, {8, 4}, {16, 16}};
    int ran = 0;
    for (const auto* def : kernels::definitions()) {
        if (!def->masks) continue;  // refused with a mask (tests/scenarios/test_decode.cpp)
        for (const auto& m : machines) {
            const auto hw = *sim::find_preset(m.preset);
            for (auto [N_q, N_kv] : sizes) {
                for (std::int64_t d : {1, 4, 16}) {
                    for (const auto& [name, mask] : masks(N_q, N_kv)) {
                        kernels::Problem p = kernels::Problem::square(N_q, d, m.dtype);
                        p.N_kv = N_kv;
                        p.mask = mask;
                        for (const auto& req : reqs) {
                            for (std::int64_t extra : {0, 2}) {
                                if (extra > 0 && def->key != "standard") continue;
                                check(*def, p, hw, req, extra, name);
                                ++ran;
                            }
                        }
                    }
                }
            }
        }
    }
    CHECK(ran > 3000);
}

TEST_CASE("causal on the classroom machine: the tiles above the diagonal are skipped", "[kernels][counts][mask]") {
    // N = 16, d = 4, fp32, FA2 4 x 4 tiles (the rule shrunk, see test_counts_hand.cpp): 4 diagonal tiles
    // partial, 6 below full, 6 above skipped. K, V are read for the 10 tiles left (10 x 4 x 4 = 160 each
    // instead of 256); the 4 diagonal tiles are masked (4 x 16 = 64 flops); matmul 4 x 160 x 4 = 2560.
    kernels::Problem p = kernels::Problem::square(16, 4, sim::Dtype::fp32);
    p.mask.causal = true;
    kernels::RunOptions o;
    o.numerics = false;
    const auto r = kernels::run(*kernels::find_definition("flash2", Pass::forward), p, {}, *sim::find_preset("classroom"),
                                nullptr, o);
    REQUIRE(r.fit.ok);
    REQUIRE(r.tiling.B_r == 4);
    REQUIRE(r.tiling.B_c == 4);
    CHECK(r.counters.at(Level::HBM, Tensor::K).read_elements == 160);
    CHECK(r.counters.at(Level::HBM, Tensor::V).read_elements == 160);
    CHECK(r.counters.at(Level::HBM, Tensor::Q).read_elements == 64);
    CHECK(r.counters.matmul_flops == 2560);
    // Unmasked other flops 2208 (test_counts_hand.cpp) scale with the tiles: 5 x 160 + 10 tiles x 4 rows
    // x (5 + 8) + 64 (the mask) + 64 + 32 = 1480.
    CHECK(r.counters.other_flops == 5 * 160 + 40 * 13 + 64 + 64 + 32);
}
