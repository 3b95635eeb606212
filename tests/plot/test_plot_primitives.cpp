// The plot library on its own: SVG text safety, ticks, wrapping, and the rasteriser's coverage on
// shapes whose pixels can be worked out by hand.
#include <stb_image.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "plot/chart.h"
#include "plot/font.h"
#include "plot/raster.h"
#include "plot/svg.h"
#include "tests/plot/xml_check.h"

using namespace tilesim::plot;
using tilesim::testing::parse_xml;

namespace {

// The red channel of pixel (x, y): shapes below are drawn in pure blue or black on white, so
// 255 - red is 255 x coverage.
double coverage(const Image& img, int x, int y) {
    return (255.0 - img.rgb[(static_cast<std::size_t>(y) * static_cast<std::size_t>(img.width) +
                             static_cast<std::size_t>(x)) *
                            3]) /
           255.0;
}
double total_coverage(const Image& img) {
    double sum = 0;
    for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x) sum += coverage(img, x, y);
    return sum;
}

}  // namespace

TEST_CASE("svg: text is escaped, control characters dropped, bad UTF-8 replaced", "[plot][svg]") {
    CHECK(xml_escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
    CHECK(xml_escape(std::string("bell\x07 tab\t")) == "bell tab\t");
    CHECK(xml_escape("\xff\xfe ok") == "\xEF\xBF\xBD\xEF\xBF\xBD ok");  // two U+FFFD
    CHECK(xml_escape("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");        // an overlong '/' is not a '/'
    CHECK(xml_escape("Θ(N² d² / M) ×") == "Θ(N² d² / M) ×");

    Canvas c(200, 100);
    c.begin_group("series data", "k<&>\"");
    c.text({{10, 20}, "</svg> & <script>", 18, Anchor::middle, true, hex(0x112233), -90});
    c.set_clip(ClipBox{0, 0, 50, 50});
    c.rect(1, 2, 3, 4, hex(0xFF0000, 0.5), Stroke{hex(0), 2, {4, 2}});
    c.end_group();
    c.end_group();  // one too many: ignored
    const std::string svg = to_svg(c);
    const auto root = parse_xml(svg);
    CHECK(root->name == "svg");
    CHECK(root->attr("viewBox") == "0 0 200 100");
    std::vector<const tilesim::testing::XmlNode*> texts, groups, paths;
    root->collect([](const auto& n) { return n.name == "text"; }, texts);
    root->collect([](const auto& n) { return n.name == "g"; }, groups);
    root->collect([](const auto& n) { return n.name == "path"; }, paths);
    REQUIRE(texts.size() == 1);
    CHECK(texts[0]->text == "</svg> & <script>");
    CHECK(texts[0]->attr("transform") == "rotate(-90 10 20)");
    REQUIRE(groups.size() == 1);
    CHECK(groups[0]->attr("data-key") == "k<&>\"");
    REQUIRE(paths.size() == 1);
    CHECK(paths[0]->attr("clip-path") == "url(#clip0)");
    CHECK(paths[0]->attr("stroke-dasharray") == "4 2");
    CHECK(paths[0]->attr("fill-opacity") == "0.5");
}

TEST_CASE("plot: log ticks label decades, and 2x and 5x on short ranges", "[plot]") {
    auto labelled = [](double lo, double hi) {
        std::vector<double> v;
        for (const auto& t : log_ticks(lo, hi))
            if (t.labelled) v.push_back(t.value);
        return v;
    };
    const auto wide = labelled(50, 2e6);  // 100 .. 1e6: five decades, only they are labelled
    REQUIRE(wide.size() == 5);
    CHECK(wide.front() == Approx(100));
    CHECK(wide.back() == Approx(1e6));
    const auto narrow = labelled(150, 3000);  // two decades' marks missing: 200, 500, 1000, 2000 too
    CHECK(narrow == std::vector<double>{200, 500, 1000, 2000});  // m x 10^k is exact for these
    CHECK(log_ticks(150, 3000).size() == 11);                    // 200 .. 900 (8), 1000, 2000, 3000
    CHECK(linear_ticks(7.86) == std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7});
    CHECK(linear_ticks(19).back() == Approx(15));  // 19 / 8 rounds up to steps of 5
}

TEST_CASE("plot: wrap keeps lines within the width", "[plot]") {
    const TextMeasure m = [](const std::string& s, double, bool) { return static_cast<double>(s.size()); };
    CHECK(wrap("aa bb cc dd", 5, 18, false, m) == std::vector<std::string>{"aa bb", "cc dd"});
    CHECK(wrap("averyveryvery long", 5, 18, false, m) == std::vector<std::string>{"averyveryvery", "long"});
}

TEST_CASE("raster: fills, strokes, dashes and clips cover what they should", "[plot][raster]") {
    const FontSet none;
    SECTION("a rectangle on pixel edges is exact; a half-pixel edge is half covered") {
        Canvas c(20, 10);
        c.rect(2, 3, 5, 4, hex(0x0000FF));
        c.rect(10, 0, 2.5, 10, hex(0x000000));
        const Image img = rasterise(c, none);
        CHECK(coverage(img, 2, 3) == Approx(1));
        CHECK(coverage(img, 6, 6) == Approx(1));
        CHECK(coverage(img, 7, 3) == Approx(0));
        CHECK(coverage(img, 1, 3) == Approx(0));
        CHECK(coverage(img, 12, 5) == Approx(0.5).margin(0.01));
        CHECK(total_coverage(img) == Approx(5 * 4 + 2.5 * 10).margin(0.05));
    }
    SECTION("a disc covers pi r^2, a ring 2 pi r w") {
        Canvas c(60, 60);
        c.circle({30, 30}, 20, hex(0x000000));
        CHECK(total_coverage(rasterise(c, none)) == Approx(3.14159265 * 400).epsilon(0.01));
        Canvas r(60, 60);
        r.circle({30, 30}, 20, std::nullopt, Stroke{hex(0x000000), 2, {}});
        CHECK(total_coverage(rasterise(r, none)) == Approx(2 * 3.14159265 * 20 * 2).epsilon(0.02));
    }
    SECTION("a 2 px line covers two rows; dashed 6 on 4 off covers 60 %; overlaps do not add up") {
        Canvas c(100, 10);
        c.line({0, 4}, {100, 4}, Stroke{hex(0x000000), 2, {}});
        const Image img = rasterise(c, none);
        CHECK(coverage(img, 50, 3) == Approx(1));
        CHECK(coverage(img, 50, 4) == Approx(1));
        CHECK(coverage(img, 50, 2) == Approx(0));
        CHECK(total_coverage(img) == Approx(200).margin(0.5));
        Canvas d(100, 10);
        d.line({0, 4}, {100, 4}, Stroke{hex(0x000000), 2, {6, 4}});
        CHECK(total_coverage(rasterise(d, none)) == Approx(120).margin(0.5));
        // A polyline doubling back on itself: the non-zero rule counts the overlap once.
        Canvas z(100, 10);
        z.polyline({{10, 4}, {90, 4}, {10, 4}}, Stroke{hex(0x000000), 2, {}});
        CHECK(total_coverage(rasterise(z, none)) == Approx(160).margin(3));
    }
    SECTION("nothing is drawn outside a clip box") {
        Canvas c(40, 40);
        c.set_clip(ClipBox{10, 10, 10, 10});
        c.rect(0, 0, 40, 40, hex(0x000000));
        const Image img = rasterise(c, none);
        CHECK(total_coverage(img) == Approx(100).margin(0.01));
        CHECK(coverage(img, 5, 5) == 0);
    }
    SECTION("scale 2 doubles every side") {
        Canvas c(20, 10);
        c.rect(2, 3, 5, 4, hex(0x000000));
        const Image img = rasterise(c, none, 2);
        CHECK(img.width == 40);
        CHECK(img.height == 20);
        CHECK(total_coverage(img) == Approx(80).margin(0.05));
    }
    SECTION("text without a font is an error, not an empty picture") {
        Canvas c(20, 10);
        c.text({{0, 8}, "x", 18, Anchor::start, false, hex(0)});
        CHECK_THROWS_WITH(rasterise(c, none), Catch::Contains("font"));
    }
}

TEST_CASE("raster: text from DejaVu Sans lands in its box, rotated text reads upwards", "[plot][raster]") {
    std::string why;
    const FontSet fonts = find_fonts(&why);
    INFO(why);
    REQUIRE(fonts.ok());  // fonts-dejavu-core is a dependency (scripts/deps.sh)
    const double w = fonts.regular->width("Hello", 20);
    CHECK(w > 40);
    CHECK(w < 70);
    CHECK(fonts.bold->width("Hello", 20) > w);
    Canvas c(200, 200);
    c.text({{100, 50}, "Hello", 20, Anchor::middle, false, hex(0)});
    c.text({{50, 150}, "Hello", 20, Anchor::start, false, hex(0), -90});
    const Image img = rasterise(c, fonts);
    // Ink only where the text is: horizontally within [100 - w/2, 100 + w/2] x [50 - ascent, 50 + descent];
    // the rotated one within [50 - ascent, 50 + descent] x [150 - w, 150].
    double inside = 0, elsewhere = 0, rotated = 0;
    for (int y = 0; y < 200; ++y) {
        for (int x = 0; x < 200; ++x) {
            const double v = coverage(img, x, y);
            if (x >= 100 - w / 2 - 2 && x <= 100 + w / 2 + 2 && y >= 30 && y <= 56)
                inside += v;
            else if (x >= 28 && x <= 56 && y >= 150 - w - 2 && y <= 152)
                rotated += v;
            else
                elsewhere += v;
        }
    }
    CHECK(inside > 40);
    CHECK(rotated == Approx(inside).epsilon(0.15));
    CHECK(elsewhere == Approx(0).margin(0.5));
}

TEST_CASE("raster: PNG bytes decode to the same pixels", "[plot][raster]") {
    Canvas c(64, 32);
    c.rect(0, 0, 64, 32, hex(0xFFFFFF));
    c.circle({20, 16}, 10, hex(0x0072B2));
    c.line({0, 0}, {64, 32}, Stroke{hex(0xD55E00), 3, {}});
    const Image img = rasterise(c, FontSet{});
    const std::string png = encode_png(img);
    int w = 0, h = 0, n = 0;
    unsigned char* px = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                              static_cast<int>(png.size()), &w, &h, &n, 3);
    REQUIRE(px != nullptr);
    CHECK(w == 64);
    CHECK(h == 32);
    CHECK(std::equal(img.rgb.begin(), img.rgb.end(), px));
    stbi_image_free(px);
}
