#include "kernels/registry.h"

namespace tilesim::kernels {

const std::vector<AlgorithmInfo>& algorithms() {
    static const std::vector<AlgorithmInfo> list = {
        {AlgorithmId::standard, "standard", "Standard attention (Algorithm 0)",
         "S = QK^T and P = softmax(S) written to and read back from HBM: three passes", "Theta(Nd + N^2)"},
        {AlgorithmId::flash, "flash", "FlashAttention (Algorithm 1)",
         "K/V blocks outer, Q blocks inner, online softmax; O_i, l_i, m_i round-trip HBM per K/V block",
         "Theta(N^2 d^2 / M)"},
        {AlgorithmId::flash2, "flash2", "FlashAttention-2 loop order",
         "Q blocks outer and resident, K/V blocks inner, deferred rescale; writes O and L once",
         "Theta(N^2 d^2 / M)"},
    };
    return list;
}

const AlgorithmInfo& info(AlgorithmId id) {
    for (const auto& a : algorithms()) {
        if (a.id == id) return a;
    }
    return algorithms().front();
}

std::optional<AlgorithmId> find_algorithm(std::string_view key) {
    for (const auto& a : algorithms()) {
        if (a.key == key) return a.id;
    }
    return std::nullopt;
}

std::string algorithm_keys() {
    std::string out;
    for (const auto& a : algorithms()) {
        if (!out.empty()) out += ", ";
        out += a.key;
    }
    return out;
}

}  // namespace tilesim::kernels
