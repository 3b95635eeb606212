// Palette PNGs for the documentation's screenshots. A screenshot of this GUI is mostly flat fills
// plus anti-aliased text: a 256-colour palette chosen by median cut keeps every flat colour exact
// (the most frequent colours get boxes of their own) and approximates only text edges, at about half
// the bytes of a true-colour PNG. The encoder writes the chunks itself (IHDR, PLTE, IDAT, IEND) with
// zlib's deflate and CRC; without zlib it reports failure and the caller keeps true colour.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "viz/export.h"

#ifdef TILESIM_HAVE_ZLIB
#include <zlib.h>
#endif

namespace tilesim::viz {

namespace {

struct Colour {
    std::uint32_t rgb;  // 0xRRGGBB
    std::uint64_t count;
    int channel(int c) const { return static_cast<int>((rgb >> (16 - 8 * c)) & 0xFF); }
};

// Weighted median cut: split the box with the widest channel range (weighted by pixel count) at the
// weighted median until there are `max_colours` boxes or no box can be split.
std::vector<std::vector<Colour>> median_cut(std::vector<Colour> colours, std::size_t max_colours) {
    std::vector<std::vector<Colour>> boxes{std::move(colours)};
    auto range = [](const std::vector<Colour>& b, int c) {
        int lo = 255, hi = 0;
        for (const auto& x : b) {
            lo = std::min(lo, x.channel(c));
            hi = std::max(hi, x.channel(c));
        }
        return hi - lo;
    };
    while (boxes.size() < max_colours) {
        // The box to split: largest (range x log of pixels) so big flat areas are not split for nothing.
        std::size_t best = boxes.size();
        double best_score = 0;
        for (std::size_t k = 0; k < boxes.size(); ++k) {
            if (boxes[k].size() < 2) continue;
            const int r = std::max({range(boxes[k], 0), range(boxes[k], 1), range(boxes[k], 2)});
            std::uint64_t n = 0;
            for (const auto& x : boxes[k]) n += x.count;
            const double score = static_cast<double>(r) * std::log2(2.0 + static_cast<double>(n));
            if (score > best_score) {
                best_score = score;
                best = k;
            }
        }
        if (best == boxes.size()) break;
        auto& b = boxes[best];
        int c = 0;
        for (int k = 1; k < 3; ++k) {
            if (range(b, k) > range(b, c)) c = k;
        }
        std::sort(b.begin(), b.end(),
                  [c](const Colour& x, const Colour& y) { return x.channel(c) < y.channel(c); });
        std::uint64_t total = 0, acc = 0;
        for (const auto& x : b) total += x.count;
        std::size_t cut = 1;
        for (; cut < b.size(); ++cut) {
            acc += b[cut - 1].count;
            if (acc * 2 >= total) break;
        }
        cut = std::clamp<std::size_t>(cut, 1, b.size() - 1);
        std::vector<Colour> upper(b.begin() + static_cast<std::ptrdiff_t>(cut), b.end());
        b.resize(cut);
        boxes.push_back(std::move(upper));
    }
    return boxes;
}

#ifdef TILESIM_HAVE_ZLIB
void chunk(std::string& png, const char* type, const std::string& data) {
    auto be32 = [&](std::uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) png.push_back(static_cast<char>((v >> s) & 0xFF));
    };
    be32(static_cast<std::uint32_t>(data.size()));
    const std::string body = std::string(type, 4) + data;
    png += body;
    be32(static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}
#endif

}  // namespace

std::string encode_png_palette(int width, int height, const std::vector<std::uint8_t>& rgba) {
#ifndef TILESIM_HAVE_ZLIB
    (void)width;
    (void)height;
    (void)rgba;
    return {};
#else
    const std::size_t n = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    if (width <= 0 || height <= 0 || rgba.size() < n * 4) return {};
    std::unordered_map<std::uint32_t, std::uint64_t> hist;
    for (std::size_t p = 0; p < n; ++p) {
        ++hist[(std::uint32_t{rgba[p * 4]} << 16) | (std::uint32_t{rgba[p * 4 + 1]} << 8) | rgba[p * 4 + 2]];
    }
    std::vector<Colour> colours;
    colours.reserve(hist.size());
    for (const auto& [rgb, count] : hist) colours.push_back({rgb, count});
    const auto boxes = median_cut(std::move(colours), 256);
    // Each box's colour: its most frequent member, so flat fills stay exact.
    std::string plte;
    std::unordered_map<std::uint32_t, std::uint8_t> index;
    for (std::size_t k = 0; k < boxes.size(); ++k) {
        const auto top = std::max_element(boxes[k].begin(), boxes[k].end(),
                                          [](const Colour& a, const Colour& b) { return a.count < b.count; });
        for (int c = 0; c < 3; ++c) plte.push_back(static_cast<char>(top->channel(c)));
        for (const auto& x : boxes[k]) index[x.rgb] = static_cast<std::uint8_t>(k);
    }
    // Scanlines: filter type 0 (none), then one palette index per pixel.
    std::string raw;
    raw.reserve(n + static_cast<std::size_t>(height));
    for (int y = 0; y < height; ++y) {
        raw.push_back(0);
        for (int x = 0; x < width; ++x) {
            const std::size_t p =
                static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x);
            raw.push_back(static_cast<char>(index[(std::uint32_t{rgba[p * 4]} << 16) |
                                                  (std::uint32_t{rgba[p * 4 + 1]} << 8) | rgba[p * 4 + 2]]));
        }
    }
    uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
    std::string z(zlen, '\0');
    if (compress2(reinterpret_cast<Bytef*>(z.data()), &zlen, reinterpret_cast<const Bytef*>(raw.data()),
                  static_cast<uLong>(raw.size()), 9) != Z_OK) {
        return {};
    }
    z.resize(zlen);
    std::string png("\x89PNG\r\n\x1a\n", 8);
    std::string ihdr;
    for (std::uint32_t v : {static_cast<std::uint32_t>(width), static_cast<std::uint32_t>(height)}) {
        for (int s = 24; s >= 0; s -= 8) ihdr.push_back(static_cast<char>((v >> s) & 0xFF));
    }
    ihdr += std::string("\x08\x03\x00\x00\x00", 5);  // 8-bit indices, colour type 3 (palette)
    chunk(png, "IHDR", ihdr);
    chunk(png, "PLTE", plte);
    chunk(png, "IDAT", z);
    chunk(png, "IEND", "");
    return png;
#endif
}

}  // namespace tilesim::viz
