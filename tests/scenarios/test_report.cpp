// scenarios/report.h: the JSON contract of `tilesim run` (keys may be added, never renamed), values
// consistent with the counters; CSV and table; helpers.
#include <catch2/catch.hpp>
#include <set>

#include "kernels/registry.h"
#include "scenarios/report.h"

using namespace tilesim;
using nlohmann::json;

namespace {

// Checks the contract of one `runs[]` entry against the run it came from.
void check_run_json(const json& j, const scenarios::AlgorithmRun& run, const scenarios::Scenario& s) {
    const std::int64_t bh = s.problem.bh();
    CHECK(j.at("algorithm") == std::string(run.key()));
    CHECK(j.at("pass") == std::string(kernels::pass_name(run.pass())));
    const auto& hbm = j.at("hbm");
    const auto& t = run.total.at(sim::Level::HBM);
    CHECK(hbm.at("read_bytes").get<std::int64_t>() == t.read_bytes);
    CHECK(hbm.at("write_bytes").get<std::int64_t>() == t.write_bytes);
    CHECK(hbm.at("read_elements").get<std::int64_t>() == t.read_elements);
    CHECK(hbm.at("write_elements").get<std::int64_t>() == t.write_elements);
    // by_tensor: every tensor with traffic, by name; its elements add up to the totals.
    const auto& by = hbm.at("by_tensor");
    REQUIRE(by.is_object());
    std::int64_t r_sum = 0, w_sum = 0;
    for (std::size_t k = 0; k < sim::kTensorCount; ++k) {
        const auto tensor = static_cast<sim::Tensor>(k);
        const auto& tt = run.total.at(sim::Level::HBM, tensor);
        const std::string name(sim::tensor_name(tensor));
        if (tt.total_elements() == 0) {
            CHECK_FALSE(by.contains(name));
            continue;
        }
        REQUIRE(by.contains(name));
        CHECK(by[name].at("read_elements").get<std::int64_t>() == tt.read_elements);
        CHECK(by[name].at("write_elements").get<std::int64_t>() == tt.write_elements);
        r_sum += by[name]["read_elements"].get<std::int64_t>();
        w_sum += by[name]["write_elements"].get<std::int64_t>();
    }
    CHECK(r_sum == t.read_elements);
    CHECK(w_sum == t.write_elements);
    CHECK(j.at("sram").at("capacity_bytes").get<std::int64_t>() == s.hardware.sram_bytes);
    CHECK(j.at("sram").at("peak_bytes").get<std::int64_t>() == run.per_head.sram_peak_bytes);
    CHECK(j["sram"]["peak_bytes"].get<std::int64_t>() <= s.hardware.sram_bytes);
    CHECK(j.at("flops").get<std::int64_t>() == run.total.flops());
    CHECK(j.at("predicted_ms").get<double>() == Approx(run.cost.total_s * 1e3));
    CHECK(j["predicted_ms"].get<double>() > 0);
    if (run.max_abs_error) {
        CHECK(j.at("max_abs_error").get<double>() == *run.max_abs_error);
    } else {
        CHECK(j.at("max_abs_error").is_null());
    }
    // The closed form is reported for all heads: exactly the simulated totals.
    CHECK(j.at("closed_form").at("read_elements").get<std::int64_t>() ==
          run.closed_form.hbm_read_elements() * bh);
    CHECK(j.at("closed_form").at("write_elements").get<std::int64_t>() ==
          run.closed_form.hbm_write_elements() * bh);
    CHECK(j["closed_form"]["read_elements"].get<std::int64_t>() == t.read_elements);
    CHECK(j["closed_form"]["write_elements"].get<std::int64_t>() == t.write_elements);
}

}  // namespace

TEST_CASE("JSON contract of run on the default scenario", "[scenarios][report][json]") {
    const auto s = scenarios::default_scenario();
    const auto result = scenarios::run_scenario(s);
    const json j = json::parse(scenarios::to_json(result).dump());  // round-trips through text
    const auto& sc = j.at("scenario");
    CHECK(sc.at("batch") == 64);
    CHECK(sc.at("heads") == 16);
    CHECK(sc.at("seq_len") == 1024);
    CHECK(sc.at("head_dim") == 64);
    CHECK(sc.at("dtype") == "fp16");
    CHECK(sc.at("hardware") == "A100-40GB");
    CHECK(sc.at("sram_bytes") == 196608);
    // 0 = the paper's rule; the resolved sizes of each algorithm are in runs[].tiling.
    CHECK(sc.at("block_rows") == 0);
    CHECK(sc.at("block_cols") == 0);
    const auto& runs = j.at("runs");
    REQUIRE(runs.is_array());
    REQUIRE(runs.size() == 3);
    std::set<std::string> algs;
    for (std::size_t k = 0; k < runs.size(); ++k) {
        INFO(runs[k].at("algorithm"));
        algs.insert(runs[k]["algorithm"].get<std::string>());
        check_run_json(runs[k], result.runs[k], s);
        CHECK(runs[k].at("max_abs_error").is_number());  // numerics on in the default
        // fp16 rounding emulated (the default): a few unit roundoffs u = 2^-11 of |O| <= max |V|.
        CHECK(runs[k]["max_abs_error"].get<double>() <= 4e-3);
        CHECK(runs[k].at("rmse").get<double>() == *result.runs[k].rmse);
        CHECK(runs[k].at("tiling").at("B_r") == result.runs[k].tiling.B_r);
        CHECK(runs[k].at("tiling").at("B_c") == result.runs[k].tiling.B_c);
        CHECK(runs[k].at("counts_match_closed_form") == true);
    }
    CHECK(algs == std::set<std::string>{"standard", "flash", "flash2"});
    // Standard attention, one head of Figure 2: 4Nd + 4N^2 = 4456448 elements, x 1024 heads x 2 B.
    CHECK(runs[0]["hbm"]["read_bytes"].get<std::int64_t>() +
              runs[0]["hbm"]["write_bytes"].get<std::int64_t>() ==
          std::int64_t{4456448} * 1024 * 2);
    // FlashAttention moves far less.
    CHECK(runs[1]["hbm"]["read_bytes"].get<std::int64_t>() <
          runs[0]["hbm"]["read_bytes"].get<std::int64_t>() / 4);
}

TEST_CASE("JSON: count-only runs report max_abs_error null, misfits report fits false with reason and fix",
          "[scenarios][report][json]") {
    auto s = scenarios::resolve_scenario("classroom");
    s.numerics = false;
    const auto r = scenarios::run_scenario(s);
    const json j = scenarios::to_json(r);
    for (std::size_t k = 0; k < 3; ++k) {
        CHECK(j["runs"][k]["max_abs_error"].is_null());
        check_run_json(j["runs"][k], r.runs[k], s);
    }
    CHECK(j["scenario"]["numerics"] == false);

    scenarios::apply_settings(s, {"block_rows=4", "block_cols=8"});  // FA1 and FA2 need 544 B > 384 B
    const auto bad = scenarios::run_scenario(s);
    const json jb = scenarios::to_json(bad);
    CHECK(jb["runs"][0]["fits"] == true);
    CHECK(jb["scenario"]["block_rows"] == 4);
    CHECK(jb["scenario"]["block_cols"] == 8);
    for (std::size_t k : {1, 2}) {
        const auto& run = jb["runs"][k];
        CHECK(run["fits"] == false);
        CHECK_THAT(run["error"].get<std::string>(), Catch::Contains("544 B"));
        CHECK_FALSE(run["fix"].get<std::string>().empty());
        CHECK(run["hbm"].is_null());
        CHECK(run["max_abs_error"].is_null());
        CHECK(run["pass"] == "forward");
    }
}

TEST_CASE("CSV of a run: header and one row per algorithm with the totals", "[scenarios][report]") {
    auto s = scenarios::resolve_scenario("classroom-ragged");
    const auto r = scenarios::run_scenario(s);
    const std::string csv = scenarios::to_csv(r);
    std::vector<std::string> lines;
    for (std::size_t pos = 0, nl; (nl = csv.find('\n', pos)) != std::string::npos; pos = nl + 1) {
        lines.push_back(csv.substr(pos, nl - pos));
    }
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].rfind(
              "algorithm,fits,B_r,B_c,hbm_read_bytes,hbm_write_bytes,hbm_read_elements,hbm_write_elements",
              0) == 0);
    const std::size_t columns = static_cast<std::size_t>(std::count(lines[0].begin(), lines[0].end(), ','));
    for (std::size_t k = 0; k < 3; ++k) {
        const auto& run = r.runs[k];
        const auto& h = run.total.at(sim::Level::HBM);
        CHECK(static_cast<std::size_t>(std::count(lines[k + 1].begin(), lines[k + 1].end(), ',')) == columns);
        CHECK(lines[k + 1].rfind(std::string(run.key()) + ",true," +
                                     std::to_string(run.tiling.B_r) + "," + std::to_string(run.tiling.B_c) +
                                     "," + std::to_string(h.read_bytes) + "," +
                                     std::to_string(h.write_bytes) + "," + std::to_string(h.read_elements) +
                                     "," + std::to_string(h.write_elements) + ",",
                                 0) == 0);
    }
}

TEST_CASE("table: names the algorithms, the hardware and says whether counts are exact",
          "[scenarios][report]") {
    const auto r = scenarios::run_scenario(scenarios::resolve_scenario("classroom"));
    const std::string t = scenarios::to_table(r);
    for (const char* s : {"Standard attention", "FlashAttention (Algorithm 1)", "FlashAttention-2",
                          "classroom", "N = 16", "d = 4", "exact?"}) {
        CHECK_THAT(t, Catch::Contains(s));
    }
    CHECK(t.find(" NO ") == std::string::npos);  // every count matches its closed form
    // The classroom numbers of docs/io-derivations.md: standard 4.35 KB read, FA1 3.07 KB, FA2 2.3 KB.
    CHECK_THAT(t, Catch::Contains("4.35 KB") && Catch::Contains("3.07 KB") && Catch::Contains("2.3 KB"));
}

TEST_CASE("human_bytes uses decimal units as the paper does", "[scenarios][report]") {
    CHECK(scenarios::human_bytes(0) == "0 B");
    CHECK(scenarios::human_bytes(999) == "999 B");
    CHECK(scenarios::human_bytes(1000) == "1 KB");
    CHECK(scenarios::human_bytes(4352) == "4.35 KB");
    CHECK(scenarios::human_bytes(9126805504.0) == "9.13 GB");
    CHECK(scenarios::human_bytes(1.5e12) == "1.5 TB");
}

TEST_CASE("trace CSV: a header and one row per event, phases named", "[scenarios][report]") {
    scenarios::RunControls c;
    c.trace = true;
    const auto r = scenarios::run_scenario(scenarios::resolve_scenario("classroom"), c);
    const auto& run = r.runs[1];
    REQUIRE(run.trace);
    const std::string csv = scenarios::trace_csv(*run.trace);
    const auto rows = static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n'));
    CHECK(rows == 1 + run.trace->events().size());
    CHECK(csv.rfind("step,op,tensor,", 0) == 0);
    CHECK_THAT(csv, Catch::Contains(run.phases[0].name));
    CHECK_THAT(csv, Catch::Contains("Alg 1 l.8: load Q_i"));
}
