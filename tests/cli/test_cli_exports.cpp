// `tilesim plot` and `tilesim run --trace-format` through the real binary:
// files written, formats followed, and bad input refused with one line, exit 2,
// and no file created or truncated.
#include <stb_image.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/plot/xml_check.h"

namespace fs = std::filesystem;

namespace {

struct Out {
  int rc = -1;
  std::string out, err;
};

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Dir {
public:
  Dir() {
    static int n = 0;
    dir_ = fs::temp_directory_path() /
           ("tilesim_exports_test_" + std::to_string(::getpid()) + "_" +
            std::to_string(n++));
    fs::create_directories(dir_);
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Dir(const Dir &) = delete;
  Dir &operator=(const Dir &) = delete;
  fs::path path(const std::string &name) const { return dir_ / name; }
  Out run(const std::string &args) const {
    const fs::path o = dir_ / "stdout.txt", e = dir_ / "stderr.txt";
    const std::string cmd = std::string("'") + TILESIM_CLI_PATH + "' " + args +
                            " > '" + o.string() + "' 2> '" + e.string() +
                            "' < /dev/null";
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(o), slurp(e)};
  }

private:
  fs::path dir_;
};

// A refused command: exit 2, one "error: ..." line with the given words,
// nothing on stdout, the target left as it was (or not created) and no
// temporary left behind.
void expect_refused(const Dir &d, const std::string &args,
                    const std::string &target,
                    std::initializer_list<std::string> words) {
  INFO("tilesim " << args);
  const fs::path keep = d.path(target);
  std::ofstream(keep, std::ios::binary) << "precious";
  const Out r = d.run(args);
  INFO(r.err);
  CHECK(r.rc == 2);
  CHECK(r.out.empty());
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.rfind("error: ", 0) == 0);
  for (const auto &w : words)
    CHECK_THAT(r.err, Catch::Contains(w));
  CHECK(slurp(keep) == "precious");
  CHECK_FALSE(fs::exists(keep.string() + ".tmp-tilesim"));
  fs::remove(keep);
}

} // namespace

TEST_CASE("cli plot: SVG and PNG files for every kind", "[cli][plot]") {
  Dir d;
  for (const char *kind :
       {"io-vs-n", "io-vs-block", "io-vs-sram", "roofline", "timeline"}) {
    INFO(kind);
    const fs::path svg = d.path(std::string(kind) + ".svg"),
                   png = d.path(std::string(kind) + ".png");
    Out r = d.run(std::string("plot ") + kind + " classroom -o '" +
                  svg.string() + "'");
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out.empty());
    const auto root = tilesim::testing::parse_xml(slurp(svg));
    CHECK(root->name == "svg");
    r = d.run(std::string("plot ") + kind +
              " classroom --size 960x540 --scale 2 -o '" + png.string() + "'");
    REQUIRE(r.rc == 0);
    int w = 0, h = 0, n = 0;
    unsigned char *px = stbi_load(png.string().c_str(), &w, &h, &n, 3);
    REQUIRE(px != nullptr);
    stbi_image_free(px);
    CHECK(w == 1920);
    CHECK(h == 1080);
  }
  // --over sets the io-vs-n range as `tilesim sweep` takes it.
  const fs::path svg = d.path("n.svg");
  REQUIRE(d.run("plot io-vs-n classroom --over seq_len=8,16,32 -o '" +
                svg.string() + "'")
              .rc == 0);
  const auto root = tilesim::testing::parse_xml(slurp(svg));
  std::vector<const tilesim::testing::XmlNode *> pts;
  root->collect(
      [](const auto &n) {
        return n.name == "g" && n.attr("class") == "points";
      },
      pts);
  REQUIRE(pts.size() == 3);
  for (const auto *p : pts)
    CHECK(p->children.size() == 3);
}

TEST_CASE("cli plot: bad input is one line, exit 2, nothing written",
          "[cli][plot][errors]") {
  Dir d;
  const std::string f = d.path("fig.svg").string();
  expect_refused(
      d, "plot bogus -o '" + f + "'", "fig.svg",
      {"unknown plot kind 'bogus'", "io-vs-n", "roofline", "timeline"});
  expect_refused(d, "plot io-vs-n -o '" + d.path("fig.jpg").string() + "'",
                 "fig.jpg", {".svg or .png"});
  expect_refused(d, "plot io-vs-n classroom --over head_dim=4,8 -o '" + f + "'",
                 "fig.svg", {"seq_len", "--over"});
  expect_refused(d, "plot roofline --over seq_len=8..16 -o '" + f + "'",
                 "fig.svg", {"drop --over"});
  expect_refused(d, "plot io-vs-n --size 10x10 -o '" + f + "'", "fig.svg",
                 {"--size", "1280x720"});
  expect_refused(d, "plot io-vs-n --set seq_len=0 -o '" + f + "'", "fig.svg",
                 {"seq_len"});
  expect_refused(d, "plot io-vs-n", "fig.svg", {"--output"});
}

TEST_CASE("cli run --trace-format: csv one table, perfetto JSON, dinero din",
          "[cli][trace]") {
  Dir d;
  const fs::path csv = d.path("t.csv"), pf = d.path("t.json"),
                 din = d.path("t.din");
  REQUIRE(d.run("run classroom --trace '" + csv.string() + "'").rc == 0);
  const std::string c = slurp(csv);
  CHECK(c.rfind("algorithm,pass,step,", 0) == 0);
  CHECK(c.find('#') == std::string::npos);
  CHECK(c.find("\nflash2,forward,") != std::string::npos);
  REQUIRE(d.run("run classroom --trace '" + pf.string() +
                "' --trace-format perfetto")
              .rc == 0);
  const auto j = nlohmann::json::parse(slurp(pf));
  CHECK(j.at("traceEvents").size() > 100);
  REQUIRE(d.run("run classroom --trace '" + din.string() +
                "' --trace-format dinero --din-granularity 32")
              .rc == 0);
  std::istringstream is(slurp(din));
  std::size_t lines = 0;
  for (std::string l; std::getline(is, l); ++lines) {
    CHECK((l[0] == '0' || l[0] == '1' || l == "4 0"));
  }
  CHECK(lines > 10);
}

TEST_CASE(
    "cli run --trace-format: bad input is one line, exit 2, nothing written",
    "[cli][trace][errors]") {
  Dir d;
  const std::string t = d.path("t.txt").string();
  expect_refused(d, "run classroom --trace '" + t + "' --trace-format xml",
                 "t.txt", {"--trace-format", "perfetto"});
  expect_refused(d, "run classroom --trace-format perfetto", "t.txt",
                 {"--trace"});
  expect_refused(d,
                 "run classroom --trace '" + t +
                     "' --trace-format dinero --din-granularity 33",
                 "t.txt", {"power of two"});
  expect_refused(d, "run classroom --trace '" + t + "' --din-granularity 32",
                 "t.txt", {"dinero"});
}
