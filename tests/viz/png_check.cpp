// tilesim_png_check: checks a screenshot is not blank and holds the expected colours in the
// expected places. Used by the ctest screenshot tests (tests/viz/screenshot_tests.cmake).
//
//   tilesim_png_check FILE.png [--min-colors N] [--expect SPEC]... [--at-most SPEC]...
//   SPEC = NAME:X0,Y0,X1,Y1:COLOUR:COUNT
//     X0..Y1  region as fractions of the image (0..1), so the checks survive a window-size change
//     COLOUR  RRGGBB (exact, within a tolerance of 12 per channel: rendering is exact for flat
//             fills) or RRGGBB/BBGGRR... i.e. FG/BG: any blend of 20..100 % FG over BG, which is how
//             the GUI tints tiles
//     COUNT   --expect: at least COUNT matching pixels; --at-most: no more than COUNT
// Prints one line per check; exits 1 when any fails, 2 on bad usage or an unreadable file.
#include <stb_image.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Rgb {
    int r = 0, g = 0, b = 0;
};

bool parse_hex(const std::string& s, Rgb& c) {
    if (s.size() != 6) return false;
    char* end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 16);
    if (end != s.c_str() + 6) return false;
    c = {static_cast<int>((v >> 16) & 0xFF), static_cast<int>((v >> 8) & 0xFF), static_cast<int>(v & 0xFF)};
    return true;
}

struct Spec {
    std::string name;
    double x0 = 0, y0 = 0, x1 = 1, y1 = 1;
    Rgb fg, bg;
    bool blend = false;
    long count = 0;
};

bool parse_spec(const std::string& text, Spec& s) {
    std::vector<std::string> parts;
    std::stringstream ss(text);
    std::string p;
    while (std::getline(ss, p, ':')) parts.push_back(p);
    if (parts.size() != 4) return false;
    s.name = parts[0];
    if (std::sscanf(parts[1].c_str(), "%lf,%lf,%lf,%lf", &s.x0, &s.y0, &s.x1, &s.y1) != 4) return false;
    const auto slash = parts[2].find('/');
    if (slash == std::string::npos) {
        if (!parse_hex(parts[2], s.fg)) return false;
    } else {
        s.blend = true;
        if (!parse_hex(parts[2].substr(0, slash), s.fg) || !parse_hex(parts[2].substr(slash + 1), s.bg))
            return false;
    }
    char* end = nullptr;
    s.count = std::strtol(parts[3].c_str(), &end, 10);
    return end != parts[3].c_str() && *end == '\0' && s.count >= 0;
}

bool matches(const Spec& s, const unsigned char* px) {
    constexpr int kTol = 12;
    const int r = px[0], g = px[1], b = px[2];
    if (!s.blend)
        return std::abs(r - s.fg.r) <= kTol && std::abs(g - s.fg.g) <= kTol && std::abs(b - s.fg.b) <= kTol;
    // Blend a*fg + (1-a)*bg: solve for a on the channel with the largest spread, check the others.
    const int dr = s.fg.r - s.bg.r, dg = s.fg.g - s.bg.g, db = s.fg.b - s.bg.b;
    const int big = std::max({std::abs(dr), std::abs(dg), std::abs(db)});
    if (big == 0) return false;
    const double a = std::abs(dr) == big   ? double(r - s.bg.r) / dr
                     : std::abs(dg) == big ? double(g - s.bg.g) / dg
                                           : double(b - s.bg.b) / db;
    if (a < 0.2 || a > 1.05) return false;
    auto near = [&](int v, int bg, int d) { return std::abs(v - (bg + a * d)) <= 10; };
    return near(r, s.bg.r, dr) && near(g, s.bg.g, dg) && near(b, s.bg.b, db);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(
            stderr,
            "usage: tilesim_png_check FILE.png [--min-colors N] [--expect SPEC]... [--at-most SPEC]...\n");
        return 2;
    }
    const std::string file = argv[1];
    long min_colors = 16;
    std::vector<std::pair<Spec, bool>> checks;  // bool: at-least (true) or at-most (false)
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) {
            std::fprintf(stderr, "tilesim_png_check: %s needs a value\n", a.c_str());
            return 2;
        }
        const std::string v = argv[++i];
        if (a == "--min-colors") {
            min_colors = std::strtol(v.c_str(), nullptr, 10);
        } else if (a == "--expect" || a == "--at-most") {
            Spec s;
            if (!parse_spec(v, s)) {
                std::fprintf(stderr, "tilesim_png_check: bad spec '%s' (NAME:X0,Y0,X1,Y1:COLOUR:COUNT)\n",
                             v.c_str());
                return 2;
            }
            checks.emplace_back(s, a == "--expect");
        } else {
            std::fprintf(stderr, "tilesim_png_check: unknown option '%s'\n", a.c_str());
            return 2;
        }
    }
    int w = 0, h = 0, n = 0;
    unsigned char* px = stbi_load(file.c_str(), &w, &h, &n, 3);
    if (px == nullptr) {
        std::fprintf(stderr, "tilesim_png_check: cannot read %s: %s\n", file.c_str(), stbi_failure_reason());
        return 2;
    }
    bool ok = true;
    // Not blank: many distinct colours (quantised to 4 bits per channel), no colour covering it all.
    std::set<int> colours;
    std::vector<long> hist(4096, 0);
    for (long i = 0; i < static_cast<long>(w) * h; ++i) {
        const unsigned char* p = px + i * 3;
        const int q = ((p[0] >> 4) << 8) | ((p[1] >> 4) << 4) | (p[2] >> 4);
        colours.insert(q);
        ++hist[static_cast<std::size_t>(q)];
    }
    const double dominant =
        static_cast<double>(*std::max_element(hist.begin(), hist.end())) / (static_cast<double>(w) * h);
    const bool blank_ok = static_cast<long>(colours.size()) >= min_colors && dominant < 0.97;
    std::printf("%s  not blank: %zu colours (need %ld), most common covers %.1f%%\n",
                blank_ok ? "ok  " : "FAIL", colours.size(), min_colors, 100 * dominant);
    ok = ok && blank_ok;
    for (const auto& [s, at_least] : checks) {
        const int x0 = static_cast<int>(s.x0 * w), x1 = static_cast<int>(s.x1 * w);
        const int y0 = static_cast<int>(s.y0 * h), y1 = static_cast<int>(s.y1 * h);
        long count = 0;
        for (int y = std::max(0, y0); y < std::min(h, y1); ++y) {
            for (int x = std::max(0, x0); x < std::min(w, x1); ++x) {
                count += matches(s, px + (static_cast<long>(y) * w + x) * 3) ? 1 : 0;
            }
        }
        const bool pass = at_least ? count >= s.count : count <= s.count;
        std::printf("%s  %s: %ld pixels in [%.2f,%.2f]x[%.2f,%.2f] (%s %ld)\n", pass ? "ok  " : "FAIL",
                    s.name.c_str(), count, s.x0, s.x1, s.y0, s.y1, at_least ? "need >=" : "need <=", s.count);
        ok = ok && pass;
    }
    stbi_image_free(px);
    return ok ? 0 : 1;
}
