"""Latency by the paper's protocol (Sec. 4 "Inference speed", Tables 11-12).

Protocol, as the paper states it: batch size 1, ONNX Runtime with 1 thread on the CPU, 50 warm-up
runs then 200 timed runs; we report the median and the 90th percentile in milliseconds. Measured:

- ``mode="model"``: one forward of a (1, 3, h, w) normalised crop (what Table 11 times);
- ``mode="end_to_end"``: for an image with 1, 3 or 6 people, warp + normalise every box (numpy/cv2),
  one batched forward of all crops, SimCC decode and mapping back to the image (numpy);

for the ``"ort"`` backend (an exported file, :class:`OrtPoseRunner` pieces) and the ``"torch"`` backend
(PyTorch eager, ``torch.inference_mode``, ``torch.set_num_threads(threads)``). Every record carries the
machine fingerprint; the model's official GMACs (``count_flops``, docs/official-behaviour.md "Complexity") and the GEMM
peak
give the achieved FLOP/s as a share of what one core can do. GPU columns are measured only when CUDA
is present (torch CUDA or the ORT CUDA provider); otherwise they read "not measured". The paper's GPU
column is TensorRT FP16 on a GTX 1660 Ti, so a GPU number here is comparable in trend only.
"""
from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rtmposelib.codecs.image_space import crop_to_image
from rtmposelib.data.preprocess import preprocess_boxes
from rtmposelib.export.fingerprint import cuda_devices, machine_fingerprint
from rtmposelib.export.gemm_probe import gemm_peak, share_of_peak
from rtmposelib.export.onnx import export_onnx
from rtmposelib.export.ort_runner import OrtPoseRunner
from rtmposelib.export.threads import torch_threads

NOT_MEASURED = "not measured"


def paper_latency_ms(preset: str) -> dict[str, float]:
    """The paper's Table 11 latency of a preset, {"cpu": ms, "gpu": ms} (NaN when not in the table).

    CPU: ONNX Runtime on an i7-11700 with 1 thread; GPU: TensorRT FP16 on a GTX 1660 Ti; 256x192 unless
    the name says otherwise. The numbers are read from :mod:`rtmposelib.reference`.
    """
    from rtmposelib.reference import paper_value

    m = re.fullmatch(r"rtmpose-([tsmlx])(-wholebody)?(?:-(\d+x\d+))?", preset)
    if not m:
        return {"cpu": float("nan"), "gpu": float("nan")}
    row = f"{'WholeBody' if m.group(2) else 'COCO'} / RTMPose-{m.group(1)}" + (f" {m.group(3)}" if m.group(3) else "")
    return {"cpu": paper_value(11, row, "CPU(ms)"), "gpu": paper_value(11, row, "GPU(ms)")}


def time_runs(fn: Callable[[], object], *, runs: int = 200, warmup: int = 50) -> dict[str, float]:
    """Call ``fn`` ``warmup`` times untimed, then ``runs`` times timed one by one (perf_counter).

    Returns {"median_ms", "p90_ms", "mean_ms", "min_ms", "runs", "warmup"}.
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f"need runs >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    for _ in range(warmup):
        fn()
    times = np.empty(runs)
    for i in range(runs):
        t = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - t
    ms = times * 1e3
    return {"median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)),
            "mean_ms": float(ms.mean()), "min_ms": float(ms.min()), "runs": runs, "warmup": warmup}


def scene(n_people: int, *, size: tuple[int, int] = (640, 480), seed: int = 0
          ) -> tuple[np.ndarray, np.ndarray]:
    """A (h, w, 3) uint8 noise image of ``size`` (w, h) and ``n_people`` person-shaped xyxy boxes.

    Timing does not depend on content; boxes are 1:2 (w:h) and spread across the frame.
    """
    w, h = size
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    bh = h * 0.6
    bw = bh / 2
    xs = np.linspace(0, w - bw, max(n_people, 1))[:n_people]
    boxes = np.stack([xs, np.full(n_people, h * 0.2), xs + bw, np.full(n_people, h * 0.2 + bh)], 1)
    return image, boxes.astype(np.float32)


def _torch_end_to_end(model, runner: OrtPoseRunner, image, boxes, device) -> Callable[[], object]:
    """Same numpy pre/post-processing as the ORT runner, with the torch model in the middle."""
    def step():
        batch, centers, box_sizes = preprocess_boxes(image, boxes, input_size=runner.input_size,
                                                  bgr_to_rgb=runner.bgr_to_rgb)
        with torch.inference_mode():
            sx, sy = model(torch.from_numpy(batch).to(device))
        kpts, scores = runner.codec.decode(sx.cpu().numpy(), sy.cpu().numpy())
        return crop_to_image(kpts, centers, box_sizes, runner.input_size), scores
    return step


def measure_model(model: torch.nn.Module, onnx_path: str | Path, *, input_size: tuple[int, int],
                  backends=("ort", "torch"), people=(1, 3, 6), runs: int = 200, warmup: int = 50,
                  threads: int = 1, gpu: bool = True) -> list[dict]:
    """Latency records of one SimCC model (torch) and its ONNX file (see module docstring).

    Each record: backend, device, mode, people, median_ms, p90_ms, mean_ms, min_ms, runs, warmup,
    threads. ``gpu=True`` adds model-only CUDA records when CUDA is present.
    """
    for b in backends:
        if b not in ("ort", "torch"):
            raise ValueError(f"backend must be 'ort' or 'torch', got {b!r}")
    w, h = input_size
    x = np.random.default_rng(0).standard_normal((1, 3, h, w)).astype(np.float32)
    runner = OrtPoseRunner(onnx_path, threads=threads, input_size=input_size)
    model = model.eval()
    records = []

    def add(backend, device, mode, n, fn):
        records.append({"backend": backend, "device": device, "mode": mode, "people": n,
                        "threads": threads, **time_runs(fn, runs=runs, warmup=warmup)})

    with torch_threads(threads):
        if "ort" in backends:
            add("ort", "cpu", "model", 1, lambda: runner.run(x))
            for n in people:
                image, boxes = scene(n)
                add("ort", "cpu", "end_to_end", n, lambda image=image, boxes=boxes: runner(image, boxes))
        if "torch" in backends:
            xt = torch.from_numpy(x)

            def forward():
                with torch.inference_mode():
                    return model(xt)
            add("torch", "cpu", "model", 1, forward)
            for n in people:
                image, boxes = scene(n)
                add("torch", "cpu", "end_to_end", n, _torch_end_to_end(model, runner, image, boxes, "cpu"))
        if gpu:
            records += _measure_gpu(model, onnx_path, x, backends, runs=runs, warmup=warmup)
    return records


def _measure_gpu(model, onnx_path, x, backends, *, runs, warmup) -> list[dict]:
    """Model-only records on CUDA (torch: synchronised per call; ORT: CUDA provider)."""
    cuda = cuda_devices()
    records = []
    if "torch" in backends and cuda["torch_cuda"]:
        gpu_model = model.to("cuda")
        xt = torch.from_numpy(x).to("cuda")

        def forward():
            with torch.inference_mode():
                out = gpu_model(xt)
            torch.cuda.synchronize()
            return out
        records.append({"backend": "torch", "device": "cuda", "mode": "model", "people": 1,
                        "threads": None, **time_runs(forward, runs=runs, warmup=warmup)})
        model.to("cpu")
    if "ort" in backends and cuda["ort_cuda"]:
        w, h = x.shape[-1], x.shape[-2]
        gpu_runner = OrtPoseRunner(onnx_path, input_size=(w, h),
                                   providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
        records.append({"backend": "ort", "device": "cuda", "mode": "model", "people": 1,
                        "threads": None, **time_runs(lambda: gpu_runner.run(x), runs=runs,
                                                     warmup=warmup)})
    return records


def _short(name: str) -> str:
    """'t' -> 'rtmpose-t'; full preset names pass through."""
    return name if name.startswith("rtmpose") else f"rtmpose-{name}"


def measure_latency(presets, *, backends=("ort", "torch"), people=(1, 3, 6), runs: int = 200,
                    warmup: int = 50, threads: int = 1, peak_gflops: float | None = None,
                    workdir: str | Path | None = None) -> pd.DataFrame:
    """Long-form latency records for every preset (randomly initialised weights: speed only).

    presets: names from ``rtmposelib.config.PRESETS`` ("t" is short for "rtmpose-t"). Columns: preset,
    gmacs (official counting), params, the :func:`measure_model` fields, achieved_gflops
    (2 * gmacs / median), peak_gflops, peak_share, paper_cpu_ms, paper_gpu_ms and the fingerprint.
    ``peak_gflops=None`` runs the GEMM probe once.
    """
    from rtmposelib.config import preset as get_preset
    from rtmposelib.export.complexity import count_flops, count_params
    from rtmposelib.models.pose_model import build_model

    if peak_gflops is None:
        peak_gflops = gemm_peak(threads=threads)["peak_gflops"]
    fingerprint = machine_fingerprint()
    rows = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for name in map(_short, presets):
            cfg = get_preset(name)
            torch.manual_seed(0)
            model = build_model(cfg.model).eval()
            size = cfg.model.input_size
            gmacs = count_flops(model, size)
            path = export_onnx(model, Path(tmp) / f"{name}.onnx", input_size=size)
            for rec in measure_model(model, path, input_size=size, backends=backends, people=people,
                                     runs=runs, warmup=warmup, threads=threads):
                achieved = 2 * gmacs / (rec["median_ms"] / 1e3) if rec["mode"] == "model" else np.nan
                share = (share_of_peak(gmacs, rec["median_ms"], peak_gflops)
                         if rec["mode"] == "model" and rec["device"] == "cpu" else np.nan)
                rows.append({"preset": name, "input_size": f"{size[1]}x{size[0]}", "gmacs": gmacs,
                             "params": count_params(model), **rec, "achieved_gflops": achieved,
                             "peak_gflops": peak_gflops, "peak_share": share,
                             "paper_cpu_ms": paper_latency_ms(name)["cpu"],
                             "paper_gpu_ms": paper_latency_ms(name)["gpu"], **fingerprint})
    return pd.DataFrame(rows)


def table11(records: pd.DataFrame, *, reference: str = "rtmpose-t") -> pd.DataFrame:
    """Table 11 from :func:`measure_latency` records: one row per preset, ours beside the paper.

    Columns: preset, gmacs, paper_cpu_ms, ort_ms, ort_p90_ms, torch_ms, ratio_to_t (ours, ORT),
    paper_ratio_to_t, peak_share (ORT), ort_e2e_{n}p_ms, gpu_ms (or "not measured"), paper_gpu_ms,
    then the machine fingerprint columns.
    """
    cpu_model = records[(records["mode"] == "model") & (records["device"] == "cpu")]
    rows = []
    for name, g in records.groupby("preset", sort=False):
        model_cpu = cpu_model[cpu_model["preset"] == name].set_index("backend")
        row = {"preset": name, "gmacs": g["gmacs"].iloc[0], "paper_cpu_ms": g["paper_cpu_ms"].iloc[0]}
        for backend in ("ort", "torch"):
            if backend in model_cpu.index:
                row[f"{backend}_ms"] = model_cpu.loc[backend, "median_ms"]
                row[f"{backend}_p90_ms"] = model_cpu.loc[backend, "p90_ms"]
        if "ort" in model_cpu.index:
            row["peak_share"] = model_cpu.loc["ort", "peak_share"]
        e2e = g[(g["mode"] == "end_to_end") & (g["backend"] == "ort")]
        for _, r in e2e.iterrows():
            row[f"ort_e2e_{r['people']}p_ms"] = r["median_ms"]
        gpu = g[g["device"] == "cuda"]
        row["gpu_ms"] = float(gpu["median_ms"].min()) if len(gpu) else NOT_MEASURED
        row["paper_gpu_ms"] = g["paper_gpu_ms"].iloc[0]
        row.update({k: g[k].iloc[0] for k in machine_fingerprint() if k in g})
        rows.append(row)
    table = pd.DataFrame(rows)
    ours = "ort_ms" if "ort_ms" in table else "torch_ms"
    ref = table[table["preset"] == reference]
    if len(ref):
        table["ratio_to_t"] = table[ours] / ref[ours].iloc[0]
        table["paper_ratio_to_t"] = table["paper_cpu_ms"] / paper_latency_ms(reference)["cpu"]
    return table


def latency_table(presets, *, backends=("ort", "torch"), runs: int = 200, warmup: int = 50,
                  people=(1, 3, 6), threads: int = 1) -> pd.DataFrame:
    """Measure ``presets`` by the paper's protocol and return Table 11 (see :func:`table11`).

    For every record (p90, end-to-end, torch) call :func:`measure_latency` and :func:`table11`.
    """
    return table11(measure_latency(presets, backends=backends, runs=runs, warmup=warmup, people=people,
                                   threads=threads))
