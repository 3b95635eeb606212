#pragma once
// Writing a command's outputs so that a failure loses nothing and leaves nothing half done.
//
//   - Every output of a command (the report, the trace) is committed together or not at all: each
//     regular file is written in full to a temporary with a unique name in its own folder, and the
//     temporaries are renamed over their targets only once every output has been written; on any
//     failure (no space, a file-size limit, a closed pipe, a signal) every temporary is removed.
//   - A symbolic link is written through: its target is replaced, the link stays.
//   - A FIFO or a character device (/dev/null, /dev/stdout, a terminal) is written directly, never
//     replaced by a regular file; a FIFO nobody reads is refused instead of waiting for a reader.
//   - Standard output is checked like a file: a full disk, a closed pipe or a closed descriptor is an
//     error with a message, never a silent exit 0.
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tilesim::cli {

// A failure to write an output: one line, exit status 1.
class OutputError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// For main(), before anything else: write errors come back from write() instead of killing the
// process (SIGPIPE, SIGXFSZ ignored); SIGINT, SIGTERM and SIGHUP remove pending temporaries before the
// process dies of them; standard descriptors that were closed are held on /dev/null (so no file
// opened later takes their number) and remembered as closed.
void init_process_io();

// "" when the two output paths are different files; otherwise why they are the same ("both name
// standard output", "'a' and 'b' are the same file"). Paths "" and "-" mean standard output.
std::string same_output(const std::string& a, const std::string& b);

// The outputs of one command. Paths "" and "-" are standard output.
class Outputs {
  public:
    Outputs() = default;
    Outputs(const Outputs&) = delete;
    Outputs& operator=(const Outputs&) = delete;
    ~Outputs();  // removes temporaries left by a commit that failed

    void add(std::string path, std::string text);
    // Writes and commits every output (see the top of this file). Throws OutputError.
    void commit();

  private:
    struct Item {
        std::string path, text;
        std::string target;   // the file written: the path with symbolic links followed
        std::string tmp;      // its temporary, while one exists
        bool direct = false;  // written in place (standard output, a FIFO, a device)
        bool append = false;  // a /proc/<pid>/fd link: another process's descriptor, appended to
    };
    void resolve(Item& it);
    void write_temporary(Item& it);
    void remove_temporaries();
    std::vector<Item> items_;
};

// Writes one text to `path` ("" or "-": standard output) as an Outputs of one item.
void write_output(const std::string& path, const std::string& text);

// An output written as it goes and appended to (tilesim-cuda's --csv: a row per measurement, so a run
// cut short keeps its rows). Every write is checked. Throws OutputError.
class AppendFile {
  public:
    explicit AppendFile(const std::string& path);
    AppendFile(const AppendFile&) = delete;
    AppendFile& operator=(const AppendFile&) = delete;
    ~AppendFile();
    bool was_empty() const { return was_empty_; }  // a header row is due
    void write(std::string_view text);
    void close();  // checks the final close; the destructor closes silently

  private:
    std::string path_;
    int fd_ = -1;
    bool was_empty_ = true;
};

}  // namespace tilesim::cli
