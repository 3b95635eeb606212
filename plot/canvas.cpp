#include "plot/canvas.h"

#include <cstdio>

namespace tilesim::plot {

Color hex(unsigned rgb, double alpha) {
    return {static_cast<std::uint8_t>((rgb >> 16) & 0xFF), static_cast<std::uint8_t>((rgb >> 8) & 0xFF),
            static_cast<std::uint8_t>(rgb & 0xFF), alpha};
}

std::string css(const Color& c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
    return buf;
}

void Canvas::rect(double x, double y, double w, double h, std::optional<Color> fill,
                  std::optional<Stroke> stroke) {
    path(Path{{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}}, true, fill, std::move(stroke)});
}

void Canvas::set_clip(std::optional<ClipBox> box) {
    if (!box) {
        clip_ = -1;
        return;
    }
    clips_.push_back(*box);
    clip_ = static_cast<int>(clips_.size() - 1);
}

std::vector<char32_t> utf8_decode(const std::string& s) {
    std::vector<char32_t> out;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned c = p[i];
        int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        bool ok = len > 0 && i + static_cast<std::size_t>(len) <= n;
        for (int k = 1; ok && k < len; ++k) {
            const unsigned cc = p[i + static_cast<std::size_t>(k)];
            ok = (cc & 0xC0) == 0x80;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are invalid too.
        if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                   (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF))
            ok = false;
        if (!ok) {
            out.push_back(0xFFFD);
            ++i;
            continue;
        }
        out.push_back(cp);
        i += static_cast<std::size_t>(len);
    }
    return out;
}

}  // namespace tilesim::plot
