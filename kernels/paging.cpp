#include "kernels/paging.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

namespace tilesim::kernels {

std::string_view page_order_name(PageOrder o) {
    switch (o) {
        case PageOrder::contiguous:
            return "contiguous";
        case PageOrder::shuffled:
            return "shuffled";
    }
    return "?";
}

PageGeometry page_geometry(const Problem& p) {
    PageGeometry g;
    if (p.page_size <= 0 || p.N_kv < 1) return g;
    g.page_size = p.page_size;
    g.pages = ceil_div(p.N_kv, p.page_size);
    g.last_page_len = p.N_kv - (g.pages - 1) * p.page_size;
    g.wasted_slots = g.pages * p.page_size - p.N_kv;
    return g;
}

std::int64_t max_pages_per_block(const PageGeometry& g, std::int64_t rows) {
    if (!g.paged()) return 0;
    return std::min(g.pages, ceil_div(rows, g.page_size) + 1);
}

std::vector<std::int64_t> page_table(const Problem& p) {
    const PageGeometry g = page_geometry(p);
    std::vector<std::int64_t> table(static_cast<std::size_t>(g.pages));
    std::iota(table.begin(), table.end(), std::int64_t{0});
    if (p.page_order == PageOrder::shuffled) {
        // Fisher-Yates with our own draws (std::shuffle's sequence is implementation-defined), so the
        // picture is the same with every standard library.
        std::mt19937_64 gen(kPageSeed);
        for (std::size_t k = table.size(); k > 1; --k) {
            const std::size_t r = static_cast<std::size_t>(gen() % k);
            std::swap(table[k - 1], table[r]);
        }
    }
    return table;
}

void lay_out_pages(const Problem& p, HbmState& hbm) {
    const PageGeometry g = page_geometry(p);
    // Inputs of the wrong shape are left as they are: kernels::run then refuses them by name.
    if (!g.paged() || hbm[sim::Tensor::K].rows() != p.N_kv || hbm[sim::Tensor::V].rows() != p.N_kv) return;
    const std::vector<std::int64_t> table = page_table(p);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (sim::Tensor t : {sim::Tensor::K, sim::Tensor::V}) {
        const Mat& logical = hbm[t];
        Mat pool = Mat::Constant(g.pages * g.page_size, logical.cols(), nan);
        for (std::int64_t k = 0; k < g.pages; ++k) {
            const std::int64_t rows = std::min(g.page_size, p.N_kv - k * g.page_size);
            pool.middleRows(table[static_cast<std::size_t>(k)] * g.page_size, rows) =
                logical.middleRows(k * g.page_size, rows);
        }
        hbm[t] = std::move(pool);
    }
    Mat& pt = hbm[sim::Tensor::PT];
    pt.resize(g.pages, 1);
    // Page numbers as floats: exact below 2^24 pages (validation keeps N_kv <= 2^20).
    for (std::int64_t k = 0; k < g.pages; ++k)
        pt(k, 0) = static_cast<float>(table[static_cast<std::size_t>(k)]);
}

}  // namespace tilesim::kernels
