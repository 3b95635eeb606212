#pragma once
// A screen in front of the TOML parser for inputs that reach known bugs of toml++ 3.3 (Debian 12's):
//   - upstream issues 190 and 295: testing a non-ASCII character for whitespace falls off a switch
//     (TOML_UNREACHABLE, undefined behaviour) for the characters U+00A1..U+0499, U+2C5E..U+3057
//     (but U+3000) and U+FB26..U+FEFE. The parser asks that question of every character outside strings and
//     comments, and of the first character after a line-ending backslash in a multi-line string.
//   - upstream issue 294: a table header whose first character is neither a key character nor a
//     quote ("[&") breaks an assertion of the key parser (undefined behaviour once assertions are off).
// Both kinds of input are malformed TOML or nearly so; the screen turns them into one clear line
// before the parser sees them, so no shipped binary depends on what undefined behaviour does.
#include <string>
#include <string_view>

namespace tilesim::scenarios {

// "" when `text` is safe to give to toml++ 3.3; otherwise "LINE:COLUMN: what is wrong and the fix".
std::string toml_guard(std::string_view text);

// Whether toml++ 3.3's whitespace test has no answer for codepoint `c` (exposed for the tests).
bool toml_whitespace_test_breaks(char32_t c);

}  // namespace tilesim::scenarios
