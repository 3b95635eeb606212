// Validation of the decoding keys (page_size, page_order, kv_splits) against the algorithms a scenario
// runs: called by validate() once every key is applied, so the order of the keys in a file does not
// matter. Every failure is one line naming the key and the fix. Nothing here names an algorithm: it
// reads the definitions' flags (AlgorithmDef::paged_kv, splits_kv, packs_gqa).
#include <algorithm>
#include <string>
#include <vector>

#include "kernels/registry.h"
#include "kernels/tiling.h"
#include "scenarios/keys_internal.h"

namespace tilesim::scenarios {

namespace {

// The keys whose definitions have `flag`, for "choose from ..." in a message.
std::string keys_with(bool kernels::AlgorithmDef::*flag) {
    std::vector<std::string_view> keys;
    for (const auto* d : kernels::definitions()) {
        if (d->*flag && std::find(keys.begin(), keys.end(), d->key) == keys.end()) keys.push_back(d->key);
    }
    std::string out;
    for (auto k : keys) out += (out.empty() ? "" : ", ") + std::string(k);
    return out;
}

std::vector<const kernels::AlgorithmDef*> defs_of(const Scenario& s) {
    std::vector<const kernels::AlgorithmDef*> out;
    for (const auto& key : s.algorithms) {
        for (auto pass : passes_of(s)) {
            if (const auto* d = kernels::find_definition(key, pass)) out.push_back(d);
        }
    }
    return out;
}

}  // namespace

void validate_decoding(const Scenario& s) {
    const auto& p = s.problem;
    auto fail = [](const std::string& msg) { throw ScenarioError(msg); };
    const auto defs = defs_of(s);
    if (p.page_order == kernels::PageOrder::shuffled && p.page_size == 0) {
        fail(
            "key 'page_order': \"shuffled\" needs a paged KV cache; set page_size > 0 (0 = one contiguous "
            "cache)");
    }
    if (p.page_size > 0) {
        for (const auto* d : defs) {
            if (!d->paged_kv) {
                fail("key 'page_size': '" + std::string(d->key) +
                     "' reads a contiguous KV cache only; set page_size = "
                     "0 or run only " +
                     keys_with(&kernels::AlgorithmDef::paged_kv));
            }
        }
    }
    if (p.kv_splits > 0) {
        bool any = false;
        for (const auto* d : defs) {
            if (!d->splits_kv) continue;
            any = true;
            // The split count may not exceed the K/V blocks the definition's tiling makes.
            sim::FitStatus fit;
            const kernels::Tiling t =
                kernels::resolve_tiling(*d, kernels::unit_problem(*d, p), s.tiling, s.hardware, &fit);
            if (fit.ok && p.kv_splits > t.T_c) {
                fail("key 'kv_splits': " + std::to_string(p.kv_splits) + " splits but '" +
                     std::string(d->key) + "' has only " + std::to_string(t.T_c) +
                     " K/V block(s) (N_kv = " + std::to_string(p.N_kv) + ", B_c = " + std::to_string(t.B_c) +
                     "); set kv_splits <= " + std::to_string(t.T_c) + ", or 0 for FA2's heuristic");
            }
        }
        if (!any) {
            fail("key 'kv_splits': none of the scenario's algorithms splits the KV sequence; add " +
                 keys_with(&kernels::AlgorithmDef::splits_kv) + " or set kv_splits = 0");
        }
    }
    for (const auto* d : defs) {
        const kernels::Problem u = kernels::unit_problem(*d, p);
        if (u.N_q > (1 << 20)) {
            fail("keys 'seq_len_q' x 'heads' / 'kv_heads' = " + std::to_string(u.N_q) + ": '" +
                 std::string(d->key) +
                 "' packs a KV group's queries into one problem of that many rows, above the limit of "
                 "1048576");
        }
    }
}

}  // namespace tilesim::scenarios
