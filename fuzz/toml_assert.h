#pragma once
// Forced into every translation unit of the fuzz build (cmake/fuzz.cmake), which compiles toml++ from
// its headers with assertions on: a failed toml++ assertion throws TomlAssertion instead of aborting,
// and the fuzz target counts it as toml++'s bug (upstream issues 190, 294, 295 and kin) rather than
// reporting a crash that would hide our own. Only toml++ uses TOML_ASSERT.
namespace tilesim::fuzz {
struct TomlAssertion {
    const char* expr;
    const char* file;
    int line;
};
[[noreturn]] void toml_assertion_failed(const char* expr, const char* file, int line);
}  // namespace tilesim::fuzz
#define TOML_ASSERT(expr) \
    ((expr) ? static_cast<void>(0) : ::tilesim::fuzz::toml_assertion_failed(#expr, __FILE__, __LINE__))
