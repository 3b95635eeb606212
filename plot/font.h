#pragma once
// TrueType text for the figures, through stb_truetype (Debian's libstb): measuring strings for the
// layout, and rendering them as coverage masks for the PNG rasteriser. The font is DejaVu Sans from
// Debian's fonts-dejavu-core, found at run time (see find_fonts).
#include <memory>
#include <string>
#include <vector>

#include "plot/canvas.h"

struct stbtt_fontinfo;

namespace tilesim::plot {

class Font {
  public:
    // Reads a .ttf file; null with *error set when it cannot be read or parsed.
    static std::shared_ptr<const Font> load(const std::string& path, std::string* error);
    ~Font();
    Font(const Font&) = delete;
    Font& operator=(const Font&) = delete;

    const std::string& path() const { return path_; }
    // Advance width of `text` at `px` pixels per em, kerning included.
    double width(const std::string& text, double px) const;
    double ascent(double px) const;
    double descent(double px) const;  // positive, below the baseline
    // Adds the coverage (0..1) of `text` with its baseline starting at (x, baseline) into `mask`, a
    // w x h row-major buffer (clamped at 1).
    void render(const std::string& text, double px, double x, double baseline, std::vector<float>& mask,
                int w, int h) const;

  private:
    Font() = default;
    float scale(double px) const;
    std::string path_;
    std::vector<unsigned char> data_;
    std::unique_ptr<stbtt_fontinfo> info_;
};

struct FontSet {
    std::shared_ptr<const Font> regular, bold;  // bold falls back to regular
    bool ok() const { return regular != nullptr; }
    const Font& pick(bool want_bold) const { return want_bold && bold ? *bold : *regular; }
};

// DejaVu Sans and DejaVu Sans Bold: $TILESIM_FONT (and $TILESIM_FONT_BOLD) when set, else the folder
// found when the build was configured, else Debian's and other distributions' usual folders. When
// none is found, an empty set and *error says what to install.
FontSet find_fonts(std::string* error);

// A TextMeasure from the fonts, or (no font) an estimate from DejaVu Sans's average advance, good
// enough for an SVG whose viewer brings its own font.
TextMeasure text_measure(const FontSet& fonts);

}  // namespace tilesim::plot
