// The key table: every scenario key, its type, its documentation and how it applies.
// TOML files, --set overrides, the GUI and docs all go through it.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <iomanip>
#include <sstream>

#include "kernels/registry.h"
#include "scenarios/keys_internal.h"
#include "scenarios/limits.h"
#include "scenarios/scenario.h"

namespace tilesim::scenarios {

namespace {

enum class KType { Int, Float, String, Bool, StringList };

// A value as it arrives: typed from TOML, or text from the command line (converted by type).
struct Value {
    std::int64_t i = 0;
    double f = 0;
    std::string s;
    bool b = false;
    std::vector<std::string> list;
};

struct KeyDef {
    std::string_view key;
    KType type;
    std::string_view doc;
    std::function<void(Scenario&, const Value&)> apply;
};

[[noreturn]] void bad(std::string_view key, const std::string& what) {
    throw ScenarioError("key '" + std::string(key) + "': " + what);
}

std::int64_t positive(std::string_view key, std::int64_t v, std::string_view example) {
    if (v < 1)
        bad(key,
            "must be a positive integer, got " + std::to_string(v) + " (e.g. " + std::string(example) + ")");
    return v;
}

// A size with an upper bound: every product the model forms from bounded sizes fits in 64 bits.
std::int64_t bounded(std::string_view key, std::int64_t v, std::int64_t hi, std::string_view example) {
    positive(key, v, example);
    if (v > hi) {
        bad(key, std::to_string(v) + " is above the limit of " + std::to_string(hi) + " (e.g. " +
                     std::string(example) + ")");
    }
    return v;
}

double positive_rate(std::string_view key, double v) {
    if (!(v > 0) || !std::isfinite(v)) {
        std::ostringstream os;
        os << "must be a positive number, got " << v;
        bad(key, os.str());
    }
    return v;
}

// A time override in nanoseconds (0 allowed: the ideal), in seconds.
double seconds_from_ns(std::string_view key, double ns) {
    if (!(ns >= 0 && ns <= 1e6)) bad(key, "must be 0 .. 1e6 ns (1 ms), a physical range");
    return ns * 1e-9;
}

// A rate within a physical range, so that scaling to bytes or FLOPs per second and the roofline's
// divisions give finite, meaningful times (1e308 GB/s overflowed to "inf PB/s"; 1e-310 predicted 1e304 s).
double rate(std::string_view key, double v, double lo, double hi, std::string_view unit) {
    positive_rate(key, v);
    if (v < lo || v > hi) {
        std::ostringstream os;
        os << v << " " << unit << " is outside the physical range " << lo << " .. " << hi << " " << unit;
        bad(key, os.str());
    }
    return v;
}

std::int64_t block(std::string_view key, std::int64_t v) {
    if (v < 0) {
        bad(key, "must be 0 or 'auto' (the paper's rule) or a positive block size, got " + std::to_string(v));
    }
    if (v > limits::kMaxBlock) {
        bad(key, std::to_string(v) + " is above the limit of " + std::to_string(limits::kMaxBlock) +
                     " (blocks longer than the sequence are clamped to it anyway)");
    }
    return v;
}

// Text shown in reports and the GUI: valid UTF-8 without control characters, so a name cannot move
// the terminal's cursor or break a table, a CSV row or the JSON encoder.
void check_text(std::string_view key, std::string_view text) {
    for (std::size_t k = 0; k < text.size();) {
        const auto c = static_cast<unsigned char>(text[k]);
        if (c < 0x20 || c == 0x7F) {
            std::ostringstream os;
            os << "contains the control character U+" << std::hex << std::uppercase << std::setw(4)
               << std::setfill('0') << static_cast<int>(c) << std::dec << " at byte " << k
               << "; write printable text on one line";
            bad(key, os.str());
        }
        // UTF-8: the lead byte says how many continuation bytes (10xxxxxx) follow.
        const std::size_t n =
            c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        bool ok = n > 0 && k + n <= text.size();
        for (std::size_t m = 1; ok && m < n; ++m) ok = (static_cast<unsigned char>(text[k + m]) >> 6) == 0x2;
        if (!ok) bad(key, "is not valid UTF-8 text (byte " + std::to_string(k) + "); write it in UTF-8");
        k += n;
    }
}

std::vector<PublishedFigure> parse_published(const std::vector<std::string>& items) {
    std::vector<PublishedFigure> out;
    for (const auto& item : items) {
        const auto colon = item.find(':');
        const std::string example = " (e.g. \"standard: hbm_gb=40.3 runtime_ms=41.7\")";
        if (colon == std::string::npos || colon == 0) bad("published", "'" + item + "' needs KEY: metric=value" + example);
        PublishedFigure f;
        f.algorithm = item.substr(0, colon);
        if (!kernels::is_algorithm_key(f.algorithm)) {
            bad("published", "unknown algorithm '" + f.algorithm + "'; choose from " + kernels::algorithm_keys());
        }
        std::istringstream rest(item.substr(colon + 1));
        std::string kv;
        while (rest >> kv) {
            const auto eq = kv.find('=');
            const std::string metric = kv.substr(0, eq);
            if (eq == std::string::npos || (metric != "hbm_gb" && metric != "runtime_ms" && metric != "gflops")) {
                bad("published", "'" + kv + "': expected hbm_gb=, runtime_ms= or gflops= followed by a number" +
                                     example);
            }
            char* end = nullptr;
            const std::string num = kv.substr(eq + 1);
            const double x = std::strtod(num.c_str(), &end);
            if (num.empty() || *end != '\0' || !(x > 0) || !std::isfinite(x)) {
                bad("published", "'" + kv + "': the value must be a positive number");
            }
            f.metrics.emplace_back(metric, x);
        }
        if (f.metrics.empty()) bad("published", "'" + item + "' gives no metric" + example);
        out.push_back(std::move(f));
    }
    return out;
}

void set_mask(Scenario& s, const std::string& text) {
    MaskSpec spec;
    spec.pattern = s.mask.pattern;
    spec.density = s.mask.density;
    spec.block = s.mask.block;
    if (text == "none" || text == "causal") {
        spec.rule = text;
    } else if (text.rfind("sliding:", 0) == 0) {
        const std::string w = text.substr(8);
        std::int64_t v = 0;
        auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
        if (w.empty() || ec != std::errc() || ptr != w.data() + w.size() || v < 1 || v > limits::kMaxWindow) {
            bad("mask", "sliding:W needs a window W >= 1 (tokens, at most " +
                            std::to_string(limits::kMaxWindow) + "), got '" + w +
                            "' (e.g. mask = \"sliding:256\")");
        }
        spec.rule = "sliding";
        spec.window = v;
    } else if (text.rfind("file:", 0) == 0) {
        if (text.size() == 5) bad("mask", "file:PATH needs a path (e.g. mask = \"file:masks/doc.json\")");
        spec.rule = "file";
        load_mask_file(spec, text.substr(5));
    } else {
        bad("mask", "unknown mask '" + text + "'; choose none, causal, sliding:W or file:PATH");
    }
    s.mask = std::move(spec);
}

void set_hardware(Scenario& s, const std::string& name) {
    auto hw = sim::find_preset(name);
    if (!hw) bad("hardware", "unknown preset '" + name + "'; choose one of: " + sim::preset_names());
    s.hardware_name = name;
    s.hardware = *hw;
}

const std::vector<KeyDef>& table() {
    static const std::vector<KeyDef> keys = {
        {"name", KType::String, "Scenario name shown in reports",
         [](Scenario& s, const Value& v) { s.name = v.s; }},
        {"description", KType::String, "One line saying what the scenario shows",
         [](Scenario& s, const Value& v) { s.description = v.s; }},
        {"hardware", KType::String,
         "Hardware preset: A100-40GB, A100-80GB, H100-SXM, H200, RTX-4090, T4, classroom. Setting it resets "
         "earlier hardware overrides",
         [](Scenario& s, const Value& v) { set_hardware(s, v.s); }},
        {"batch", KType::Int, "Batch size B (>= 1)",
         [](Scenario& s, const Value& v) {
             s.problem.batch = bounded("batch", v.i, limits::kMaxBatch, "batch = 64");
         }},
        {"heads", KType::Int, "Attention (query) heads H (>= 1)",
         [](Scenario& s, const Value& v) {
             s.problem.heads = bounded("heads", v.i, limits::kMaxHeads, "heads = 16");
             if (!s.kv_heads_set) s.problem.kv_heads = s.problem.heads;
         }},
        {"kv_heads", KType::Int,
         "Key/value heads H_kv (divides heads; default = heads; fewer = grouped-query attention)",
         [](Scenario& s, const Value& v) {
             s.problem.kv_heads = bounded("kv_heads", v.i, limits::kMaxHeads, "kv_heads = 4");
             s.kv_heads_set = true;
         }},
        {"seq_len", KType::Int,
         "Sequence length N: keys and values N_kv, and queries unless seq_len_q is set (1 .. 1048576)",
         [](Scenario& s, const Value& v) {
             s.problem.N_kv = positive("seq_len", v.i, "seq_len = 1024");
             if (!s.seq_len_q_set) s.problem.N_q = s.problem.N_kv;
         }},
        {"seq_len_q", KType::Int, "Query length N_q (default = seq_len; 1 for decoding)",
         [](Scenario& s, const Value& v) {
             s.problem.N_q = positive("seq_len_q", v.i, "seq_len_q = 1");
             s.seq_len_q_set = true;
         }},
        {"page_size", KType::Int,
         "Paged KV cache (PagedAttention): tokens per page; 0 = one contiguous cache (decode, "
         "flash-decoding)",
         [](Scenario& s, const Value& v) {
             if (v.i < 0 || v.i > (1 << 20)) {
                 bad("page_size",
                     "must be 0 (a contiguous cache) or a page size of 1 .. 1048576 tokens, got " +
                         std::to_string(v.i) + " (e.g. page_size = 16)");
             }
             s.problem.page_size = v.i;
         }},
        {"page_order", KType::String,
         "Physical order of the cache's pages: \"contiguous\" or \"shuffled\" (a seeded permutation, as a "
         "server's allocator leaves them; needs page_size > 0; counts do not change, tile addresses do)",
         [](Scenario& s, const Value& v) {
             for (auto o : {kernels::PageOrder::contiguous, kernels::PageOrder::shuffled}) {
                 if (kernels::page_order_name(o) == v.s) {
                     s.problem.page_order = o;
                     return;
                 }
             }
             bad("page_order", "unknown order '" + v.s + "'; choose contiguous or shuffled");
         }},
        {"kv_splits", KType::Int,
         "Split-KV (flash-decoding): splits of the KV sequence, 1 .. 128 and at most the K/V blocks; 0 = "
         "FlashAttention-2's occupancy heuristic",
         [](Scenario& s, const Value& v) {
             if (v.i < 0 || v.i > 128) {
                 bad("kv_splits",
                     "must be 0 (FA2's heuristic) or a split count of 1 .. 128 (FA2's limit), got " +
                         std::to_string(v.i));
             }
             s.problem.kv_splits = v.i;
         }},
        {"pass", KType::String, "Which passes run: \"forward\", \"backward\" or \"forward+backward\"",
         [](Scenario& s, const Value& v) {
             for (auto ps : {kernels::Passes::forward, kernels::Passes::backward,
                             kernels::Passes::forward_backward}) {
                 if (kernels::passes_name(ps) == v.s) {
                     s.problem.passes = ps;
                     return;
                 }
             }
             bad("pass", "unknown pass '" + v.s + "'; choose forward, backward or forward+backward");
         }},
        {"mask", KType::String,
         "Attention mask: \"none\", \"causal\", \"sliding:W\" (a causal window of W keys) or \"file:PATH\" (a "
         "FlexAttention BlockMask as JSON, docs/masks.md)",
         [](Scenario& s, const Value& v) { set_mask(s, v.s); }},
        {"mask_pattern", KType::String,
         "A generated block-sparse layer, intersected with `mask`: \"\" (none), local, strided, dilated, random or "
         "document (equal documents)",
         [](Scenario& s, const Value& v) {
             if (!v.s.empty() && v.s != "document" &&
                 std::find(kernels::patterns().begin(), kernels::patterns().end(), v.s) == kernels::patterns().end()) {
                 bad("mask_pattern", "unknown pattern '" + v.s + "'; choose local, strided, dilated, random or document");
             }
             s.mask.pattern = v.s;
         }},
        {"mask_density", KType::Float,
         "Target fraction of blocks a generated pattern keeps (0 < s <= 1); documents: 1 / s documents",
         [](Scenario& s, const Value& v) {
             if (!(v.f >= limits::kMinMaskDensity && v.f <= 1)) {
                 std::ostringstream os;
                 os << "must be in (0, 1] and at least " << limits::kMinMaskDensity << ", got " << v.f;
                 bad("mask_density", os.str());
             }
             s.mask.density = v.f;
         }},
        {"mask_block", KType::Int, "Block size (tokens) of a generated block-sparse pattern (FlexAttention's default 128)",
         [](Scenario& s, const Value& v) {
             s.mask.block = bounded("mask_block", v.i, limits::kMaxBlock, "mask_block = 128");
         }},
        {"head_dim", KType::Int, "Head dimension d (1 .. 1024)",
         [](Scenario& s, const Value& v) { s.problem.d = positive("head_dim", v.i, "head_dim = 64"); }},
        {"dtype", KType::String,
         "Element type of Q, K, V, S, P, O and the gradients: fp16, bf16, fp32, fp64, fp8e4m3, fp8e5m2 (statistics "
         "and accumulators are fp32; with fp8, Q, K, V and dO are fp8 and what a kernel writes is bf16)",
         [](Scenario& s, const Value& v) {
             auto dt = sim::parse_dtype(v.s);
             if (!dt) bad("dtype", "unknown type '" + v.s + "'; choose fp16, bf16, fp32, fp64, fp8e4m3 or fp8e5m2");
             s.problem.dtype = *dt;
         }},
        {"rounding", KType::Bool,
         "Numerics emulate the storage formats: inputs, every HBM store and the GEMM operands converted on chip "
         "are rounded (false = fp32 arithmetic throughout)",
         [](Scenario& s, const Value& v) { s.rounding = v.b; }},
        {"inputs", KType::String,
         "Distribution of the random inputs: \"normal\" (N(0,1)) or \"outliers\" (N(0,1) + N(0,100) x "
         "Bernoulli(0.001), FlashAttention-3's Table 3)",
         [](Scenario& s, const Value& v) {
             auto d = kernels::parse_distribution(v.s);
             if (!d) bad("inputs", "unknown distribution '" + v.s + "'; choose normal or outliers");
             s.inputs = *d;
         }},
        {"fp8_scale", KType::String,
         "fp8 scaling: \"tensor\" (one scale amax/max per tensor), \"block\" (one per B_r x d or B_c x d tile "
         "block, FlashAttention-3's block quantisation), or a fixed positive number s (x_fp8 = x / s)",
         [](Scenario& s, const Value& v) {
             if (v.s == "tensor" || v.s == "block") {
                 s.quant.scale = v.s == "tensor" ? kernels::Fp8Scale::tensor : kernels::Fp8Scale::block;
                 return;
             }
             double x = 0;
             auto [ptr, ec] = std::from_chars(v.s.data(), v.s.data() + v.s.size(), x);
             if (v.s.empty() || ec != std::errc() || ptr != v.s.data() + v.s.size()) {
                 bad("fp8_scale", "'" + v.s + "' is neither tensor, block nor a number (e.g. fp8_scale = \"block\")");
             }
             if (!(x > 0) || !std::isfinite(x)) {
                 bad("fp8_scale", "a fixed scale must be a positive finite number, got '" + v.s +
                                      "' (x_fp8 = x / scale; or use \"tensor\" or \"block\")");
             }
             s.quant.scale = kernels::Fp8Scale::fixed;
             s.quant.fixed_scale = x;
         }},
        {"fp8_incoherent", KType::Bool,
         "FlashAttention-3's incoherent processing: Q and K times a random orthogonal Hadamard matrix before "
         "quantisation, which spreads outliers (needs head_dim a power of two)",
         [](Scenario& s, const Value& v) { s.quant.incoherent = v.b; }},
        {"block_rows", KType::Int, "B_r, rows of a Q block; 0 or \"auto\" = each algorithm's rule",
         [](Scenario& s, const Value& v) { s.tiling.B_r = block("block_rows", v.i); }},
        {"block_cols", KType::Int, "B_c, rows of a K/V block; 0 or \"auto\" = each algorithm's rule",
         [](Scenario& s, const Value& v) { s.tiling.B_c = block("block_cols", v.i); }},
        {"algorithms", KType::StringList, "Algorithms to run (keys of `tilesim list`)",
         [](Scenario& s, const Value& v) {
             std::vector<std::string> chosen;
             for (const auto& k : v.list) {
                 if (!kernels::is_algorithm_key(k))
                     bad("algorithms",
                         "unknown algorithm '" + k + "'; choose from " + kernels::algorithm_keys());
                 if (std::find(chosen.begin(), chosen.end(), k) != chosen.end())
                     bad("algorithms", "'" + k + "' is listed twice");
                 chosen.push_back(k);
             }
             if (chosen.empty()) bad("algorithms", "needs at least one of " + kernels::algorithm_keys());
             s.algorithms = chosen;
         }},
        {"numerics", KType::Bool,
         "Compute the outputs for real (O; dQ, dK, dV) and compare with the fp64 reference (false = "
         "count-only)",
         [](Scenario& s, const Value& v) { s.numerics = v.b; }},
        {"numerics_heads", KType::Int, "Heads on which numerics run (counts always cover all B*H heads)",
         [](Scenario& s, const Value& v) {
             s.numerics_heads = bounded("numerics_heads", v.i, limits::kMaxBatch * limits::kMaxHeads,
                                        "numerics_heads = 1");
         }},
        {"seed", KType::Int, "Seed of the random inputs (>= 0)",
         [](Scenario& s, const Value& v) {
             if (v.i < 0) bad("seed", "must be >= 0, got " + std::to_string(v.i));
             s.seed = static_cast<std::uint64_t>(v.i);
         }},
        {"extra_passes", KType::Int,
         "Standard attention: element-wise passes over S a framework's eager mode adds (scale, mask, "
         "dropout), 0..3, and their backward over dS",
         [](Scenario& s, const Value& v) {
             if (v.i < 0 || v.i > 3) bad("extra_passes", "must be 0..3, got " + std::to_string(v.i));
             s.extra_passes = v.i;
         }},
        {"published", KType::StringList,
         "Published figures to compare with, one per algorithm: \"KEY: hbm_gb=40.3 runtime_ms=41.7 "
         "gflops=66.6\" (for the sum of the passes run)",
         [](Scenario& s, const Value& v) { s.published = parse_published(v.list); }},
        {"published_source", KType::String, "Where the published figures come from",
         [](Scenario& s, const Value& v) { s.published_source = v.s; }},
        {"published_note", KType::String, "Why the model and the published figures may differ",
         [](Scenario& s, const Value& v) { s.published_note = v.s; }},
        {"sram_bytes", KType::Int,
         "Override: SRAM per thread block in bytes (the paper's M times the element size)",
         [](Scenario& s, const Value& v) {
             s.hardware.sram_bytes = positive("sram_bytes", v.i, "sram_bytes = 196608");
         }},
        {"l2_bytes", KType::Int, "Override: L2 size in bytes (0 = no L2)",
         [](Scenario& s, const Value& v) {
             if (v.i < 0) bad("l2_bytes", "must be >= 0, got " + std::to_string(v.i));
             if (v.i > limits::kMaxL2Bytes) {
                 bad("l2_bytes", std::to_string(v.i) + " is above the limit of " +
                                     std::to_string(limits::kMaxL2Bytes) + " (1 TiB)");
             }
             s.hardware.l2_bytes = v.i;
         }},
        {"sm_count", KType::Int, "Override: number of SMs",
         [](Scenario& s, const Value& v) {
             s.hardware.sm_count = bounded("sm_count", v.i, limits::kMaxSmCount, "sm_count = 108");
         }},
        {"hbm_gbps", KType::Float, "Override: HBM bandwidth in GB/s",
         [](Scenario& s, const Value& v) {
             s.hardware.hbm_bytes_per_s =
                 rate("hbm_gbps", v.f, limits::kMinGbps, limits::kMaxHbmGbps, "GB/s") * 1e9;
         }},
        {"sram_gbps", KType::Float, "Override: aggregate SRAM bandwidth in GB/s",
         [](Scenario& s, const Value& v) {
             s.hardware.sram_bytes_per_s =
                 rate("sram_gbps", v.f, limits::kMinGbps, limits::kMaxOnChipGbps, "GB/s") * 1e9;
         }},
        {"l2_gbps", KType::Float, "Override: aggregate L2 bandwidth in GB/s",
         [](Scenario& s, const Value& v) {
             s.hardware.l2_bytes_per_s =
                 rate("l2_gbps", v.f, limits::kMinGbps, limits::kMaxOnChipGbps, "GB/s") * 1e9;
         }},
        {"matmul_tflops", KType::Float, "Override: tensor-core matmul rate in TFLOP/s",
         [](Scenario& s, const Value& v) {
             s.hardware.matmul_flops_per_s =
                 rate("matmul_tflops", v.f, limits::kMinTflops, limits::kMaxTflops, "TFLOP/s") * 1e12;
         }},
        {"vector_tflops", KType::Float, "Override: fp32 non-matmul rate in TFLOP/s",
         [](Scenario& s, const Value& v) {
             s.hardware.vector_flops_per_s =
                 rate("vector_tflops", v.f, limits::kMinTflops, limits::kMaxTflops, "TFLOP/s") * 1e12;
         }},
        {"schedule", KType::String,
         "How thread blocks run (docs/timeline.md): \"auto\" (each algorithm's own kernel), \"paper\" (the "
         "two-level roofline sum), \"sync\", \"producer-consumer\", \"pingpong\", \"pipelined\", "
         "\"pingpong+pipelined\"; an algorithm that does not support it runs its own",
         [](Scenario& s, const Value& v) {
             if (v.s == "auto") {
                 s.schedule.reset();
                 return;
             }
             const auto sc = sim::parse_schedule(v.s);
             if (!sc) bad("schedule", "unknown schedule '" + v.s + "'; choose auto, " + sim::schedule_names(sim::all_schedules()));
             s.schedule = *sc;
         }},
        {"pipeline_stages", KType::Int,
         "SRAM stages of the copy ring (producer-consumer, pingpong, pipelined), 1..8; cut to what fits in SRAM",
         [](Scenario& s, const Value& v) {
             if (v.i < 1 || v.i > 8) bad("pipeline_stages", "must be 1..8, got " + std::to_string(v.i));
             s.pipeline_stages = v.i;
         }},
        {"grid_order", KType::String,
         "Which thread blocks run together: \"head-major\" (all blocks of a head, then the next: FA2's grid) or "
         "\"sequence-major\" (block i of every head, then block i + 1)",
         [](Scenario& s, const Value& v) {
             if (v.s == "head-major") {
                 s.grid_order = sim::GridOrder::head_major;
             } else if (v.s == "sequence-major") {
                 s.grid_order = sim::GridOrder::sequence_major;
             } else {
                 bad("grid_order", "unknown order '" + v.s + "'; choose head-major or sequence-major");
             }
         }},
        {"l2", KType::Bool,
         "Simulate the L2 line by line over every head's thread blocks (DRAM and L2 hits from it; "
         "false: DRAM from the estimate, docs/io-derivations.md)",
         [](Scenario& s, const Value& v) { s.l2 = v.b; }},
        {"mma", KType::String,
         "Tensor-core instruction: \"auto\" (sync kernels: the algorithm's own; the FA3 schedules: "
         "wgmma where the GPU has it), \"mma.sync\" or \"wgmma\"",
         [](Scenario& s, const Value& v) {
             if (v.s == "auto") {
                 s.mma.reset();
                 return;
             }
             const auto m = sim::parse_mma(v.s);
             if (!m) bad("mma", "unknown instruction '" + v.s + "'; choose auto, mma.sync or wgmma");
             s.mma = *m;
         }},
        {"mma_sync_tflops", KType::Float,
         "Override: the fp16 rate a kernel reaches with mma.sync, TFLOP/s (timeline)",
         [](Scenario& s, const Value& v) {
             s.hardware.mma_sync_flops_per_s = positive_rate("mma_sync_tflops", v.f) * 1e12;
         }},
        {"wgmma_tflops", KType::Float,
         "Override: the fp16 rate a kernel reaches with wgmma, TFLOP/s (timeline)",
         [](Scenario& s, const Value& v) {
             s.hardware.wgmma_flops_per_s = positive_rate("wgmma_tflops", v.f) * 1e12;
         }},
        {"sfu_tops", KType::Float, "Override: exponentials per second of the whole GPU, in T/s (timeline)",
         [](Scenario& s, const Value& v) {
             s.hardware.sfu_ops_per_s = positive_rate("sfu_tops", v.f) * 1e12;
         }},
        {"dram_achieved", KType::Float,
         "Override: the fraction of hbm_gbps a kernel moves, 0 < x <= 1 (timeline)",
         [](Scenario& s, const Value& v) {
             if (!(v.f > 0 && v.f <= 1)) bad("dram_achieved", "must be in (0, 1]");
             s.hardware.dram_achieved = v.f;
         }},
        {"memory_latency_ns", KType::Float,
         "Override: nanoseconds a synchronous load waits for its first byte (timeline; 0 allowed)",
         [](Scenario& s, const Value& v) {
             s.hardware.memory_latency_s = seconds_from_ns("memory_latency_ns", v.f);
         }},
        {"wgmma_wait_ns", KType::Float,
         "Override: nanoseconds the tensor cores idle inside a ping-pong turn when a warp group waits for "
         "one wgmma before issuing the next (timeline; 0 allowed: the ideal hand-off)",
         [](Scenario& s, const Value& v) { s.hardware.wgmma_wait_s = seconds_from_ns("wgmma_wait_ns", v.f); }},
        {"ring_wait_ns", KType::Float,
         "Override: nanoseconds a ping-pong warp group's mbarrier handshakes with the producer's ring add "
         "before each of its GEMM turns (timeline, wgmma kernels; 0: free handshakes)",
         [](Scenario& s, const Value& v) { s.hardware.ring_wait_s = seconds_from_ns("ring_wait_ns", v.f); }},
        {"wgmma_softmax_slowdown", KType::Float,
         "Override: how many times slower non-matmul arithmetic runs while the tensor cores run wgmma "
         "(timeline; 1: no contention)",
         [](Scenario& s, const Value& v) {
             if (!(v.f >= 1 && v.f <= 10)) bad("wgmma_softmax_slowdown", "must be 1 .. 10 (1: no contention)");
             s.hardware.wgmma_softmax_slowdown = v.f;
         }},
        {"serial_softmax", KType::Bool,
         "Override: a warp group's exponentials and FP32 work follow each other in its instruction stream "
         "(timeline, wgmma kernels)",
         [](Scenario& s, const Value& v) { s.hardware.warpgroup_serial_softmax = v.b; }},
        {"loaded_clock_ghz", KType::Float,
         "Override: the SM clock while wgmma keeps the tensor cores busy; scales the exp, FP32 and shared-memory "
         "rates of such kernels (timeline; 0: the preset's clock)",
         [](Scenario& s, const Value& v) {
             if (!(v.f == 0 || (v.f >= 0.1 && v.f <= 5)))
                 bad("loaded_clock_ghz", "must be 0 (the preset's clock) or 0.1 .. 5 GHz");
             s.hardware.loaded_clock_hz = v.f * 1e9;
         }},
    };
    return keys;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t prev = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cur = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
            prev = cur;
        }
    }
    return row[b.size()];
}

const KeyDef& find_key(std::string_view key) {
    for (const auto& k : table()) {
        if (k.key == key) return k;
    }
    std::string best;
    std::size_t best_d = 4;
    for (const auto& k : table()) {
        const std::size_t dist = edit_distance(key, k.key);
        if (dist < best_d) {
            best_d = dist;
            best = std::string(k.key);
        }
    }
    std::string msg = "unknown key '" + std::string(key) + "'";
    msg += best.empty() ? "" : " (did you mean '" + best + "'?)";
    msg += "; `tilesim keys` lists the valid keys";
    throw ScenarioError(msg);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string_view type_name(KType t) {
    switch (t) {
        case KType::Int:
            return "integer";
        case KType::Float:
            return "number";
        case KType::String:
            return "string";
        case KType::Bool:
            return "true/false";
        case KType::StringList:
            return "list of strings";
    }
    return "?";
}

// Converts command-line text to a typed value.
Value from_text(const KeyDef& k, std::string_view text) {
    Value v;
    text = trim(text);
    const std::string shown = "'" + std::string(text) + "'";
    switch (k.type) {
        case KType::Int: {
            if ((k.key == "block_rows" || k.key == "block_cols") && text == "auto") {
                v.i = 0;
                break;
            }
            auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v.i);
            if (ec == std::errc::result_out_of_range && ptr == text.data() + text.size()) {
                bad(k.key, shown + " is out of range: beyond the 64-bit integers (`tilesim keys` gives each "
                                   "key's range)");
            }
            if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
                bad(k.key, "expected an integer, got " + shown);
            }
            break;
        }
        case KType::Float: {
            const std::string t(text);
            char* end = nullptr;
            v.f = std::strtod(t.c_str(), &end);
            if (t.empty() || end != t.c_str() + t.size()) bad(k.key, "expected a number, got " + shown);
            break;
        }
        case KType::String:
            v.s = std::string(text);
            break;
        case KType::Bool:
            if (text == "true" || text == "1" || text == "yes" || text == "on") {
                v.b = true;
            } else if (text == "false" || text == "0" || text == "no" || text == "off") {
                v.b = false;
            } else {
                bad(k.key, "expected true or false, got " + shown);
            }
            break;
        case KType::StringList: {
            std::string_view rest = text;
            while (!rest.empty()) {
                const auto comma = rest.find(',');
                const auto item = trim(rest.substr(0, comma));
                if (!item.empty()) v.list.emplace_back(item);
                if (comma == std::string_view::npos) break;
                rest.remove_prefix(comma + 1);
            }
            break;
        }
    }
    return v;
}

std::string describe_node(const toml::node& node) {
    std::ostringstream os;
    switch (node.type()) {
        case toml::node_type::string:
            os << "the string \"" << *node.value<std::string>() << "\"";
            break;
        case toml::node_type::integer:
            os << "the integer " << *node.value<std::int64_t>();
            break;
        case toml::node_type::floating_point:
            os << "the number " << *node.value<double>();
            break;
        case toml::node_type::boolean:
            os << (*node.value<bool>() ? "true" : "false");
            break;
        case toml::node_type::array:
            os << "an array";
            break;
        case toml::node_type::table:
            os << "a table";
            break;
        default:
            os << "a date/time";
            break;
    }
    return os.str();
}

}  // namespace

const std::vector<KeyDoc>& key_docs() {
    static const std::vector<KeyDoc> docs = [] {
        std::vector<KeyDoc> d;
        for (const auto& k : table()) d.push_back({k.key, type_name(k.type), k.doc});
        return d;
    }();
    return docs;
}

void apply_setting(Scenario& s, std::string_view key, std::string_view value) {
    const KeyDef& k = find_key(trim(key));
    const Value v = from_text(k, value);
    check_text(k.key, v.s);
    for (const auto& item : v.list) check_text(k.key, item);
    k.apply(s, v);
}

void apply_assignment(Scenario& s, std::string_view assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        throw ScenarioError("--set '" + std::string(assignment) +
                            "': expected key=value, e.g. --set seq_len=4096");
    }
    apply_setting(s, assignment.substr(0, eq), assignment.substr(eq + 1));
}

// Typed application for the TOML loader: the TOML type must match the key's type.
void apply_toml(Scenario& s, std::string_view key, const toml::node& node) {
    const KeyDef& k = find_key(key);
    Value v;
    bool ok = false;
    switch (k.type) {
        case KType::Int:
            if (auto i = node.value_exact<std::int64_t>()) {
                v.i = *i;
                ok = true;
            } else if (auto str = node.value_exact<std::string>();
                       str && *str == "auto" && (k.key == "block_rows" || k.key == "block_cols")) {
                v.i = 0;
                ok = true;
            }
            break;
        case KType::Float:
            if (auto f = node.value<double>()) {  // integers are accepted as numbers
                v.f = *f;
                ok = node.is_number();
            }
            break;
        case KType::String:
            if (auto str = node.value_exact<std::string>()) {
                v.s = *str;
                ok = true;
            } else if (k.key == "fp8_scale" && node.is_number()) {  // a fixed scale may be written as a number
                std::ostringstream os;
                os.precision(17);
                os << node.value<double>().value_or(0.0);
                v.s = os.str();
                ok = true;
            }
            break;
        case KType::Bool:
            if (auto b = node.value_exact<bool>()) {
                v.b = *b;
                ok = true;
            }
            break;
        case KType::StringList:
            if (const auto* arr = node.as_array()) {
                ok = true;
                for (const auto& item : *arr) {
                    auto str = item.value_exact<std::string>();
                    if (!str)
                        ok = false;
                    else
                        v.list.push_back(*str);
                }
            } else if (auto str = node.value_exact<std::string>()) {  // one name = a one-item list
                v.list = {*str};
                ok = true;
            }
            break;
    }
    if (!ok) bad(k.key, "expected " + std::string(type_name(k.type)) + ", got " + describe_node(node));
    check_text(k.key, v.s);
    for (const auto& item : v.list) check_text(k.key, item);
    k.apply(s, v);
}

}  // namespace tilesim::scenarios
