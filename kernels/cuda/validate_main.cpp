// tilesim-cuda: runs the model's attention problems on a real GPU and sets the two side by side.
//
//   tilesim-cuda validate [SCENARIO] [--set key=value]... [--csv FILE] [--runs N] [--warmup N]
//                         [--causal] [--all-blocks] [--check-heads N]
//   tilesim-cuda selftest [--only forward|backward|decode|hopper]
//                                  ragged N and causal cases of every kernel against the fp64 reference
//   tilesim-cuda profile [SCENARIO] [--set key=value]... [--model-csv FILE] [--causal]
//                                  one launch of each kernel for Nsight Compute (scripts/cuda/)
//   tilesim-cuda blocks            the compiled FlashAttention block sizes
//   tilesim-cuda backward [SCENARIO] [--set key=value]... [--causal] [--all-blocks] [--csv FILE]
//                                  standard and flash backward: checked, then fwd / bwd / fwd+bwd timed
//   tilesim-cuda hopper [SCENARIO] [--set key=value]... [--causal] [--csv FILE]
//                                  the Hopper forward progression (b)-(e) next to the mma.sync kernel
//   tilesim-cuda decode [--set key=value]... [--causal] [--csv FILE]
//                                  split-KV decoding (keys: batch heads kv_heads q_len seq_len head_dim
//                                  dtype page_size shuffled splits check_heads)
//   tilesim-cuda bandwidth         device-to-device copy rate
//
// Exit status: 0 success, 1 a check failed, 2 bad input or a CUDA error (message on stderr).
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "kernels/cuda/commands.h"
#include "kernels/cuda/cuda_backend.h"

namespace {

using tilesim::kernels::cuda::CommandOptions;

constexpr const char* kUsage =
    "usage: tilesim-cuda validate [SCENARIO] [--set key=value]... [--csv FILE] [--runs N] [--warmup N]\n"
    "                             [--causal] [--all-blocks] [--check-heads N]\n"
    "       tilesim-cuda selftest [--only forward|backward|decode|hopper]\n"
    "       tilesim-cuda profile [SCENARIO] [--set key=value]... [--model-csv FILE] [--causal]\n"
    "       tilesim-cuda blocks\n"
    "       tilesim-cuda backward [SCENARIO] [--set key=value]... [--causal] [--all-blocks] [--csv FILE]\n"
    "       tilesim-cuda hopper [SCENARIO] [--set key=value]... [--causal] [--csv FILE]\n"
    "       tilesim-cuda decode [--set key=value]... [--causal] [--csv FILE]\n"
    "       tilesim-cuda bandwidth\n"
    "SCENARIO is a TOML file or a built-in id; without one, the default scenario on the H100-SXM preset.\n"
    "Keys for --set: batch, heads, seq_len, head_dim, dtype, hardware, block_rows, block_cols, extra_passes, "
    "...\n";

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

int parse_int(std::string_view flag, const std::string& text, int lo, int hi) {
    std::size_t used = 0;
    long v = 0;
    try {
        v = std::stol(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || v < lo || v > hi) {
        throw UsageError(std::string(flag) + " needs an integer in [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "], got '" + text + "'");
    }
    return static_cast<int>(v);
}

CommandOptions parse(int argc, char** argv) {
    if (argc < 2) throw UsageError("missing command");
    CommandOptions o;
    o.command = argv[1];
    if (o.command != "validate" && o.command != "selftest" && o.command != "profile" && o.command != "blocks" &&
        o.command != "backward" && o.command != "hopper" && o.command != "decode" && o.command != "bandwidth") {
        throw UsageError("unknown command '" + o.command + "'");
    }
    for (int k = 2; k < argc; ++k) {
        const std::string a = argv[k];
        auto value = [&](std::string_view flag) -> std::string {
            if (k + 1 >= argc) throw UsageError(std::string(flag) + " needs a value");
            return argv[++k];
        };
        if (a == "--set") {
            o.settings.push_back(value(a));
        } else if (a.rfind("--set=", 0) == 0) {
            o.settings.push_back(a.substr(6));
        } else if (a == "--csv") {
            o.csv = value(a);
        } else if (a == "--model-csv") {
            o.model_csv = value(a);
        } else if (a == "--runs") {
            o.runs = parse_int(a, value(a), 20, 100000);  // the median of at least 20 runs
        } else if (a == "--warmup") {
            o.warmup = parse_int(a, value(a), 1, 100000);
        } else if (a == "--check-heads") {
            o.check_heads = parse_int(a, value(a), 0, 1 << 20);
        } else if (a == "--only") {
            o.only = value(a);
        } else if (a == "--causal") {
            o.causal = true;
        } else if (a == "--all-blocks") {
            o.all_blocks = true;
        } else if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (!a.empty() && a[0] == '-') {
            throw UsageError("unknown option '" + a + "'");
        } else if (!o.scenario) {
            o.scenario = a;
        } else {
            throw UsageError("more than one scenario given ('" + *o.scenario + "' and '" + a + "')");
        }
    }
    if ((o.command == "selftest" || o.command == "blocks" || o.command == "bandwidth") &&
        (o.scenario || !o.settings.empty())) {
        throw UsageError(o.command + " takes no scenario or --set");
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    // Line-buffered even into a file: a run killed by a timeout keeps every line it printed.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    using namespace tilesim::kernels::cuda;
    try {
        const CommandOptions o = parse(argc, argv);
        if (o.command == "validate") return run_validate(o);
        if (o.command == "selftest") return run_selftest(o);
        if (o.command == "profile") return run_profile(o);
        if (o.command == "backward") return run_backward(o);
        if (o.command == "hopper") return run_hopper(o);
        if (o.command == "decode") return run_decode(o);
        if (o.command == "bandwidth") return run_bandwidth();
        return run_blocks();
    } catch (const UsageError& e) {
        std::fprintf(stderr, "tilesim-cuda: %s\n%s", e.what(), kUsage);
    } catch (const tilesim::scenarios::ScenarioError& e) {
        std::fprintf(stderr, "tilesim-cuda: %s\n", e.what());
    } catch (const CudaError& e) {
        std::fprintf(stderr, "tilesim-cuda: %s\n", e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tilesim-cuda: %s\n", e.what());
    }
    return 2;
}
