#pragma once
// An appended CSV file written row by row, every row checked (cli/output.h's AppendFile behind a
// stream's <<): a full disk or a file-size limit is an error naming the file, never a silently short
// CSV. Rows go out as they are made, so a run cut short keeps the rows it measured.
#include <optional>
#include <sstream>
#include <string>

#include "cli/output.h"

namespace tilesim::kernels::cuda {

class CsvFile {
  public:
    // Opens `path` for appending; `header` (with its '\n') is written when the file is new or empty.
    void open(const std::string& path, const std::string& header) {
        file_.emplace(path);
        if (file_->was_empty()) file_->write(header);
    }
    bool is_open() const { return file_.has_value(); }
    template <class T>
    CsvFile& operator<<(const T& v) {
        row_ << v;
        const std::string s = row_.str();
        if (!s.empty() && s.back() == '\n') {
            file_->write(s);
            row_.str({});
        }
        return *this;
    }

  private:
    std::optional<cli::AppendFile> file_;
    std::ostringstream row_;
};

}  // namespace tilesim::kernels::cuda
