#include "plot/raster.h"

#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tilesim::plot {

namespace {

constexpr int kSub = 4;  // sub-scanlines per pixel row
constexpr double kPi = 3.14159265358979323846;

using Polygon = std::vector<Point>;

double signed_area(const Polygon& p) {
    double a = 0;
    for (std::size_t k = 0; k < p.size(); ++k) {
        const Point& u = p[k];
        const Point& v = p[(k + 1) % p.size()];
        a += u.x * v.y - v.x * u.y;
    }
    return a / 2;
}

// Same orientation for every piece of a stroke, so overlapping pieces add up under the non-zero rule
// instead of cancelling.
void orient_positive(Polygon& p) {
    if (signed_area(p) < 0) std::reverse(p.begin(), p.end());
}

Polygon circle_polygon(Point c, double r) {
    const int n = std::clamp(static_cast<int>(std::ceil(r * 2.5)), 12, 128);
    Polygon p;
    for (int k = 0; k < n; ++k) {
        const double t = 2 * kPi * k / n;
        p.push_back({c.x + r * std::cos(t), c.y + r * std::sin(t)});
    }
    return p;
}

// A stroked open polyline as polygons: one quad per segment (butt ends) and a disc at each interior
// vertex (round joins).
void stroke_polyline(const std::vector<Point>& pts, double width, std::vector<Polygon>& out) {
    const double h = width / 2;
    for (std::size_t k = 0; k + 1 < pts.size(); ++k) {
        const Point a = pts[k], b = pts[k + 1];
        const double dx = b.x - a.x, dy = b.y - a.y, len = std::hypot(dx, dy);
        if (len < 1e-9) continue;
        const double nx = -dy / len * h, ny = dx / len * h;
        Polygon q = {{a.x + nx, a.y + ny}, {b.x + nx, b.y + ny}, {b.x - nx, b.y - ny}, {a.x - nx, a.y - ny}};
        orient_positive(q);
        out.push_back(std::move(q));
        if (k + 2 < pts.size()) {
            Polygon j = circle_polygon(b, h);
            orient_positive(j);
            out.push_back(std::move(j));
        }
    }
}

// Splits a polyline into its dashes ("on" runs of the pattern), as SVG's stroke-dasharray does
// from the start of the path.
std::vector<std::vector<Point>> dashes(const std::vector<Point>& pts, const std::vector<double>& pattern) {
    std::vector<std::vector<Point>> out;
    double total = 0;
    for (double d : pattern) total += std::max(0.0, d);
    if (pattern.empty() || total <= 0) return {pts};
    std::size_t idx = 0;
    double left = std::max(0.0, pattern[0]);
    bool on = true;
    std::vector<Point> cur;
    for (std::size_t k = 0; k + 1 < pts.size(); ++k) {
        Point a = pts[k];
        const Point b = pts[k + 1];
        double seg = std::hypot(b.x - a.x, b.y - a.y);
        if (on && cur.empty()) cur.push_back(a);
        while (seg > left) {
            const double t = left / seg;
            const Point m{a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t};
            if (on) {
                cur.push_back(m);
                out.push_back(std::move(cur));
                cur.clear();
            } else {
                cur = {m};
            }
            on = !on;
            seg -= left;
            a = m;
            idx = (idx + 1) % pattern.size();
            left = std::max(0.0, pattern[idx]);
            if (left == 0 && total > 0) continue;
        }
        left -= seg;
        if (on) cur.push_back(b);
    }
    if (on && cur.size() >= 2) out.push_back(std::move(cur));
    return out;
}

struct Edge {
    double x0, y0, x1, y1;  // y0 < y1
    int dir;
};

// The RGB image plus compositing of coverage masks.
class Target {
  public:
    Target(int w, int h)
        : w_(w), h_(h), px_(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3, 1.0F) {}
    int width() const { return w_; }
    int height() const { return h_; }
    void clip(const std::optional<ClipBox>& c) { clip_ = c; }

    // Blends `color` at coverage `cov` into pixel (x, y), limited to the clip box.
    void blend(int x, int y, double cov, const Color& color) {
        if (x < 0 || y < 0 || x >= w_ || y >= h_ || cov <= 0) return;
        if (clip_) {
            const double fx = std::min<double>(x + 1, clip_->x + clip_->w) - std::max<double>(x, clip_->x);
            const double fy = std::min<double>(y + 1, clip_->y + clip_->h) - std::max<double>(y, clip_->y);
            if (fx <= 0 || fy <= 0) return;
            cov *= std::min(1.0, fx) * std::min(1.0, fy);
        }
        const auto a = static_cast<float>(std::min(1.0, cov) * color.a);
        float* p =
            &px_[(static_cast<std::size_t>(y) * static_cast<std::size_t>(w_) + static_cast<std::size_t>(x)) *
                 3];
        p[0] += (color.r / 255.0F - p[0]) * a;
        p[1] += (color.g / 255.0F - p[1]) * a;
        p[2] += (color.b / 255.0F - p[2]) * a;
    }

    // Non-zero fill of `polys` with exact horizontal coverage on kSub sub-scanlines per row.
    void fill(const std::vector<Polygon>& polys, const Color& color) {
        std::vector<Edge> edges;
        double ymin = 1e300, ymax = -1e300, xmin = 1e300, xmax = -1e300;
        for (const auto& p : polys) {
            for (std::size_t k = 0; k < p.size(); ++k) {
                const Point a = p[k], b = p[(k + 1) % p.size()];
                xmin = std::min({xmin, a.x, b.x});
                xmax = std::max({xmax, a.x, b.x});
                if (a.y == b.y) continue;
                edges.push_back(a.y < b.y ? Edge{a.x, a.y, b.x, b.y, 1} : Edge{b.x, b.y, a.x, a.y, -1});
                ymin = std::min(ymin, std::min(a.y, b.y));
                ymax = std::max(ymax, std::max(a.y, b.y));
            }
        }
        if (edges.empty()) return;
        const int bx0 = std::max(0, static_cast<int>(std::floor(xmin)));
        const int bx1 = std::min(w_, static_cast<int>(std::ceil(xmax)) + 1);
        const int by0 = std::max(0, static_cast<int>(std::floor(ymin)));
        const int by1 = std::min(h_, static_cast<int>(std::ceil(ymax)) + 1);
        if (bx0 >= bx1 || by0 >= by1) return;
        std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.y0 < b.y0; });
        std::vector<double> cov(static_cast<std::size_t>(bx1 - bx0));
        std::vector<const Edge*> active;
        std::vector<std::pair<double, int>> xs;
        std::size_t next = 0;
        for (int y = by0; y < by1; ++y) {
            std::fill(cov.begin(), cov.end(), 0.0);
            bool any = false;
            for (int s = 0; s < kSub; ++s) {
                const double sy = y + (s + 0.5) / kSub;
                while (next < edges.size() && edges[next].y0 <= sy) active.push_back(&edges[next++]);
                active.erase(
                    std::remove_if(active.begin(), active.end(), [sy](const Edge* e) { return e->y1 <= sy; }),
                    active.end());
                xs.clear();
                for (const Edge* e : active) {
                    if (e->y0 > sy) continue;
                    const double t = (sy - e->y0) / (e->y1 - e->y0);
                    xs.emplace_back(e->x0 + (e->x1 - e->x0) * t, e->dir);
                }
                std::sort(xs.begin(), xs.end());
                int winding = 0;
                for (std::size_t k = 0; k + 1 < xs.size(); ++k) {
                    winding += xs[k].second;
                    if (winding == 0) continue;
                    span(xs[k].first, xs[k + 1].first, bx0, cov);
                    any = true;
                }
            }
            if (!any) continue;
            for (int x = bx0; x < bx1; ++x) blend(x, y, cov[static_cast<std::size_t>(x - bx0)], color);
        }
    }

    std::vector<float>& pixels() { return px_; }

  private:
    // Adds the coverage of [xa, xb) on one sub-scanline.
    static void span(double xa, double xb, int bx0, std::vector<double>& cov) {
        const int n = static_cast<int>(cov.size());
        xa = std::max(xa, static_cast<double>(bx0));
        xb = std::min(xb, static_cast<double>(bx0 + n));
        if (xb <= xa) return;
        const int p0 = static_cast<int>(std::floor(xa)), p1 = static_cast<int>(std::ceil(xb));
        for (int p = p0; p < p1; ++p) {
            const double o = std::min(xb, p + 1.0) - std::max(xa, static_cast<double>(p));
            if (o > 0) cov[static_cast<std::size_t>(p - bx0)] += o / kSub;
        }
    }

    int w_, h_;
    std::vector<float> px_;
    std::optional<ClipBox> clip_;
};

void draw_stroke(Target& t, const std::vector<Point>& pts, bool closed, const Stroke& s) {
    std::vector<Point> path = pts;
    if (closed && !pts.empty()) path.push_back(pts.front());
    std::vector<Polygon> polys;
    for (const auto& piece : dashes(path, s.dash)) stroke_polyline(piece, s.width, polys);
    // A closed solid outline also needs its join at the start.
    if (closed && s.dash.empty() && path.size() > 2) {
        Polygon j = circle_polygon(path.front(), s.width / 2);
        orient_positive(j);
        polys.push_back(std::move(j));
    }
    t.fill(polys, s.color);
}

void draw_text(Target& t, const Text& tx, const FontSet& fonts, double scale) {
    const Font& f = fonts.pick(tx.bold);
    const double px = tx.size * scale;
    const double w = f.width(tx.text, px);
    const double shift = tx.anchor == Anchor::start ? 0 : tx.anchor == Anchor::middle ? -w / 2 : -w;
    const double ax = tx.at.x * scale, ay = tx.at.y * scale;
    if (tx.rotate == 0) {
        // Render into a mask over the text's box, then blend.
        const int x0 = static_cast<int>(std::floor(ax + shift)) - 2;
        const int y0 = static_cast<int>(std::floor(ay - f.ascent(px))) - 2;
        const int mw = static_cast<int>(std::ceil(w)) + 6,
                  mh = static_cast<int>(std::ceil(f.ascent(px) + f.descent(px))) + 6;
        std::vector<float> mask(static_cast<std::size_t>(mw) * static_cast<std::size_t>(mh), 0.0F);
        f.render(tx.text, px, ax + shift - x0, ay - y0, mask, mw, mh);
        for (int y = 0; y < mh; ++y)
            for (int x = 0; x < mw; ++x)
                t.blend(x0 + x, y0 + y, mask[static_cast<std::size_t>(y * mw + x)], tx.color);
        return;
    }
    // Rotated by -90 degrees about the (whole-pixel) anchor: text point (u along the baseline, v down)
    // lands at (ax + v, ay - u).
    const double rx = std::round(ax), ry = std::round(ay);
    const int pad = 2;
    const int mw = static_cast<int>(std::ceil(w)) + 2 * pad;
    const int asc = static_cast<int>(std::ceil(f.ascent(px))),
              desc = static_cast<int>(std::ceil(f.descent(px)));
    const int mh = asc + desc + 2 * pad;
    std::vector<float> mask(static_cast<std::size_t>(mw) * static_cast<std::size_t>(mh), 0.0F);
    const double ox = pad - std::floor(shift), oy = pad + asc;  // the anchor inside the mask
    f.render(tx.text, px, ox + shift, oy, mask, mw, mh);
    for (int j = 0; j < mh; ++j) {
        for (int i = 0; i < mw; ++i) {
            const float m = mask[static_cast<std::size_t>(j * mw + i)];
            if (m <= 0) continue;
            const double u = i - ox, v = j - oy;
            t.blend(static_cast<int>(rx + v), static_cast<int>(ry - u) - 1, m, tx.color);
        }
    }
}

}  // namespace

Image rasterise(const Canvas& c, const FontSet& fonts, double scale) {
    const int w = static_cast<int>(std::lround(c.width() * scale)),
              h = static_cast<int>(std::lround(c.height() * scale));
    if (w <= 0 || h <= 0 || w > 16384 || h > 16384)
        throw std::runtime_error("image size out of range (1..16384 px a side)");
    Target t(w, h);
    auto sc = [scale](std::vector<Point> pts) {
        for (auto& p : pts) p = {p.x * scale, p.y * scale};
        return pts;
    };
    for (const auto& e : c.items()) {
        if (e.clip >= 0) {
            ClipBox b = c.clips()[static_cast<std::size_t>(e.clip)];
            t.clip(ClipBox{b.x * scale, b.y * scale, b.w * scale, b.h * scale});
        } else {
            t.clip(std::nullopt);
        }
        if (e.kind == ItemKind::path) {
            const Path& p = c.paths()[static_cast<std::size_t>(e.index)];
            const auto pts = sc(p.points);
            if (p.fill && p.closed && pts.size() >= 3) t.fill({pts}, *p.fill);
            if (p.stroke) {
                Stroke s = *p.stroke;
                s.width *= scale;
                for (auto& d : s.dash) d *= scale;
                draw_stroke(t, pts, p.closed, s);
            }
        } else if (e.kind == ItemKind::circle) {
            const Circle& ci = c.circles()[static_cast<std::size_t>(e.index)];
            const Point ctr{ci.center.x * scale, ci.center.y * scale};
            const double r = ci.r * scale;
            if (ci.fill) t.fill({circle_polygon(ctr, r)}, *ci.fill);
            if (ci.stroke) {
                // A ring: the outer circle one way round, the inner the other, so the hole has winding 0.
                const double hw = ci.stroke->width * scale / 2;
                Polygon outer = circle_polygon(ctr, r + hw),
                        inner = circle_polygon(ctr, std::max(0.0, r - hw));
                orient_positive(outer);
                orient_positive(inner);
                std::reverse(inner.begin(), inner.end());
                t.fill({outer, inner}, ci.stroke->color);
            }
        } else if (e.kind == ItemKind::text) {
            const Text& tx = c.texts()[static_cast<std::size_t>(e.index)];
            if (tx.text.empty()) continue;
            if (!fonts.ok()) throw std::runtime_error("PNG text needs a TrueType font");
            draw_text(t, tx, fonts, scale);
        }
    }
    Image img;
    img.width = w;
    img.height = h;
    img.rgb.resize(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3);
    const auto& px = t.pixels();
    for (std::size_t k = 0; k < img.rgb.size(); ++k)
        img.rgb[k] = static_cast<std::uint8_t>(std::lround(std::clamp(px[k], 0.0F, 1.0F) * 255.0F));
    return img;
}

std::string encode_png(const Image& img) {
    std::string out;
    auto sink = [](void* ctx, void* data, int size) {
        static_cast<std::string*>(ctx)->append(static_cast<const char*>(data),
                                               static_cast<std::size_t>(size));
    };
    if (stbi_write_png_to_func(sink, &out, img.width, img.height, 3, img.rgb.data(), img.width * 3) == 0 ||
        out.empty()) {
        throw std::runtime_error("PNG encoding failed");
    }
    return out;
}

}  // namespace tilesim::plot
