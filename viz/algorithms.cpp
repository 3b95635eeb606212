#include "viz/algorithms.h"

#include <algorithm>

#include "kernels/registry.h"

namespace tilesim::viz {

std::vector<std::string> runnable_keys(const scenarios::Scenario& s) {
    std::vector<std::string> out;
    const auto passes = scenarios::passes_of(s);
    bool masked = false;
    try {
        masked = scenarios::problem_of(s).mask.active();
    } catch (const std::exception&) {
        // A mask that does not fit the sizes: validation reports it; keep every key here.
    }
    for (auto key : kernels::algorithm_key_list()) {
        // Every pass must exist, and the definition must take what the scenario asks for (a paged
        // cache, a mask), as validation requires.
        const bool all = std::all_of(passes.begin(), passes.end(), [&](kernels::Pass p) {
            const auto* d = kernels::find_definition(key, p);
            return d != nullptr && (s.problem.page_size == 0 || d->paged_kv) && (!masked || d->masks);
        });
        if (all) out.emplace_back(key);
    }
    return out;
}

const kernels::AlgorithmDef* first_definition(std::string_view key) {
    for (const auto* d : kernels::definitions()) {
        if (d->key == key) return d;
    }
    return nullptr;
}

const kernels::AlgorithmDef* definition_for(std::string_view key, kernels::Pass pass) {
    const auto* d = kernels::find_definition(key, pass);
    return d != nullptr ? d : first_definition(key);
}

std::string display_name(std::string_view key) {
    const auto* d = first_definition(key);
    return std::string(d != nullptr ? d->name : key);
}

std::optional<std::string> default_rival(std::string_view focus, const std::vector<std::string>& keys) {
    for (const auto& k : keys) {
        const auto* d = first_definition(k);
        if (k != focus && d != nullptr && d->baseline) return k;
    }
    for (const auto& k : keys) {
        if (k != focus) return k;
    }
    return std::nullopt;
}

}  // namespace tilesim::viz
