#pragma once
// What the GUI asks of the definition table (kernels/registry.h), in one place: which keys can run
// a scenario, what an algorithm is called, which one to race it against. Nothing here names an
// algorithm; everything is a question to the table.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/algorithm.h"
#include "scenarios/scenario.h"

namespace tilesim::viz {

// The keys that have a definition for every pass the scenario runs, in table order.
std::vector<std::string> runnable_keys(const scenarios::Scenario& s);
// The key's first definition in the table (its forward, when it has one), or null.
const kernels::AlgorithmDef* first_definition(std::string_view key);
// The key's definition of `pass`, else its first one (for names and descriptions), or null.
const kernels::AlgorithmDef* definition_for(std::string_view key, kernels::Pass pass);
// "FlashAttention (Algorithm 1)": the first definition's name (the key itself when unknown).
std::string display_name(std::string_view key);
// The algorithm to race `focus` against: the table's baseline, or (when `focus` is the baseline) the
// first other key of `keys`; none when `keys` has no other.
std::optional<std::string> default_rival(std::string_view focus, const std::vector<std::string>& keys);

}  // namespace tilesim::viz
