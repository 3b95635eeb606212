#include "sim/types.h"

namespace tilesim::sim {

namespace {
constexpr std::array<std::string_view, kTensorCount> kTensorNames = {
    "Q", "K", "V", "S", "P", "O", "l", "m", "L", "dO", "dQ", "dK", "dV", "dS", "dP", "D", "dQacc", "Oacc",
    "Lacc", "PT", "Mk"};
}

std::string_view level_name(Level level) {
    switch (level) {
        case Level::HBM:
            return "HBM";
        case Level::L2:
            return "L2";
        case Level::SRAM:
            return "SRAM";
    }
    return "?";
}

std::string_view tensor_name(Tensor tensor) {
    return kTensorNames.at(static_cast<std::size_t>(tensor));
}

std::optional<Tensor> parse_tensor(std::string_view text) {
    for (std::size_t i = 0; i < kTensorCount; ++i) {
        if (kTensorNames[i] == text) return static_cast<Tensor>(i);
    }
    return std::nullopt;
}

std::string_view dtype_name(Dtype dtype) {
    switch (dtype) {
        case Dtype::fp16:
            return "fp16";
        case Dtype::bf16:
            return "bf16";
        case Dtype::fp32:
            return "fp32";
        case Dtype::fp64:
            return "fp64";
        case Dtype::fp8e4m3:
            return "fp8e4m3";
        case Dtype::fp8e5m2:
            return "fp8e5m2";
    }
    return "?";
}

std::optional<Dtype> parse_dtype(std::string_view text) {
    for (Dtype d : kDtypes) {
        if (dtype_name(d) == text) return d;
    }
    return std::nullopt;
}

std::size_t dtype_bytes(Dtype dtype) {
    switch (dtype) {
        case Dtype::fp16:
        case Dtype::bf16:
            return 2;
        case Dtype::fp32:
            return 4;
        case Dtype::fp64:
            return 8;
        case Dtype::fp8e4m3:
        case Dtype::fp8e5m2:
            return 1;
    }
    return 0;
}

}  // namespace tilesim::sim
