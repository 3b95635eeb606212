#pragma once
// Command-line usage errors shared by the programs (tilesim, tilesim-cuda): one line naming the
// problem, exit status 2 (docs/errors.md).
#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

namespace tilesim::cli {

inline constexpr int kUsageError = 2;

// When the first argument is not an option and names no subcommand of `app`, the message naming it and
// the subcommands there are; "" otherwise. CLI11's own message ("A subcommand is required") does not
// say what was typed.
inline std::string unknown_subcommand(const CLI::App& app, int argc, char** argv) {
    if (argc < 2 || argv[1][0] == '-') return {};
    const std::string given = argv[1];
    std::string names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->get_name() == given) return {};
        names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    return "unknown subcommand '" + given + "'; choose one of: " + names;
}

}  // namespace tilesim::cli
