#pragma once
// The one table of algorithm definitions (kernels/algorithms/table.cpp): it feeds the CLI, the report,
// the GUI, the sweeps, the tests and the CUDA comparison. An algorithm's key names a family: its
// forward and its backward are two definitions with the same key.
#include <string>
#include <string_view>
#include <vector>

#include "kernels/algorithm.h"

namespace tilesim::kernels {

// Every definition, in display order.
const std::vector<const AlgorithmDef*>& definitions();
// The definition of `key` for `pass`, or null.
const AlgorithmDef* find_definition(std::string_view key, Pass pass);
// The distinct keys, in table order ("standard", "flash", "flash2", ...).
const std::vector<std::string_view>& algorithm_key_list();
bool is_algorithm_key(std::string_view key);
std::string algorithm_keys();  // "standard, flash, flash2"
// Position of `key` in algorithm_key_list() (a stable index for colours and ordering), or -1.
int key_index(std::string_view key);

}  // namespace tilesim::kernels
