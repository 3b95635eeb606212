// Mask keys, the BlockMask file format (docs/masks.md) and what reports say about masks.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "kernels/registry.h"
#include "scenarios/report.h"

using namespace tilesim;
using nlohmann::json;
using scenarios::Scenario;
using scenarios::ScenarioError;

namespace {

std::string scratch_dir() {
    const auto dir = std::filesystem::temp_directory_path() / ("tilesim-masks-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir.string();
}

std::string write_file(const std::string& name, const std::string& text) {
    const std::string path = scratch_dir() + "/" + name;
    std::ofstream(path) << text;
    return path;
}

std::string error_of(Scenario s, const std::vector<std::string>& sets) {
    try {
        scenarios::apply_settings(s, sets);
        scenarios::run_scenario(s);
    } catch (const ScenarioError& e) {
        return e.what();
    }
    return "";
}

void expect_error(const std::vector<std::string>& sets, const std::vector<std::string>& parts) {
    const std::string msg = error_of(scenarios::resolve_scenario("classroom"), sets);
    INFO("settings: " << sets.front() << "  message: " << msg);
    REQUIRE_FALSE(msg.empty());
    CHECK(msg.find('\n') == std::string::npos);
    for (const auto& p : parts) CHECK_THAT(msg, Catch::Contains(p));
}

// A causal BlockMask for N = 16 at 4 x 4 blocks, in the file format (flex-style [B, H, ...] arrays).
json causal_file() {
    json kv_num = json::array(), kv_idx = json::array(), full_num = json::array(), full_idx = json::array();
    for (int i = 0; i < 4; ++i) {
        kv_num.push_back(1);
        kv_idx.push_back(json::array({i, 0, 0, 0}));
        full_num.push_back(i);
        json f = json::array();
        for (int j = 0; j < 4; ++j) f.push_back(j < i ? j : 0);
        full_idx.push_back(f);
    }
    return json{{"BLOCK_SIZE", {4, 4}},       {"seq_lengths", {16, 16}},  {"mask_mod", "causal"},
                {"kv_num_blocks", {{kv_num}}}, {"kv_indices", {{kv_idx}}}, {"full_kv_num_blocks", {{full_num}}},
                {"full_kv_indices", {{full_idx}}}};
}

}  // namespace

TEST_CASE("mask keys: causal, sliding:W, patterns, the problem's mask follows the sizes", "[scenarios][mask]") {
    Scenario s = scenarios::resolve_scenario("classroom");
    scenarios::apply_settings(s, {"mask=sliding:3", "seq_len=24"});
    auto p = scenarios::problem_of(s);
    CHECK(p.mask.causal);
    CHECK(p.mask.window == 3);
    CHECK(kernels::mask_text(p.mask) == "sliding:3");
    scenarios::apply_settings(s, {"mask=causal", "mask_pattern=random", "mask_density=0.5", "mask_block=4"});
    p = scenarios::problem_of(s);
    REQUIRE(p.mask.blocks);
    CHECK(p.mask.blocks->rows == 6);  // 24 / 4
    CHECK_THAT(kernels::mask_text(p.mask), Catch::Contains("causal + random 0.5"));
    // A pattern is rebuilt for the final N.
    scenarios::apply_settings(s, {"seq_len=40"});
    CHECK(scenarios::problem_of(s).mask.blocks->rows == 10);
    scenarios::apply_settings(s, {"mask_pattern=document", "mask_density=0.25"});
    CHECK(scenarios::problem_of(s).mask.doc_starts.size() == 4);
    // In JSON: the scenario says the mask, every run its tiles, the report the allowed fraction.
    const auto r = scenarios::run_scenario(s);
    const json j = scenarios::to_json(r);
    CHECK_THAT(j.at("scenario").at("mask").get<std::string>(), Catch::Contains("document"));
    CHECK(j.at("mask").at("density").get<double>() > 0);
    CHECK(j.at("mask").at("density").get<double>() < 1);
    for (const auto& run : j.at("runs")) {
        const auto& b = run.at("blocks");
        CHECK(b.at("full").get<std::int64_t>() + b.at("partial").get<std::int64_t>() + b.at("empty").get<std::int64_t>() ==
              run.at("tiling").at("T_r").get<std::int64_t>() * run.at("tiling").at("T_c").get<std::int64_t>());
    }
    const std::string table = scenarios::to_table(r);
    CHECK_THAT(table, Catch::Contains("of S allowed") && Catch::Contains("skipped (.)"));
}

TEST_CASE("mask file: a causal BlockMask gives exactly the counts of mask = causal", "[scenarios][mask]") {
    const std::string path = write_file("causal16.json", causal_file().dump());
    for (const char* alg : {"flash", "flash2", "standard"}) {
        Scenario a = scenarios::resolve_scenario("classroom");
        scenarios::apply_settings(a, {"mask=file:" + path, std::string("algorithms=") + alg, "block_rows=4", "block_cols=4",
                                      "pass=forward+backward", "sram_bytes=4096"});
        Scenario b = a;
        scenarios::apply_settings(b, {"mask=causal"});
        const auto ra = scenarios::run_scenario(a), rb = scenarios::run_scenario(b);
        REQUIRE(ra.runs.size() == rb.runs.size());
        for (std::size_t k = 0; k < ra.runs.size(); ++k) {
            INFO(alg << " run " << k);
            REQUIRE(ra.runs[k].fit.ok);
            CHECK(ra.runs[k].per_head.by_tensor == rb.runs[k].per_head.by_tensor);
            CHECK(ra.runs[k].per_head.flops() == rb.runs[k].per_head.flops());
            CHECK(ra.runs[k].counts_match_closed_form());
            CHECK(*ra.runs[k].max_abs_error == *rb.runs[k].max_abs_error);
        }
    }
}

TEST_CASE("mask file and mask keys: every bad input is one clear error", "[scenarios][mask][errors]") {
    expect_error({"mask=diagonal"}, {"key 'mask'", "'diagonal'", "causal, sliding:W or file:PATH"});
    expect_error({"mask=sliding:0"}, {"key 'mask'", "W >= 1"});
    expect_error({"mask=sliding:x"}, {"key 'mask'", "'x'"});
    expect_error({"mask=file:"}, {"key 'mask'", "needs a path"});
    expect_error({"mask=file:/nonexistent/mask.json"}, {"key 'mask'", "/nonexistent/mask.json", "cannot open"});
    expect_error({"mask_pattern=zigzag"}, {"key 'mask_pattern'", "'zigzag'"});
    expect_error({"mask_density=0"}, {"key 'mask_density'", "(0, 1]"});
    expect_error({"mask_density=1.5"}, {"key 'mask_density'", "(0, 1]"});
    expect_error({"mask_block=0"}, {"key 'mask_block'", "positive"});
    auto bad_file = [&](const std::string& name, const json& doc, const std::vector<std::string>& parts) {
        const std::string path = write_file(name, doc.dump());
        std::vector<std::string> all = parts;
        all.push_back(path);
        expect_error({"mask=file:" + path}, all);
    };
    expect_error({"mask=file:" + write_file("notjson.json", "{not json")}, {"not valid JSON"});
    json j = causal_file();
    j.erase("kv_indices");
    bad_file("missing.json", j, {"missing 'kv_indices'"});
    j = causal_file();
    j["kv_indices"][0][0][2][0] = 9;
    bad_file("range.json", j, {"KV block 9", "outside 0..3"});
    j = causal_file();
    j["full_kv_indices"][0][0][3] = json::array({0, 0, 1, 0});
    bad_file("twice.json", j, {"twice"});
    j = causal_file();
    j["full_kv_indices"][0][0][1] = json::array({1, 0, 0, 0});
    bad_file("overlap.json", j, {"both as full and as partial"});
    j = causal_file();
    j["kv_num_blocks"] = json{{json::array({1, 1, 1, 1}), json::array({1, 1, 2, 1})}};
    j["kv_indices"] = json{{j["kv_indices"][0][0], j["kv_indices"][0][0]}};
    bad_file("heads.json", j, {"differs between heads"});
    j = causal_file();
    j["mask_mod"] = "diagonal";
    bad_file("mod.json", j, {"'mask_mod'"});
    j = causal_file();
    j["BLOCK_SIZE"] = json::array({0, 4});
    bad_file("block.json", j, {"'BLOCK_SIZE'"});
    j = causal_file();
    j["q_num_blocks"] = json{{json::array({1, 1, 1, 1})}};
    j["q_indices"] = json{{json::array({json::array({1, 0, 0, 0}), json::array({1, 0, 0, 0}), json::array({2, 0, 0, 0}),
                                       json::array({3, 0, 0, 0})})}};
    bad_file("transpose.json", j, {"not the transpose"});
    // A file made for another length.
    const std::string path = write_file("causal16b.json", causal_file().dump());
    expect_error({"mask=file:" + path, "seq_len=32"}, {"key 'mask'", "seq_len = 32", "need 8 x 8"});
    expect_error({"mask=file:" + path, "mask_pattern=local"}, {"'mask_pattern'", "cannot be combined"});
}

TEST_CASE("mask density sweep: block-sparse FlashAttention's traffic falls with the density (Proposition 4)",
          "[scenarios][mask][sweep]") {
    Scenario s = scenarios::resolve_scenario("block-sparse");
    scenarios::apply_settings(s, {"batch=1", "heads=1", "seq_len=4096"});
    const auto r = scenarios::run_sweep(s, "mask_density", {"0.0625", "0.125", "0.25", "0.5", "1"}, false);
    // Theta(Nd + N^2 d^2 s / M): with Nd << N^2 d^2 s / M here the slope against s is close to 1 for
    // FA2 (K, V re-read per live tile) and 0 for standard attention (it computes every tile).
    for (const auto& f : r.fits) {
        INFO(f.def->key << " slope " << (f.slope ? *f.slope : -1));
        REQUIRE(f.slope);
        if (f.def->key == "standard") {
            CHECK(std::abs(*f.slope) < 0.01);
        } else {
            CHECK(*f.slope > 0.6);
            CHECK(*f.slope <= 1.01);
        }
    }
}
