// The timeline through the runner: every definition, every schedule, the three traffics, the L2 model,
// the JSON contract. The tests iterate the definition table; none names an algorithm's internals.
#include <catch2/catch.hpp>
#include <map>

#include "kernels/registry.h"
#include "scenarios/report.h"
#include "scenarios/runner.h"
#include "scenarios/timing.h"

using namespace tilesim;

namespace {

scenarios::Scenario small(const std::vector<std::string>& extra = {}) {
    scenarios::Scenario s = scenarios::default_scenario();
    std::vector<std::string> set = {"hardware=H100-SXM", "batch=2",        "heads=4",
                                    "seq_len=512",       "numerics=false", "pass=forward+backward"};
    set.insert(set.end(), extra.begin(), extra.end());
    scenarios::apply_settings(s, set);
    return s;
}

void same_counts(const scenarios::AlgorithmRun& a, const scenarios::AlgorithmRun& b) {
    REQUIRE(a.fit.ok == b.fit.ok);
    for (std::size_t lv = 0; lv < sim::kLevelCount; ++lv) {
        CHECK(a.per_head.level[lv] == b.per_head.level[lv]);
        for (std::size_t t = 0; t < sim::kTensorCount; ++t)
            CHECK(a.per_head.by_tensor[lv][t] == b.per_head.by_tensor[lv][t]);
    }
    CHECK(a.per_head.matmul_flops == b.per_head.matmul_flops);
    CHECK(a.per_head.other_flops == b.per_head.other_flops);
    CHECK(a.per_head.exp_flops == b.per_head.exp_flops);
    CHECK(a.per_head.sram_peak_bytes == b.per_head.sram_peak_bytes);
    CHECK(a.traffic.sm_load_bytes == b.traffic.sm_load_bytes);
    CHECK(a.traffic.sm_store_bytes == b.traffic.sm_store_bytes);
}

}  // namespace

TEST_CASE("timeline: no schedule, stage count, grid order or L2 model changes a count",
          "[scenarios][timeline]") {
    const auto base = scenarios::run_scenario(small());
    for (sim::Schedule sc : sim::all_schedules()) {
        for (const char* extra : {"pipeline_stages=3", "grid_order=sequence-major", "l2=true"}) {
            auto s = small({"schedule=" + std::string(sim::schedule_name(sc)), extra});
            const auto r = scenarios::run_scenario(s);
            REQUIRE(r.runs.size() == base.runs.size());
            for (std::size_t k = 0; k < r.runs.size(); ++k) {
                INFO(sim::schedule_name(sc) << " " << extra << " " << r.runs[k].key() << " "
                                            << kernels::pass_name(r.runs[k].pass()));
                same_counts(r.runs[k], base.runs[k]);
                CHECK(r.runs[k].counts_match_closed_form());
                CHECK(r.runs[k].cost.total_s > 0);
            }
        }
    }
}

TEST_CASE("timeline: each definition runs its own schedule unless the scenario's is one of its list",
          "[scenarios][timeline]") {
    for (sim::Schedule sc : sim::all_schedules()) {
        const auto r = scenarios::run_scenario(small({"schedule=" + std::string(sim::schedule_name(sc))}));
        for (const auto& run : r.runs) {
            INFO(sim::schedule_name(sc) << " " << run.key() << " " << kernels::pass_name(run.pass()));
            const auto& sup = run.def->schedules;
            if (sup.supports(sc)) {
                CHECK(run.schedule == sc);
                CHECK(run.schedule_note.empty());
            } else {
                CHECK(run.schedule == sup.preferred);
                CHECK_THAT(run.schedule_note,
                           Catch::Contains(std::string(sim::schedule_name(sc))) && Catch::Contains("ran"));
            }
            if (run.schedule == sim::Schedule::paper) {
                // Paper mode: the two-level roofline, no timeline.
                CHECK(run.cost.total_s == Approx(run.paper_cost.total_s));
                CHECK(run.timeline.phases.empty());
            } else {
                CHECK(run.cost.total_s == Approx(run.timeline.total_s));
                CHECK(run.timeline.phases.size() == run.phases.size());
            }
        }
    }
    // Without the key, each definition's own (its real kernel's) schedule.
    for (const auto& run : scenarios::run_scenario(small()).runs)
        CHECK(run.schedule == run.def->schedules.preferred);
}

TEST_CASE("timeline: a pass whose definition declares its synchronous kernel's warps is launched with them",
          "[scenarios][timeline]") {
    // Occupancy by registers: 65536 over 32 x warps threads of up to 255 registers each.
    const auto r = scenarios::run_scenario(small({"schedule=sync", "hardware=H200"}));
    int declared = 0;
    for (const auto& run : r.runs) {
        INFO(run.key() << " " << kernels::pass_name(run.pass()));
        REQUIRE(run.timeline.phases.size() == run.phases.size());
        for (std::size_t k = 0; k < run.phases.size(); ++k) {
            const std::int64_t warps = run.phases[k].sync_warps;
            if (warps <= 0 || run.timeline.phases[k].blocks == 0) continue;
            ++declared;
            const std::int64_t by_registers = 65536 / (32 * warps * 255);
            CHECK(run.timeline.phases[k].blocks_per_sm <= std::max<std::int64_t>(1, by_registers));
        }
    }
    CHECK(declared > 0);  // at least one definition declares them (a backward kernel)
}

TEST_CASE("timeline: the three traffics: into the SMs is the paper's count, the L2 serves all of it",
          "[scenarios][timeline]") {
    for (const bool l2 : {false, true}) {
        const auto r = scenarios::run_scenario(small({std::string("l2=") + (l2 ? "true" : "false")}));
        for (const auto& run : r.runs) {
            INFO(run.key() << " " << kernels::pass_name(run.pass()) << " l2 " << l2);
            CHECK(run.l2_model == l2);
            // Loads into SRAM: the HBM reads less the atomics' memory-side reads, plus the L2-level reads.
            std::int64_t atomic = 0;
            for (const auto& ph : run.phases) atomic += ph.sm.atomic_bytes;
            atomic *= r.scenario.problem.bh();
            CHECK(run.traffic.sm_load_bytes == run.total.at(sim::Level::HBM).read_bytes - atomic +
                                                   run.total.at(sim::Level::L2).read_bytes);
            CHECK(run.traffic.sm_store_bytes == run.total.at(sim::Level::HBM).write_bytes);
            // The L2 sees every request (in whole sectors, so at least the bytes asked for).
            CHECK(run.traffic.l2_read_bytes >= run.traffic.sm_load_bytes + atomic);
            CHECK(run.traffic.l2_write_bytes >= run.traffic.sm_store_bytes);
            CHECK(run.traffic.l2_read_hit_bytes <= run.traffic.l2_read_bytes);
            CHECK(run.traffic.dram_read_bytes <= run.traffic.l2_read_bytes);
            // DRAM reads at least each input once (what the pass must bring in).
            CHECK(run.traffic.dram_read_bytes > 0);
        }
    }
}

TEST_CASE("timeline: the L2 capacity effect: DRAM stays compulsory while a head's K/V fit, grows beyond",
          "[scenarios][timeline]") {
    // FlashAttention-2, 4 heads, d = 64 on an H100 cut to 16 SMs (32 blocks at once) and a 1 MiB L2
    // (512 KiB a partition), so the effect shows at small N. Compulsory reads: Q, K, V once.
    auto dram_over_compulsory = [](std::int64_t N) {
        scenarios::Scenario s = scenarios::default_scenario();
        scenarios::apply_settings(
            s, {"hardware=H100-SXM", "batch=1", "heads=4", "seq_len=" + std::to_string(N), "numerics=false",
                "algorithms=flash2", "l2=true", "l2_bytes=1048576", "sm_count=16"});
        const auto r = scenarios::run_scenario(s);
        const double compulsory = 3.0 * 4 * static_cast<double>(N) * 64 * 2;
        return static_cast<double>(r.runs.at(0).traffic.dram_read_bytes) / compulsory;
    };
    // N = 512: 4 Q blocks a head, all 16 in flight; a head's K + V is 128 KiB: every re-read hits.
    CHECK(dram_over_compulsory(512) == Approx(1.0).epsilon(0.01));
    // N = 8192: 64 Q blocks a head run in two waves; K + V is 2 MiB a head, four times the partition:
    // the second wave reads them again from DRAM: (Q + 2 (K + V)) / (Q + K + V) = 5/3.
    CHECK(dram_over_compulsory(8192) == Approx(5.0 / 3.0).epsilon(0.05));
}

TEST_CASE("timeline: grid order: sequence-major runs many heads' blocks together, head-major one head's",
          "[scenarios][timeline]") {
    auto dram = [](const char* order) {
        scenarios::Scenario s = scenarios::default_scenario();
        scenarios::apply_settings(s, {"hardware=H100-SXM", "batch=1", "heads=16", "seq_len=2048",
                                      "head_dim=128", "numerics=false", "algorithms=flash2", "l2=true",
                                      "l2_bytes=8388608", "sm_count=16", std::string("grid_order=") + order});
        const auto r = scenarios::run_scenario(s);
        return r.runs.at(0).traffic.dram_read_bytes;
    };
    // 16 heads x 16 Q blocks on 16 SMs, 32 blocks at once. Head-major: two heads' blocks in flight, each
    // head's K/V (1 MiB) read by its 16 blocks side by side, within the 4 MiB partition: compulsory.
    // Sequence-major: Q blocks b and b + 1 of all 16 heads together, so each wave streams all 16 heads'
    // K/V (16 MiB, four partitions) and the next wave reads them again.
    const std::int64_t head = dram("head-major"), seq = dram("sequence-major");
    const std::int64_t compulsory = 3LL * 16 * 2048 * 128 * 2;
    CHECK(head < compulsory * 11 / 10);
    CHECK(seq > 4 * head);
}

TEST_CASE("timeline: FlashAttention-2 over FlashAttention with few heads: its blocks split the sequence",
          "[scenarios][timeline]") {
    // One head of N = 4096 on an A100: FA1 runs one thread block for the head (one SM busy), FA2 one
    // per Q block (32 of 108 SMs).
    scenarios::Scenario s = scenarios::default_scenario();
    scenarios::apply_settings(
        s, {"batch=1", "heads=1", "seq_len=4096", "numerics=false", "algorithms=flash,flash2"});
    const auto r = scenarios::run_scenario(s);
    const auto* fa1 = r.find("flash", kernels::Pass::forward);
    const auto* fa2 = r.find("flash2", kernels::Pass::forward);
    REQUIRE(fa1 != nullptr);
    REQUIRE(fa2 != nullptr);
    CHECK(fa1->timeline.phases.at(0).blocks == 1);
    CHECK(fa2->timeline.phases.at(0).blocks == 32);
    CHECK(fa2->timeline.phases.at(0).active_sms == 32);
    CHECK(fa1->cost.total_s > 4 * fa2->cost.total_s);
}

TEST_CASE("timeline: JSON: traffic, tflops, timeline agents and bound on every run",
          "[scenarios][timeline][report]") {
    const auto r = scenarios::run_scenario(small());
    const auto j = scenarios::to_json(r);
    CHECK(j.at("scenario").at("schedule") == "auto");
    CHECK(j.at("scenario").at("pipeline_stages") == 2);
    CHECK(j.at("scenario").at("grid_order") == "head-major");
    CHECK(j.at("scenario").at("l2") == false);
    for (const auto& run : j.at("runs")) {
        for (const char* k : {"sm_load_bytes", "sm_store_bytes", "l2_read_bytes", "l2_write_bytes",
                              "dram_read_bytes", "dram_write_bytes"}) {
            CHECK(run.at("traffic").at(k).get<std::int64_t>() >= 0);
        }
        CHECK(run.at("tflops").get<double>() > 0);
        CHECK(run.at("predicted_ms").get<double>() > 0);
        const auto& agents = run.at("timeline").at("agents");
        for (const char* a : {"copy", "tensor", "sfu", "fma", "smem", "l2", "dram"}) {
            CHECK(agents.at(a).get<double>() >= 0);
            CHECK(agents.at(a).get<double>() <= 1.0 + 1e-9);
        }
        const std::string bound = run.at("timeline").at("bound");
        CHECK(agents.at(bound).get<double>() > 0);
        CHECK(run.at("timeline").at("phases").size() > 0);
        // predicted_ms is the timeline's; the paper's roofline stays beside it.
        CHECK(run.at("paper_predicted_ms").get<double>() > 0);
    }
}

TEST_CASE("timeline: a recorded trace's events carry their agent, start and end", "[scenarios][timeline]") {
    scenarios::Scenario s = small({"pass=forward"});
    scenarios::RunControls c;
    c.trace = true;
    const auto r = scenarios::run_scenario(s, c);
    for (const auto& run : r.runs) {
        INFO(run.key());
        REQUIRE(run.trace != nullptr);
        std::int64_t placed = 0;
        std::map<std::pair<std::int32_t, std::int64_t>, double> last_compute_end;
        for (const auto& e : run.trace->events()) {
            if (e.op != sim::Op::Load && e.op != sim::Op::Store && e.op != sim::Op::Compute) {
                CHECK(e.agent == -1);
                continue;
            }
            ++placed;
            REQUIRE(e.agent >= 0);
            CHECK(e.agent < static_cast<std::int8_t>(sim::kAgentCount));
            CHECK(e.start_s >= 0);
            CHECK(e.end_s >= e.start_s);
            CHECK(e.end_s <= run.cost.total_s * 1.01);
            // Loads and stores run on the copy engine; a GEMM's longest part is the tensor cores'.
            if (e.op != sim::Op::Compute) CHECK(e.agent == static_cast<std::int8_t>(sim::Agent::copy));
            // The synchronous schedule: a block's arithmetic runs in program order, one op after another.
            if (e.op == sim::Op::Compute) {
                auto& prev = last_compute_end[{e.phase, e.block}];
                CHECK(e.start_s >= prev - 1e-12);
                prev = e.end_s;
            }
        }
        CHECK(placed > 0);
    }
}
