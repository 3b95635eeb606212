#include "cli/output.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <regex>

namespace tilesim::cli {

namespace fs = std::filesystem;

namespace {

// Temporaries in flight, for the signal handler: fixed storage, since a handler may not allocate.
constexpr int kMaxPending = 16;
char g_pending[kMaxPending][PATH_MAX];
volatile sig_atomic_t g_pending_used[kMaxPending];
bool g_std_closed[3] = {false, false, false};

void on_fatal_signal(int sig) {
    for (int k = 0; k < kMaxPending; ++k) {
        if (g_pending_used[k] != 0) ::unlink(g_pending[k]);
    }
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

int claim_slot(const std::string& path) {
    if (path.size() >= PATH_MAX) return -1;
    for (int k = 0; k < kMaxPending; ++k) {
        if (g_pending_used[k] == 0) {
            std::memcpy(g_pending[k], path.c_str(), path.size() + 1);
            g_pending_used[k] = 1;
            return k;
        }
    }
    return -1;
}

void release_slot(const std::string& path) {
    for (int k = 0; k < kMaxPending; ++k) {
        if (g_pending_used[k] != 0 && path == g_pending[k]) g_pending_used[k] = 0;
    }
}

std::string shown(const std::string& path) {
    return path.empty() || path == "-" ? std::string("standard output") : "'" + path + "'";
}

bool is_stdout(const std::string& path) {
    return path.empty() || path == "-";
}

// Writes all of `text` to `fd`, retrying short writes and interruptions. Returns 0 or an errno.
int write_all(int fd, std::string_view text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        done += static_cast<std::size_t>(n);
    }
    return 0;
}

// `after`: what became of the outputs ("no output file was changed").
[[noreturn]] void fail_write(const std::string& path, int err, const char* after) {
    std::string why = std::strerror(err);
    if (err == EPIPE) why = "the reader closed it (broken pipe)";
    if (err == EFBIG) why = "the file-size limit was reached (ulimit -f)";
    if (err == ENOSPC) why = "no space left on the device";
    if (err == EBADF && is_stdout(path)) why = "it is closed";
    throw OutputError("writing " + shown(path) + " failed: " + why + "; " + after);
}

constexpr const char* kNoneChanged = "no output file was changed";

// A /proc/<pid>/fd folder (also reached as /dev/fd, /proc/self/fd): its entries are links to open
// descriptors, written through as they are, never replaced.
bool is_fd_folder(const fs::path& dir) {
    static const std::regex re("/proc/[0-9]+(/task/[0-9]+)?/fd");
    return std::regex_match(dir.string(), re);
}

// A temporary's name beside `target`: ".NAME.tmp-XXXXXX", with NAME cut so that the whole stays
// within the 255 bytes a file name may have (a fixed suffix broke legal 255-byte names).
std::string temporary_template(const fs::path& target) {
    std::string name = target.filename().string();
    const std::size_t room = NAME_MAX - std::strlen("..tmp-XXXXXX");
    if (name.size() > room) name.resize(room);
    return (target.parent_path() / ("." + name + ".tmp-XXXXXX")).string();
}

mode_t new_file_mode() {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    return 0666 & ~mask;
}

}  // namespace

void init_process_io() {
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGXFSZ, SIG_IGN);
    struct sigaction sa {};
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            g_std_closed[fd] = true;
            const int held =
                ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);  // takes the lowest free number: fd
            (void)held;
        }
    }
}

std::string same_output(const std::string& a, const std::string& b) {
    if (is_stdout(a) && is_stdout(b)) return "both name standard output";
    if (is_stdout(a) || is_stdout(b)) return {};
    std::error_code ec1, ec2;
    if (fs::equivalent(a, b, ec1)) return "'" + a + "' and '" + b + "' are the same file";
    // Files that do not exist yet: the same place once links and ".." are resolved.
    const fs::path ca = fs::weakly_canonical(fs::absolute(a, ec1), ec1);
    const fs::path cb = fs::weakly_canonical(fs::absolute(b, ec2), ec2);
    if (!ec1 && !ec2 && ca == cb) return "'" + a + "' and '" + b + "' are the same file";
    return {};
}

Outputs::~Outputs() {
    remove_temporaries();
}

void Outputs::add(std::string path, std::string text) {
    items_.push_back({std::move(path), std::move(text), {}, {}, false, false});
}

void Outputs::remove_temporaries() {
    for (auto& it : items_) {
        if (it.tmp.empty()) continue;
        ::unlink(it.tmp.c_str());
        release_slot(it.tmp);
        it.tmp.clear();
    }
}

// Follows symbolic links to the file that will be written and decides how to write it.
void Outputs::resolve(Item& it) {
    if (is_stdout(it.path)) {
        it.direct = true;
        return;
    }
    std::error_code ec;
    fs::path t = fs::absolute(it.path, ec);
    if (ec) throw OutputError("cannot write '" + it.path + "': " + ec.message());
    for (int hops = 0;; ++hops) {
        const std::string name = t.filename().string();
        if (name.empty() || name == "." || name == "..") {
            throw OutputError("cannot write '" + it.path + "': it names a folder; give a file name");
        }
        const fs::path dir = fs::canonical(t.parent_path(), ec);
        if (ec) {
            // The folder as the user wrote it, when it is theirs (not a link's target).
            const fs::path shown_dir = hops == 0 ? fs::path(it.path).parent_path() : t.parent_path();
            throw OutputError("cannot write '" + it.path + "': the folder '" + shown_dir.string() +
                              "' does not exist (create it first)");
        }
        t = dir / name;
        if (is_fd_folder(dir)) {  // /dev/stdout, /dev/fd/N: another descriptor of this process
            it.target = t.string();
            it.direct = true;
            it.append = true;
            return;
        }
        struct stat st {};
        if (::lstat(t.c_str(), &st) != 0) {
            if (errno != ENOENT) throw OutputError("cannot write '" + it.path + "': " + std::strerror(errno));
            it.target = t.string();  // a new file
            return;
        }
        if (S_ISLNK(st.st_mode)) {
            if (hops >= 40)
                throw OutputError("cannot write '" + it.path + "': too many levels of symbolic links");
            const fs::path link = fs::read_symlink(t, ec);
            if (ec) throw OutputError("cannot write '" + it.path + "': " + ec.message());
            t = link.is_absolute() ? link : dir / link;
            continue;
        }
        it.target = t.string();
        if (S_ISREG(st.st_mode)) {
            // Renaming over a read-only file would succeed (the folder is writable): refuse, as the file says.
            if (::access(t.c_str(), W_OK) != 0) {
                throw OutputError("cannot write '" + it.path + "': " + std::strerror(errno) +
                                  " (the file is not writable)");
            }
            return;
        }
        if (S_ISDIR(st.st_mode))
            throw OutputError("cannot write '" + it.path + "': it is a folder; give a file name");
        if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
            it.direct = true;
            return;
        }
        throw OutputError(
            "cannot write '" + it.path +
            "': it is neither a regular file nor a FIFO nor a character device (a block device or a "
            "socket); give a file name");
    }
}

void Outputs::write_temporary(Item& it) {
    const fs::path target(it.target);
    std::string tmpl = temporary_template(target);
    const int slot = claim_slot(tmpl);
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const int fd = ::mkstemp(buf.data());
    const int err = errno;
    if (slot >= 0) std::memcpy(g_pending[slot], buf.data(), buf.size());
    if (fd < 0) {
        if (slot >= 0) g_pending_used[slot] = 0;
        throw OutputError("cannot write '" + it.path + "': " + std::strerror(err) +
                          " (check that the folder '" + target.parent_path().string() + "' is writable)");
    }
    it.tmp = buf.data();
    // The temporary takes the target's permissions (mkstemp makes it private): those of the file it
    // replaces, or the usual ones of a new file.
    struct stat st {};
    const mode_t mode = ::stat(it.target.c_str(), &st) == 0 ? (st.st_mode & 07777) : new_file_mode();
    ::fchmod(fd, mode);
    int werr = write_all(fd, it.text);
    if (werr == 0 && ::fsync(fd) != 0 && errno != EINVAL) werr = errno;
    if (::close(fd) != 0 && werr == 0) werr = errno;
    if (werr != 0) fail_write(it.path, werr, kNoneChanged);
}

void Outputs::commit() {
    // Two outputs to one file: the second would silently replace the first.
    for (std::size_t a = 0; a < items_.size(); ++a) {
        for (std::size_t b = a + 1; b < items_.size(); ++b) {
            const std::string same = same_output(items_[a].path, items_[b].path);
            if (!same.empty()) throw OutputError("two outputs would overwrite each other: " + same);
        }
    }
    try {
        for (auto& it : items_) resolve(it);
        // Regular files first, into temporaries; then what is written in place; renames last, once
        // everything has been written.
        for (auto& it : items_) {
            if (!it.direct) write_temporary(it);
        }
        for (auto& it : items_) {
            if (!it.direct) continue;
            if (is_stdout(it.path)) {
                if (g_std_closed[1]) {
                    throw OutputError("standard output is closed; redirect it or give -o FILE");
                }
                if (const int err = write_all(STDOUT_FILENO, it.text); err != 0)
                    fail_write(it.path, err, kNoneChanged);
                continue;
            }
            // A FIFO without a reader would block the open until one comes: refused instead.
            const int fd = ::open(it.target.c_str(),
                                  O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK | (it.append ? O_APPEND : 0));
            if (fd < 0) {
                const int err = errno;
                if (err == ENXIO)
                    throw OutputError("cannot write '" + it.path + "': no process is reading this FIFO");
                throw OutputError("cannot write '" + it.path + "': " + std::strerror(err));
            }
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            int err = write_all(fd, it.text);
            if (::close(fd) != 0 && err == 0) err = errno;
            if (err != 0) fail_write(it.path, err, kNoneChanged);
        }
        for (auto& it : items_) {
            if (it.tmp.empty()) continue;
            if (::rename(it.tmp.c_str(), it.target.c_str()) != 0) {
                throw OutputError("cannot replace '" + it.path + "': " + std::strerror(errno));
            }
            release_slot(it.tmp);
            it.tmp.clear();
        }
    } catch (...) {
        remove_temporaries();
        throw;
    }
}

void write_output(const std::string& path, const std::string& text) {
    Outputs out;
    out.add(path, text);
    out.commit();
}

AppendFile::AppendFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0666);
    if (fd_ < 0) throw OutputError("cannot open '" + path + "' for appending: " + std::strerror(errno));
    struct stat st {};
    was_empty_ = ::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0;
}

AppendFile::~AppendFile() {
    if (fd_ >= 0) ::close(fd_);
}

void AppendFile::write(std::string_view text) {
    if (fd_ < 0) throw OutputError("writing '" + path_ + "' after it was closed");
    if (const int err = write_all(fd_, text); err != 0)
        fail_write(path_, err, "the rows before this one are kept");
}

void AppendFile::close() {
    if (fd_ < 0) return;
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) fail_write(path_, errno, "the rows before this one are kept");
}

}  // namespace tilesim::cli
