#include "cli/output.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace tilesim::cli {

void write_output(const std::string& path, const std::string& text) {
    if (path.empty() || path == "-") {
        std::cout << text << std::flush;
        return;
    }
    const std::string tmp = path + ".tmp-tilesim";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) {
            throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno) +
                                     " (check that the folder exists and is writable)");
        }
        out << text;
        out.flush();
        if (!out) {
            std::remove(tmp.c_str());
            throw std::runtime_error("writing '" + path + "' failed: " + std::strerror(errno));
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        throw std::runtime_error("cannot replace '" + path + "': " + ec.message());
    }
}

}  // namespace tilesim::cli
