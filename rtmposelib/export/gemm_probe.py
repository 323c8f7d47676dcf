"""Peak single-thread FP32 throughput of this machine, measured with a large matrix multiply.

The paper reports latency on its own CPU (Sec. 4, Table 11). To say how well a model uses *this* CPU,
we measure what one core can do on the friendliest workload there is (an n x n x n GEMM, 2 n^3
floating-point operations) with torch and with numpy (each library's own BLAS), and report a model's
achieved FLOP/s as a share of the best of the two.

Units: the official "FLOPs" of a model (docs/official-behaviour.md "Complexity") are multiply-accumulates, so a model's
achieved FLOP/s is ``2 * MACs / latency`` when compared with this probe's 2 n^3 / time.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import torch

from rtmposelib.export.threads import torch_threads

# numpy's BLAS reads its thread count at import, so its probe runs in a fresh 1-thread interpreter.
_NUMPY_PROBE = """
import json, sys, time
import numpy as np
n, repeats = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32); b = rng.standard_normal((n, n), dtype=np.float32)
a @ b
times = []
for _ in range(repeats):
    t = time.perf_counter(); a @ b; times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def _gflops(n: int, seconds: float) -> float:
    return 2.0 * n**3 / seconds / 1e9


def torch_gemm_gflops(*, n: int = 1024, repeats: int = 5, threads: int = 1) -> float:
    """Best-of-``repeats`` GFLOP/s of an (n, n) @ (n, n) float32 torch matmul on ``threads`` threads."""
    if n <= 0 or repeats <= 0:
        raise ValueError(f"n and repeats must be positive, got n={n}, repeats={repeats}")
    with torch_threads(threads):
        gen = torch.Generator().manual_seed(0)
        a = torch.randn(n, n, generator=gen)
        b = torch.randn(n, n, generator=gen)
        torch.mm(a, b)                                              # warm-up
        best = float("inf")
        for _ in range(repeats):
            t = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - t)
    return _gflops(n, best)


def numpy_gemm_gflops(*, n: int = 1024, repeats: int = 5, threads: int = 1) -> float:
    """Best-of-``repeats`` GFLOP/s of a float32 numpy matmul, BLAS limited to ``threads`` threads."""
    if n <= 0 or repeats <= 0:
        raise ValueError(f"n and repeats must be positive, got n={n}, repeats={repeats}")
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    proc = subprocess.run([sys.executable, "-c", _NUMPY_PROBE, str(n), str(repeats)], env=env,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"numpy GEMM probe failed: {proc.stderr.strip()[-500:]}")
    return _gflops(n, min(json.loads(proc.stdout)))


def gemm_peak(*, n: int = 1024, repeats: int = 5, threads: int = 1) -> dict[str, float]:
    """{"torch_gflops", "numpy_gflops", "peak_gflops" (the larger), "n", "threads"}: FP32 peak probe."""
    t = torch_gemm_gflops(n=n, repeats=repeats, threads=threads)
    npy = numpy_gemm_gflops(n=n, repeats=repeats, threads=threads)
    return {"torch_gflops": t, "numpy_gflops": npy, "peak_gflops": max(t, npy), "n": n,
            "threads": threads}


def share_of_peak(gmacs: float, latency_ms: float, peak_gflops: float) -> float:
    """Achieved share of peak: (2 * gmacs GFLOP) / (latency_ms / 1000 s) / peak_gflops."""
    if latency_ms <= 0 or peak_gflops <= 0:
        raise ValueError(f"latency_ms and peak_gflops must be > 0, got {latency_ms}, {peak_gflops}")
    return 2.0 * gmacs / (latency_ms / 1e3) / peak_gflops
