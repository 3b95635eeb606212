#pragma once
// A small software rasteriser for a Canvas: anti-aliased fills of polygons (non-zero rule, exact
// horizontal coverage over four sub-scanlines per pixel), strokes turned into polygons (butt caps,
// round joins, dashes walked along the path as SVG does), circles, clip boxes, and text from
// stb_truetype coverage masks. What it draws matches the SVG of the same Canvas (svg.h).
#include <cstdint>
#include <string>
#include <vector>

#include "plot/canvas.h"
#include "plot/font.h"

namespace tilesim::plot {

struct Image {
    int width = 0, height = 0;
    std::vector<std::uint8_t> rgb;  // row-major, 3 bytes per pixel, opaque
};

// Renders `c` at `scale` pixels per canvas unit onto white. Text needs fonts.ok(): throws
// std::runtime_error otherwise (the caller says which package to install).
Image rasterise(const Canvas& c, const FontSet& fonts, double scale = 1);

// PNG bytes of `img` (stb_image_write, Debian's libstb).
std::string encode_png(const Image& img);

}  // namespace tilesim::plot
