// Masked numerics: O, dQ, dK, dV of every definition against the fp64 reference under the same mask,
// fully masked rows included (they must be exactly 0, never NaN), ragged and rectangular sizes.
// Tolerances as in test_numerics.cpp (O: 1e-5) and test_gradients.cpp (gradients: 2e-5 of their size):
// a mask removes terms from the sums, it does not change the rounding argument.
#include <catch2/catch.hpp>

#include "kernels/reference.h"
#include "kernels/registry.h"

using namespace tilesim;
using kernels::Mask;
using kernels::Pass;
using sim::Tensor;

namespace {

double scaled_error(const kernels::Mat& got, const kernels::MatD& ref) {
    const double scale = std::max(1.0, ref.size() > 0 ? ref.cwiseAbs().maxCoeff() : 0.0);
    return kernels::compare(got, ref).max_abs / scale;
}

std::vector<std::pair<std::string, Mask>> masks(std::int64_t N_q, std::int64_t N_kv) {
    std::vector<std::pair<std::string, Mask>> out;
    Mask causal;
    causal.causal = true;
    out.emplace_back("causal", causal);
    Mask sliding;
    sliding.causal = true;
    sliding.window = 3;
    out.emplace_back("sliding:3", sliding);
    Mask docs;
    docs.doc_starts = kernels::equal_documents(N_kv, 4);
    docs.causal = true;
    out.emplace_back("causal documents", docs);
    Mask sparse;
    sparse.blocks = std::make_shared<kernels::BlockMask>(kernels::make_pattern("strided", 0.34, 5, N_q, N_kv, 2));
    out.emplace_back("strided blocks", sparse);
    return out;
}

}  // namespace

TEST_CASE("masked numerics: every definition matches the masked fp64 reference, no NaN", "[kernels][numerics][mask]") {
    const auto a100 = *sim::find_preset("A100-40GB");
    const auto toy = *sim::find_preset("classroom");
    int checked = 0;
    // (40, 9): more queries than keys, so under a causal mask the first 31 rows see no key at all.
    for (auto [N_q, N_kv] : {std::pair<std::int64_t, std::int64_t>{17, 17}, {30, 30}, {7, 40}, {40, 9}, {1, 20}}) {
        for (const auto& [name, mask] : masks(N_q, N_kv)) {
            kernels::Problem p = kernels::Problem::square(N_q, 4, sim::Dtype::fp32);
            p.N_kv = N_kv;
            p.mask = mask;
            auto in = kernels::random_inputs(p, static_cast<std::uint64_t>(N_q * 31 + N_kv));
            kernels::ReferenceOptions ro;
            ro.mask = &p.mask;
            const auto refO = kernels::reference_attention(kernels::inputs_of(in), ro);
            const auto refG = kernels::reference_gradients(kernels::inputs_of(in), in[Tensor::dO], ro);
            for (auto key : kernels::algorithm_key_list()) {
                if (!kernels::find_definition(key, Pass::forward)->masks) continue;  // refused with a mask
                for (const sim::HardwareSpec* hw : {&a100, &toy}) {
                    for (std::int64_t extra : {0, 2}) {
                        if (extra > 0 && key != "standard") continue;
                        INFO(key << " " << name << " N_q = " << N_q << " N_kv = " << N_kv << " on " << hw->name
                                 << " extra " << extra);
                        kernels::RunOptions o;
                        o.extra_passes = extra;
                        kernels::HbmState hbm = in;
                        const auto* fwd = kernels::find_definition(key, Pass::forward);
                        const auto* bwd = kernels::find_definition(key, Pass::backward);
                        REQUIRE(kernels::run(*fwd, p, {}, *hw, &hbm, o).fit.ok);
                        CHECK(hbm[Tensor::O].allFinite());
                        CHECK(kernels::compare(hbm[Tensor::O], refO).max_abs <= 1e-5);
                        if (bwd == nullptr) continue;
                        const auto r = kernels::run(*bwd, p, {}, *hw, &hbm, o);
                        if (!r.fit.ok) continue;  // the toy machine cannot hold every backward at d = 4
                        for (Tensor g : {Tensor::dQ, Tensor::dK, Tensor::dV}) CHECK(hbm[g].allFinite());
                        CHECK(scaled_error(hbm[Tensor::dQ], refG.dQ) <= 2e-5);
                        CHECK(scaled_error(hbm[Tensor::dK], refG.dK) <= 2e-5);
                        CHECK(scaled_error(hbm[Tensor::dV], refG.dV) <= 2e-5);
                        ++checked;
                    }
                }
            }
        }
    }
    CHECK(checked > 100);
}

TEST_CASE("a fully masked row has output 0 and zero gradients, for every algorithm", "[kernels][numerics][mask]") {
    // 12 queries, 4 keys, causal bottom-right: rows 0..7 see no key.
    kernels::Problem p = kernels::Problem::square(12, 8, sim::Dtype::fp32);
    p.N_kv = 4;
    p.mask.causal = true;
    const auto in = kernels::random_inputs(p, 4);
    for (auto key : kernels::algorithm_key_list()) {
        INFO(key);
        if (!kernels::find_definition(key, Pass::forward)->masks) continue;  // refused with a mask
        kernels::HbmState hbm = in;
        kernels::RunOptions o;
        REQUIRE(kernels::run(*kernels::find_definition(key, Pass::forward), p, {}, *sim::find_preset("A100-40GB"), &hbm, o)
                    .fit.ok);
        CHECK(hbm[Tensor::O].topRows(8).cwiseAbs().maxCoeff() == 0.0F);
        CHECK(hbm[Tensor::O].bottomRows(4).cwiseAbs().maxCoeff() > 0.0F);
        if (const auto* bwd = kernels::find_definition(key, Pass::backward)) {
            REQUIRE(kernels::run(*bwd, p, {}, *sim::find_preset("A100-40GB"), &hbm, o).fit.ok);
            CHECK(hbm[Tensor::dQ].topRows(8).cwiseAbs().maxCoeff() == 0.0F);
            CHECK(hbm[Tensor::dQ].allFinite());
            CHECK(hbm[Tensor::dK].allFinite());
        }
    }
}
