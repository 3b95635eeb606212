// Exports are atomic: a reader sees the old file or the whole new one, never a part.
#include <catch2/catch.hpp>

#include <stb_image.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "viz/export.h"

using namespace tilesim;
namespace fs = std::filesystem;

namespace {
fs::path scratch(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("tilesim-viz-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir / name;
}
std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}
}  // namespace

TEST_CASE("atomic writes replace the file and leave no temporary behind", "[export]") {
    const auto p = scratch("sweep.csv");
    REQUIRE(viz::write_file_atomic(p.string(), "a,b\n1,2\n").empty());
    CHECK(slurp(p) == "a,b\n1,2\n");
    REQUIRE(viz::write_file_atomic(p.string(), "new").empty());
    CHECK(slurp(p) == "new");
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(p.parent_path())) files += e.is_regular_file() ? 1 : 0;
    CHECK(files == 1);
    const std::string err = viz::write_file_atomic((p.parent_path() / "missing" / "x.csv").string(), "x");
    CHECK_FALSE(err.empty());
    CHECK_FALSE(fs::exists(p.parent_path() / "missing"));
    fs::remove_all(p.parent_path());
}

TEST_CASE("PNG encoding round-trips through stb_image, rows in order", "[export]") {
    const int w = 3, h = 2;
    std::vector<std::uint8_t> rgba = {255, 0,  0,  255, 0,  255, 0,  255, 0,  0,  255, 255,
                                      10,  20, 30, 7,   40, 50,  60, 0,   70, 80, 90,  255};
    const std::string png = viz::encode_png(w, h, rgba);
    REQUIRE_FALSE(png.empty());
    int x = 0, y = 0, n = 0;
    unsigned char* px = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                              static_cast<int>(png.size()), &x, &y, &n, 4);
    REQUIRE(px != nullptr);
    CHECK(x == w);
    CHECK(y == h);
    for (int i = 0; i < w * h; ++i) {
        CHECK(px[i * 4] == rgba[static_cast<std::size_t>(i) * 4]);
        CHECK(px[i * 4 + 1] == rgba[static_cast<std::size_t>(i) * 4 + 1]);
        CHECK(px[i * 4 + 2] == rgba[static_cast<std::size_t>(i) * 4 + 2]);
        CHECK(px[i * 4 + 3] == 255);  // screens are opaque
    }
    stbi_image_free(px);
    CHECK(viz::encode_png(0, 0, {}).empty());
    CHECK(viz::encode_png(4, 4, rgba).empty());  // too few pixels: refused, not read past the end

    auto flipped = rgba;
    viz::flip_rows(flipped, w, h);
    CHECK(std::equal(flipped.begin(), flipped.begin() + 12, rgba.begin() + 12));
    const auto p = scratch("shot.png");
    CHECK_FALSE(viz::write_png_atomic(p.string(), 0, 0, {}).empty());
    CHECK_FALSE(fs::exists(p));
    fs::remove_all(p.parent_path());
}

TEST_CASE("palette PNGs keep flat colours exact", "[export]") {
    // A 64 x 64 image: four flat quadrants and a gradient row, more than 256 colours in all.
    const int w = 64, h = 64;
    std::vector<std::uint8_t> rgba(static_cast<std::size_t>(w * h * 4), 255);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            auto* p = &rgba[static_cast<std::size_t>((y * w + x) * 4)];
            if (y == 0) {
                p[0] = static_cast<std::uint8_t>(x * 4);
                p[1] = static_cast<std::uint8_t>(255 - x * 4);
                p[2] = static_cast<std::uint8_t>(x);
            } else {
                const bool right = x >= w / 2, bottom = y >= h / 2;
                p[0] = right ? 0xE8 : 0x4C;
                p[1] = bottom ? 0x55 : 0x8D;
                p[2] = right && bottom ? 0x4E : 0xF6;
            }
        }
    }
    const std::string png = viz::encode_png_palette(w, h, rgba);
    if (png.empty()) {
        WARN("built without zlib: palette PNGs fall back to true colour");
        return;
    }
    int x = 0, y = 0, n = 0;
    unsigned char* px = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                              static_cast<int>(png.size()), &x, &y, &n, 4);
    REQUIRE(px != nullptr);
    REQUIRE(x == w);
    REQUIRE(y == h);
    for (int i = w; i < w * h; ++i) {  // every flat pixel exact
        REQUIRE(px[i * 4] == rgba[static_cast<std::size_t>(i) * 4]);
        REQUIRE(px[i * 4 + 1] == rgba[static_cast<std::size_t>(i) * 4 + 1]);
        REQUIRE(px[i * 4 + 2] == rgba[static_cast<std::size_t>(i) * 4 + 2]);
    }
    stbi_image_free(px);
}
