// validate, selftest, profile and blocks: the GPU's kernels next to the model and the fp64 oracle.
#include "tools/cuda/commands.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/output.h"
#include "tools/cuda/checks.h"
#include "tools/cuda/csv_file.h"
#include "kernels/cuda/cuda_backend.h"
#include "tools/cuda/model_prediction.h"
#include "kernels/registry.h"

namespace tilesim::kernels::cuda {

namespace {

bool wants(const scenarios::Scenario& s, std::string_view key) {
    return std::find(s.algorithms.begin(), s.algorithms.end(), key) != s.algorithms.end();
}

std::string describe(const Problem& p) {
    return "batch " + std::to_string(p.batch) + ", heads " + std::to_string(p.heads) + ", N " +
           std::to_string(p.N_kv) + ", d " + std::to_string(p.d) + ", " + std::string(sim::dtype_name(p.dtype));
}

std::string block_label(const FlashBlock& b) {
    return "flash B_r=" + std::to_string(b.B_r) + " B_c=" + std::to_string(b.B_c) +
           " w=" + std::to_string(b.warps);
}

void print_device(const DeviceInfo& d) {
    std::printf("device: %s, %d SMs, L2 %lld MiB, compute capability %d.%d, driver %d.%d, runtime %d.%d\n",
                d.name.c_str(), d.sm_count, static_cast<long long>(d.l2_bytes >> 20), d.cc_major, d.cc_minor,
                d.driver_version / 1000, (d.driver_version % 1000) / 10, d.runtime_version / 1000,
                (d.runtime_version % 1000) / 10);
}

// The flash block sizes a scenario asks for: its explicit block_rows/block_cols, else the default for d.
FlashBlock scenario_block(const scenarios::Scenario& s) {
    if ((s.tiling.B_r == 0) != (s.tiling.B_c == 0)) {
        throw CudaError(
            "set both block_rows and block_cols (or neither) for the GPU kernel: its blocks are "
            "compile-time sizes");
    }
    return find_flash_block(s.problem.d, s.tiling.B_r, s.tiling.B_c);
}

// One kernel variant to check and time, with the model's prediction for the same schedule.
struct Variant {
    Kernel kernel;
    LaunchOptions launch;
    std::string label;
    ModelPrediction model;
    ErrorStats worst{};
    bool checked = false;
    bool ok = true;
    Timing timing;
};

struct CsvWriter {
    CsvFile out;
    explicit CsvWriter(const std::string& path) {
        out.open(path,
                 "scenario,gpu,batch,heads,N,d,causal,extra_passes,kernel,stage,B_r,B_c,measured_ms,model_ms,"
                 "tflops,model_hbm_bytes,model_l2_bytes,rel_fro,max_abs,check\n");
    }
};

}  // namespace

scenarios::Scenario build_scenario(const CommandOptions& o) {
    scenarios::Scenario s = o.scenario ? scenarios::resolve_scenario(*o.scenario) : scenarios::default_scenario();
    std::vector<std::string> sets = o.settings;
    // Without a scenario, the default's problem on the GPU these runs are made on (an H200 here); an
    // explicit --set hardware wins. apply_settings applies `hardware` first, as `tilesim` does.
    if (!o.scenario) sets.insert(sets.begin(), "hardware=H200");
    scenarios::apply_settings(s, sets);
    return s;
}

int run_validate(const CommandOptions& o) {
    const scenarios::Scenario s = build_scenario(o);
    const Problem& p = s.problem;
    if (p.dtype != sim::Dtype::fp16 && p.dtype != sim::Dtype::bf16) {
        throw CudaError("dtype " + std::string(sim::dtype_name(p.dtype)) +
                        ": the CUDA backend runs fp16 and bf16 (set dtype = \"fp16\" or \"bf16\")");
    }
    const double tol = forward_tolerance(p.dtype);

    // The variants: standard (Algorithm 0 as frameworks run it) and the fused kernel, each with the
    // model's prediction for the same schedule (flash: the model's flash2 with the kernel's B_r, B_c).
    std::vector<Variant> variants;
    const bool do_standard = wants(s, "standard");
    const bool do_flash = wants(s, "flash") || wants(s, "flash2");
    if (!do_standard && !do_flash)
        throw CudaError("the scenario's algorithms include neither standard nor flash");
    if (do_standard) {
        Variant v{Kernel::standard, {o.causal, s.extra_passes, {}}, "standard", {}, {}, false, true, {}};
        v.model = predict("standard", s, s.tiling);
        variants.push_back(v);
    }
    if (do_flash) {
        std::vector<FlashBlock> blocks{scenario_block(s)};
        if (o.all_blocks) {
            for (const auto& b : flash_blocks()) {
                if (b.d == p.d &&
                    !(b.B_r == blocks[0].B_r && b.B_c == blocks[0].B_c && b.warps == blocks[0].warps)) {
                    blocks.push_back(b);
                }
            }
        }
        for (const auto& b : blocks) {
            Variant v{Kernel::flash, {o.causal, 0, b}, block_label(b), {}, {}, false, true, {}};
            v.model = predict("flash2", s, TilingRequest{b.B_r, b.B_c});
            variants.push_back(v);
        }
    }

    // Bad input has been reported above, before a GPU is needed; from here on the device must be there.
    const DeviceInfo dev = query_device();
    print_device(dev);
    std::printf("scenario: %s (%s); model hardware %s; extra_passes %lld%s\n", s.name.c_str(),
                describe(p).c_str(), s.hardware_name.c_str(), static_cast<long long>(s.extra_passes),
                o.causal ? "; causal (the model predicts the non-causal schedule)" : "");
    AttentionRunner runner(p, s.seed, do_standard);

    // Correctness first: each kernel's O on a sample of heads against the fp64 oracle.
    const std::int64_t n_check =
        o.check_heads.value_or(s.numerics ? std::max<std::int64_t>(1, s.numerics_heads) : 0);
    bool all_ok = true;
    double standard_err = -1;
    if (n_check > 0) {
        const auto heads = sample_heads(p.bh(), n_check);
        std::vector<HeadReference> refs;
        std::string head_list;
        for (auto h : heads) {
            refs.push_back(reference_for_head(runner, h, o.causal));
            head_list += (head_list.empty() ? "" : ", ") + std::to_string(h);
        }
        const std::string rows =
            p.N_kv <= kFullCheckMaxN ? "all rows" : std::to_string(kSampledRows) + " rows spread over N";
        std::printf(
            "check against the fp64 reference on heads %s, %s (rel_fro <= %.0e; flash <= %.0fx standard):\n",
            head_list.c_str(), rows.c_str(), tol, kFlashVsStandard);
        for (auto& v : variants) {
            runner.poison_output();
            runner.launch(v.kernel, v.launch);
            runner.synchronize();
            for (std::size_t k = 0; k < heads.size(); ++k) {
                const ErrorStats e = check_head(runner, refs[k]);
                if (!(e.rel_fro <= v.worst.rel_fro)) v.worst.rel_fro = e.rel_fro;  // NaN-safe max
                v.worst.max_abs = std::max(v.worst.max_abs, e.max_abs);
            }
            v.checked = true;
            v.ok = v.worst.rel_fro <= tol;
            std::string note;
            if (v.kernel == Kernel::standard) {
                standard_err = v.worst.rel_fro;
            } else if (standard_err > 0) {
                const double ratio = v.worst.rel_fro / standard_err;
                v.ok = v.ok && ratio <= kFlashVsStandard;
                char buf[64];
                std::snprintf(buf, sizeof buf, " (%.2fx standard's error)", ratio);
                note = buf;
            }
            std::printf("  %-34s rel_fro %.3e  max_abs %.3e  %s%s\n", v.label.c_str(), v.worst.rel_fro,
                        v.worst.max_abs, v.ok ? "ok" : "FAILED", note.c_str());
            all_ok = all_ok && v.ok;
        }
    }

    // Timing: warm-up, then the median of o.runs, the L2 flushed before each run.
    for (auto& v : variants) v.timing = runner.time(v.kernel, v.launch, o.warmup, o.runs);
    const double flops = attention_flops(p, o.causal);
    std::printf(
        "timing: median of %d runs after %d warm-ups, L2 flushed before each (CUDA events); model: %s\n",
        o.runs, o.warmup, s.hardware_name.c_str());
    std::printf("  %-34s %11s %10s %8s %9s %13s  %s\n", "kernel / stage", "measured ms", "model ms",
                "meas/mdl", "TFLOP/s", "model HBM MB", "model bound");
    for (const auto& v : variants) {
        std::printf("  %-34s %11.4f %10.4f %8.2f %9.1f %13.1f  %s\n", v.label.c_str(), v.timing.median_ms,
                    v.model.time_s * 1e3, v.timing.median_ms / (v.model.time_s * 1e3),
                    flops / (v.timing.median_ms * 1e-3) / 1e12, v.model.hbm_bytes / 1e6,
                    v.model.phases.size() == 1 ? v.model.phases[0].bound.c_str() : "");
        const bool per_stage = v.timing.stages.size() == v.model.phases.size() && v.timing.stages.size() > 1;
        for (std::size_t k = 0; per_stage && k < v.timing.stages.size(); ++k) {
            const auto& ph = v.model.phases[k];
            std::printf("    %-32s %11.4f %10.4f %8.2f %9s %13.1f  %s\n", v.timing.stages[k].name.c_str(),
                        v.timing.stages[k].median_ms, ph.time_s * 1e3,
                        v.timing.stages[k].median_ms / (ph.time_s * 1e3), "",
                        (ph.hbm_read_bytes + ph.hbm_write_bytes) / 1e6, ph.bound.c_str());
        }
    }
    const Variant* std_v = nullptr;
    const Variant* fl_v = nullptr;
    for (const auto& v : variants) {
        if (v.kernel == Kernel::standard && std_v == nullptr) std_v = &v;
        if (v.kernel == Kernel::flash && fl_v == nullptr) fl_v = &v;
    }
    if (std_v != nullptr && fl_v != nullptr) {
        std::printf("speed-up of flash over standard: measured %.2fx, model %.2fx\n",
                    std_v->timing.median_ms / fl_v->timing.median_ms,
                    std_v->model.time_s / fl_v->model.time_s);
    }

    if (o.csv) {
        CsvWriter csv(*o.csv);
        for (const auto& v : variants) {
            const FlashBlock b = v.kernel == Kernel::flash ? v.launch.block : FlashBlock{};
            auto row = [&](const std::string& stage, double ms, double model_s, double hbm, double l2,
                           bool total) {
                csv.out << s.name << ',' << '"' << dev.name << '"' << ',' << p.batch << ',' << p.heads << ','
                        << p.N_kv << ',' << p.d << ',' << (o.causal ? 1 : 0) << ','
                        << (v.kernel == Kernel::standard ? s.extra_passes : 0) << ',' << kernel_name(v.kernel)
                        << ',' << '"' << stage << '"' << ',' << b.B_r << ',' << b.B_c << ',' << ms << ','
                        << model_s * 1e3 << ',' << (total ? flops / (ms * 1e-3) / 1e12 : 0.0) << ',' << hbm
                        << ',' << l2 << ',' << (v.checked ? v.worst.rel_fro : -1) << ','
                        << (v.checked ? v.worst.max_abs : -1) << ','
                        << (v.checked ? (v.ok ? "ok" : "FAILED") : "skipped") << '\n';
            };
            row("total", v.timing.median_ms, v.model.time_s, v.model.hbm_bytes, v.model.l2_bytes, true);
            if (v.timing.stages.size() == v.model.phases.size() && v.timing.stages.size() > 1) {
                for (std::size_t k = 0; k < v.timing.stages.size(); ++k) {
                    const auto& ph = v.model.phases[k];
                    row(v.timing.stages[k].name, v.timing.stages[k].median_ms, ph.time_s,
                        ph.hbm_read_bytes + ph.hbm_write_bytes, ph.l2_bytes, false);
                }
            }
        }
    }
    if (!all_ok) std::printf("validate: FAILED (an output is outside the tolerance)\n");
    return all_ok ? 0 : 1;
}

int run_selftest(const CommandOptions& o) {
    if (o.only && *o.only != "forward") {
        print_device(query_device());
        SelftestCount c;
        if (*o.only == "backward") {
            c = selftest_backward();
        } else if (*o.only == "decode") {
            c = selftest_decode();
        } else if (*o.only == "hopper") {
            c = selftest_hopper();
        } else {
            throw CudaError("selftest --only takes forward, backward, decode or hopper, not '" + *o.only + "'");
        }
        if (c.not_run) std::printf("selftest %s: NOT RUN: %s\n", o.only->c_str(), c.why.c_str());
        std::printf("selftest %s: %d of %d checks passed\n", o.only->c_str(), c.checks - c.failures, c.checks);
        return c.failures == 0 ? 0 : 1;
    }
    struct Case {
        std::int64_t batch, heads, N, d;
        bool causal;
        std::int64_t extra_passes;
    };
    // Ragged N (1, 77, 1000, 4104, 16400: no multiple of any block; 77 and 1 not of 8 either, which
    // takes the scalar softmax), exact multiples, causal with and without a separate mask pass, both
    // head dims. The softmax paths: a warp per row in registers (N <= 2048), a block per row (4104),
    // two passes over memory (16400, rows too long for registers).
    const Case cases[] = {
        {1, 2, 1, 64, false, 0},    {1, 2, 1, 64, true, 0},     {2, 3, 77, 64, false, 0},
        {2, 3, 77, 64, true, 2},    {1, 2, 1000, 64, false, 1}, {1, 2, 1000, 64, true, 0},
        {1, 2, 1000, 64, true, 2},  {1, 2, 512, 64, false, 3},  {1, 1, 2048, 64, true, 0},
        {1, 1, 4104, 64, false, 0}, {1, 2, 77, 128, false, 0},  {1, 2, 1000, 128, true, 0},
        {1, 1, 256, 128, false, 2}, {1, 1, 16400, 64, true, 0},
    };
    print_device(query_device());
    int failures = 0, checks = 0;
    std::uint64_t seed = 7;
    for (const auto& c : cases) {
        Problem p = Problem::square(c.N, c.d, sim::Dtype::fp16);
        p.batch = c.batch;
        p.heads = p.kv_heads = c.heads;
        AttentionRunner runner(p, ++seed, true);
        const auto heads = sample_heads(p.bh(), p.bh());  // every head: the cases are small
        std::vector<HeadReference> refs;
        for (auto h : heads) refs.push_back(reference_for_head(runner, h, c.causal));
        std::vector<std::pair<std::string, LaunchOptions>> runs{{"standard", {c.causal, c.extra_passes, {}}}};
        for (const auto& b : flash_blocks()) {
            if (b.d == c.d) runs.push_back({block_label(b), {c.causal, 0, b}});
        }
        double standard_err = 0;
        for (const auto& [label, lo] : runs) {
            const Kernel k = label == "standard" ? Kernel::standard : Kernel::flash;
            runner.poison_output();
            runner.launch(k, lo);
            runner.synchronize();
            double worst = 0;
            for (std::size_t h = 0; h < heads.size(); ++h) {
                const double e = check_head(runner, refs[h]).rel_fro;
                if (!(e <= worst)) worst = e;
            }
            bool ok = worst <= kRelTolerance;
            if (k == Kernel::standard) standard_err = worst;
            // Tiny problems can have a standard error near zero; the factor applies above 1e-4.
            if (k == Kernel::flash && worst > 1e-4) ok = ok && worst <= kFlashVsStandard * standard_err;
            ++checks;
            failures += ok ? 0 : 1;
            std::printf(
                "%-6s B=%lld H=%lld N=%-5lld d=%-3lld %-7s passes=%lld  %-30s rel_fro %.3e\n",
                ok ? "ok" : "FAILED", static_cast<long long>(c.batch), static_cast<long long>(c.heads),
                static_cast<long long>(c.N), static_cast<long long>(c.d), c.causal ? "causal" : "full",
                static_cast<long long>(k == Kernel::standard ? c.extra_passes : 0), label.c_str(), worst);
        }
    }
    // bf16 forward: the same kernels instantiated for bf16 (standard and every flash block), on a
    // ragged and a causal case.
    for (const auto& c : {Case{1, 2, 1000, 64, true, 0}, Case{1, 2, 77, 128, false, 2}}) {
        Problem p = Problem::square(c.N, c.d, sim::Dtype::bf16);
        p.batch = c.batch;
        p.heads = p.kv_heads = c.heads;
        AttentionRunner runner(p, ++seed, true);
        const auto heads = sample_heads(p.bh(), p.bh());
        std::vector<HeadReference> refs;
        for (auto h : heads) refs.push_back(reference_for_head(runner, h, c.causal));
        std::vector<std::pair<std::string, LaunchOptions>> runs{{"standard", {c.causal, c.extra_passes, {}}}};
        for (const auto& b : flash_blocks()) {
            if (b.d == c.d) runs.push_back({block_label(b), {c.causal, 0, b}});
        }
        for (const auto& [label, lo] : runs) {
            const Kernel k = label == "standard" ? Kernel::standard : Kernel::flash;
            runner.poison_output();
            runner.launch(k, lo);
            runner.synchronize();
            double worst = 0;
            for (std::size_t h = 0; h < heads.size(); ++h) {
                const double e = check_head(runner, refs[h]).rel_fro;
                if (!(e <= worst)) worst = e;
            }
            const bool ok = worst <= forward_tolerance(sim::Dtype::bf16);
            ++checks;
            failures += ok ? 0 : 1;
            std::printf("%-6s B=%lld H=%lld N=%-5lld d=%-3lld %-7s bf16    %-30s rel_fro %.3e\n", ok ? "ok" : "FAILED",
                        static_cast<long long>(c.batch), static_cast<long long>(c.heads),
                        static_cast<long long>(c.N), static_cast<long long>(c.d), c.causal ? "causal" : "full",
                        label.c_str(), worst);
        }
    }
    std::printf("selftest (forward): %d of %d checks passed\n", checks - failures, checks);
    if (o.only) return failures == 0 ? 0 : 1;
    const SelftestCount bwd = selftest_backward();
    const SelftestCount dec = selftest_decode();
    const SelftestCount hop = selftest_hopper();
    checks += bwd.checks + dec.checks + hop.checks;
    failures += bwd.failures + dec.failures + hop.failures;
    std::printf("selftest: %d of %d checks passed (forward, backward %d/%d, decode %d/%d, hopper %d/%d%s)\n",
                checks - failures, checks, bwd.checks - bwd.failures, bwd.checks, dec.checks - dec.failures,
                dec.checks, hop.checks - hop.failures, hop.checks, hop.not_run ? "; hopper NOT RUN: " : "");
    if (hop.not_run) std::printf("  %s\n", hop.why.c_str());
    return failures == 0 ? 0 : 1;
}

int run_profile(const CommandOptions& o) {
    const scenarios::Scenario s = build_scenario(o);
    const Problem& p = s.problem;
    const FlashBlock b = scenario_block(s);
    const LaunchOptions std_opts{o.causal, s.extra_passes, {}};
    const LaunchOptions fl_opts{o.causal, 0, b};
    const ModelPrediction m_std = predict("standard", s, s.tiling);
    const ModelPrediction m_fl = predict("flash2", s, TilingRequest{b.B_r, b.B_c});
    if (o.model_csv) {
        std::ostringstream out;  // written whole, replaced atomically (cli/output.h)
        out << "kernel,phase,model_hbm_read_bytes,model_hbm_write_bytes,model_l2_bytes,model_time_s,B_r,B_"
               "c,model_dram_bytes\n";
        for (const auto* m : {&m_std, &m_fl}) {
            for (const auto& ph : m->phases) {
                out << (m == &m_std ? "standard" : "flash") << ",\"" << ph.name << "\"," << ph.hbm_read_bytes
                    << ',' << ph.hbm_write_bytes << ',' << ph.l2_bytes << ',' << ph.time_s << ','
                    << m->tiling.B_r << ',' << m->tiling.B_c << ',' << ph.dram_bytes << '\n';
            }
        }
        tilesim::cli::write_output(*o.model_csv, out.str());
    }
    // --kernels: which launches, always in this order, so that a profiler's kernel list splits into them
    // by kernel name: standard (cuBLAS + softmax_rows), flash (a), the Hopper steps b-f, the flash backward
    // (preprocess, main, convert), the standard backward (cuBLAS + dsoftmax_rows) last.
    static const char* const kOrder[] = {"standard", "flash", "b", "c", "d", "e", "f", "flash-bwd", "standard-bwd"};
    std::vector<std::string> want = o.kernels.empty() ? std::vector<std::string>{"standard", "flash"} : o.kernels;
    auto wanted = [&](const std::string& k) { return std::find(want.begin(), want.end(), k) != want.end(); };
    for (const auto& k : want) {
        if (std::find_if(std::begin(kOrder), std::end(kOrder), [&](const char* x) { return k == x; }) ==
            std::end(kOrder)) {
            throw CudaError("profile: unknown kernel '" + k +
                            "' (standard, flash, b, c, d, e, f, flash-bwd, standard-bwd)");
        }
    }
    const bool need_std = wanted("standard") || wanted("standard-bwd");
    const bool need_bwd = wanted("flash-bwd") || wanted("standard-bwd");
    AttentionRunner runner(p, s.seed, need_std, need_bwd);
    print_device(runner.device());
    std::printf("profile: %s; %s\n", describe(p).c_str(), block_label(b).c_str());
    struct Launch {
        std::string name;
        Kernel k;
        LaunchOptions lo;
    };
    std::vector<Launch> launches;
    for (const char* name : kOrder) {
        const std::string n = name;
        if (!wanted(n)) continue;
        if (n == "standard") launches.push_back({n, Kernel::standard, std_opts});
        if (n == "flash") launches.push_back({n, Kernel::flash, fl_opts});
        if (n.size() == 1) {
            for (auto hk : hopper_kernels()) {
                if (hopper_kernel_name(hk)[1] != n[0]) continue;
                if (!hopper_supports(hk, p.d)) {
                    std::printf("profile: step %s does not support d=%lld; skipped\n", name,
                                static_cast<long long>(p.d));
                    continue;
                }
                LaunchOptions lo{o.causal, 0, {}};
                lo.hopper = hk;
                launches.push_back({n, Kernel::hopper, lo});
            }
        }
        if (n == "flash-bwd" || n == "standard-bwd") {
            LaunchOptions lo{o.causal, 0, {}};
            lo.pass = Pass::backward;
            launches.push_back({n, n == "flash-bwd" ? Kernel::flash : Kernel::standard, lo});
        }
    }
    // Warm-up outside the profiled range (module load, cuBLAS heuristics and workspace). A backward
    // needs its forward first (the logsumexp, or standard's P); the profiled backward reuses it.
    for (int w = 0; w < 2; ++w) {
        for (const auto& l : launches) {
            if (l.lo.pass == Pass::backward) {
                LaunchOptions f = l.lo;
                f.pass = Pass::forward;
                runner.launch(l.k, f);
            }
            runner.launch(l.k, l.lo);
        }
    }
    runner.synchronize();
    for (const auto& l : launches) {
        if (l.lo.pass == Pass::backward) {
            LaunchOptions f = l.lo;
            f.pass = Pass::forward;
            runner.launch(l.k, f);  // outside the profiled range
        }
        runner.profile(l.k, l.lo);
        std::printf("profile: range %s\n", l.name.c_str());
    }
    std::printf("profile: done (each between cudaProfilerStart/Stop, in the order above)\n");
    return 0;
}

int run_blocks() {
    std::printf("compiled FlashAttention instantiations (the first for each d is its default):\n");
    for (const auto& b : flash_blocks()) {
        std::printf("  d=%-4d B_r=%-4d B_c=%-4d warps=%d\n", b.d, b.B_r, b.B_c, b.warps);
    }
    return 0;
}

}  // namespace tilesim::kernels::cuda
