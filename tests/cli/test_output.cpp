// cli/output.h: outputs committed together, temporaries never left behind, links written through,
// permissions kept, two outputs to one file refused, appends checked. The programs' side (FIFOs,
// /dev/full, closed and broken standard output, file-size limits) is in tests/errors/catalogue.toml.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/output.h"

namespace fs = std::filesystem;
using tilesim::cli::OutputError;

namespace {

struct Dir {
    fs::path path = fs::temp_directory_path() / ("tilesim_output_test_" + std::to_string(::getpid()));
    Dir() {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~Dir() { fs::remove_all(path); }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
    // Files whose names mark them as temporaries of an output.
    int temporaries() const {
        int n = 0;
        for (const auto& e : fs::directory_iterator(path))
            n += e.path().filename().string().find(".tmp-") != std::string::npos;
        return n;
    }
};

std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void put(const std::string& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("output: all outputs or none: a failing second output leaves the first untouched",
          "[cli][output]") {
    Dir d;
    put(d / "report.txt", "old\n");
    tilesim::cli::Outputs out;
    out.add(d / "report.txt", "new report\n");
    out.add(d / "missing/trace.csv", "trace\n");
    CHECK_THROWS_AS(out.commit(), OutputError);
    CHECK(slurp(d / "report.txt") == "old\n");
    CHECK(d.temporaries() == 0);
    // Both good: both written.
    tilesim::cli::Outputs ok;
    ok.add(d / "report.txt", "new report\n");
    ok.add(d / "trace.csv", "trace\n");
    ok.commit();
    CHECK(slurp(d / "report.txt") == "new report\n");
    CHECK(slurp(d / "trace.csv") == "trace\n");
    CHECK(d.temporaries() == 0);
}

TEST_CASE("output: a replaced file keeps its permissions, a new one follows the umask", "[cli][output]") {
    Dir d;
    put(d / "kept.txt", "old");
    ::chmod((d / "kept.txt").c_str(), 0640);
    tilesim::cli::write_output(d / "kept.txt", "new");
    struct stat st {};
    REQUIRE(::stat((d / "kept.txt").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    const mode_t old = ::umask(022);
    tilesim::cli::write_output(d / "fresh.txt", "new");
    ::umask(old);
    REQUIRE(::stat((d / "fresh.txt").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0644);
}

TEST_CASE("output: a read-only file is not replaced", "[cli][output]") {
    if (::geteuid() == 0) {
        WARN("running as root: every file is writable, nothing to check");
        return;
    }
    Dir d;
    put(d / "ro.txt", "old");
    ::chmod((d / "ro.txt").c_str(), 0444);
    CHECK_THROWS_WITH(tilesim::cli::write_output(d / "ro.txt", "new"), Catch::Contains("not writable"));
    CHECK(slurp(d / "ro.txt") == "old");
    CHECK(d.temporaries() == 0);
}

TEST_CASE("output: links are written through, chains and relative targets too", "[cli][output]") {
    Dir d;
    fs::create_directories(d.path / "real");
    put(d / "real/target.txt", "old");
    fs::create_symlink("real/target.txt", d.path / "hop2");
    fs::create_symlink("hop2", d.path / "hop1");
    tilesim::cli::write_output(d / "hop1", "through two links");
    CHECK(fs::is_symlink(d.path / "hop1"));
    CHECK(fs::is_symlink(d.path / "hop2"));
    CHECK(slurp(d / "real/target.txt") == "through two links");
    // A loop of links is refused, not followed forever.
    fs::create_symlink("loopb", d.path / "loopa");
    fs::create_symlink("loopa", d.path / "loopb");
    CHECK_THROWS_WITH(tilesim::cli::write_output(d / "loopa", "x"),
                      Catch::Contains("too many levels of symbolic links"));
    CHECK(d.temporaries() == 0);
}

TEST_CASE("output: the same file twice is found through spellings and links", "[cli][output]") {
    Dir d;
    fs::create_directories(d.path / "sub");
    put(d / "a.txt", "x");
    fs::create_symlink("a.txt", d.path / "link.txt");
    using tilesim::cli::same_output;
    CHECK_FALSE(same_output(d / "a.txt", d / "link.txt").empty());
    CHECK_FALSE(same_output(d / "a.txt", d / "sub/../a.txt").empty());
    CHECK_FALSE(same_output(d / "new.txt", d / "sub/../new.txt").empty());  // neither exists yet
    CHECK(same_output(d / "a.txt", d / "b.txt").empty());
    CHECK_FALSE(same_output("-", "").empty());
    CHECK(same_output("-", d / "a.txt").empty());
    // Outputs refuses them too, and writes nothing.
    tilesim::cli::Outputs out;
    out.add(d / "a.txt", "one");
    out.add(d / "link.txt", "two");
    CHECK_THROWS_WITH(out.commit(), Catch::Contains("overwrite each other"));
    CHECK(slurp(d / "a.txt") == "x");
}

TEST_CASE("output: a 255-byte name is written (its temporary's name is cut to fit)", "[cli][output]") {
    Dir d;
    const std::string name(255, 'n');
    tilesim::cli::write_output(d / name, "long");
    CHECK(slurp(d / name) == "long");
    CHECK(d.temporaries() == 0);
}

TEST_CASE("output: appends are checked and say whether a header is due", "[cli][output]") {
    Dir d;
    {
        tilesim::cli::AppendFile f(d / "rows.csv");
        CHECK(f.was_empty());
        f.write("a,b\n1,2\n");
        f.close();
    }
    {
        tilesim::cli::AppendFile f(d / "rows.csv");
        CHECK_FALSE(f.was_empty());
        f.write("3,4\n");
    }
    CHECK(slurp(d / "rows.csv") == "a,b\n1,2\n3,4\n");
    tilesim::cli::AppendFile full("/dev/full");
    CHECK_THROWS_WITH(full.write("x"), Catch::Contains("no space left on the device"));
    CHECK_THROWS_AS(tilesim::cli::AppendFile(d / "missing/rows.csv"), OutputError);
}
