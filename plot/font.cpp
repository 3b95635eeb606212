#include "plot/font.h"

#include <stb_truetype.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace tilesim::plot {

Font::~Font() = default;

std::shared_ptr<const Font> Font::load(const std::string& path, std::string* error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (error) *error = "cannot read font '" + path + "'";
        return nullptr;
    }
    std::shared_ptr<Font> f(new Font());
    f->path_ = path;
    f->data_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    f->info_ = std::make_unique<stbtt_fontinfo>();
    const int offset = stbtt_GetFontOffsetForIndex(f->data_.data(), 0);
    if (f->data_.empty() || offset < 0 || stbtt_InitFont(f->info_.get(), f->data_.data(), offset) == 0) {
        if (error) *error = "'" + path + "' is not a TrueType font";
        return nullptr;
    }
    return f;
}

float Font::scale(double px) const {
    return stbtt_ScaleForMappingEmToPixels(info_.get(), static_cast<float>(px));
}

namespace {
// The glyph for a code point, or the font's '?' when it has none (never an empty box).
int glyph_of(const stbtt_fontinfo* info, char32_t cp) {
    const int g = stbtt_FindGlyphIndex(info, static_cast<int>(cp));
    return g != 0 ? g : stbtt_FindGlyphIndex(info, '?');
}
}  // namespace

double Font::width(const std::string& text, double px) const {
    const float s = scale(px);
    double w = 0;
    int prev = -1;
    for (char32_t cp : utf8_decode(text)) {
        const int g = glyph_of(info_.get(), cp);
        int advance = 0, lsb = 0;
        stbtt_GetGlyphHMetrics(info_.get(), g, &advance, &lsb);
        if (prev >= 0) w += s * stbtt_GetGlyphKernAdvance(info_.get(), prev, g);
        w += s * advance;
        prev = g;
    }
    return w;
}

double Font::ascent(double px) const {
    int a = 0, d = 0, gap = 0;
    stbtt_GetFontVMetrics(info_.get(), &a, &d, &gap);
    return scale(px) * a;
}

double Font::descent(double px) const {
    int a = 0, d = 0, gap = 0;
    stbtt_GetFontVMetrics(info_.get(), &a, &d, &gap);
    return -scale(px) * d;
}

void Font::render(const std::string& text, double px, double x, double baseline, std::vector<float>& mask,
                  int w, int h) const {
    const float s = scale(px);
    const int base = static_cast<int>(std::lround(baseline));  // whole-pixel baseline: crisp horizontals
    double pen = x;
    int prev = -1;
    std::vector<unsigned char> bitmap;
    for (char32_t cp : utf8_decode(text)) {
        const int g = glyph_of(info_.get(), cp);
        if (prev >= 0) pen += s * stbtt_GetGlyphKernAdvance(info_.get(), prev, g);
        const double ix = std::floor(pen);
        const auto shift = static_cast<float>(pen - ix);
        int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
        stbtt_GetGlyphBitmapBoxSubpixel(info_.get(), g, s, s, shift, 0, &x0, &y0, &x1, &y1);
        const int gw = x1 - x0, gh = y1 - y0;
        if (gw > 0 && gh > 0) {
            bitmap.assign(static_cast<std::size_t>(gw) * static_cast<std::size_t>(gh), 0);
            stbtt_MakeGlyphBitmapSubpixel(info_.get(), bitmap.data(), gw, gh, gw, s, s, shift, 0, g);
            for (int yy = 0; yy < gh; ++yy) {
                const int py = base + y0 + yy;
                if (py < 0 || py >= h) continue;
                for (int xx = 0; xx < gw; ++xx) {
                    const int pxl = static_cast<int>(ix) + x0 + xx;
                    if (pxl < 0 || pxl >= w) continue;
                    float& m = mask[static_cast<std::size_t>(py) * static_cast<std::size_t>(w) +
                                    static_cast<std::size_t>(pxl)];
                    m = std::min(1.0F, m + bitmap[static_cast<std::size_t>(yy * gw + xx)] / 255.0F);
                }
            }
        }
        int advance = 0, lsb = 0;
        stbtt_GetGlyphHMetrics(info_.get(), g, &advance, &lsb);
        pen += s * advance;
        prev = g;
    }
}

FontSet find_fonts(std::string* error) {
    namespace fs = std::filesystem;
    std::vector<std::string> dirs;
#ifdef TILESIM_FONT_DIR
    dirs.emplace_back(TILESIM_FONT_DIR);
#endif
    for (const char* d :
         {"/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts/dejavu",
          "/usr/share/fonts/dejavu-sans-fonts", "/usr/local/share/fonts"})
        dirs.emplace_back(d);
    std::string regular, bold;
    if (const char* env = std::getenv("TILESIM_FONT"); env != nullptr && *env != '\0') {
        regular = env;
        if (const char* b = std::getenv("TILESIM_FONT_BOLD"); b != nullptr && *b != '\0') bold = b;
    } else {
        for (const auto& d : dirs) {
            std::error_code ec;
            if (fs::exists(fs::path(d) / "DejaVuSans.ttf", ec)) {
                regular = (fs::path(d) / "DejaVuSans.ttf").string();
                if (fs::exists(fs::path(d) / "DejaVuSans-Bold.ttf", ec))
                    bold = (fs::path(d) / "DejaVuSans-Bold.ttf").string();
                break;
            }
        }
    }
    FontSet set;
    const std::string install =
        "install Debian's fonts-dejavu-core (sudo apt-get install fonts-dejavu-core) or set "
        "TILESIM_FONT=/path/to/font.ttf";
    if (regular.empty()) {
        if (error) *error = "no TrueType font found for the figure's text (DejaVuSans.ttf); " + install;
        return set;
    }
    std::string why;
    set.regular = Font::load(regular, &why);
    if (!set.regular) {
        if (error) *error = why + "; " + install;
        return set;
    }
    if (!bold.empty()) set.bold = Font::load(bold, &why);
    return set;
}

TextMeasure text_measure(const FontSet& fonts) {
    if (fonts.ok()) {
        return [fonts](const std::string& text, double size, bool bold) {
            return fonts.pick(bold).width(text, size);
        };
    }
    // DejaVu Sans averages about 0.6 em per character (0.64 for digits); bold is wider.
    return [](const std::string& text, double size, bool bold) {
        return static_cast<double>(utf8_decode(text).size()) * size * (bold ? 0.66 : 0.6);
    };
}

}  // namespace tilesim::plot
