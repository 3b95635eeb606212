#pragma once
// Internal to the scenarios library: the TOML side of the key table (keys.cpp).
#include <toml++/toml.h>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>

#include "scenarios/scenario.h"

namespace tilesim::scenarios {

// Applies a TOML value to `key`, checking its type. Throws ScenarioError.
void apply_toml(Scenario& s, std::string_view key, const toml::node& node);

// Reads all of `in`, refusing more than `max_bytes` (an endless stream such as /dev/zero is refused
// once it has sent that much). Throws ScenarioError naming `path` and `what`.
std::string read_bounded(std::istream& in, std::int64_t max_bytes, const std::string& path,
                         const std::string& what);

// Parses the JSON text of a FlexAttention BlockMask file (load_mask_file reads it, the fuzzer gives it
// directly). Throws ScenarioError naming `path`.
void parse_mask_json(MaskSpec& spec, std::string_view text, const std::string& path);
// Checks the decoding keys (page_size, page_order, kv_splits) against the scenario's algorithms
// (validate_decode.cpp); validate() calls it last. Throws ScenarioError.
void validate_decoding(const Scenario& s);

}  // namespace tilesim::scenarios
