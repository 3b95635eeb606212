// Runs the hostile-input catalogue (tests/errors/catalogue.toml) through the real programs, one case
// per ctest entry, and keeps docs/errors.md in step with what they print.
//
//   tilesim_catalogue CATALOGUE --list                      ids, one per line
//   tilesim_catalogue CATALOGUE --case ID [paths]           runs one case; exit 0 when it holds
//   tilesim_catalogue CATALOGUE --check-doc DOC             the doc lists exactly the catalogue's ids
//   tilesim_catalogue CATALOGUE --write-doc DOC [paths]     runs every case, rewrites the doc's catalogue
//   paths: --tilesim PATH [--gui PATH --xvfb PATH] --source DIR
//
// A case gives the program's arguments (and files, links, FIFOs to set up first, the state of standard
// output, a file-size limit), the exit status and a substring of the message it must print. Beyond
// what the case asks, every case checks: the program ended by itself within its time limit (no hang)
// and with a status (never a signal); a failing run printed exactly one line on stderr, starting
// "error: " (tilesim-gui: "tilesim-gui: error: "), and nothing on stdout; no temporary file is left
// in the case's folder; the line it printed is the one docs/errors.md shows for the case.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <toml++/toml.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Paths {
    std::string tilesim, gui, xvfb, source;
};

struct Case {
    std::string id, section, what;
    std::string program = "tilesim";
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> files;  // name, content
    std::vector<std::string> setup;                          // "symlink:LINK:TARGET", "fifo:NAME", "dir:NAME"
    std::string stdout_mode = "file";                        // file | full | closed | broken-pipe
    std::int64_t fsize_limit = 0;
    int concurrent = 1;
    int exit = 0;
    std::string message;
    std::string
        message_in;  // a file of the case's folder the message is looked for in (default: stdout, stderr)
    std::vector<std::string> checks;
    double timeout = 120;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream is(text);
    for (std::string l; std::getline(is, l);) out.push_back(l);
    return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    if (from.empty()) return s;
    for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
        s.replace(pos, from.size(), to);
    return s;
}

std::vector<std::string> strings(const toml::node_view<const toml::node>& v) {
    std::vector<std::string> out;
    if (const auto* a = v.as_array()) {
        for (const auto& e : *a) out.push_back(e.value_or(std::string()));
    }
    return out;
}

std::vector<Case> load(const std::string& path) {
    const toml::table doc = toml::parse_file(path);
    std::vector<Case> out;
    const auto* cases = doc["case"].as_array();
    if (cases == nullptr) throw std::runtime_error(path + ": no [[case]] entries");
    for (const auto& node : *cases) {
        const auto& t = *node.as_table();
        Case c;
        c.id = t["id"].value_or(std::string());
        c.section = t["section"].value_or(std::string());
        c.what = t["what"].value_or(std::string());
        c.program = t["program"].value_or(std::string("tilesim"));
        c.args = strings(t["args"]);
        if (const auto* f = t["files"].as_table()) {
            for (const auto& [k, v] : *f)
                c.files.emplace_back(std::string(k.str()), v.value_or(std::string()));
        }
        c.setup = strings(t["setup"]);
        c.stdout_mode = t["stdout"].value_or(std::string("file"));
        c.fsize_limit = t["fsize_limit"].value_or(std::int64_t{0});
        c.concurrent = static_cast<int>(t["concurrent"].value_or(std::int64_t{1}));
        c.exit = static_cast<int>(t["exit"].value_or(std::int64_t{0}));
        c.message = t["message"].value_or(std::string());
        c.message_in = t["message_in"].value_or(std::string());
        c.checks = strings(t["checks"]);
        c.timeout = t["timeout"].value_or(120.0);
        if (c.id.empty() || c.section.empty() || c.message.empty()) {
            throw std::runtime_error(path + ": every case needs id, section and message (case '" + c.id +
                                     "')");
        }
        out.push_back(std::move(c));
    }
    return out;
}

// A 255-byte file name, the longest Linux allows (the fixed ".tmp-tilesim" suffix broke them).
std::string long_name() {
    return std::string(251, 'n') + ".txt";
}

// Placeholders: {dir}, {source}, {long} (a 255-byte name), {bad-utf8} (two bytes that are not
// UTF-8), {big} (a 1.1 MiB scenario of comments), {deep} (JSON arrays nested 100000 deep).
std::string expand(const std::string& s, const fs::path& dir, const Paths& paths) {
    std::string out = replace_all(s, "{dir}", dir.string());
    out = replace_all(out, "{source}", paths.source);
    out = replace_all(out, "{bad-utf8}", "\xff\xfe");
    if (out.find("{big}") != std::string::npos) {
        std::string big;
        while (big.size() < (std::size_t{11} << 17)) big += "# a comment line that makes the file big\n";
        out = replace_all(out, "{big}", big);
    }
    if (out.find("{deep}") != std::string::npos) out = replace_all(out, "{deep}", std::string(100000, '['));
    return replace_all(out, "{long}", long_name());
}

struct Outcome {
    int status = -1;  // exit status, or -1
    int signal = 0;   // the signal that ended it, or 0
    bool timed_out = false;
    std::string out, err;
};

// Runs argv with stdout/stderr as the case asks, in `dir`, under its limits.
pid_t spawn(const std::vector<std::string>& argv, const Case& c, const fs::path& dir, int k) {
    const fs::path out = dir / (".stdout" + std::to_string(k)), err = dir / (".stderr" + std::to_string(k));
    int broken[2] = {-1, -1};
    if (c.stdout_mode == "broken-pipe") {
        if (::pipe(broken) != 0) throw std::runtime_error("pipe failed");
        ::close(broken[0]);  // no reader at all: every write fails with EPIPE
    }
    const pid_t pid = ::fork();
    if (pid != 0) {
        if (broken[1] >= 0) ::close(broken[1]);
        return pid;
    }
    // The child: stdin from /dev/null, stdout as asked, stderr to a file.
    ::setpgid(0, 0);
    const int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
    if (c.stdout_mode == "full") {
        ::dup2(::open("/dev/full", O_WRONLY), 1);
    } else if (c.stdout_mode == "broken-pipe") {
        ::dup2(broken[1], 1);
    } else if (c.stdout_mode != "closed") {
        ::dup2(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
    }
    if (c.stdout_mode == "closed") ::close(1);  // last, so that no file opened above takes its number
    if (c.fsize_limit > 0) {
        rlimit rl{static_cast<rlim_t>(c.fsize_limit), static_cast<rlim_t>(c.fsize_limit)};
        ::setrlimit(RLIMIT_FSIZE, &rl);
    }
    if (::chdir(dir.c_str()) != 0) ::_exit(125);
    // A sanitizer build must report through the exit status like any failure, never a signal.
    ::setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:exitcode=99", 1);
    ::setenv("UBSAN_OPTIONS", "halt_on_error=1:abort_on_error=0:exitcode=98:print_stacktrace=1", 1);
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(126);
}

Outcome wait_for(pid_t pid, double timeout, const fs::path& dir, int k) {
    Outcome o;
    const auto t0 = std::chrono::steady_clock::now();
    int st = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid, &st, WNOHANG);
        if (r == pid) break;
        if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &st, 0);
            o.timed_out = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (WIFEXITED(st)) o.status = WEXITSTATUS(st);
    if (WIFSIGNALED(st)) o.signal = WTERMSIG(st);
    o.out = slurp(dir / (".stdout" + std::to_string(k)));
    o.err = slurp(dir / (".stderr" + std::to_string(k)));
    if (const std::string gui = slurp(dir / ".gui-status"); !gui.empty() && !o.timed_out) {
        o.status = std::stoi(gui);
        // A status above 128 from the shell is a signal that ended the GUI.
        if (o.status > 128) o.signal = o.status - 128;
        std::string kept;
        for (const auto& l : lines_of(o.err)) {
            if (l.rfind("xvfb-run: error: problem while cleaning up", 0) != 0) kept += l + "\n";
        }
        o.err = kept;
    }
    return o;
}

std::vector<std::string> command(const Case& c, const fs::path& dir, const Paths& paths) {
    std::vector<std::string> argv;
    if (c.program == "tilesim-gui") {
        if (paths.gui.empty() || paths.xvfb.empty())
            throw std::runtime_error("GUI case without --gui and --xvfb");
        // The GUI's own status, recorded inside the X session: xvfb-run replaces it with 5 when it
        // cannot clean up its temporary folder (as happens when other X servers come and go).
        argv = {paths.xvfb,
                "-a",
                "-s",
                "-screen 0 1920x1080x24",
                "/bin/sh",
                "-c",
                "\"$0\" \"$@\"; echo $? > .gui-status",
                paths.gui};
    } else {
        argv = {paths.tilesim};
    }
    for (const auto& a : c.args) argv.push_back(expand(a, dir, paths));
    if (c.program == "tilesim-gui") {
        for (const std::string& a :
             std::vector<std::string>{"--size", "1600x900", "--screenshot", (dir / "shot.png").string()})
            argv.push_back(a);
    }
    return argv;
}

// The one line a case is known by in docs/errors.md: the error line, or (success) the line holding
// the message; with the case's folder and the source folder written as $DIR and $SRC, and the host's
// free memory (which varies) as N.
std::string doc_line(const Case& c, const Outcome& o, const fs::path& dir, const Paths& paths) {
    std::string line;
    const std::string text =
        c.message_in.empty() ? o.err + o.out : slurp(dir / replace_all(c.message_in, "{long}", long_name()));
    for (const auto& l : lines_of(text)) {
        if (l.find(c.message) != std::string::npos) {
            line = l;
            break;
        }
    }
    if (line.empty() && !lines_of(o.err).empty()) line = lines_of(o.err).front();
    line = replace_all(line, dir.string(), "$DIR");
    if (!paths.source.empty()) line = replace_all(line, paths.source, "$SRC");
    line = replace_all(line, long_name(), "{255-byte name}");
    static const std::regex mem("[0-9]+\\.[0-9] GiB is available");
    return std::regex_replace(line, mem, "N GiB is available");
}

// What the case requires of one run; failures appended to `why`.
void judge(const Case& c, const Outcome& o, const fs::path& dir, std::vector<std::string>& why) {
    if (o.timed_out) why.push_back("did not finish within " + std::to_string(c.timeout) + " s (a hang)");
    if (o.signal != 0)
        why.push_back("ended by signal " + std::to_string(o.signal) + " (" + strsignal(o.signal) + ")");
    if (o.status != c.exit)
        why.push_back("exit status " + std::to_string(o.status) + ", expected " + std::to_string(c.exit));
    const auto err = lines_of(o.err);
    if (c.exit != 0) {
        const std::string prefix = c.program == "tilesim-gui" ? "tilesim-gui: error: " : "error: ";
        // xvfb-run may add its own chatter; the program's lines are the ones with its prefix.
        std::vector<std::string> mine;
        for (const auto& l : err) {
            if (l.rfind(prefix, 0) == 0)
                mine.push_back(l);
            else if (c.program != "tilesim-gui")
                mine.push_back(l);
        }
        if (mine.size() != 1 || mine[0].rfind(prefix, 0) != 0) {
            why.push_back("expected exactly one line on stderr starting '" + prefix + "', got:\n" + o.err);
        } else if (mine[0].find(c.message) == std::string::npos) {
            why.push_back("the error line does not contain '" + c.message + "': " + mine[0]);
        }
        if (c.stdout_mode == "file" && !o.out.empty())
            why.push_back("wrote to stdout although it failed:\n" + o.out);
    } else if (!c.message_in.empty()) {
        if (slurp(dir / replace_all(c.message_in, "{long}", long_name())).find(c.message) ==
            std::string::npos) {
            why.push_back(c.message_in + " does not contain '" + c.message + "'; stderr:\n" + o.err);
        }
    } else if ((o.out + o.err).find(c.message) == std::string::npos) {
        why.push_back("stdout and stderr do not contain '" + c.message + "'; stderr:\n" + o.err);
    }
}

void check_after(const Case& c, const std::vector<Outcome>& runs, const fs::path& dir,
                 std::vector<std::string>& why) {
    auto content_of = [&](const std::string& name) -> std::optional<std::string> {
        for (const auto& [n, text] : c.files) {
            if (n == name) return text;
        }
        return std::nullopt;
    };
    for (const auto& chk : c.checks) {
        const auto colon = chk.find(':');
        const std::string kind = chk.substr(0, colon),
                          rest = colon == std::string::npos ? "" : chk.substr(colon + 1);
        const std::string name = replace_all(rest.substr(0, rest.find(':')), "{long}", long_name());
        const std::string arg = rest.find(':') == std::string::npos ? "" : rest.substr(rest.find(':') + 1);
        const fs::path p = name.rfind('/', 0) == 0 ? fs::path(name) : dir / name;
        struct stat st {};
        const bool exists = ::lstat(p.c_str(), &st) == 0;
        if (kind == "absent") {
            if (exists) why.push_back(name + " exists; the failed run should not have created it");
        } else if (kind == "unchanged") {
            if (!exists || slurp(p) != content_of(name).value_or("\x01"))
                why.push_back(name + " was changed or removed");
        } else if (kind == "contains") {
            if (!exists || slurp(p).find(arg) == std::string::npos)
                why.push_back(name + " does not contain '" + arg + "'");
        } else if (kind == "symlink") {
            if (!exists || !S_ISLNK(st.st_mode)) why.push_back(name + " is no longer a symbolic link");
        } else if (kind == "chardev") {
            if (!exists || !S_ISCHR(st.st_mode)) why.push_back(name + " is no longer a character device");
        } else if (kind == "fifo") {
            if (!exists || !S_ISFIFO(st.st_mode)) why.push_back(name + " is no longer a FIFO");
        } else if (kind == "stdout") {
            for (const auto& o : runs) {
                if (o.out.find(rest) == std::string::npos) why.push_back("stdout lacks '" + rest + "'");
            }
        } else {
            why.push_back("unknown check '" + chk + "'");
        }
    }
    // Nothing half done: no temporary of an output is left in the folder.
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string n = e.path().filename().string();
        if (n.find(".tmp-") != std::string::npos) why.push_back("left a temporary file behind: " + n);
    }
}

// Reads what a FIFO received (the case's FIFOs are held open for reading and writing by the runner,
// so a writer finds a reader; the output is small, it fits in the pipe).
std::string drain(int fd) {
    std::string got;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

struct Result {
    std::vector<std::string> why;
    std::string line;  // for the doc
};

Result run_case(const Case& c, const Paths& paths) {
    Result res;
    const fs::path dir =
        fs::temp_directory_path() / ("tilesim_catalogue_" + std::to_string(::getpid()) + "_" + c.id);
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto& [name, text] : c.files) {
        std::ofstream(dir / replace_all(name, "{long}", long_name()), std::ios::binary)
            << expand(text, dir, paths);
    }
    std::vector<std::pair<std::string, int>> fifos;
    for (const auto& s : c.setup) {
        const auto parts = [&] {
            std::vector<std::string> v;
            std::string cur;
            for (char ch : s) {
                if (ch == ':') {
                    v.push_back(cur);
                    cur.clear();
                } else {
                    cur += ch;
                }
            }
            v.push_back(cur);
            return v;
        }();
        if (parts[0] == "symlink" && parts.size() == 3) {
            fs::create_symlink(parts[2], dir / parts[1]);
        } else if (parts[0] == "dir" && parts.size() == 2) {
            fs::create_directories(dir / parts[1]);
        } else if ((parts[0] == "fifo" || parts[0] == "fifo-unread") && parts.size() == 2) {
            if (::mkfifo((dir / parts[1]).c_str(), 0644) != 0) throw std::runtime_error("mkfifo failed");
            if (parts[0] == "fifo") {
                const int fd = ::open((dir / parts[1]).c_str(), O_RDWR | O_NONBLOCK);
                fifos.emplace_back(parts[1], fd);
            }
        } else {
            throw std::runtime_error("unknown setup '" + s + "'");
        }
    }
    const auto argv = command(c, dir, paths);
    std::vector<pid_t> pids;
    for (int k = 0; k < c.concurrent; ++k) pids.push_back(spawn(argv, c, dir, k));
    std::vector<Outcome> runs;
    for (int k = 0; k < c.concurrent; ++k)
        runs.push_back(wait_for(pids[static_cast<std::size_t>(k)], c.timeout, dir, k));
    for (auto& [name, fd] : fifos) {
        const std::string got = drain(fd);
        ::close(fd);
        std::ofstream(dir / (name + ".received"), std::ios::binary) << got;
    }
    for (const auto& o : runs) judge(c, o, dir, res.why);
    check_after(c, runs, dir, res.why);
    res.line = doc_line(c, runs.front(), dir, paths);
    if (res.why.empty())
        fs::remove_all(dir);
    else
        res.why.push_back("(the case's folder is kept: " + dir.string() + ")");
    return res;
}

// ---- docs/errors.md ----

constexpr const char* kBegin =
    "<!-- catalogue: generated by scripts/errors_doc.sh from tests/errors/catalogue.toml; do not edit -->";
constexpr const char* kEnd = "<!-- catalogue: end -->";

std::string shell_quote(const std::string& a) {
    if (!a.empty() &&
        a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,/:@$%{}") ==
            std::string::npos) {
        return a;
    }
    return "'" + replace_all(a, "'", "'\\''") + "'";
}

std::string shown_args(const Case& c) {
    std::string s = c.program;
    for (const auto& a : c.args) {
        std::string shown = replace_all(replace_all(a, "{dir}/", ""), "{dir}", ".");
        shown = replace_all(shown, "{source}", "$SRC");
        shown = replace_all(shown, "{long}", "{255-byte name}");
        s += " " + shell_quote(shown);
    }
    if (c.stdout_mode == "full") s += " > /dev/full";
    if (c.stdout_mode == "closed") s += " >&-";
    if (c.stdout_mode == "broken-pipe") s += " | (a reader that has exited)";
    if (c.fsize_limit > 0) s = "(ulimit -f: " + std::to_string(c.fsize_limit) + " bytes) " + s;
    if (c.concurrent > 1) s = "(" + std::to_string(c.concurrent) + " at once) " + s;
    return s;
}

std::string render(const std::vector<Case>& cases, const std::map<std::string, std::string>& lines) {
    std::string out = std::string(kBegin) + "\n";
    std::string section;
    for (const auto& c : cases) {
        if (c.section != section) {
            section = c.section;
            out += "\n### " + section + "\n";
        }
        out += "\n#### " + c.id + "\n\n" + c.what + "\n\n";
        for (const auto& [name, raw] : c.files) {
            const std::string text = raw == "{big}"    ? std::string("(1.1 MiB of comment lines)")
                                     : raw == "{deep}" ? std::string("(100000 '[' in a row)")
                                                       : raw;
            if (text.size() > 200 || text.find('\n') == std::string::npos) {
                out += "    $ # " + replace_all(name, "{long}", "{255-byte name}") + ": " +
                       (text.size() > 200 ? std::to_string(text.size()) + " bytes"
                        : text != raw     ? text
                                          : shell_quote(text)) +
                       "\n";
            } else {
                out += "    $ cat " + name + "\n";
                for (const auto& l : lines_of(text)) out += "    " + l + "\n";
            }
        }
        for (const auto& s : c.setup) out += "    $ # setup: " + s + "\n";
        out += "    $ " + shown_args(c) + "\n";
        const auto it = lines.find(c.id);
        out += "    " + (it != lines.end() ? it->second : std::string("(not run)")) + "\n";
        out += "    (exit " + std::to_string(c.exit) + ")\n";
    }
    return out + "\n" + kEnd + "\n";
}

// The line the doc shows for each id (the one after its "$ program ..." line).
std::map<std::string, std::string> doc_lines(const std::string& doc) {
    std::map<std::string, std::string> out;
    const auto lines = lines_of(doc);
    std::string id;
    for (std::size_t k = 0; k < lines.size(); ++k) {
        if (lines[k].rfind("#### ", 0) == 0) id = lines[k].substr(5);
        if (!id.empty() && lines[k].rfind("    $ ", 0) == 0 && lines[k].find("$ # ") == std::string::npos &&
            lines[k].find("$ cat ") == std::string::npos && k + 1 < lines.size()) {
            out[id] = lines[k + 1].size() >= 4 ? lines[k + 1].substr(4) : std::string();
            id.clear();
        }
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << "usage: tilesim_catalogue CATALOGUE (--list | --case ID | --check-doc DOC | --write-doc "
                     "DOC) ...\n";
        return 2;
    }
    try {
        const auto cases = load(args[0]);
        Paths paths;
        std::string mode, target;
        for (std::size_t k = 1; k < args.size(); ++k) {
            const std::string& a = args[k];
            const std::string v = k + 1 < args.size() ? args[k + 1] : "";
            if (a == "--tilesim")
                paths.tilesim = v;
            else if (a == "--gui")
                paths.gui = v;
            else if (a == "--xvfb")
                paths.xvfb = v;
            else if (a == "--source")
                paths.source = v;
            else if (a == "--case" || a == "--check-doc" || a == "--write-doc") {
                mode = a;
                target = v;
            } else if (a == "--list") {
                mode = a;
                continue;
            } else {
                continue;
            }
            ++k;
        }
        if (mode == "--list") {
            for (const auto& c : cases)
                std::cout << c.id << (c.program == "tilesim-gui" ? " gui" : "") << "\n";
            return 0;
        }
        if (mode == "--case") {
            for (const auto& c : cases) {
                if (c.id != target) continue;
                Result r = run_case(c, paths);
                // The doc shows what the program printed: a changed message is a changed doc.
                const fs::path doc = fs::path(paths.source) / "docs" / "errors.md";
                const auto shown = doc_lines(slurp(doc));
                const auto it = shown.find(c.id);
                if (it == shown.end()) {
                    r.why.push_back("docs/errors.md has no entry for this case (run scripts/errors_doc.sh)");
                } else if (it->second != r.line) {
                    r.why.push_back("docs/errors.md shows\n  " + it->second +
                                    "\nbut the program printed\n  " + r.line +
                                    "\n(run scripts/errors_doc.sh)");
                }
                for (const auto& w : r.why) std::cerr << c.id << ": " << w << "\n";
                if (r.why.empty()) std::cout << c.id << ": ok: " << r.line << "\n";
                return r.why.empty() ? 0 : 1;
            }
            std::cerr << "no case '" << target << "'\n";
            return 2;
        }
        if (mode == "--check-doc") {
            const auto shown = doc_lines(slurp(target));
            int bad = 0;
            for (const auto& c : cases) {
                if (shown.count(c.id) == 0) {
                    std::cerr << target << ": no entry for case " << c.id << " (run scripts/errors_doc.sh)\n";
                    ++bad;
                }
            }
            for (const auto& [id, line] : shown) {
                bool known = false;
                for (const auto& c : cases) known = known || c.id == id;
                if (!known) {
                    std::cerr << target << ": entry " << id << " is not in the catalogue\n";
                    ++bad;
                }
            }
            std::cout << cases.size() << " cases, " << shown.size() << " documented\n";
            return bad == 0 ? 0 : 1;
        }
        if (mode == "--write-doc") {
            std::map<std::string, std::string> lines;
            int failed = 0;
            for (const auto& c : cases) {
                if (c.program == "tilesim-gui" && (paths.gui.empty() || paths.xvfb.empty())) continue;
                const Result r = run_case(c, paths);
                lines[c.id] = r.line;
                for (const auto& w : r.why) {
                    if (w.find("docs/errors.md") == std::string::npos) {
                        std::cerr << c.id << ": " << w << "\n";
                        ++failed;
                    }
                }
            }
            // Keep what the doc showed for cases this machine cannot run (the GUI without a display).
            std::string doc = slurp(target);
            for (const auto& [id, line] : doc_lines(doc)) lines.emplace(id, line);
            const auto b = doc.find(kBegin), e = doc.find(kEnd);
            const std::string body = render(cases, lines);
            if (b == std::string::npos || e == std::string::npos) {
                doc += "\n" + body;
            } else {
                doc = doc.substr(0, b) + body + doc.substr(e + std::strlen(kEnd) + 1);
            }
            std::ofstream(target, std::ios::binary) << doc;
            std::cout << target << ": " << cases.size() << " cases"
                      << (failed ? ", some failing (see above)" : "") << "\n";
            return failed == 0 ? 0 : 1;
        }
        std::cerr << "tilesim_catalogue: give --list, --case, --check-doc or --write-doc\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "tilesim_catalogue: " << e.what() << "\n";
        return 2;
    }
}
