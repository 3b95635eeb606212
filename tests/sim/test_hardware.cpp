// sim/hardware.h: the presets carry the datasheet figures of ../shared/reference/flash-attention-facts.md.
#include <catch2/catch.hpp>
#include <set>

#include "sim/hardware.h"

using namespace tilesim::sim;

namespace {
constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = 1024 * 1024;

HardwareSpec preset(const char* name) {
    auto hw = find_preset(name);
    REQUIRE(hw.has_value());
    return *hw;
}
}  // namespace

TEST_CASE("presets: all of the issue's machines exist, in display order, with unique names",
          "[sim][hardware]") {
    const auto& all = hardware_presets();
    std::vector<std::string> names;
    for (const auto& hw : all) names.push_back(hw.name);
    CHECK(names == std::vector<std::string>{"A100-40GB", "A100-80GB", "H100-SXM", "H200", "RTX-4090", "T4",
                                            "classroom"});
    CHECK(std::set<std::string>(names.begin(), names.end()).size() == names.size());
    CHECK(preset_names() == "A100-40GB, A100-80GB, H100-SXM, H200, RTX-4090, T4, classroom");
    for (const auto& hw : all) {
        INFO(hw.name);
        CHECK_FALSE(hw.description.empty());
        CHECK(hw.hbm_bytes_per_s > 0);
        CHECK(hw.sram_bytes > 0);
        CHECK(hw.sram_bytes_per_s > hw.hbm_bytes_per_s);  // on-chip is faster: the premise of tiling
        CHECK(hw.sm_count >= 1);
        CHECK(hw.matmul_flops_per_s >= hw.vector_flops_per_s);
        CHECK(hw.vector_flops_per_s > 0);
        CHECK((hw.l2_bytes == 0) == (hw.l2_bytes_per_s == 0));
    }
}

TEST_CASE("presets: datasheet figures", "[sim][hardware]") {
    // The paper's A100 figures: 1.5 TB/s HBM, 192 KB SRAM per SM, 108 SMs, 40 MB L2, ~19 TB/s SRAM.
    const auto a100 = preset("A100-40GB");
    CHECK(a100.hbm_bytes_per_s == Approx(1.5e12));
    CHECK(a100.sram_bytes == 192 * kKiB);
    CHECK(a100.sm_count == 108);
    CHECK(a100.l2_bytes == 40 * kMiB);
    CHECK(a100.sram_bytes_per_s == Approx(19e12));
    CHECK(a100.matmul_flops_per_s == Approx(312e12));
    CHECK(a100.vector_flops_per_s == Approx(19.5e12));

    const auto a100_80 = preset("A100-80GB");
    CHECK(a100_80.hbm_bytes_per_s == Approx(2.039e12));
    CHECK(a100_80.sm_count == 108);
    CHECK(a100_80.sram_bytes == 164 * kKiB);  // usable shared memory per block
    CHECK(a100_80.l2_bytes == 40 * kMiB);

    const auto h100 = preset("H100-SXM");
    CHECK(h100.hbm_bytes_per_s == Approx(3.35e12));
    CHECK(h100.sm_count == 132);
    CHECK(h100.sram_bytes == 227 * kKiB);  // per-block maximum of the 228 KB per SM
    CHECK(h100.l2_bytes == 50 * kMiB);
    CHECK(h100.matmul_flops_per_s == Approx(989e12));
    CHECK(h100.vector_flops_per_s == Approx(67e12));

    const auto h200 = preset("H200");
    CHECK(h200.hbm_bytes_per_s == Approx(4.8e12));
    CHECK(h200.sm_count == 132);
    CHECK(h200.l2_bytes == 60 * kMiB);
    CHECK(h200.matmul_flops_per_s == Approx(989e12));

    const auto rtx = preset("RTX-4090");
    CHECK(rtx.hbm_bytes_per_s == Approx(1.008e12));
    CHECK(rtx.sram_bytes == 100 * kKiB);
    CHECK(rtx.sm_count == 128);
    CHECK(rtx.l2_bytes == 72 * kMiB);
    CHECK(rtx.matmul_flops_per_s == Approx(165e12));
    CHECK(rtx.vector_flops_per_s == Approx(82.6e12));

    const auto t4 = preset("T4");
    CHECK(t4.hbm_bytes_per_s == Approx(320e9));
    CHECK(t4.sram_bytes == 64 * kKiB);
    CHECK(t4.sm_count == 40);
    CHECK(t4.l2_bytes == 4 * kMiB);
    CHECK(t4.matmul_flops_per_s == Approx(65e12));
    CHECK(t4.vector_flops_per_s == Approx(8.1e12));

    // The toy machine: 384 B = 96 fp32 elements, no L2, one SM.
    const auto toy = preset("classroom");
    CHECK(toy.sram_bytes == 384);
    CHECK(toy.l2_bytes == 0);
    CHECK(toy.sm_count == 1);
}

TEST_CASE("find_preset: exact, case-sensitive names, unknown gives nullopt", "[sim][hardware]") {
    CHECK(find_preset("A100-40GB").has_value());
    CHECK_FALSE(find_preset("a100-40gb").has_value());
    CHECK_FALSE(find_preset("V100").has_value());
    CHECK_FALSE(find_preset("").has_value());
    CHECK_FALSE(find_preset("A100").has_value());
}
