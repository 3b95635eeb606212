#include "viz/export.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

// PNG encoding: stb_image_write compiled here, private to this file (STATIC, so it cannot clash with
// libstb's copy), with zlib's deflate when available: stb's own deflate makes files about 1.5x
// larger, and the screenshots are committed to the repository.
#ifdef TILESIM_HAVE_ZLIB
#include <zlib.h>

namespace {
unsigned char* zlib_compress(unsigned char* data, int data_len, int* out_len, int quality) {
    uLongf len = compressBound(static_cast<uLong>(data_len));
    auto* out = static_cast<unsigned char*>(std::malloc(len));  // stb frees it with free()
    if (out == nullptr) return nullptr;
    if (compress2(out, &len, data, static_cast<uLong>(data_len), std::max(quality, 9)) != Z_OK) {
        std::free(out);
        return nullptr;
    }
    *out_len = static_cast<int>(len);
    return out;
}
}  // namespace
#define STBIW_ZLIB_COMPRESS zlib_compress
#endif
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace tilesim::viz {

std::string write_file_atomic(const std::string& path, const std::string& data) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    // A unique temporary name beside the target: same directory, same file system, so rename is atomic.
    std::random_device rd;
    const fs::path tmp =
        target.parent_path() / ("." + target.filename().string() + ".tmp" + std::to_string(rd()));
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return "cannot write " + path + ": " + std::strerror(errno);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        out.flush();
        if (!out) {
            const std::string why = std::strerror(errno);
            std::error_code ec;
            fs::remove(tmp, ec);
            return "cannot write " + path + ": " + why;
        }
    }
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) {
        std::error_code ignore;
        fs::remove(tmp, ignore);
        return "cannot write " + path + ": " + ec.message();
    }
    return {};
}

void flip_rows(std::vector<std::uint8_t>& rgba, int width, int height) {
    const std::size_t row = static_cast<std::size_t>(width) * 4;
    for (int y = 0; y < height / 2; ++y) {
        auto* a = rgba.data() + static_cast<std::size_t>(y) * row;
        auto* b = rgba.data() + static_cast<std::size_t>(height - 1 - y) * row;
        std::swap_ranges(a, a + row, b);
    }
}

namespace {
void append(void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                               static_cast<std::size_t>(size));
}
}  // namespace

std::string encode_png(int width, int height, const std::vector<std::uint8_t>& rgba) {
    std::string png;
    if (width <= 0 || height <= 0 ||
        rgba.size() < static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 4) {
        return png;
    }
    // Screens are opaque: drop alpha (the framebuffer's alpha is whatever blending left) and a
    // quarter of the bytes with it.
    std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
    for (std::size_t p = 0, q = 0; q < rgb.size(); p += 4, q += 3) {
        rgb[q] = rgba[p];
        rgb[q + 1] = rgba[p + 1];
        rgb[q + 2] = rgba[p + 2];
    }
    stbi_write_png_compression_level = 9;
    if (stbi_write_png_to_func(append, &png, width, height, 3, rgb.data(), width * 3) == 0) png.clear();
    return png;
}

std::string write_png_atomic(const std::string& path, int width, int height,
                             const std::vector<std::uint8_t>& rgba, bool palette) {
    std::string png = palette ? encode_png_palette(width, height, rgba) : std::string();
    if (png.empty()) png = encode_png(width, height, rgba);
    if (png.empty())
        return "cannot encode a " + std::to_string(width) + "x" + std::to_string(height) + " PNG";
    return write_file_atomic(path, png);
}

}  // namespace tilesim::viz
