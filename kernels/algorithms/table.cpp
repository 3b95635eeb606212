// The table of algorithm definitions: one line per definition, in display order. Each name is the
// function in kernels/algorithms/<name>.cpp that returns the definition.
#include "kernels/registry.h"

#define TILESIM_ALGORITHMS(X) \
    X(standard_forward)       \
    X(flash_forward)          \
    X(flash2_forward)         \
    X(standard_backward)      \
    X(flash_backward)         \
    X(flash2_backward)        \
    X(decode_forward)         \
    X(flash_decoding_forward)

namespace tilesim::kernels {

namespace algorithms {
#define TILESIM_DECLARE(name) const AlgorithmDef& name();
TILESIM_ALGORITHMS(TILESIM_DECLARE)
#undef TILESIM_DECLARE
}  // namespace algorithms

const std::vector<const AlgorithmDef*>& definitions() {
#define TILESIM_ENTRY(name) &algorithms::name(),
    static const std::vector<const AlgorithmDef*> table = {TILESIM_ALGORITHMS(TILESIM_ENTRY)};
#undef TILESIM_ENTRY
    return table;
}

const AlgorithmDef* find_definition(std::string_view key, Pass pass) {
    for (const AlgorithmDef* d : definitions()) {
        if (d->key == key && d->pass == pass) return d;
    }
    return nullptr;
}

const std::vector<std::string_view>& algorithm_key_list() {
    static const std::vector<std::string_view> keys = [] {
        std::vector<std::string_view> out;
        for (const AlgorithmDef* d : definitions()) {
            bool seen = false;
            for (auto k : out) seen = seen || k == d->key;
            if (!seen) out.push_back(d->key);
        }
        return out;
    }();
    return keys;
}

bool is_algorithm_key(std::string_view key) {
    return key_index(key) >= 0;
}

int key_index(std::string_view key) {
    const auto& keys = algorithm_key_list();
    for (std::size_t k = 0; k < keys.size(); ++k) {
        if (keys[k] == key) return static_cast<int>(k);
    }
    return -1;
}

std::string algorithm_keys() {
    std::string out;
    for (auto k : algorithm_key_list()) {
        if (!out.empty()) out += ", ";
        out += k;
    }
    return out;
}

}  // namespace tilesim::kernels
