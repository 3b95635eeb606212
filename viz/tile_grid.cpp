#include "viz/tile_grid.h"

#include "kernels/problem.h"

namespace tilesim::viz {

sim::Rect TileGrid::cell_rect(std::int32_t r, std::int32_t c) const {
    const std::int64_t y0 = r * cell_rows();
    const std::int64_t x0 = c * cell_cols();
    return {y0, x0, std::min(cell_rows(), rows - y0), std::min(cell_cols(), cols - x0)};
}

TileGrid make_grid(std::int64_t rows, std::int64_t cols, std::int64_t block_rows, std::int64_t block_cols,
                   std::int32_t max_cells) {
    TileGrid g;
    if (rows <= 0 || cols <= 0) return g;
    g.rows = rows;
    g.cols = cols;
    g.block_rows = std::clamp<std::int64_t>(block_rows, 1, rows);
    g.block_cols = std::clamp<std::int64_t>(block_cols, 1, cols);
    const std::int64_t tiles_r = kernels::ceil_div(rows, g.block_rows);
    const std::int64_t tiles_c = kernels::ceil_div(cols, g.block_cols);
    // Merge whole tiles so a cell boundary is always a tile boundary.
    g.group_r = static_cast<std::int32_t>(kernels::ceil_div(tiles_r, max_cells));
    g.group_c = static_cast<std::int32_t>(kernels::ceil_div(tiles_c, max_cells));
    g.cells_r = static_cast<std::int32_t>(kernels::ceil_div(tiles_r, g.group_r));
    g.cells_c = static_cast<std::int32_t>(kernels::ceil_div(tiles_c, g.group_c));
    return g;
}

void CellTraffic::reset() {
    read_elements.assign(static_cast<std::size_t>(grid.cell_count()), 0);
    write_elements.assign(static_cast<std::size_t>(grid.cell_count()), 0);
}

double CellTraffic::reads(std::int32_t cell) const {
    const auto r = cell / grid.cells_c, c = cell % grid.cells_c;
    const double el = static_cast<double>(grid.cell_rect(r, c).elements());
    return el > 0 ? static_cast<double>(read_elements[static_cast<std::size_t>(cell)]) / el : 0.0;
}

double CellTraffic::writes(std::int32_t cell) const {
    const auto r = cell / grid.cells_c, c = cell % grid.cells_c;
    const double el = static_cast<double>(grid.cell_rect(r, c).elements());
    return el > 0 ? static_cast<double>(write_elements[static_cast<std::size_t>(cell)]) / el : 0.0;
}

}  // namespace tilesim::viz
