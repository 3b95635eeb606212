#pragma once
// Writing results: to stdout, or to a file replaced atomically (a temporary beside it, then
// rename), so an error never leaves a truncated or half-written file behind.
#include <string>

namespace tilesim::cli {

// Writes `text` to `path` ("-" or empty: stdout). Throws std::runtime_error with a clear message.
void write_output(const std::string& path, const std::string& text);

}  // namespace tilesim::cli
