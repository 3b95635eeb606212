#include "scenarios/scenario.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "kernels/registry.h"
#include "scenarios/keys_internal.h"
#include "scenarios/limits.h"
#include "scenarios/toml_guard.h"

namespace tilesim::scenarios {

namespace generated {
const std::vector<std::pair<std::string_view, std::string_view>>& files();  // builtin_data.cpp (generated)
}

namespace {

// The starting point every file and built-in is applied over.
Scenario base_scenario() {
    Scenario s;
    s.hardware_name = "A100-40GB";
    s.hardware = *sim::find_preset("A100-40GB");
    s.problem.batch = 1;
    s.problem.heads = 1;
    s.problem.kv_heads = 1;
    s.problem.N_q = 1024;
    s.problem.N_kv = 1024;
    s.problem.d = 64;
    s.problem.dtype = sim::Dtype::fp16;
    // A file that lists no algorithms runs those with every pass, so that any `pass` is valid for it;
    // forward-only definitions (the decode ones) are asked for by name.
    for (auto k : kernels::algorithm_key_list()) {
        if (kernels::find_definition(k, kernels::Pass::forward) != nullptr &&
            kernels::find_definition(k, kernels::Pass::backward) != nullptr)
            s.algorithms.emplace_back(k);
    }
    return s;
}

std::string where(const std::string& source, const toml::source_region& r) {
    std::ostringstream os;
    os << source;
    if (r.begin.line > 0) os << ":" << r.begin.line;
    return os.str();
}

}  // namespace

Scenario parse_scenario_toml(std::string_view text, const std::string& source_name) {
    if (const std::string bug = toml_guard(text); !bug.empty()) throw ScenarioError(source_name + ":" + bug);
    toml::table tbl;
    try {
        tbl = toml::parse(text, source_name);
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << source_name << ":" << e.source().begin.line << ":" << e.source().begin.column
           << ": malformed TOML: " << e.description() << " (fix the syntax at that line)";
        throw ScenarioError(os.str());
    }
    Scenario s = base_scenario();
    // `hardware` resets the hardware overrides, so apply it before the other keys whatever the order.
    if (const toml::node* hw = tbl.get("hardware")) {
        try {
            apply_toml(s, "hardware", *hw);
        } catch (const ScenarioError& e) {
            throw ScenarioError(where(source_name, hw->source()) + ": " + e.what());
        }
    }
    for (const auto& [key, node] : tbl) {
        if (key.str() == "hardware") continue;
        try {
            if (node.is_table()) {
                throw ScenarioError("key '" + std::string(key.str()) +
                                    "': sections are not used; write every key at the top level");
            }
            apply_toml(s, key.str(), node);
        } catch (const ScenarioError& e) {
            throw ScenarioError(where(source_name, node.source()) + ": " + e.what());
        }
    }
    try {
        validate(s);
    } catch (const ScenarioError& e) {
        throw ScenarioError(source_name + ": " + e.what());
    }
    return s;
}

Scenario load_scenario_file(const std::string& path) {
    // An ifstream opens a folder without complaint and reads nothing from it, which used to run the
    // base scenario as if the "file" were empty.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw ScenarioError(path +
                            ": is a folder, not a scenario file (give a .toml file; `tilesim list` shows the "
                            "built-in scenarios)");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ScenarioError(path +
                            ": cannot open the scenario file (check the path; `tilesim list` shows the "
                            "built-in scenarios)");
    }
    return parse_scenario_toml(read_bounded(in, limits::kMaxScenarioFileBytes, path, "the scenario file"),
                               path);
}

std::string read_bounded(std::istream& in, std::int64_t max_bytes, const std::string& path,
                         const std::string& what) {
    // Read at most one byte more than allowed: an endless stream (/dev/zero, a pipe that never ends)
    // is refused after max_bytes instead of filling memory.
    std::string text;
    char buf[65536];
    while (in) {
        in.read(buf, sizeof buf);
        text.append(buf, static_cast<std::size_t>(in.gcount()));
        if (static_cast<std::int64_t>(text.size()) > max_bytes) {
            throw ScenarioError(path + ": " + what + " is larger than " + std::to_string(max_bytes) +
                                " bytes, the limit (is it the right file?)");
        }
    }
    if (in.bad()) throw ScenarioError(path + ": reading " + what + " failed");
    return text;
}

std::vector<kernels::Pass> passes_of(const Scenario& s) {
    std::vector<kernels::Pass> out;
    for (auto pass : {kernels::Pass::forward, kernels::Pass::backward}) {
        if (kernels::includes(s.problem.passes, pass)) out.push_back(pass);
    }
    return out;
}

kernels::Problem problem_of(const Scenario& s) {
    kernels::Problem p = s.problem;
    const MaskSpec& spec = s.mask;
    kernels::Mask m;
    std::string text;
    auto rule = [&](const std::string& r, std::int64_t window) {
        if (r == "causal") m.causal = true;
        if (r == "sliding") {
            m.causal = true;
            m.window = window;
        }
    };
    if (spec.rule == "file") {
        const auto& b = *spec.file_blocks;
        const std::int64_t rows = (p.N_q + b.block_q - 1) / b.block_q, cols = (p.N_kv + b.block_kv - 1) / b.block_kv;
        if ((spec.file_N_q > 0 && (spec.file_N_q != p.N_q || spec.file_N_kv != p.N_kv)) || rows != b.rows ||
            cols != b.cols) {
            throw ScenarioError("key 'mask': file '" + spec.file + "' holds " + std::to_string(b.rows) + " x " +
                                std::to_string(b.cols) + " blocks of " + std::to_string(b.block_q) + " x " +
                                std::to_string(b.block_kv) + (spec.file_N_q > 0 ? " for N_q = " + std::to_string(spec.file_N_q) + ", N_kv = " + std::to_string(spec.file_N_kv) : std::string()) +
                                ", but seq_len_q = " + std::to_string(p.N_q) + ", seq_len = " + std::to_string(p.N_kv) +
                                " need " + std::to_string(rows) + " x " + std::to_string(cols) +
                                "; set the sequence lengths the mask was made for");
        }
        m.blocks = spec.file_blocks;
        rule(spec.file_rule, spec.file_window);
        text = "file:" + spec.file;
    } else {
        rule(spec.rule, spec.window);
        if (spec.rule != "none") text = spec.rule == "sliding" ? "sliding:" + std::to_string(spec.window) : spec.rule;
    }
    if (!spec.pattern.empty()) {
        if (spec.rule == "file") {
            throw ScenarioError("keys 'mask' and 'mask_pattern': a mask file and a generated pattern cannot be combined; "
                                "set mask_pattern = \"\" or mask = \"none\"");
        }
        std::ostringstream os;
        os << spec.pattern << " " << spec.density;
        if (spec.pattern == "document") {
            m.doc_starts = kernels::equal_documents(p.N_kv, std::max<std::int64_t>(1, std::llround(1.0 / spec.density)));
            os << " (" << m.doc_starts.size() << " documents)";
        } else {
            m.blocks = std::make_shared<kernels::BlockMask>(
                kernels::make_pattern(spec.pattern, spec.density, spec.block, p.N_q, p.N_kv, s.seed));
            os << " (" << spec.block << "-token blocks)";
        }
        text += (text.empty() ? "" : " + ") + os.str();
    }
    m.source = text;
    p.mask = std::move(m);
    return p;
}

void validate(const Scenario& s) {
    const auto& p = s.problem;
    auto fail = [](const std::string& msg) { throw ScenarioError(msg); };
    if (p.N_q < 1 || p.N_kv < 1 || p.d < 1 || p.batch < 1 || p.heads < 1 || p.kv_heads < 1)
        fail("batch, heads, kv_heads, seq_len, seq_len_q and head_dim must be >= 1");
    // The keys bound each size; a Problem built in code is held to the same bounds, so that B*H and
    // the byte counts below cannot wrap around before they are compared.
    for (auto [key, n, limit] : {std::tuple{"batch", p.batch, limits::kMaxBatch},
                                 std::tuple{"heads", p.heads, limits::kMaxHeads},
                                 std::tuple{"kv_heads", p.kv_heads, limits::kMaxHeads}}) {
        if (n > limit) {
            fail("key '" + std::string(key) + "': " + std::to_string(n) + " is above the limit of " +
                 std::to_string(limit));
        }
    }
    for (auto [key, n] : {std::pair{"seq_len", p.N_kv}, std::pair{"seq_len_q", p.N_q}}) {
        if (n > (1 << 20)) {
            fail("key '" + std::string(key) + "': " + std::to_string(n) +
                 " is above the simulator's limit of 1048576 (it walks the full tile schedule); use a "
                 "smaller " +
                 key);
        }
    }
    if (p.heads % p.kv_heads != 0) {
        fail("keys 'heads' = " + std::to_string(p.heads) + " and 'kv_heads' = " + std::to_string(p.kv_heads) +
             ": H must be a multiple of H_kv (each group of H / H_kv query heads shares one K/V head)");
    }
    if (p.d > 1024) fail("key 'head_dim': " + std::to_string(p.d) + " is above the limit of 1024");
    if (p.bh() > (1 << 20)) {
        fail("keys 'batch' x 'heads' = " + std::to_string(p.bh()) + " is above the limit of 1048576 heads");
    }
    // Byte counts must stay inside int64: B*H * N_q N_kv * (bytes) * (passes) with a wide margin.
    const long double total = static_cast<long double>(p.bh()) * p.N_q * p.N_kv * 8.0L * 16.0L;
    if (total > 9.0e18L) {
        fail("batch x heads x seq_len^2 is too large to count in 64 bits; reduce batch, heads or seq_len");
    }
    if (s.numerics_heads > p.bh()) {
        fail("key 'numerics_heads': " + std::to_string(s.numerics_heads) +
             " exceeds batch x heads = " + std::to_string(p.bh()));
    }
    if (s.hardware.sram_bytes < 1) fail("key 'sram_bytes': must be positive");
    if (s.hardware.sm_count < 1 || s.hardware.sm_count > limits::kMaxSmCount) {
        fail("key 'sm_count': " + std::to_string(s.hardware.sm_count) + " is outside 1 .. " +
             std::to_string(limits::kMaxSmCount));
    }
    if (s.hardware.l2_bytes < 0 || s.hardware.l2_bytes > limits::kMaxL2Bytes) {
        fail("key 'l2_bytes': " + std::to_string(s.hardware.l2_bytes) + " is outside 0 .. " +
             std::to_string(limits::kMaxL2Bytes));
    }
    if (s.tiling.B_r < 0 || s.tiling.B_r > limits::kMaxBlock || s.tiling.B_c < 0 ||
        s.tiling.B_c > limits::kMaxBlock) {
        fail("keys 'block_rows' and 'block_cols': each must be 0 (auto) .. " +
             std::to_string(limits::kMaxBlock));
    }
    if (s.mask.block < 1 || s.mask.block > limits::kMaxBlock) {
        fail("key 'mask_block': " + std::to_string(s.mask.block) + " is outside 1 .. " +
             std::to_string(limits::kMaxBlock));
    }
    if (!s.mask.pattern.empty() && s.mask.pattern != "document") {
        // A generated pattern holds one cell per mask block: bounded like a mask file's grid.
        const std::int64_t rows = kernels::ceil_div(p.N_q, s.mask.block);
        const std::int64_t cols = kernels::ceil_div(p.N_kv, s.mask.block);
        if (rows * cols > limits::kMaxMaskBlocks) {
            fail("keys 'mask_block' = " + std::to_string(s.mask.block) +
                 " and 'seq_len': the pattern would hold " + std::to_string(rows) + " x " +
                 std::to_string(cols) + " blocks, above the limit of " +
                 std::to_string(limits::kMaxMaskBlocks) + "; use a larger mask_block");
        }
    }
    if (s.hardware.sram_bytes > (std::int64_t{1} << 30)) fail("key 'sram_bytes': above the limit of 1 GiB");
    if (s.algorithms.empty()) fail("key 'algorithms': needs at least one algorithm");
    for (const auto& key : s.algorithms) {
        if (!kernels::is_algorithm_key(key)) {
            fail("key 'algorithms': unknown algorithm '" + key + "'; choose from " + kernels::algorithm_keys());
        }
        for (auto pass : passes_of(s)) {
            if (kernels::find_definition(key, pass) == nullptr) {
                fail("key 'algorithms': '" + key + "' has no " + std::string(kernels::pass_name(pass)) +
                     " pass; remove it or set pass = \"forward\"");
            }
        }
    }
    if (s.quant.incoherent && (p.d & (p.d - 1)) != 0) {
        fail("key 'fp8_incoherent': needs head_dim a power of two (the d x d Hadamard matrix), got head_dim = " +
             std::to_string(p.d) + "; set fp8_incoherent = false or a head_dim such as 64 or 128");
    }
    for (const auto& f : s.published) {
        if (std::find(s.algorithms.begin(), s.algorithms.end(), f.algorithm) == s.algorithms.end()) {
            fail("key 'published': '" + f.algorithm + "' is not among the scenario's algorithms");
        }
    }
    const kernels::Problem built = problem_of(s);  // the mask fits the sizes
    if (built.mask.active()) {
        for (const auto& key : s.algorithms) {
            const auto* def = kernels::find_definition(key, kernels::Pass::forward);
            if (def != nullptr && !def->masks) {
                fail("key 'mask': '" + key + "' does not take a mask (" + kernels::mask_text(built.mask) +
                     "); remove it from 'algorithms' or set mask = \"none\"");
            }
        }
    }
    validate_decoding(s);
}

void apply_settings(Scenario& s, const std::vector<std::string>& assignments) {
    // As in files, `hardware` goes first whatever its position: it resets the hardware overrides,
    // so `--set sram_bytes=64 --set hardware=T4` must not silently drop the first.
    auto is_hardware = [](const std::string& a) {
        const auto eq = a.find('=');
        std::string_view key(a.data(), eq == std::string::npos ? a.size() : eq);
        while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
        return key == "hardware";
    };
    for (const auto& a : assignments) {
        if (is_hardware(a)) apply_assignment(s, a);
    }
    for (const auto& a : assignments) {
        if (!is_hardware(a)) apply_assignment(s, a);
    }
    validate(s);
}

const std::vector<BuiltinScenario>& builtin_scenarios() {
    static const std::vector<BuiltinScenario> list = [] {
        std::vector<BuiltinScenario> out;
        // The default first, then the rest in file order.
        for (const auto& [id, text] : generated::files()) {
            if (id == "gpt2-medium")
                out.insert(out.begin(), {id, "", text});
            else
                out.push_back({id, "", text});
        }
        for (auto& b : out) {
            // Summary: the description line of the file.
            const auto pos = b.toml.find("description = \"");
            if (pos != std::string_view::npos) {
                const auto start = pos + 15;
                b.summary = b.toml.substr(start, b.toml.find('"', start) - start);
            }
        }
        return out;
    }();
    return list;
}

Scenario default_scenario() {
    return resolve_scenario("gpt2-medium");
}

Scenario resolve_scenario(const std::string& id_or_path) {
    for (const auto& b : builtin_scenarios()) {
        if (b.id == id_or_path) return parse_scenario_toml(b.toml, "built-in '" + std::string(b.id) + "'");
    }
    if (id_or_path.find('/') == std::string::npos && id_or_path.find(".toml") == std::string::npos) {
        std::string ids;
        for (const auto& b : builtin_scenarios()) ids += (ids.empty() ? "" : ", ") + std::string(b.id);
        throw ScenarioError("'" + id_or_path + "' is neither a built-in scenario (" + ids +
                            ") nor a .toml file path");
    }
    return load_scenario_file(id_or_path);
}

}  // namespace tilesim::scenarios
