#pragma once
// A figure as a list of drawing primitives in pixel coordinates (origin top left, y down), so one
// description renders to SVG (svg.h) and to pixels (raster.h) alike, and tests can inspect what was
// drawn without parsing either. The plot library knows nothing about tilesim's model: the figures
// themselves are built in scenarios/plot_figures.cpp.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tilesim::plot {

struct Color {
    std::uint8_t r = 0, g = 0, b = 0;
    double a = 1;  // opacity, 0..1
};
// 0xRRGGBB with an opacity.
Color hex(unsigned rgb, double alpha = 1);
std::string css(const Color& c);  // "#rrggbb"

struct Point {
    double x = 0, y = 0;
};

struct Stroke {
    Color color;
    double width = 1;
    std::vector<double> dash;  // on, off, on, ... lengths in px; empty: solid
};

// A polyline or polygon (closed). Fill uses the non-zero rule.
struct Path {
    std::vector<Point> points;
    bool closed = false;
    std::optional<Color> fill;
    std::optional<Stroke> stroke;
};

struct Circle {
    Point center;
    double r = 1;
    std::optional<Color> fill;
    std::optional<Stroke> stroke;
};

enum class Anchor : std::uint8_t { start, middle, end };

// One line of UTF-8 text; `at` is the start, middle or end of its baseline. rotate: 0, or -90
// (reading upwards, for a y-axis label).
struct Text {
    Point at;
    std::string text;
    double size = 18;
    Anchor anchor = Anchor::start;
    bool bold = false;
    Color color;
    int rotate = 0;
};

// Groups carry meaning for the SVG's readers and the tests: <g class="..." data-key="...">.
struct GroupBegin {
    std::string cls, key;
};
struct GroupEnd {};

struct ClipBox {
    double x = 0, y = 0, w = 0, h = 0;
};

enum class ItemKind : std::uint8_t { path, circle, text, group_begin, group_end };

// Items in painting order; each names its kind and its index in that kind's list (no std::variant:
// GCC 12 reports false maybe-uninitialized warnings when variants of these structs are moved).
class Canvas {
  public:
    Canvas(double width, double height) : width_(width), height_(height) {}
    double width() const { return width_; }
    double height() const { return height_; }

    void path(Path p) { push(ItemKind::path, paths_, std::move(p)); }
    void line(Point a, Point b, const Stroke& s) { path(Path{{a, b}, false, std::nullopt, s}); }
    void polyline(std::vector<Point> pts, const Stroke& s) {
        path(Path{std::move(pts), false, std::nullopt, s});
    }
    void rect(double x, double y, double w, double h, std::optional<Color> fill,
              std::optional<Stroke> stroke = {});
    void circle(Point c, double r, std::optional<Color> fill, std::optional<Stroke> stroke = {}) {
        push(ItemKind::circle, circles_, Circle{c, r, fill, std::move(stroke)});
    }
    void text(Text t) { push(ItemKind::text, texts_, std::move(t)); }
    void begin_group(std::string cls, std::string key = {}) {
        push(ItemKind::group_begin, groups_, GroupBegin{std::move(cls), std::move(key)});
    }
    void end_group() { items_.push_back({ItemKind::group_end, -1, clip_}); }

    // Items added while a clip is set are drawn only inside it (the plot area).
    void set_clip(std::optional<ClipBox> box);

    struct Entry {
        ItemKind kind;
        int index;      // into paths(), circles(), texts() or groups()
        int clip = -1;  // index into clips(), -1: none
    };
    const std::vector<Entry>& items() const { return items_; }
    const std::vector<Path>& paths() const { return paths_; }
    const std::vector<Circle>& circles() const { return circles_; }
    const std::vector<Text>& texts() const { return texts_; }
    const std::vector<GroupBegin>& groups() const { return groups_; }
    const std::vector<ClipBox>& clips() const { return clips_; }

  private:
    template <typename T>
    void push(ItemKind k, std::vector<T>& list, T item) {
        list.push_back(std::move(item));
        items_.push_back({k, static_cast<int>(list.size() - 1), clip_});
    }
    double width_, height_;
    std::vector<Entry> items_;
    std::vector<Path> paths_;
    std::vector<Circle> circles_;
    std::vector<Text> texts_;
    std::vector<GroupBegin> groups_;
    std::vector<ClipBox> clips_;
    int clip_ = -1;
};

// Width in px of `text` at `size` px (bold or not): the layout's only question about fonts, so the
// SVG and the PNG place text where the same font puts it.
using TextMeasure = std::function<double(const std::string& text, double size, bool bold)>;

// Decodes UTF-8 into code points; invalid bytes become U+FFFD.
std::vector<char32_t> utf8_decode(const std::string& s);

}  // namespace tilesim::plot
