#!/usr/bin/env python3
"""PyTorch's attention for the fidelity benchmark (docs/validation/h200.md): standard attention as eager
PyTorch runs it (matmul, scale, [mask,] softmax, matmul), and scaled_dot_product_attention with the flash
and the cuDNN backends, forward and backward, on the shapes of scripts/cuda/fidelity.sh.

usage: fidelity_torch.py ncu  MANIFEST [--shapes ...] [--decode]   (run under ncu --profile-from-start off)
       fidelity_torch.py time CSV      [--shapes ...] [--decode]   (CUDA-event medians, no profiler)

A shape is B,H,N,d,causal (e.g. 8,16,2048,64,0), optionally with @IMPL:OP to run only that operation
(e.g. 32,16,512,128,1@sdpa-cudnn:bwd; IMPL torch-eager, sdpa-flash or sdpa-cudnn, OP fwd or bwd). ncu mode: every operation runs twice unprofiled, then
once between cudaProfilerStart/Stop, preceded inside that range by a marker kernel (`fidelity_marker`,
CuPy; if CuPy is missing, torch.cuda._sleep's kernel), so that ncu's kernel list splits into operations;
MANIFEST gets one line per range: the operation's label. A backward's forward runs outside the range.
time mode: random normal fp16 inputs, 5 warm-ups, median of 30 runs, the L2 flushed before each run
(as tilesim-cuda), one CSV row per operation.
"""
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

_marker = None


def marker():
    global _marker
    if _marker is None:
        try:
            import cupy

            k = cupy.RawKernel(r'extern "C" __global__ void fidelity_marker(int* x) { if (x) x[0] = 1; }',
                               "fidelity_marker")
            _marker = lambda: k((1,), (1,), (0,))  # noqa: E731
        except Exception as e:  # noqa: BLE001
            print(f"fidelity_torch: CuPy marker unavailable ({e}); using torch.cuda._sleep", file=sys.stderr)
            _marker = lambda: torch.cuda._sleep(10)  # noqa: E731
    _marker()


def eager_forward(q, k, v, causal, mask):
    s = torch.matmul(q, k.transpose(-2, -1))
    s = s * (q.shape[-1] ** -0.5)
    if causal:
        s = s.masked_fill(mask, float("-inf"))
    p = torch.softmax(s, dim=-1)
    return torch.matmul(p, v)


def sdpa(backend):
    def f(q, k, v, causal, mask):
        with sdpa_kernel(backend):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    return f


IMPLS = [("torch-eager", eager_forward), ("sdpa-flash", sdpa(SDPBackend.FLASH_ATTENTION)),
         ("sdpa-cudnn", sdpa(SDPBackend.CUDNN_ATTENTION))]


def inputs(b, h, n, d, grad, nq=None, gen=None):
    nq = nq or n
    mk = lambda nn: torch.randn((b, h, nn, d), device="cuda", dtype=torch.float16, generator=gen,  # noqa: E731
                                requires_grad=grad)
    return mk(nq), mk(n), mk(n)


def operations(shape, decode):
    """(label, run, before) triples: before() runs outside the range."""
    b, h, n, d, causal, only = shape
    gen = torch.Generator(device="cuda").manual_seed(1)
    ops = []
    mask = torch.ones(n, n, device="cuda", dtype=torch.bool).triu(1) if causal and not decode else None
    for name, fn in IMPLS:
        if only and only[0] != name:
            continue
        if decode:
            q, k, v = inputs(b, h, n, d, False, nq=1, gen=gen)
            label = f"{name} decode B={b} H={h} N={n} d={d}"
            ops.append((label, (lambda fn=fn, q=q, k=k, v=v: fn(q, k, v, False, None)), None))
            continue
        tag = f"B={b} H={h} N={n} d={d} causal={int(causal)}"
        q, k, v = inputs(b, h, n, d, True, gen=gen)
        do = torch.randn_like(q)
        if not only or only[1] == "fwd":
            ops.append((f"{name} fwd {tag}", (lambda fn=fn, q=q, k=k, v=v: fn(q.detach(), k.detach(), v.detach(),
                                                                             causal, mask)), None))
        if only and only[1] != "bwd":
            continue
        state = {}

        def before(fn=fn, q=q, k=k, v=v, state=state):
            q.grad = k.grad = v.grad = None
            state["o"] = fn(q, k, v, causal, mask)

        def bwd(state=state, do=do):
            state["o"].backward(do)
        ops.append((f"{name} bwd {tag}", bwd, before))
    return ops


def parse_shapes(argv):
    shapes, decode = [], False
    for a in argv:
        if a == "--decode":
            decode = True
        elif a != "--shapes":
            a, _, only = a.partition("@")
            b, h, n, d, c = (int(x) for x in a.split(","))
            only = tuple(only.split(":")) if only else None
            if only and (len(only) != 2 or only[0] not in dict(IMPLS) or only[1] not in ("fwd", "bwd")):
                sys.exit(f"fidelity_torch: bad operation filter @{':'.join(only)}")
            shapes.append((b, h, n, d, bool(c), only))
    return shapes, decode


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("ncu", "time"):
        sys.exit(__doc__)
    mode, path = sys.argv[1], sys.argv[2]
    shapes, decode = parse_shapes(sys.argv[3:])
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
          f"{torch.cuda.get_device_name(0)}", flush=True)
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    flush = torch.empty(2 * l2, dtype=torch.uint8, device="cuda")
    out = open(path, "a")
    if mode == "time" and out.tell() == 0:
        out.write("label,median_ms,min_ms,max_ms,runs\n")
    for shape in shapes:
        for label, run, before in operations(shape, decode):
            try:
                for _ in range(2 if mode == "ncu" else 5):
                    if before:
                        before()
                    run()
                torch.cuda.synchronize()
                if mode == "ncu":
                    if before:
                        before()
                    torch.cuda.synchronize()
                    torch.cuda.profiler.start()
                    try:
                        marker()
                        run()
                        torch.cuda.synchronize()
                    finally:
                        torch.cuda.profiler.stop()
                    out.write(label + "\n")
                    out.flush()
                    print(f"profiled: {label}", flush=True)
                else:
                    times = []
                    for r in range(30):
                        if before:
                            before()
                        flush.fill_(r & 0xFF)
                        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                        e0.record()
                        run()
                        e1.record()
                        e1.synchronize()
                        times.append(e0.elapsed_time(e1))
                    med = statistics.median(times)
                    out.write(f"{label},{med:.5f},{min(times):.5f},{max(times):.5f},30\n")
                    out.flush()
                    print(f"{label}: {med:.4f} ms", flush=True)
            except RuntimeError as e:  # a backend that does not take this shape
                print(f"skipped: {label}: {str(e).splitlines()[0][:200]}", flush=True)
                torch.cuda.synchronize()
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
