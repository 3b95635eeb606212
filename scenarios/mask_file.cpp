// Reading a block mask from a file: FlexAttention's BlockMask as JSON (docs/masks.md).
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "scenarios/keys_internal.h"
#include "scenarios/limits.h"
#include "scenarios/scenario.h"

namespace tilesim::scenarios {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw ScenarioError("key 'mask': file '" + path + "': " + what + " (docs/masks.md describes the format)");
}

// A [B][H][...] array broadcast over batch and heads (every head runs one schedule in the model), or
// the inner array itself: returns the inner array, checking that all (b, h) copies agree.
const json& one_head(const json& a, std::size_t inner_rank, const std::string& field, const std::string& path) {
    auto rank = [](const json& x) {
        std::size_t r = 0;
        const json* p = &x;
        while (p->is_array() && !p->empty()) {
            ++r;
            p = &(*p)[0];
        }
        return r;
    };
    if (!a.is_array()) fail(path, "'" + field + "' must be an array");
    const std::size_t r = rank(a);
    if (r == inner_rank || a.empty()) return a;
    if (r != inner_rank + 2) {
        fail(path, "'" + field + "' must have " + std::to_string(inner_rank) + " or " + std::to_string(inner_rank + 2) +
                       " dimensions ([B, H, ...] broadcast), has " + std::to_string(r));
    }
    const json& first = a[0][0];
    for (const auto& b : a) {
        for (const auto& h : b) {
            if (h != first) {
                fail(path, "'" + field +
                               "' differs between heads or batch entries: the model runs one schedule for every "
                               "head; give one mask for all");
            }
        }
    }
    return first;
}

// Per Q-block row, the listed KV blocks (num[i] of indices[i]).
std::vector<std::vector<std::int64_t>> block_lists(const json& doc, const std::string& num_field,
                                                   const std::string& idx_field, std::int64_t cols,
                                                   const std::string& path) {
    const json& num = one_head(doc.at(num_field), 1, num_field, path);
    const json& idx = one_head(doc.at(idx_field), 2, idx_field, path);
    if (num.size() != idx.size()) {
        fail(path, "'" + num_field + "' has " + std::to_string(num.size()) + " rows but '" + idx_field + "' has " +
                       std::to_string(idx.size()));
    }
    std::vector<std::vector<std::int64_t>> rows;
    for (std::size_t i = 0; i < num.size(); ++i) {
        if (!num[i].is_number_integer() || num[i].get<std::int64_t>() < 0 ||
            num[i].get<std::size_t>() > idx[i].size()) {
            fail(path, "'" + num_field + "'[" + std::to_string(i) + "] must be an integer in [0, " +
                           std::to_string(idx[i].size()) + "]");
        }
        std::vector<std::int64_t> row;
        std::set<std::int64_t> seen;
        for (std::size_t k = 0; k < num[i].get<std::size_t>(); ++k) {
            if (!idx[i][k].is_number_integer()) fail(path, "'" + idx_field + "' holds a non-integer");
            const auto j = idx[i][k].get<std::int64_t>();
            if (j < 0 || j >= cols) {
                fail(path, "'" + idx_field + "'[" + std::to_string(i) + "] lists KV block " + std::to_string(j) +
                               ", outside 0.." + std::to_string(cols - 1));
            }
            if (!seen.insert(j).second) {
                fail(path, "'" + idx_field + "'[" + std::to_string(i) + "] lists KV block " + std::to_string(j) + " twice");
            }
            row.push_back(j);
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

void parse_rule(const std::string& text, std::string& rule, std::int64_t& window, const std::string& path) {
    if (text == "none" || text.empty()) return;
    if (text == "causal") {
        rule = "causal";
        return;
    }
    if (text.rfind("sliding:", 0) == 0) {
        const std::string w = text.substr(8);
        char* end = nullptr;
        const long long v = std::strtoll(w.c_str(), &end, 10);
        if (w.empty() || *end != '\0' || v < 1 || v > limits::kMaxWindow) {
            fail(path, "'mask_mod' sliding:W needs 1 <= W <= " + std::to_string(limits::kMaxWindow) +
                           ", got '" + w + "'");
        }
        rule = "sliding";
        window = v;
        return;
    }
    fail(path, "'mask_mod' must be none, causal or sliding:W, got '" + text + "'");
}

// The deepest nesting of arrays and objects in JSON text (outside strings). The mask format needs 4
// levels; a hostile file could nest millions, and comparing or freeing such a value recurses as deep.
int json_depth(std::string_view text) {
    int depth = 0, deepest = 0;
    bool in_string = false;
    for (std::size_t k = 0; k < text.size(); ++k) {
        const char c = text[k];
        if (in_string) {
            if (c == '\\') ++k;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

void parse_mask(MaskSpec& spec, const json& doc, const std::string& path);

}  // namespace

void load_mask_file(MaskSpec& spec, const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) fail(path, "cannot open it (not a regular file)");
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "cannot open it");
    std::string text;
    try {
        text = read_bounded(in, limits::kMaxMaskFileBytes, path, "the mask file");
    } catch (const ScenarioError&) {
        fail(path, "larger than " + std::to_string(limits::kMaxMaskFileBytes >> 20) + " MiB");
    }
    parse_mask_json(spec, text, path);
}

void parse_mask_json(MaskSpec& spec, std::string_view text, const std::string& path) {
    if (json_depth(text) > 16) fail(path, "nested deeper than the format's [B][H][rows][blocks] arrays");
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::exception& e) {
        fail(path, std::string("not valid JSON: ") + e.what());
    }
    try {
        parse_mask(spec, doc, path);
    } catch (const json::exception& e) {
        // A field of the wrong JSON type deep in the lists (a string where a row of indices belongs).
        fail(path, std::string("a field has the wrong type: ") + e.what());
    }
}

namespace {

void parse_mask(MaskSpec& spec, const json& doc, const std::string& path) {
    if (!doc.is_object()) fail(path, "the top level must be a JSON object");
    for (const char* f : {"BLOCK_SIZE", "kv_num_blocks", "kv_indices"}) {
        if (!doc.contains(f)) fail(path, std::string("missing '") + f + "'");
    }
    auto bs = doc["BLOCK_SIZE"];
    if (bs.is_number_integer()) bs = json::array({bs, bs});
    if (!bs.is_array() || bs.size() != 2 || !bs[0].is_number_integer() || !bs[1].is_number_integer() ||
        bs[0].get<std::int64_t>() < 1 || bs[1].get<std::int64_t>() < 1 ||
        bs[0].get<std::int64_t>() > limits::kMaxBlock || bs[1].get<std::int64_t>() > limits::kMaxBlock) {
        fail(path, "'BLOCK_SIZE' must be [Q, KV] integers from 1 to " + std::to_string(limits::kMaxBlock) +
                       ", e.g. [128, 128]");
    }
    auto blocks = std::make_shared<kernels::BlockMask>();
    blocks->block_q = bs[0].get<std::int64_t>();
    blocks->block_kv = bs[1].get<std::int64_t>();
    spec.file_N_q = spec.file_N_kv = 0;
    if (doc.contains("seq_lengths")) {
        const auto& sl = doc["seq_lengths"];
        if (!sl.is_array() || sl.size() != 2 || !sl[0].is_number_integer() || !sl[1].is_number_integer() ||
            sl[0].get<std::int64_t>() < 1 || sl[1].get<std::int64_t>() < 1 ||
            sl[0].get<std::int64_t>() > limits::kMaxSeqLen ||
            sl[1].get<std::int64_t>() > limits::kMaxSeqLen) {
            fail(path, "'seq_lengths' must be [N_q, N_kv] integers from 1 to " +
                           std::to_string(limits::kMaxSeqLen));
        }
        spec.file_N_q = sl[0].get<std::int64_t>();
        spec.file_N_kv = sl[1].get<std::int64_t>();
    }
    const json& idx0 = one_head(doc["kv_indices"], 2, "kv_indices", path);
    blocks->rows = static_cast<std::int64_t>(idx0.size());
    // FlexAttention's kv_indices is [..., Q_blocks, KV_blocks]; a hand-written file may list fewer, and
    // then the sequence length says how many KV blocks there are.
    blocks->cols = spec.file_N_kv > 0 ? (spec.file_N_kv + blocks->block_kv - 1) / blocks->block_kv
                                      : (idx0.empty() ? 0 : static_cast<std::int64_t>(idx0[0].size()));
    if (blocks->rows < 1 || blocks->cols < 1) fail(path, "the mask has no blocks");
    // rows < 2^26 (the file size bounds the list), cols <= 2^20: the product cannot overflow.
    if (blocks->rows * blocks->cols > limits::kMaxMaskBlocks) {
        fail(path, std::to_string(blocks->rows) + " x " + std::to_string(blocks->cols) +
                       " blocks is above the limit of " + std::to_string(limits::kMaxMaskBlocks) +
                       " (use larger blocks)");
    }
    blocks->kinds.assign(static_cast<std::size_t>(blocks->rows * blocks->cols), kernels::TileKind::empty);
    const bool has_full = doc.contains("full_kv_num_blocks") && doc.contains("full_kv_indices");
    const auto partial = block_lists(doc, "kv_num_blocks", "kv_indices", blocks->cols, path);
    // Without full lists every computed block goes through mask_mod (partial); with them, the lists are disjoint.
    for (std::size_t i = 0; i < partial.size(); ++i) {
        for (auto j : partial[i]) blocks->kinds[i * static_cast<std::size_t>(blocks->cols) + static_cast<std::size_t>(j)] = kernels::TileKind::partial;
    }
    if (has_full) {
        const auto full = block_lists(doc, "full_kv_num_blocks", "full_kv_indices", blocks->cols, path);
        if (full.size() != partial.size()) fail(path, "'full_kv_num_blocks' and 'kv_num_blocks' have different row counts");
        for (std::size_t i = 0; i < full.size(); ++i) {
            for (auto j : full[i]) {
                auto& k = blocks->kinds[i * static_cast<std::size_t>(blocks->cols) + static_cast<std::size_t>(j)];
                if (k != kernels::TileKind::empty) {
                    fail(path, "KV block " + std::to_string(j) + " of Q block " + std::to_string(i) +
                                   " is listed both as full and as partial");
                }
                k = kernels::TileKind::full;
            }
        }
    }
    // The transposed lists (what the backward iterates), when given, must say the same.
    if (doc.contains("q_num_blocks") && doc.contains("q_indices")) {
        const auto q = block_lists(doc, "q_num_blocks", "q_indices", blocks->rows, path);
        if (static_cast<std::int64_t>(q.size()) != blocks->cols) {
            fail(path, "'q_num_blocks' has " + std::to_string(q.size()) + " KV-block rows, expected " +
                           std::to_string(blocks->cols));
        }
        // The blocks q lists, as a grid: one pass over the lists and one over the grid (searching the
        // lists block by block took rows x cols x list length).
        std::vector<bool> in_q(blocks->kinds.size(), false);
        for (std::int64_t j = 0; j < blocks->cols; ++j) {
            for (auto i : q[static_cast<std::size_t>(j)]) {
                in_q[static_cast<std::size_t>(i * blocks->cols + j)] = true;
            }
        }
        for (std::int64_t j = 0; j < blocks->cols; ++j) {
            for (std::int64_t i = 0; i < blocks->rows; ++i) {
                const bool listed = in_q[static_cast<std::size_t>(i * blocks->cols + j)];
                if (listed != (blocks->at(i, j) == kernels::TileKind::partial)) {
                    fail(path, "'q_indices' is not the transpose of 'kv_indices' (KV block " + std::to_string(j) +
                                   ", Q block " + std::to_string(i) + ")");
                }
            }
        }
    }
    spec.file_rule.clear();
    spec.file_window = 0;
    if (doc.contains("mask_mod")) {
        if (!doc["mask_mod"].is_string()) fail(path, "'mask_mod' must be a string: none, causal or sliding:W");
        parse_rule(doc["mask_mod"].get<std::string>(), spec.file_rule, spec.file_window, path);
    }
    spec.file = path;
    spec.file_blocks = std::move(blocks);
}

}  // namespace

}  // namespace tilesim::scenarios
