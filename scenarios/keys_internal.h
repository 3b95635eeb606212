#pragma once
// Internal to the scenarios library: the TOML side of the key table (keys.cpp).
#include <toml++/toml.h>
#include <string_view>

#include "scenarios/scenario.h"

namespace tilesim::scenarios {

// Applies a TOML value to `key`, checking its type. Throws ScenarioError.
void apply_toml(Scenario& s, std::string_view key, const toml::node& node);

// Checks the decoding keys (page_size, page_order, kv_splits) against the scenario's algorithms
// (validate_decode.cpp); validate() calls it last. Throws ScenarioError.
void validate_decoding(const Scenario& s);

}  // namespace tilesim::scenarios
