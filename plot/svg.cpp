#include "plot/svg.h"

#include <cmath>
#include <cstdio>

namespace tilesim::plot {

namespace {

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Coordinates to 0.01 px, trailing zeros dropped: small files, exact enough for any screen.
std::string num(double v) {
    if (!std::isfinite(v)) v = 0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string s = buf;
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s == "-0" ? "0" : s;
}

std::string paint(const std::optional<Color>& fill, const std::optional<Stroke>& stroke) {
    std::string a = " fill=\"" + (fill ? css(*fill) : std::string("none")) + "\"";
    if (fill && fill->a < 1) a += " fill-opacity=\"" + num(fill->a) + "\"";
    if (stroke) {
        a += " stroke=\"" + css(stroke->color) + "\" stroke-width=\"" + num(stroke->width) + "\"";
        if (stroke->color.a < 1) a += " stroke-opacity=\"" + num(stroke->color.a) + "\"";
        if (!stroke->dash.empty()) {
            a += " stroke-dasharray=\"";
            for (std::size_t k = 0; k < stroke->dash.size(); ++k) a += (k ? " " : "") + num(stroke->dash[k]);
            a += "\"";
        }
        a += " stroke-linejoin=\"round\"";
    }
    return a;
}

std::string clip_attr(int clip) {
    return clip < 0 ? std::string() : " clip-path=\"url(#clip" + std::to_string(clip) + ")\"";
}

std::string anchor_name(Anchor a) {
    return a == Anchor::start ? "start" : a == Anchor::middle ? "middle" : "end";
}

}  // namespace

std::string xml_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t cp : utf8_decode(s)) {
        switch (cp) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                // XML 1.0 allows tab, newline and carriage return below 0x20, and not U+FFFE, U+FFFF.
                if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE || cp == 0xFFFF)
                    break;
                append_utf8(out, cp);
        }
    }
    return out;
}

std::string to_svg(const Canvas& c) {
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + num(c.width()) +
           "\" height=\"" + num(c.height()) + "\" viewBox=\"0 0 " + num(c.width()) + " " + num(c.height()) +
           "\" font-family=\"" + kSvgFontFamily + "\">\n";
    if (!c.clips().empty()) {
        out += "<defs>\n";
        for (std::size_t k = 0; k < c.clips().size(); ++k) {
            const auto& b = c.clips()[k];
            out += "<clipPath id=\"clip" + std::to_string(k) + "\"><rect x=\"" + num(b.x) + "\" y=\"" +
                   num(b.y) + "\" width=\"" + num(b.w) + "\" height=\"" + num(b.h) + "\"/></clipPath>\n";
        }
        out += "</defs>\n";
    }
    int depth = 0;
    for (const auto& e : c.items()) {
        switch (e.kind) {
            case ItemKind::path: {
                const Path& p = c.paths()[static_cast<std::size_t>(e.index)];
                if (p.points.empty()) break;
                std::string d;
                for (std::size_t k = 0; k < p.points.size(); ++k)
                    d += (k == 0 ? "M" : "L") + num(p.points[k].x) + " " + num(p.points[k].y);
                if (p.closed) d += "Z";
                out += "<path d=\"" + d + "\"" + paint(p.fill, p.stroke) + clip_attr(e.clip) + "/>\n";
                break;
            }
            case ItemKind::circle: {
                const Circle& ci = c.circles()[static_cast<std::size_t>(e.index)];
                out += "<circle cx=\"" + num(ci.center.x) + "\" cy=\"" + num(ci.center.y) + "\" r=\"" +
                       num(ci.r) + "\"" + paint(ci.fill, ci.stroke) + clip_attr(e.clip) + "/>\n";
                break;
            }
            case ItemKind::text: {
                const Text& t = c.texts()[static_cast<std::size_t>(e.index)];
                out += "<text x=\"" + num(t.at.x) + "\" y=\"" + num(t.at.y) + "\" font-size=\"" +
                       num(t.size) + "\"";
                if (t.bold) out += " font-weight=\"bold\"";
                if (t.anchor != Anchor::start) out += " text-anchor=\"" + anchor_name(t.anchor) + "\"";
                out += " fill=\"" + css(t.color) + "\"";
                if (t.color.a < 1) out += " fill-opacity=\"" + num(t.color.a) + "\"";
                if (t.rotate != 0)
                    out += " transform=\"rotate(" + std::to_string(t.rotate) + " " + num(t.at.x) + " " +
                           num(t.at.y) + ")\"";
                out += clip_attr(e.clip) + ">" + xml_escape(t.text) + "</text>\n";
                break;
            }
            case ItemKind::group_begin: {
                const GroupBegin& g = c.groups()[static_cast<std::size_t>(e.index)];
                out += "<g class=\"" + xml_escape(g.cls) + "\"";
                if (!g.key.empty()) out += " data-key=\"" + xml_escape(g.key) + "\"";
                out += ">\n";
                ++depth;
                break;
            }
            case ItemKind::group_end:
                if (depth > 0) {
                    out += "</g>\n";
                    --depth;
                }
                break;
        }
    }
    for (; depth > 0; --depth) out += "</g>\n";  // an unbalanced caller still gets a well-formed file
    out += "</svg>\n";
    return out;
}

}  // namespace tilesim::plot
