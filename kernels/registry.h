#pragma once
// The one list of algorithms: it feeds the CLI, the GUI dropdown and the tests.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/problem.h"

namespace tilesim::kernels {

struct AlgorithmInfo {
    AlgorithmId id;
    std::string_view key;           // "standard", "flash", "flash2": CLI, JSON, scenario files
    std::string_view display_name;  // "FlashAttention (Algorithm 1)"
    std::string_view description;   // one line
    std::string_view theory;        // the paper's Theta() bound on HBM accesses
};

const std::vector<AlgorithmInfo>& algorithms();
const AlgorithmInfo& info(AlgorithmId id);
std::optional<AlgorithmId> find_algorithm(std::string_view key);
std::string algorithm_keys();  // "standard, flash, flash2"

}  // namespace tilesim::kernels
