#pragma once
// SVG 1.1 of a Canvas: one element per primitive, groups as <g class=".." data-key="..">, clip boxes
// as <clipPath>. Text is escaped for XML (& < > " '), control characters are dropped and invalid
// UTF-8 becomes U+FFFD, so any scenario name or label yields a well-formed document.
#include <string>

#include "plot/canvas.h"

namespace tilesim::plot {

// The font family the SVG asks for: DejaVu Sans first (the font the layout measured), then look-alikes.
inline constexpr const char* kSvgFontFamily = "DejaVu Sans, Verdana, Arial, sans-serif";

std::string to_svg(const Canvas& c);

// Text made safe for XML character data and attribute values.
std::string xml_escape(const std::string& s);

}  // namespace tilesim::plot
