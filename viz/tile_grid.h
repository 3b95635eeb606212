#pragma once
// How a tensor in HBM is cut into cells for drawing, and how often each cell was read and written.
//
// A cell is one tile of the algorithm's tiling (B_r rows of Q and O, B_c rows of K and V, B_r x B_c
// of S and P). A big problem has thousands of tiles, too many to draw legibly, so neighbouring tiles
// are merged until a tensor has at most kMaxCells per side; the cell then stands for a group of tiles
// and its counts are averages over the group's elements.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/types.h"

namespace tilesim::viz {

inline constexpr std::int32_t kMaxCells = 48;

struct TileGrid {
    std::int64_t rows = 0;  // the tensor's shape in elements
    std::int64_t cols = 0;
    std::int64_t block_rows = 1;  // elements per tile (the last tile may be ragged)
    std::int64_t block_cols = 1;
    std::int32_t group_r = 1;  // tiles per cell (1 unless aggregated)
    std::int32_t group_c = 1;
    std::int32_t cells_r = 0;
    std::int32_t cells_c = 0;

    std::int64_t cell_rows() const { return block_rows * group_r; }
    std::int64_t cell_cols() const { return block_cols * group_c; }
    std::int32_t cell_count() const { return cells_r * cells_c; }
    // The cell's extent in elements, ragged at the bottom and right edges.
    sim::Rect cell_rect(std::int32_t r, std::int32_t c) const;
    bool aggregated() const { return group_r > 1 || group_c > 1; }

    // Calls f(cell index, elements of `tile` inside that cell) for every cell `tile` overlaps.
    template <class F>
    void for_each_overlap(const sim::Rect& tile, F&& f) const {
        if (cells_r == 0 || cells_c == 0 || tile.rows <= 0 || tile.cols <= 0) return;
        const std::int64_t cr = cell_rows(), cc = cell_cols();
        const auto r_first = static_cast<std::int32_t>(tile.row0 / cr);
        const auto r_last = static_cast<std::int32_t>((tile.row0 + tile.rows - 1) / cr);
        const auto c_first = static_cast<std::int32_t>(tile.col0 / cc);
        const auto c_last = static_cast<std::int32_t>((tile.col0 + tile.cols - 1) / cc);
        for (std::int32_t r = r_first; r <= r_last && r < cells_r; ++r) {
            const std::int64_t y0 = std::max<std::int64_t>(tile.row0, r * cr);
            const std::int64_t y1 = std::min<std::int64_t>(tile.row0 + tile.rows, (r + 1) * cr);
            for (std::int32_t c = c_first; c <= c_last && c < cells_c; ++c) {
                const std::int64_t x0 = std::max<std::int64_t>(tile.col0, c * cc);
                const std::int64_t x1 = std::min<std::int64_t>(tile.col0 + tile.cols, (c + 1) * cc);
                if (y1 > y0 && x1 > x0) f(r * cells_c + c, (y1 - y0) * (x1 - x0));
            }
        }
    }
};

// A grid over a rows x cols tensor with tiles of block_rows x block_cols (clamped to the shape).
TileGrid make_grid(std::int64_t rows, std::int64_t cols, std::int64_t block_rows, std::int64_t block_cols,
                   std::int32_t max_cells = kMaxCells);

// Elements read from and written to HBM in each cell of one tensor, so far.
struct CellTraffic {
    TileGrid grid;
    std::vector<std::int64_t> read_elements;
    std::vector<std::int64_t> write_elements;

    void reset();
    // Times the cell's elements were read (written) on average: 1.0 = each element once.
    double reads(std::int32_t cell) const;
    double writes(std::int32_t cell) const;
};

}  // namespace tilesim::viz
