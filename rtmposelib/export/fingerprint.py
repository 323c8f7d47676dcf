"""Machine fingerprint attached to every latency record.

The paper's speed columns come from one machine (Intel i7-11700 with ONNX Runtime, 1 thread; a GTX 1660
Ti with TensorRT FP16; Sec. 4 "Inference speed"). Ours come from whatever machine runs the benchmark,
so every record carries what is needed to compare them: CPU model, cores, OS, library versions,
thread settings and which accelerators are present.
"""
from __future__ import annotations

import os
import platform
from functools import lru_cache
from importlib import metadata


def _cpu_model() -> str:
    """The CPU model string ("model name" in /proc/cpuinfo on Linux, else platform's guess)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _physical_cores() -> int | None:
    """Distinct (physical id, core id) pairs in /proc/cpuinfo; None where that is not readable."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    cores = set()
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(":", 1) for line in block.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        if "core id" in fields:
            cores.add((fields.get("physical id", "0"), fields["core id"]))
    return len(cores) or None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def cuda_devices() -> dict[str, str | None]:
    """The GPU visible to torch and whether ORT has its CUDA provider (None = not available)."""
    import onnxruntime as ort
    import torch

    torch_gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    ort_cuda = "CUDAExecutionProvider" if "CUDAExecutionProvider" in ort.get_available_providers() else None
    return {"torch_cuda": torch_gpu, "ort_cuda": ort_cuda}


@lru_cache(maxsize=1)
def _static_fingerprint() -> tuple[tuple[str, object], ...]:
    info: dict[str, object] = {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": _physical_cores(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "python": platform.python_version(),
    }
    for package in ("torch", "onnxruntime", "onnx", "numpy", "opencv-python-headless"):
        info[package] = _version(package)
    info.update(cuda_devices())
    return tuple(info.items())


def machine_fingerprint() -> dict[str, object]:
    """CPU model, cores, OS, library versions, current torch threads and GPU presence, as a flat dict.

    Keys: cpu_model, logical_cores, physical_cores, usable_cores, os, machine, python, torch,
    onnxruntime, onnx, numpy, opencv-python-headless, torch_cuda, ort_cuda, torch_threads.
    """
    import torch

    info = dict(_static_fingerprint())
    info["torch_threads"] = torch.get_num_threads()
    return info
