#include "viz/format.h"

#include <cmath>
#include <cstdio>

#include "scenarios/report.h"

namespace tilesim::viz {

std::string fmt_bytes(double bytes) {
    return scenarios::human_bytes(bytes);
}

std::string fmt_seconds(double s) {
    char buf[32];
    const double a = std::abs(s);
    if (a == 0) {
        std::snprintf(buf, sizeof buf, "0 s");
    } else if (a < 1e-6) {
        std::snprintf(buf, sizeof buf, "%.3g ns", s * 1e9);
    } else if (a < 1e-3) {
        std::snprintf(buf, sizeof buf, "%.3g \xC2\xB5s", s * 1e6);
    } else if (a < 1) {
        std::snprintf(buf, sizeof buf, "%.3g ms", s * 1e3);
    } else {
        std::snprintf(buf, sizeof buf, "%.3g s", s);
    }
    return buf;
}

std::string fmt_count(double n) {
    char buf[32];
    const double a = std::abs(n);
    if (a < 1e4) {
        std::snprintf(buf, sizeof buf, "%.0f", n);
    } else if (a < 1e6) {
        std::snprintf(buf, sizeof buf, "%.3g K", n / 1e3);
    } else if (a < 1e9) {
        std::snprintf(buf, sizeof buf, "%.3g M", n / 1e6);
    } else if (a < 1e12) {
        std::snprintf(buf, sizeof buf, "%.3g G", n / 1e9);
    } else {
        std::snprintf(buf, sizeof buf, "%.3g T", n / 1e12);
    }
    return buf;
}

std::string fmt_elements(std::int64_t n) {
    return fmt_count(static_cast<double>(n)) + " el";
}

std::string fmt_binary_bytes(std::int64_t b) {
    char buf[32];
    if (b < 1024) {
        std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(b));
    } else if (b < 1024 * 1024) {
        std::snprintf(buf, sizeof buf, "%.4g KiB", static_cast<double>(b) / 1024.0);
    } else {
        std::snprintf(buf, sizeof buf, "%.4g MiB", static_cast<double>(b) / (1024.0 * 1024.0));
    }
    return buf;
}

}  // namespace tilesim::viz
