#pragma once
// Number formatting shared by the panels: units always shown, decimal prefixes for bytes (as the
// paper reports traffic), engineering prefixes for time and counts.
#include <cstdint>
#include <string>

namespace tilesim::viz {

std::string fmt_bytes(double bytes);           // "4.99 KB" (scenarios::human_bytes)
std::string fmt_seconds(double s);             // "6.66 µs", "1.25 ms"
std::string fmt_count(double n);               // "1,234", "12.3 M", "4.5 G"
std::string fmt_elements(std::int64_t n);      // "256 el", "1.2 M el"
std::string fmt_binary_bytes(std::int64_t b);  // "384 B", "192 KiB" (SRAM sizes are binary)

}  // namespace tilesim::viz
