#pragma once
// Writing exports so a reader never sees half a file: the bytes go to a temporary file in the same
// directory, which is then renamed over the target (rename is atomic within one file system).
#include <cstdint>
#include <string>
#include <vector>

namespace tilesim::viz {

// Writes `data` to `path` atomically. Returns "" on success, else a one-line message; on failure
// neither the target nor a temporary file is left behind.
std::string write_file_atomic(const std::string& path, const std::string& data);

// Encodes an RGBA image (rows top to bottom) as PNG bytes; empty on failure.
std::string encode_png(int width, int height, const std::vector<std::uint8_t>& rgba);

// The same with a 256-colour palette (median cut; flat colours exact, text edges approximated):
// about half the bytes, for the documentation's screenshots. Empty when built without zlib.
std::string encode_png_palette(int width, int height, const std::vector<std::uint8_t>& rgba);

// Flips an RGBA image vertically in place (OpenGL reads the bottom row first).
void flip_rows(std::vector<std::uint8_t>& rgba, int width, int height);

// Encodes and writes a PNG atomically (palette: see encode_png_palette; true colour when that is
// not available). Returns "" or a message.
std::string write_png_atomic(const std::string& path, int width, int height,
                             const std::vector<std::uint8_t>& rgba, bool palette = false);

}  // namespace tilesim::viz
