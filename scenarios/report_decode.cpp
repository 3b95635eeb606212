// The decoding side of the reports (report.h): what a split-KV, paged or packed run adds to the JSON
// and to the table's notes, and, for any run, thread blocks against SMs and memory-boundness in words.
// Nothing here names an algorithm: it reads the definitions' flags and the runs' counts.
#include <fmt/format.h>

#include "kernels/paging.h"
#include "scenarios/report.h"

namespace tilesim::scenarios {

using nlohmann::json;
using sim::Level;

namespace {

struct CacheFacts {
    kernels::PageGeometry g;
    std::int64_t slot_bytes = 0;  // one token's K and V over the batch's sequences and KV heads
};
CacheFacts cache_facts(const Scenario& s) {
    const auto& p = s.problem;
    CacheFacts f;
    f.g = kernels::page_geometry(p);
    f.slot_bytes = 2 * p.batch * p.kv_heads * p.d * static_cast<std::int64_t>(sim::dtype_bytes(p.dtype));
    return f;
}

std::string percent(double x) {
    return fmt::format("{:.3g}%", 100.0 * x);
}

}  // namespace

void add_decode_keys(json& j, const Scenario& s) {
    j["page_size"] = s.problem.page_size;
    j["page_order"] = std::string(kernels::page_order_name(s.problem.page_order));
    j["kv_splits"] = s.problem.kv_splits;
}

json decode_json(const AlgorithmRun& r, const Scenario& s) {
    const auto& def = *r.def;
    if (!def.splits_kv && !def.paged_kv && !def.packs_gqa) return nullptr;
    const auto& p = s.problem;
    const CacheFacts c = cache_facts(s);
    const bool paged = def.paged_kv && c.g.paged();
    json j{{"splits", r.tiling.splits},
           {"splits_note", r.tiling.splits_note},
           {"query_heads_per_thread_block", r.query_heads_per_unit},
           {"page_size", paged ? c.g.page_size : 0},
           {"page_order",
            std::string(kernels::page_order_name(paged ? p.page_order : kernels::PageOrder::contiguous))},
           {"pages", paged ? c.g.pages : 0},
           {"last_page_len", paged ? c.g.last_page_len : 0},
           {"wasted_slots", paged ? c.g.wasted_slots : 0},
           {"wasted_bytes", paged ? c.g.wasted_slots * c.slot_bytes : 0},
           {"cache_bytes", c.g.pool_rows(p.N_kv) * c.slot_bytes},
           {"page_table_bytes", r.total.at(Level::HBM, sim::Tensor::PT).read_bytes},
           {"tile_moves", r.total.transfers}};
    return j;
}

std::string decode_problem_text(const Scenario& s) {
    std::string out;
    if (s.problem.page_size > 0) {
        out += fmt::format(", KV cache in {}-token pages ({})", s.problem.page_size,
                           kernels::page_order_name(s.problem.page_order));
    }
    if (s.problem.kv_splits > 0) out += fmt::format(", kv_splits = {}", s.problem.kv_splits);
    return out;
}

std::string decode_notes(const AlgorithmRun& r, const Scenario& s) {
    if (!r.fit.ok) return "";
    const auto& def = *r.def;
    const auto& p = s.problem;
    const auto& hw = s.hardware;
    const std::string who = fmt::format("{} {}", r.key(), kernels::pass_name(r.pass()));
    std::string out;
    if (def.splits_kv) out += fmt::format("  {}: {}\n", who, r.tiling.splits_note);
    if (r.query_heads_per_unit > 1) {
        out += fmt::format(
            "  {}: packs the {} query heads of each KV group into one Q tile (FA3's pack_gqa): {} units of "
            "{} "
            "query rows, K and V read once per KV head\n",
            who, r.query_heads_per_unit, r.units, r.query_heads_per_unit * p.N_q);
    }
    const CacheFacts c = cache_facts(s);
    if (def.paged_kv && c.g.paged()) {
        const auto& g = c.g;
        out += fmt::format(
            "  {}: paged KV cache: {}-token pages ({}), {} per sequence, the last holding {} of {}: {} "
            "slot(s) "
            "wasted per sequence ({} of the allocated cache, {} over {} sequence(s) x {} KV head(s)); "
            "page-table reads {}; {} tile moves in all (the gather: one per page a K/V block spans)\n",
            who, g.page_size, kernels::page_order_name(p.page_order), g.pages, g.last_page_len, g.page_size,
            g.wasted_slots,
            percent(static_cast<double>(g.wasted_slots) / static_cast<double>(g.pages * g.page_size)),
            human_bytes(static_cast<double>(g.wasted_slots * c.slot_bytes)), p.batch, p.kv_heads,
            human_bytes(static_cast<double>(r.total.at(Level::HBM, sim::Tensor::PT).read_bytes)), r.total.transfers);
    }
    // Thread blocks against SMs: a pass with fewer blocks than SMs cannot draw the whole bandwidth (said
    // for the passes that take a tenth of the run's time or more).
    for (std::size_t k = 0; k < r.cost.phases.size() && k < r.phases.size(); ++k) {
        const auto& ph = r.cost.phases[k];
        if (ph.thread_blocks >= hw.sm_count || r.phases[k].counters.at(Level::HBM).total_bytes() == 0 ||
            ph.time_s < 0.1 * r.cost.total_s)
            continue;
        out += fmt::format(
            "  {}: '{}' runs {} thread block(s) on {} SMs: {} SMs busy, {} of the HBM bandwidth reached "
            "({}-bound)\n",
            who, ph.name, ph.thread_blocks, hw.sm_count, ph.thread_blocks, percent(ph.hbm_occupancy),
            ph.bound);
    }
    // Grouped-query attention without packing: the L2 serves the repeats of heads in flight together.
    const std::int64_t g = p.kv_heads > 0 ? p.heads / p.kv_heads : 1;
    if (g > 1 && r.query_heads_per_unit == 1 && r.total.at(Level::HBM, sim::Tensor::K).read_bytes > 0) {
        bool together = !r.dram.phases.empty();
        for (const auto& ph : r.dram.phases) together = together && ph.group_fetches == 1;
        out +=
            fmt::format("  {}: each of the {} query heads of a KV group reads its K and V{}\n", who, g,
                        together ? "; they run together, so DRAM est counts K and V once per KV head (the L2 "
                                   "serves the other heads)"
                                 : "; not all of a group's heads run at once, so DRAM sees K and V more than "
                                   "once per KV head");
    }
    // A decode step in words: how many flops each byte buys against the machine's ridge point.
    if (p.N_q < p.N_kv && r.dram.total_bytes() > 0 && hw.hbm_bytes_per_s > 0) {
        const double intensity =
            static_cast<double>(r.total.flops()) / static_cast<double>(r.dram.total_bytes());
        const double ridge = hw.matmul_flops_per_s / hw.hbm_bytes_per_s;
        out += fmt::format(
            "  {}: {:.3g} FLOP per DRAM byte against the {}'s ridge of {:.0f} (matmul rate / HBM bandwidth): "
            "{}\n",
            who, intensity, s.hardware_name, ridge,
            intensity < ridge ? "memory-bound, the arithmetic waits on the bytes"
                              : "compute-bound, the bytes wait on the arithmetic");
    }
    return out;
}

}  // namespace tilesim::scenarios
