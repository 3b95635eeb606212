// Numerics of the decode definitions against the fp64 reference: N_q = 1 and a few, ragged N_kv, paged
// caches in both orders, every split count (empty splits included), packed KV groups; the paged layout
// itself; the trace of a paged, split run (physical tile addresses, events that add up to the counters).
//
// Tolerance: as tests/kernels/test_numerics.cpp (1e-5; observed errors there are below 1e-6). The
// combine adds S weighted fp32 partials, each normalised, with weights exp(Lacc_s - L) <= 1: a few more
// roundings of relative size 2^-24, far below the bar; a wrong weight, a dropped or doubled split, or
// a read of an unused page slot (NaN) fails it by orders of magnitude.
#include <catch2/catch.hpp>
#include <cmath>

#include "kernels/paging.h"
#include "kernels/reference.h"
#include "kernels/registry.h"

using namespace tilesim;
using kernels::Pass;
using sim::Level;
using sim::Tensor;

namespace {

constexpr double kTol = 1e-5;
constexpr double kTolLargeQ = 2e-4;

kernels::Problem decode_problem(std::int64_t N_q, std::int64_t N_kv, std::int64_t d, std::int64_t g,
                                std::int64_t page, kernels::PageOrder order, std::int64_t splits) {
    kernels::Problem p;
    p.heads = g;
    p.kv_heads = 1;
    p.N_q = N_q;
    p.N_kv = N_kv;
    p.d = d;
    p.dtype = sim::Dtype::fp16;
    p.page_size = page;
    p.page_order = order;
    p.kv_splits = splits;
    return p;
}

// Runs `key` with numerics on inputs of its unit's shape; returns the error against the reference.
kernels::ErrorStats run_against_reference(std::string_view key, const kernels::Problem& p,
                                          const sim::HardwareSpec& hw, float q_scale = 1.0F,
                                          kernels::TilingRequest req = {}) {
    const auto& def = *kernels::find_definition(key, Pass::forward);
    const kernels::Problem up = kernels::unit_problem(def, p);
    kernels::HbmState hbm = kernels::random_inputs(up, static_cast<std::uint64_t>(up.N_q * 7919 + up.N_kv));
    hbm[Tensor::Q] *= q_scale;
    const kernels::Inputs in = kernels::inputs_of(hbm);
    const auto r = kernels::run(def, up, req, hw, &hbm, {});
    REQUIRE(r.fit.ok);
    // The caller's inputs stay logical: the paged copy was the kernel's.
    CHECK(hbm[Tensor::K].rows() == p.N_kv);
    REQUIRE(hbm[Tensor::O].rows() == up.N_q);
    CHECK(hbm[Tensor::O].allFinite());
    return kernels::compare(hbm[Tensor::O], kernels::reference_attention(in));
}

}  // namespace

TEST_CASE("numerics: decode and flash-decoding match the fp64 reference over pages, splits and groups",
          "[kernels][numerics][decode]") {
    const auto hw = *sim::find_preset("A100-40GB");
    int checked = 0;
    for (auto key : {"decode", "flash-decoding"}) {
        const bool splits_kv = kernels::find_definition(key, Pass::forward)->splits_kv;
        for (std::int64_t N_q : {1, 2, 4}) {
            for (std::int64_t N_kv : {1, 7, 63, 64, 65, 1000}) {
                for (std::int64_t d : {4, 64}) {
                    for (std::int64_t g : {1, 4}) {
                        for (std::int64_t page : {0, 1, 16, 256}) {
                            for (auto order :
                                 {kernels::PageOrder::contiguous, kernels::PageOrder::shuffled}) {
                                if (page == 0 && order == kernels::PageOrder::shuffled) continue;
                                for (std::int64_t splits : {0, 1, 2, 3, 7}) {
                                    if (!splits_kv && splits > 0) continue;
                                    // The rule's B_c (256 here: every page size divides it) and 13, which
                                    // starts K/V blocks, and splits, in the middle of pages.
                                    for (std::int64_t B_c : {0, 13}) {
                                        INFO(key << " N_q = " << N_q << " N_kv = " << N_kv << " d = " << d
                                                 << " g = " << g << " page = " << page << " ("
                                                 << kernels::page_order_name(order) << ") splits = " << splits
                                                 << " B_c = " << B_c);
                                        const auto err = run_against_reference(
                                            key, decode_problem(N_q, N_kv, d, g, page, order, splits), hw,
                                            1.0F, {0, B_c});
                                        CHECK(err.max_abs <= kTol);
                                        CHECK(err.rel_fro <= kTol);
                                        ++checked;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    CHECK(checked == 3 * 6 * 2 * 2 * 7 * (1 + 5) * 2);
}

TEST_CASE("numerics: the combine stays exact with large scores and many splits",
          "[kernels][numerics][decode]") {
    // Q x 30: row maxima of S near 100, and each split's maximum differs, so the log-sum-exp merge has to
    // rescale every partial by exp(Lacc_s - L) correctly (e^100 alone overflows fp32).
    const auto hw = *sim::find_preset("H100-SXM");
    for (std::int64_t N_kv : {65, 1000, 4097}) {
        for (std::int64_t splits : {2, 7, 16}) {
            for (std::int64_t page : {0, 16}) {
                INFO("N_kv = " << N_kv << " splits = " << splits << " page = " << page);
                const auto p = decode_problem(1, N_kv, 64, 1, page, kernels::PageOrder::shuffled, splits);
                const auto err = run_against_reference("flash-decoding", p, hw, 30.0F, {0, 32});
                CHECK(err.max_abs <= kTolLargeQ);
            }
        }
    }
}

TEST_CASE("numerics: flash-decoding's partials are the splits' own softmax, merged by their log-sum-exp",
          "[kernels][numerics][decode]") {
    // Classroom-sized case: N_kv = 18, B_c = 4 (T_c = 5), 2 splits of n = 3 blocks: split 0 = keys 0..11,
    // split 1 = keys 12..17. Each partial must be the normalised attention over its own keys, and Lacc
    // its log-sum-exp; then O = sum_s exp(Lacc_s - L) Oacc_s with L = log sum_s exp(Lacc_s).
    const auto hw = *sim::find_preset("classroom");
    auto p = decode_problem(1, 18, 4, 1, 0, kernels::PageOrder::contiguous, 2);
    p.dtype = sim::Dtype::fp32;
    const auto& def = *kernels::find_definition("flash-decoding", Pass::forward);
    kernels::HbmState hbm = kernels::random_inputs(p, 3);
    const kernels::Inputs in = kernels::inputs_of(hbm);
    const auto r = kernels::run(def, p, {0, 4}, hw, &hbm, {});
    REQUIRE(r.fit.ok);
    REQUIRE(r.tiling.splits == 2);
    REQUIRE(hbm[Tensor::Oacc].cols() == 2 * 4);
    const double tau = 0.5;  // 1 / sqrt(4)
    double lse[2];
    for (int s = 0; s < 2; ++s) {
        const std::int64_t k0 = s * 12, k1 = s == 0 ? 12 : 18;
        kernels::Inputs part{in.Q, in.K.middleRows(k0, k1 - k0), in.V.middleRows(k0, k1 - k0)};
        const kernels::MatD O_s = kernels::reference_attention(part);
        const Eigen::RowVectorXd scores = tau * (in.Q.cast<double>() * part.K.cast<double>().transpose());
        const double mx = scores.maxCoeff();
        lse[s] = mx + std::log((scores.array() - mx).exp().sum());
        CHECK((hbm[Tensor::Oacc].block(0, s * 4, 1, 4).cast<double>() - O_s).cwiseAbs().maxCoeff() <= kTol);
        CHECK(hbm[Tensor::Lacc](0, s) == Approx(lse[s]).epsilon(1e-6));
    }
    const double L = std::max(lse[0], lse[1]) + std::log(std::exp(lse[0] - std::max(lse[0], lse[1])) +
                                                         std::exp(lse[1] - std::max(lse[0], lse[1])));
    CHECK(hbm[Tensor::L](0, 0) == Approx(L).epsilon(1e-6));
}

TEST_CASE("paging: the pool holds each logical page at its physical place, unused slots are NaN",
          "[kernels][decode][paging]") {
    auto p = decode_problem(1, 18, 4, 1, 4, kernels::PageOrder::shuffled, 0);
    const kernels::HbmState logical = kernels::random_inputs(p, 9);
    kernels::HbmState hbm = logical;
    kernels::lay_out_pages(p, hbm);
    const auto table = kernels::page_table(p);
    REQUIRE(hbm[Tensor::K].rows() == 20);  // 5 pages of 4
    REQUIRE(hbm[Tensor::PT].rows() == 5);
    std::vector<bool> used(5, false);
    for (std::int64_t k = 0; k < 5; ++k) {
        const auto phys = table[static_cast<std::size_t>(k)];
        CHECK(hbm[Tensor::PT](k, 0) == static_cast<float>(phys));
        REQUIRE(phys >= 0);
        REQUIRE(phys < 5);
        CHECK_FALSE(used[static_cast<std::size_t>(phys)]);  // a permutation: no page twice
        used[static_cast<std::size_t>(phys)] = true;
        const std::int64_t rows = std::min<std::int64_t>(4, 18 - 4 * k);
        CHECK(hbm[Tensor::K].middleRows(phys * 4, rows) == logical[Tensor::K].middleRows(4 * k, rows));
        CHECK(hbm[Tensor::V].middleRows(phys * 4, rows) == logical[Tensor::V].middleRows(4 * k, rows));
    }
    // The last logical page holds 2 tokens: its slots 2 and 3 are NaN.
    const auto last = table[4];
    CHECK(std::isnan(hbm[Tensor::K](last * 4 + 2, 0)));
    CHECK(std::isnan(hbm[Tensor::V](last * 4 + 3, 3)));
    CHECK_FALSE(std::isnan(hbm[Tensor::K](last * 4 + 1, 0)));
    // A contiguous cache is left alone; so are inputs of the wrong shape (kernels::run then refuses them).
    auto flat = decode_problem(1, 18, 4, 1, 0, kernels::PageOrder::contiguous, 0);
    kernels::HbmState untouched = logical;
    kernels::lay_out_pages(flat, untouched);
    CHECK(untouched[Tensor::K].rows() == 18);
    kernels::HbmState wrong =
        kernels::random_inputs(decode_problem(1, 17, 4, 1, 0, kernels::PageOrder::contiguous, 0), 1);
    const auto& def = *kernels::find_definition("decode", Pass::forward);
    CHECK_THROWS_AS(kernels::run(def, p, {}, *sim::find_preset("A100-40GB"), &wrong, {}),
                    std::invalid_argument);
}

TEST_CASE("trace of a paged, split run: physical addresses, in-bounds tiles, events add up to the counters",
          "[kernels][decode][trace]") {
    const auto hw = *sim::find_preset("A100-40GB");
    for (auto key : {"decode", "flash-decoding"}) {
        const auto& def = *kernels::find_definition(key, Pass::forward);
        const auto p =
            decode_problem(2, 1000, 16, 4, 16, kernels::PageOrder::shuffled, def.splits_kv ? 3 : 0);
        const kernels::Problem up = kernels::unit_problem(def, p);
        kernels::RunOptions o;
        o.numerics = false;
        o.trace = true;
        const auto r = kernels::run(def, up, {0, 64}, hw, nullptr, o);
        INFO(key);
        REQUIRE(r.fit.ok);
        REQUIRE(r.trace);
        const auto& trace = *r.trace;
        const auto table = kernels::page_table(p);
        const sim::TensorDecl* kdecl = trace.tensor(Tensor::K);
        REQUIRE(kdecl != nullptr);
        CHECK(kdecl->rows == 63 * 16);   // the pool: ceil(1000 / 16) = 63 pages of 16
        CHECK(kdecl->block_rows == 16);  // drawn on the page grid
        REQUIRE(trace.tensor(Tensor::PT) != nullptr);
        CHECK(trace.tensor(Tensor::PT)->input);
        std::array<std::array<sim::Traffic, sim::kTensorCount>, sim::kLevelCount> sum{};
        std::int64_t gathers = 0;
        for (const auto& e : trace.events()) {
            if (e.op != sim::Op::Load && e.op != sim::Op::Store) continue;
            const sim::TensorDecl* decl = trace.tensor(e.tensor);
            REQUIRE(decl != nullptr);
            CHECK(e.tile.row0 >= 0);
            CHECK(e.tile.row0 + e.tile.rows <= decl->rows);
            CHECK(e.tile.col0 + e.tile.cols <= decl->cols);
            if (e.tensor == Tensor::K && e.op == sim::Op::Load) {
                // A gathered run never crosses a page, and it is where the table puts its logical page:
                // physical page = row0 / 16, and some logical page k maps there.
                CHECK(e.tile.row0 / 16 == (e.tile.row0 + e.tile.rows - 1) / 16);
                const auto phys = e.tile.row0 / 16;
                CHECK(std::find(table.begin(), table.end(), phys) != table.end());
                ++gathers;
            }
            auto& from = sum[static_cast<std::size_t>(e.from)][static_cast<std::size_t>(e.tensor)];
            auto& to = sum[static_cast<std::size_t>(e.to)][static_cast<std::size_t>(e.tensor)];
            from.read_elements += e.tile.elements();
            from.read_bytes += e.bytes;
            to.write_elements += e.tile.elements();
            to.write_bytes += e.bytes;
        }
        CHECK(sum == r.counters.by_tensor);
        // A 64-token K/V block over 16-token pages is 4 gathers (the blocks are page aligned here): T_c = 16
        // blocks, the last of 1000 - 960 = 40 tokens in 3 pages: 15 x 4 + 3 = 63 gathers per pass over K.
        CHECK(gathers == r.tiling.T_r * 63);
    }
}

TEST_CASE("decode's softmax probe: O_i / l_i after the last K/V block is the output",
          "[kernels][numerics][probe][decode]") {
    const auto hw = *sim::find_preset("classroom");
    auto p = decode_problem(1, 18, 4, 1, 0, kernels::PageOrder::contiguous, 0);
    p.dtype = sim::Dtype::fp32;
    const auto& def = *kernels::find_definition("decode", Pass::forward);
    CHECK(def.softmax == kernels::OnlineSoftmax::deferred);
    kernels::HbmState hbm = kernels::random_inputs(p, 5);
    kernels::RunOptions o;
    o.watch_block = 0;
    const auto r = kernels::run(def, p, {}, hw, &hbm, o);
    REQUIRE(r.fit.ok);
    REQUIRE(r.probe.size() == static_cast<std::size_t>(r.tiling.T_c));
    const auto& last = r.probe.back();
    const kernels::Mat out = last.O.array().colwise() / last.l.array();
    CHECK((out - hbm[Tensor::O]).cwiseAbs().maxCoeff() <= 1e-6F);
    // Flash-decoding restarts the softmax in every split: it offers no probe.
    CHECK(kernels::find_definition("flash-decoding", Pass::forward)->softmax == kernels::OnlineSoftmax::none);
}
