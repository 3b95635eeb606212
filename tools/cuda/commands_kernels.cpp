// backward, hopper, decode and bandwidth: the kernels issue 10 added (backward, the Hopper forward
// progression, split-KV decoding), each checked against the fp64 reference before it is timed; and the
// parts of selftest that cover them.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "tools/cuda/checks.h"
#include "tools/cuda/commands.h"
#include "tools/cuda/csv_file.h"
#include "tools/cuda/model_prediction.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/split_heuristic.h"

namespace tilesim::kernels::cuda {

namespace {

const char* dt_name(sim::Dtype t) {
    return t == sim::Dtype::bf16 ? "bf16" : "fp16";
}

std::string bwd_label(const FlashBwdBlock& b) {
    return "flash bwd B_c=" + std::to_string(b.B_c) + " B_r=" + std::to_string(b.B_r) + " w=" + std::to_string(b.warps);
}

void require_16bit(sim::Dtype t) {
    if (t != sim::Dtype::fp16 && t != sim::Dtype::bf16) {
        throw CudaError("dtype " + std::string(sim::dtype_name(t)) + ": these kernels take fp16 or bf16");
    }
}

double tflops(double flops, double ms) {
    return flops / (ms * 1e-3) / 1e12;
}

// The model's predicted ms for `km` on `s`, or a negative value with `why` when the model refuses it.
double model_ms(const KernelModel& km, const scenarios::Scenario& s, std::string* why) {
    try {
        return predict(km, s).time_s * 1e3;
    } catch (const std::exception& e) {
        *why = e.what();
        return -1;
    }
}

const char* within(double ratio) {
    return ratio >= 0.75 && ratio <= 1.25 ? "yes" : "no";
}

// Checks one backward (kernel k, options lo) on the given heads: forward, then backward, NaN-poisoned.
GradErrors run_and_check_backward(AttentionRunner& runner, Kernel k, LaunchOptions lo,
                                  const std::vector<HeadGradReference>& refs) {
    lo.pass = Pass::forward;
    runner.poison_output();
    runner.launch(k, lo);
    runner.poison_gradients();
    lo.pass = Pass::backward;
    runner.launch(k, lo);
    runner.synchronize();
    GradErrors worst;
    for (const auto& ref : refs) {
        const GradErrors e = check_gradients(runner, ref);
        auto upd = [](ErrorStats& w, const ErrorStats& x) {
            if (!(x.rel_fro <= w.rel_fro)) w.rel_fro = x.rel_fro;
            w.max_abs = std::max(w.max_abs, x.max_abs);
        };
        upd(worst.dQ, e.dQ);
        upd(worst.dK, e.dK);
        upd(worst.dV, e.dV);
    }
    return worst;
}

}  // namespace

int run_backward(const CommandOptions& o) {
    const scenarios::Scenario s = build_scenario(o);
    const Problem& p = s.problem;
    require_16bit(p.dtype);
    const DeviceInfo dev = query_device();
    std::printf("device: %s, %d SMs, compute capability %d.%d\n", dev.name.c_str(), dev.sm_count, dev.cc_major,
                dev.cc_minor);
    std::printf("backward: batch %lld, heads %lld, N %lld, d %lld, %s%s\n", static_cast<long long>(p.batch),
                static_cast<long long>(p.heads), static_cast<long long>(p.N_kv), static_cast<long long>(p.d),
                dt_name(p.dtype), o.causal ? ", causal" : "");
    const bool standard = std::find(s.algorithms.begin(), s.algorithms.end(), "standard") != s.algorithms.end();
    AttentionRunner runner(p, s.seed, standard, true);
    struct V {
        Kernel k;
        LaunchOptions lo;
        std::string label;
    };
    std::vector<V> vs;
    if (standard) vs.push_back({Kernel::standard, {o.causal, 0, {}}, "standard (Algorithm 0 + 3)"});
    for (const auto& b : flash_bwd_blocks()) {
        if (b.d != p.d) continue;
        LaunchOptions lo{o.causal, 0, {}};
        lo.bwd_block = b;
        vs.push_back({Kernel::flash, lo, bwd_label(b)});
        if (!o.all_blocks) break;
    }
    bool all_ok = true;
    const std::int64_t n_check = o.check_heads.value_or(1);
    if (n_check > 0 && p.N_kv <= kBackwardCheckMaxN) {
        std::vector<HeadGradReference> refs;
        for (auto h : sample_heads(p.bh(), n_check)) refs.push_back(reference_gradients_for_head(runner, h, o.causal));
        std::printf("check of dQ, dK, dV against the fp64 reference on %zu head(s) (rel_fro <= %.1e):\n", refs.size(),
                    backward_tolerance(p.dtype));
        for (auto& v : vs) {
            const GradErrors e = run_and_check_backward(runner, v.k, v.lo, refs);
            const bool ok = e.worst() <= backward_tolerance(p.dtype);
            all_ok = all_ok && ok;
            std::printf("  %-34s dQ %.3e  dK %.3e  dV %.3e  %s\n", v.label.c_str(), e.dQ.rel_fro, e.dK.rel_fro,
                        e.dV.rel_fro, ok ? "ok" : "FAILED");
        }
    } else {
        std::printf("check: skipped (N > %lld: the fp64 reference gradients hold N^2 doubles)\n",
                    static_cast<long long>(kBackwardCheckMaxN));
    }
    const double f_fwd = attention_flops(p, o.causal), f_bwd = attention_backward_flops(p, o.causal);
    std::printf("timing: median of %d runs after %d warm-ups, L2 flushed before each (CUDA events)\n", o.runs,
                o.warmup);
    std::printf("  %-34s %10s %10s %10s %9s %9s %9s\n", "kernel", "fwd ms", "bwd ms", "fwd+bwd ms", "fwd TF/s",
                "bwd TF/s", "f+b TF/s");
    CsvFile csv;
    if (o.csv) csv.open(*o.csv, "gpu,batch,heads,N,d,dtype,causal,kernel,stage,ms,tflops\n");
    std::vector<std::string> model_lines;
    for (auto& v : vs) {
        LaunchOptions lo = v.lo;
        lo.pass = Pass::forward;
        const Timing tf = runner.time(v.k, lo, o.warmup, o.runs);
        lo.pass = Pass::backward;
        const Timing tb = runner.time(v.k, lo, o.warmup, o.runs);
        lo.pass = Pass::forward_backward;
        const Timing tfb = runner.time(v.k, lo, o.warmup, o.runs);
        std::printf("  %-34s %10.4f %10.4f %10.4f %9.1f %9.1f %9.1f\n", v.label.c_str(), tf.median_ms, tb.median_ms,
                    tfb.median_ms, tflops(f_fwd, tf.median_ms), tflops(f_bwd, tb.median_ms),
                    tflops(f_fwd + f_bwd, tfb.median_ms));
        for (const auto& st : tfb.stages) std::printf("    %-60s %10.4f\n", st.name.c_str(), st.median_ms);
        {
            // The model: the forward as (a) / standard's forward, the backward as its Algorithm 3 / flash2's.
            const bool flash = v.k == Kernel::flash;
            const FlashBlock fb = find_flash_block(p.d);
            const FlashBwdBlock bb = v.lo.bwd_block.d ? v.lo.bwd_block : find_flash_bwd_block(p.d);
            const KernelModel kf = flash ? hopper_step_model('a', p.d, o.causal, fb.B_r, fb.B_c)
                                         : standard_forward_model(o.causal);
            const KernelModel kb = backward_model(flash, o.causal, bb.B_r, bb.B_c);
            std::string why;
            const double mf = model_ms(kf, s, &why), mb = model_ms(kb, s, &why);
            char buf[512];
            if (mf < 0 || mb < 0) {
                std::snprintf(buf, sizeof buf, "  %-34s model: n/a (%s)", v.label.c_str(), why.c_str());
            } else {
                std::snprintf(buf, sizeof buf, "  %-34s fwd %8.4f / %8.4f = %5.2f %-3s   bwd %8.4f / %8.4f = %5.2f %-3s  (%s)",
                              v.label.c_str(), tf.median_ms, mf, tf.median_ms / mf, within(tf.median_ms / mf),
                              tb.median_ms, mb, tb.median_ms / mb, within(tb.median_ms / mb), kb.schedule.c_str());
            }
            model_lines.push_back(buf);
            if (csv.is_open() && mf > 0 && mb > 0) {
                csv << '"' << dev.name << "\"," << p.batch << ',' << p.heads << ',' << p.N_kv << ',' << p.d << ','
                    << dt_name(p.dtype) << ',' << (o.causal ? 1 : 0) << ",\"" << v.label << "\",\"model forward\","
                    << mf << ",0\n";
                csv << '"' << dev.name << "\"," << p.batch << ',' << p.heads << ',' << p.N_kv << ',' << p.d << ','
                    << dt_name(p.dtype) << ',' << (o.causal ? 1 : 0) << ",\"" << v.label << "\",\"model backward\","
                    << mb << ",0\n";
            }
        }
        if (csv.is_open()) {
            auto row = [&](const std::string& stage, double ms, double fl) {
                csv << '"' << dev.name << "\"," << p.batch << ',' << p.heads << ',' << p.N_kv << ',' << p.d << ','
                    << dt_name(p.dtype) << ',' << (o.causal ? 1 : 0) << ",\"" << v.label << "\",\"" << stage << "\","
                    << ms << ',' << (fl > 0 ? tflops(fl, ms) : 0.0) << '\n';
            };
            row("forward", tf.median_ms, f_fwd);
            row("backward", tb.median_ms, f_bwd);
            row("forward+backward", tfb.median_ms, f_fwd + f_bwd);
            for (const auto& st : tfb.stages) row(st.name, st.median_ms, 0);
        }
    }
    std::printf("model (%s): measured ms / model ms = ratio, within 25%%:\n", s.hardware.name.c_str());
    for (const auto& l : model_lines) std::printf("%s\n", l.c_str());
    if (!all_ok) std::printf("backward: FAILED (a gradient is outside the tolerance)\n");
    return all_ok ? 0 : 1;
}

int run_hopper(const CommandOptions& o) {
    const scenarios::Scenario s = build_scenario(o);
    const Problem& p = s.problem;
    require_16bit(p.dtype);
    const DeviceInfo dev = query_device();
    std::printf("device: %s, %d SMs, compute capability %d.%d\n", dev.name.c_str(), dev.sm_count, dev.cc_major,
                dev.cc_minor);
    if (dev.cc_major != 9) throw CudaError("the Hopper kernels need a compute capability 9.0 GPU");
    std::printf("hopper forward progression: batch %lld, heads %lld, N %lld, d %lld, %s%s\n",
                static_cast<long long>(p.batch), static_cast<long long>(p.heads), static_cast<long long>(p.N_kv),
                static_cast<long long>(p.d), dt_name(p.dtype), o.causal ? ", causal" : "");
    AttentionRunner runner(p, s.seed, false);
    struct V {
        Kernel k;
        LaunchOptions lo;
        std::string label;
        bool ok = true;
        double err = -1;
    };
    std::vector<V> vs;
    vs.push_back({Kernel::flash, {o.causal, 0, {}}, "(a) mma.sync (flash_fwd.cuh)"});
    for (auto hk : hopper_kernels()) {
        if (!hopper_supports(hk, p.d)) continue;
        LaunchOptions lo{o.causal, 0, {}};
        lo.hopper = hk;
        vs.push_back({Kernel::hopper, lo, hopper_kernel_name(hk)});
    }
    auto tol_for = [&](const V& v) {
        return v.k == Kernel::hopper && v.lo.hopper == HopperKernel::fp8 ? kFp8Tolerance : forward_tolerance(p.dtype);
    };
    bool all_ok = true;
    const std::int64_t n_check = o.check_heads.value_or(1);
    if (n_check > 0) {
        std::vector<HeadReference> refs;
        for (auto h : sample_heads(p.bh(), n_check)) refs.push_back(reference_for_head(runner, h, o.causal));
        for (auto& v : vs) {
            runner.poison_output();
            runner.launch(v.k, v.lo);
            runner.synchronize();
            double worst = 0;
            for (const auto& r : refs) {
                const double e = check_head(runner, r).rel_fro;
                if (!(e <= worst)) worst = e;
            }
            v.err = worst;
            v.ok = worst <= tol_for(v);
            all_ok = all_ok && v.ok;
        }
    }
    const double flops = attention_flops(p, o.causal);
    std::printf("  %-32s %12s %10s %9s %10s\n", "step", "rel_fro", "ms", "TFLOP/s", "vs prev");
    double prev = 0;
    CsvFile csv;
    if (o.csv) {
        csv.open(*o.csv, "gpu,batch,heads,N,d,dtype,causal,step,rel_fro,check,ms,tflops,model_ms,model_schedule\n");
    }
    struct ModelRow {
        std::string label, schedule, why;
        double measured_ms, model_ms;
    };
    std::vector<ModelRow> model_rows;
    const FlashBlock fb = find_flash_block(p.d);
    for (auto& v : vs) {
        const Timing t = runner.time(v.k, v.lo, o.warmup, o.runs);
        const double tf = tflops(flops, t.median_ms);
        std::printf("  %-32s %12.3e %10.4f %9.1f %9.2fx  %s\n", v.label.c_str(), v.err, t.median_ms, tf,
                    prev > 0 ? tf / prev : 1.0, v.err < 0 ? "unchecked" : (v.ok ? "ok" : "FAILED"));
        if (t.stages.size() > 1) {
            for (const auto& st : t.stages) {
                std::printf("    %-30s %12s %10.4f %9.1f (this stage alone)\n", st.name.c_str(), "", st.median_ms,
                            tflops(flops, st.median_ms));
            }
        }
        // The model's prediction for this step's schedule (the fp8 kernel alone: the model has no pre-pass).
        const char step = v.k == Kernel::hopper ? hopper_kernel_name(v.lo.hopper)[1] : 'a';
        const KernelModel km = hopper_step_model(step, p.d, o.causal, fb.B_r, fb.B_c);
        ModelRow mr{v.label, km.schedule, "", t.stages.size() > 1 ? t.stages.back().median_ms : t.median_ms, 0};
        mr.model_ms = model_ms(km, s, &mr.why);
        model_rows.push_back(mr);
        if (csv.is_open()) {
            csv << '"' << dev.name << "\"," << p.batch << ',' << p.heads << ',' << p.N_kv << ',' << p.d << ','
                << dt_name(p.dtype) << ',' << (o.causal ? 1 : 0) << ",\"" << v.label << "\"," << v.err << ','
                << (v.err < 0 ? "skipped" : (v.ok ? "ok" : "FAILED")) << ',' << t.median_ms << ',' << tf << ','
                << mr.model_ms << ",\"" << km.schedule << "\"\n";
        }
        prev = tf;
    }
    std::printf("model (%s, the timeline schedule of each step; fp8: the kernel alone, not its pre-pass):\n",
                s.hardware.name.c_str());
    std::printf("  %-32s %-40s %10s %10s %9s %s\n", "step", "model schedule", "meas. ms", "model ms", "meas/mdl",
                "within 25%");
    for (const auto& mr : model_rows) {
        if (mr.model_ms < 0) {
            std::printf("  %-32s %-40s %10.4f  model: n/a (%s)\n", mr.label.c_str(), mr.schedule.c_str(),
                        mr.measured_ms, mr.why.c_str());
            continue;
        }
        const double ratio = mr.measured_ms / mr.model_ms;
        std::printf("  %-32s %-40s %10.4f %10.4f %9.2f %s\n", mr.label.c_str(), mr.schedule.c_str(), mr.measured_ms,
                    mr.model_ms, ratio, within(ratio));
    }
    if (!all_ok) std::printf("hopper: FAILED (an output is outside the tolerance)\n");
    return all_ok ? 0 : 1;
}

namespace {

// decode's --set keys.
struct DecodeSettings {
    DecodeProblem p;
    std::vector<int> splits{1, 0};
    std::int64_t check_heads = 2;
};

std::int64_t to_int(const std::string& key, const std::string& v) {
    std::size_t used = 0;
    long long x = 0;
    try {
        x = std::stoll(v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != v.size()) throw CudaError("decode: key '" + key + "': expected an integer, got '" + v + "'");
    return x;
}

DecodeSettings parse_decode(const CommandOptions& o) {
    DecodeSettings s;
    for (const auto& kv : o.settings) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) throw CudaError("decode: --set needs key=value, got '" + kv + "'");
        const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
        if (k == "batch") s.p.batch = to_int(k, v);
        else if (k == "heads") s.p.heads = to_int(k, v);
        else if (k == "kv_heads") s.p.kv_heads = to_int(k, v);
        else if (k == "q_len") s.p.q_len = to_int(k, v);
        else if (k == "seq_len") s.p.N = to_int(k, v);
        else if (k == "head_dim") s.p.d = to_int(k, v);
        else if (k == "page_size") s.p.page_size = to_int(k, v);
        else if (k == "shuffled") s.p.shuffled_pages = to_int(k, v) != 0;
        else if (k == "causal") s.p.causal = to_int(k, v) != 0;
        else if (k == "check_heads") s.check_heads = to_int(k, v);
        else if (k == "dtype") {
            if (v == "fp16") s.p.dtype = sim::Dtype::fp16;
            else if (v == "bf16") s.p.dtype = sim::Dtype::bf16;
            else throw CudaError("decode: dtype must be fp16 or bf16");
        } else if (k == "splits") {
            s.splits.clear();
            std::stringstream ss(v);
            std::string part;
            while (std::getline(ss, part, ',')) s.splits.push_back(static_cast<int>(to_int(k, part)));
        } else {
            throw CudaError("decode: unknown key '" + k +
                            "' (batch, heads, kv_heads, q_len, seq_len, head_dim, dtype, page_size, shuffled, "
                            "causal, splits, check_heads)");
        }
    }
    if (o.causal) s.p.causal = true;
    return s;
}

std::string describe_decode(const DecodeProblem& p) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "batch %lld, heads %lld (kv %lld), q_len %lld, N %lld, d %lld, %s, %s%s",
                  static_cast<long long>(p.batch), static_cast<long long>(p.heads), static_cast<long long>(p.kv_heads),
                  static_cast<long long>(p.q_len), static_cast<long long>(p.N), static_cast<long long>(p.d),
                  dt_name(p.dtype),
                  p.page_size > 0 ? ("paged " + std::to_string(p.page_size) + (p.shuffled_pages ? " shuffled" : " in order")).c_str()
                                  : "contiguous",
                  p.causal ? ", causal" : "");
    return buf;
}

// Worst rel_fro of `count` heads spread over the batch and heads.
double check_decode(const DecodeRunner& r, std::int64_t count) {
    const DecodeProblem& p = r.problem();
    double worst = 0;
    for (auto idx : sample_heads(p.batch * p.heads, count)) {
        const double e = check_decode_head(r, idx / p.heads, idx % p.heads).rel_fro;
        if (!(e <= worst)) worst = e;
    }
    return worst;
}

}  // namespace

int run_decode(const CommandOptions& o) {
    const DecodeSettings s = parse_decode(o);
    const DeviceInfo dev = query_device();
    std::printf("device: %s, %d SMs\n", dev.name.c_str(), dev.sm_count);
    DecodeRunner runner(s.p, 11);
    std::printf("decode: %s; K+V %.1f MB\n", describe_decode(s.p).c_str(), runner.min_bytes() / 1e6);
    const double copy_bw = measure_copy_bandwidth(std::int64_t{1} << 30, 20);
    std::printf("device-to-device copy (1 GiB, read + write): %.0f GB/s\n", copy_bw / 1e9);
    std::printf("  %-8s %12s %10s %10s %10s %9s %9s  %-9s %9s %8s  %s\n", "splits", "rel_fro", "total us", "split us",
                "combine us", "GB/s", "% copy", "check", "model us", "meas/mdl", "model (H200)");
    DecodeShape shape;
    shape.batch = s.p.batch;
    shape.heads = s.p.heads;
    shape.kv_heads = s.p.kv_heads;
    shape.q_len = s.p.q_len;
    shape.N = s.p.N;
    shape.d = s.p.d;
    shape.bf16 = s.p.dtype == sim::Dtype::bf16;
    shape.causal = s.p.causal;
    shape.page_size = s.p.page_size;
    shape.shuffled_pages = s.p.shuffled_pages;
    bool all_ok = true;
    CsvFile csv;
    if (o.csv) {
        csv.open(*o.csv,
                 "gpu,batch,heads,kv_heads,q_len,N,d,dtype,page_size,shuffled,causal,splits,rel_fro,check,total_us,"
                 "split_us,combine_us,gbps,copy_gbps,model_us\n");
    }
    for (int sp : s.splits) {
        const DecodeOptions opt{sp};
        const int used = runner.splits(opt);
        double err = -1;
        bool ok = true;
        if (s.check_heads > 0) {
            runner.poison_output();
            runner.launch(opt);
            runner.synchronize();
            err = check_decode(runner, s.check_heads);
            ok = err <= forward_tolerance(s.p.dtype);
        }
        all_ok = all_ok && ok;
        const Timing t = runner.time(opt, o.warmup, o.runs);
        const double split_ms = t.stages.empty() ? t.median_ms : t.stages[0].median_ms;
        const double comb_ms = t.stages.size() > 1 ? t.stages[1].median_ms : 0.0;
        const double gbps = runner.min_bytes() / (t.median_ms * 1e-3) / 1e9;
        char label[32];
        std::snprintf(label, sizeof label, "%d%s", used, sp == 0 ? " (h)" : "");
        std::string sched, why;
        double mdl_us = -1;
        try {
            mdl_us = predict_decode(shape, used, &sched).time_s * 1e6;
        } catch (const std::exception& e) {
            why = e.what();
        }
        char mcol[96];
        if (mdl_us > 0) {
            std::snprintf(mcol, sizeof mcol, "%9.2f %8.2f  %s", mdl_us, t.median_ms * 1e3 / mdl_us,
                          within(t.median_ms * 1e3 / mdl_us));
        } else {
            std::snprintf(mcol, sizeof mcol, "model: n/a");
        }
        std::printf("  %-8s %12.3e %10.2f %10.2f %10.2f %9.0f %8.1f%%  %-9s %s (%s)\n", label, err, t.median_ms * 1e3,
                    split_ms * 1e3, comb_ms * 1e3, gbps, 100.0 * gbps * 1e9 / copy_bw,
                    err < 0 ? "unchecked" : (ok ? "ok" : "FAILED"), mcol, mdl_us > 0 ? sched.c_str() : why.c_str());
        if (csv.is_open()) {
            const auto& p = s.p;
            csv << '"' << dev.name << "\"," << p.batch << ',' << p.heads << ',' << p.kv_heads << ',' << p.q_len << ','
                << p.N << ',' << p.d << ',' << dt_name(p.dtype) << ',' << p.page_size << ',' << p.shuffled_pages << ','
                << p.causal << ',' << used << ',' << err << ',' << (err < 0 ? "skipped" : (ok ? "ok" : "FAILED")) << ','
                << t.median_ms * 1e3 << ',' << split_ms * 1e3 << ',' << comb_ms * 1e3 << ',' << gbps << ','
                << copy_bw / 1e9 << ',' << mdl_us << '\n';
        }
    }
    std::printf("(h): the split count from num_splits_heuristic (kernels/split_heuristic.h)\n");
    if (!all_ok) std::printf("decode: FAILED (an output is outside the tolerance)\n");
    return all_ok ? 0 : 1;
}

int run_bandwidth() {
    const DeviceInfo dev = query_device();
    for (std::int64_t mb : {256, 1024, 4096}) {
        const double bw = measure_copy_bandwidth(mb << 20, 20);
        std::printf("%s: device-to-device copy of %lld MiB: %.0f GB/s (read + write)\n", dev.name.c_str(),
                    static_cast<long long>(mb), bw / 1e9);
    }
    return 0;
}

SelftestCount selftest_backward() {
    struct Case {
        std::int64_t batch, heads, N, d;
        bool causal;
    };
    // Ragged N (1, 77, 1000, 333: no multiple of any block), exact multiples (256, 2048), causal and not,
    // both head dims, fp16 and bf16, every compiled backward block for d, and standard's Algorithm 3.
    const Case cases[] = {
        {1, 2, 1, 64, false},   {2, 3, 77, 64, true},    {1, 2, 1000, 64, false}, {1, 2, 1000, 64, true},
        {1, 1, 2048, 64, true}, {1, 1, 256, 128, false}, {1, 2, 333, 128, true},  {1, 1, 1000, 128, false},
    };
    SelftestCount count;
    std::uint64_t seed = 100;
    for (const auto dtype : {sim::Dtype::fp16, sim::Dtype::bf16}) {
        for (const auto& c : cases) {
            if (dtype == sim::Dtype::bf16 && c.N == 2048) continue;  // one large case is enough
            Problem p = Problem::square(c.N, c.d, dtype);
            p.batch = c.batch;
            p.heads = p.kv_heads = c.heads;
            AttentionRunner runner(p, ++seed, true, true);
            std::vector<HeadGradReference> refs;
            for (auto h : sample_heads(p.bh(), p.bh())) refs.push_back(reference_gradients_for_head(runner, h, c.causal));
            std::vector<std::pair<std::string, std::pair<Kernel, LaunchOptions>>> runs;
            runs.push_back({"standard (Algorithm 3)", {Kernel::standard, LaunchOptions{c.causal, 0, {}}}});
            for (const auto& b : flash_bwd_blocks()) {
                if (b.d != c.d) continue;
                LaunchOptions lo{c.causal, 0, {}};
                lo.bwd_block = b;
                runs.push_back({bwd_label(b), {Kernel::flash, lo}});
            }
            for (const auto& [label, kl] : runs) {
                const GradErrors e = run_and_check_backward(runner, kl.first, kl.second, refs);
                const bool ok = e.worst() <= backward_tolerance(dtype);
                ++count.checks;
                count.failures += ok ? 0 : 1;
                std::printf("%-6s bwd B=%lld H=%lld N=%-5lld d=%-3lld %-7s %s  %-30s dQ %.2e dK %.2e dV %.2e\n",
                            ok ? "ok" : "FAILED", static_cast<long long>(c.batch), static_cast<long long>(c.heads),
                            static_cast<long long>(c.N), static_cast<long long>(c.d), c.causal ? "causal" : "full",
                            dt_name(dtype), label.c_str(), e.dQ.rel_fro, e.dK.rel_fro, e.dV.rel_fro);
            }
        }
    }
    return count;
}

SelftestCount selftest_decode() {
    SelftestCount count;
    // The heuristic against FA2's choice measured on an H200 (reference/kernels-hardware-facts.md s. 4:
    // B 1, H 32, L_k 32768, d 128 -> 7 splits) and the no-split rule for a full batch.
    {
        const bool ok = num_splits_heuristic(32, 264, 256, 128) == 7 && num_splits_heuristic(256, 264, 256, 128) == 1;
        ++count.checks;
        count.failures += ok ? 0 : 1;
        std::printf("%-6s num_splits_heuristic(32 tiles, 264 slots, 256 blocks) = %d (FA2 on an H200: 7)\n",
                    ok ? "ok" : "FAILED", num_splits_heuristic(32, 264, 256, 128));
    }
    struct Case {
        DecodeProblem p;
        std::vector<int> splits;
    };
    auto mk = [](std::int64_t b, std::int64_t h, std::int64_t hkv, std::int64_t lq, std::int64_t n, std::int64_t d,
                 sim::Dtype t, std::int64_t page, bool shuf, bool causal) {
        DecodeProblem p;
        p.batch = b;
        p.heads = h;
        p.kv_heads = hkv;
        p.q_len = lq;
        p.N = n;
        p.d = d;
        p.dtype = t;
        p.page_size = page;
        p.shuffled_pages = shuf;
        p.causal = causal;
        return p;
    };
    const auto f16 = sim::Dtype::fp16, b16 = sim::Dtype::bf16;
    const Case cases[] = {
        {mk(2, 4, 4, 1, 1000, 128, f16, 0, false, false), {1, 0, 7, 16}},   // contiguous; ragged last block
        {mk(1, 2, 2, 1, 1, 128, f16, 0, false, false), {1, 0}},             // a one-token cache
        {mk(1, 8, 2, 2, 777, 64, f16, 0, false, true), {1, 3}},             // GQA 4:1, 2 queries, causal
        {mk(2, 4, 4, 1, 1000, 128, f16, 16, false, false), {1, 0}},         // paged, in order, last page 8/16
        {mk(2, 4, 2, 1, 3000, 128, b16, 256, true, false), {1, 0, 5}},      // paged, shuffled, bf16, 184/256
        {mk(1, 2, 2, 3, 100, 64, f16, 1, true, true), {1, 4}},              // pages of one token, causal
        {mk(1, 32, 32, 1, 32768, 128, f16, 0, false, false), {1, 0}},       // the target shape
        {mk(1, 32, 32, 1, 32768, 128, f16, 64, true, false), {0}},          // the same, paged and shuffled
    };
    std::uint64_t seed = 500;
    for (const auto& c : cases) {
        DecodeRunner r(c.p, ++seed);
        for (int sp : c.splits) {
            r.poison_output();
            r.launch(DecodeOptions{sp});
            r.synchronize();
            const double e = check_decode(r, c.p.N > 10000 ? 2 : c.p.batch * c.p.heads);
            const bool ok = e <= forward_tolerance(c.p.dtype);
            ++count.checks;
            count.failures += ok ? 0 : 1;
            std::printf("%-6s decode %s; splits %d%s  rel_fro %.3e\n", ok ? "ok" : "FAILED", describe_decode(c.p).c_str(),
                        r.splits(DecodeOptions{sp}), sp == 0 ? " (heuristic)" : "", e);
        }
    }
    return count;
}

SelftestCount selftest_hopper() {
    SelftestCount count;
    const DeviceInfo dev = query_device();
    if (dev.cc_major != 9) {
        count.not_run = true;
        count.why = "the Hopper kernels are sm_90a code; this device is compute capability " +
                    std::to_string(dev.cc_major) + "." + std::to_string(dev.cc_minor);
        return count;
    }
    for (const auto& r : hopper_probe()) {
        ++count.checks;
        count.failures += r.ok ? 0 : 1;
        std::printf("%-6s hopper probe: %s (max abs err %.3g)\n", r.ok ? "ok" : "FAILED", r.name.c_str(), r.max_abs_err);
    }
    struct Case {
        std::int64_t heads, N, d;
        bool causal;
        sim::Dtype dtype;
    };
    const Case cases[] = {
        {2, 1, 64, false, sim::Dtype::fp16},     {2, 200, 64, true, sim::Dtype::fp16},
        {2, 1000, 64, false, sim::Dtype::fp16},  {1, 4104, 64, true, sim::Dtype::fp16},
        {2, 200, 128, false, sim::Dtype::fp16},  {2, 1000, 128, true, sim::Dtype::fp16},
        {1, 4104, 128, false, sim::Dtype::fp16}, {2, 1000, 64, true, sim::Dtype::bf16},
        {2, 333, 128, false, sim::Dtype::bf16},
    };
    std::uint64_t seed = 900;
    for (const auto& c : cases) {
        Problem p = Problem::square(c.N, c.d, c.dtype);
        p.heads = p.kv_heads = c.heads;
        AttentionRunner runner(p, ++seed, false);
        std::vector<HeadReference> refs;
        for (auto h : sample_heads(p.bh(), p.bh())) refs.push_back(reference_for_head(runner, h, c.causal));
        for (auto hk : hopper_kernels()) {
            if (!hopper_supports(hk, c.d)) continue;
            LaunchOptions lo{c.causal, 0, {}};
            lo.hopper = hk;
            runner.poison_output();
            runner.launch(Kernel::hopper, lo);
            runner.synchronize();
            double worst = 0;
            for (const auto& r : refs) {
                const double e = check_head(runner, r).rel_fro;
                if (!(e <= worst)) worst = e;
            }
            const bool ok = worst <= (hk == HopperKernel::fp8 ? kFp8Tolerance : forward_tolerance(c.dtype));
            ++count.checks;
            count.failures += ok ? 0 : 1;
            std::printf("%-6s hopper H=%lld N=%-5lld d=%-3lld %-7s %s  %-24s rel_fro %.3e\n", ok ? "ok" : "FAILED",
                        static_cast<long long>(c.heads), static_cast<long long>(c.N), static_cast<long long>(c.d),
                        c.causal ? "causal" : "full", dt_name(c.dtype), hopper_kernel_name(hk), worst);
        }
    }
    return count;
}

}  // namespace tilesim::kernels::cuda
