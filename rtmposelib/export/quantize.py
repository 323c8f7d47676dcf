"""int8 deployment: static post-training quantisation of an exported pose model with ONNX Runtime's
quantiser, calibrated on training crops.

Static quantisation fixes every activation's int8 range ahead of time from calibration inputs, so the
deployed graph runs integer convolutions and matrix products (VNNI ``vpdpbusd`` on x86 CPUs that have
it) with no per-call range search. The recipe:

1. ``quant_pre_process``: ONNX shape inference and ORT's graph optimisation, so quantisation sees the
   fused graph it will run (the exporter already folded BatchNorm into the convolutions);
2. calibration: crops the model sees in training, taken from the *training* split through the real
   data pipeline (:func:`calibration_crops`; the validation split is never used for calibration);
3. ``quantize_static`` with the options of :class:`QuantizeConfig`: QDQ format (QuantizeLinear /
   DequantizeLinear pairs that ORT fuses into integer kernels) or the older QOperator format,
   per-channel symmetric int8 weights, uint8 or int8 activations, the calibration method (MinMax,
   Entropy or Percentile), and which nodes stay in float (the whole head, the GAU's
   activation-by-activation products, or the final classifiers).

The int8 file keeps the fp32 file's interface (input ``input``, outputs ``simcc_x`` / ``simcc_y`` in
float32), so every runner of the fp32 file runs it unchanged.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
QUANT_FORMATS = ("qdq", "qoperator")
EXCLUDE = ("none", "attention", "classifiers", "head")
OP_TYPES = ("all", "conv_matmul")

# ONNX node names of the TorchScript exporter follow the module path: ``/model/head/gau/MatMul``.
_HEAD = "/model/head/"
_ATTENTION = ("/model/head/gau/MatMul", "/model/head/gau/MatMul_1")      # q k^T and A v
_CLASSIFIERS = ("/model/head/cls_x/", "/model/head/cls_y/")


@dataclass(frozen=True)
class QuantizeConfig:
    """Options of :func:`quantize_onnx` (defaults: the recipe measured best on RTMPose, see the
    project's results)."""

    quant_format: str = "qdq"                 # "qdq" | "qoperator"
    per_channel: bool = True                  # one weight scale per output channel
    reduce_range: bool = False                # 7-bit weights (for CPUs without VNNI)
    activations: str = "uint8"                # "uint8" | "int8"
    calibration: str = "minmax"               # "minmax" | "entropy" | "percentile"
    percentile: float = 99.999                # for calibration="percentile"
    exclude: str = "none"                     # nodes kept in float: "none" | "attention" | "classifiers" | "head"
    op_types: str = "all"                     # "all": every op ORT can quantise; "conv_matmul": only those

    def __post_init__(self) -> None:
        for name, value, allowed in (("quant_format", self.quant_format, QUANT_FORMATS),
                                     ("calibration", self.calibration, CALIBRATION_METHODS),
                                     ("exclude", self.exclude, EXCLUDE), ("op_types", self.op_types, OP_TYPES),
                                     ("activations", self.activations, ("uint8", "int8"))):
            if value not in allowed:
                raise ValueError(f"QuantizeConfig.{name} must be one of {allowed}, got {value!r}")


class CropReader:
    """ONNX Runtime calibration reader over (N, 3, h, w) float32 crops, ``batch`` crops per call."""

    def __init__(self, crops: np.ndarray, *, input_name: str = "input", batch: int = 8) -> None:
        self.crops = np.ascontiguousarray(crops, dtype=np.float32)
        self.input_name = input_name
        self.batch = batch
        self._it: Iterator[dict] | None = None
        self.rewind()

    def rewind(self) -> None:
        self._it = iter({self.input_name: self.crops[i:i + self.batch]}
                        for i in range(0, len(self.crops), self.batch))

    def get_next(self) -> dict | None:
        assert self._it is not None                               # set by rewind() in __init__
        return next(self._it, None)


def calibration_crops(cfg, num: int = 128, *, seed: int = 0) -> np.ndarray:
    """``num`` normalised training crops (N, 3, h, w) float32 of the run config ``cfg``'s data.

    The crops come from the training split through the project's data pipeline with the test-time
    transform (padded box, no augmentation): what the deployed model sees. Samples are drawn without
    replacement with ``seed``.
    """
    from rtmposelib.data.preprocess import normalize_images
    from rtmposelib.data.sources import build_datasets

    train, _ = build_datasets(cfg)
    if hasattr(train, "set_augment"):
        train.set_augment(None)
    if len(train) == 0:
        raise ValueError(f"{cfg.data.source}: the training split has no instances to calibrate on")
    idx = np.random.default_rng(seed).choice(len(train), size=min(num, len(train)), replace=False)
    return np.stack([normalize_images(train[int(i)]["image"]).numpy() for i in sorted(idx)])


def excluded_nodes(model_path: str | Path, exclude: str) -> list[str]:
    """Names of the nodes of ``model_path`` that ``exclude`` keeps in float."""
    import onnx

    if exclude not in EXCLUDE:
        raise ValueError(f"exclude must be one of {EXCLUDE}, got {exclude!r}")
    names = [n.name for n in onnx.load(str(model_path), load_external_data=False).graph.node]
    if exclude == "none":
        return []
    if exclude == "head":
        return [n for n in names if n.startswith(_HEAD)]
    if exclude == "attention":
        return [n for n in names if n in _ATTENTION]
    return [n for n in names if n.startswith(_CLASSIFIERS)]


def quantize_onnx(fp32_path: str | Path, out_path: str | Path, crops: np.ndarray,
                  qcfg: QuantizeConfig = QuantizeConfig()) -> Path:
    """Write the int8 model of ``fp32_path`` to ``out_path``, calibrated on ``crops`` (N, 3, h, w)."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    fp32_path, out_path = Path(fp32_path), Path(out_path)
    if not fp32_path.is_file():
        raise FileNotFoundError(f"ONNX file not found: {fp32_path}")
    crops = np.asarray(crops, np.float32)
    graph = onnx.load(str(fp32_path), load_external_data=False).graph
    dims = [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    if crops.ndim != 4 or list(crops.shape[1:]) != dims[1:]:
        raise ValueError(f"{fp32_path}: calibration crops {crops.shape} do not fit the input [N, "
                         f"{', '.join(map(str, dims[1:]))}]")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    method = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
              "percentile": CalibrationMethod.Percentile}[qcfg.calibration]
    extra: dict[str, bool | float] = {"WeightSymmetric": True, "ActivationSymmetric": qcfg.activations == "int8"}
    if qcfg.calibration == "percentile":
        extra["CalibPercentile"] = qcfg.percentile
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        quantize_static(
            str(pre), str(out_path), CropReader(crops, input_name=graph.input[0].name),
            quant_format=QuantFormat.QDQ if qcfg.quant_format == "qdq" else QuantFormat.QOperator,
            op_types_to_quantize=["Conv", "MatMul"] if qcfg.op_types == "conv_matmul" else None,
            per_channel=qcfg.per_channel, reduce_range=qcfg.reduce_range,
            activation_type=QuantType.QUInt8 if qcfg.activations == "uint8" else QuantType.QInt8,
            weight_type=QuantType.QInt8, nodes_to_exclude=excluded_nodes(pre, qcfg.exclude),
            calibrate_method=method, extra_options=extra)
    return out_path


def compare_outputs(fp32_path: str | Path, int8_path: str | Path, crops: np.ndarray, *,
                    codec=None) -> dict[str, float]:
    """fp32 file against int8 file on ``crops``: max |dlogit|, and with a SimCC ``codec`` the mean and
    max keypoint distance (crop pixels) between the two decodes."""
    from rtmposelib.export.ort_runner import make_session

    crops = np.asarray(crops, np.float32)
    outs = []
    for path in (fp32_path, int8_path):
        sess = make_session(path, threads=1)
        outs.append([np.concatenate(parts) for parts in zip(*(
            sess.run(None, {"input": crops[i:i + 16]}) for i in range(0, len(crops), 16)))])
    report = {"max_abs_logit": float(max(np.abs(a - b).max() for a, b in zip(*outs)))}
    if codec is not None:
        (k32, _), (k8, _) = codec.decode(*outs[0]), codec.decode(*outs[1])
        dist = np.linalg.norm(k32 - k8, axis=-1)
        report.update(mean_kpt_px=float(dist.mean()), max_kpt_px=float(dist.max()))
    return report


def int8_latency(presets, *, runs: int = 200, warmup: int = 50, threads: int = 1, rounds: int = 3,
                 qcfg: QuantizeConfig = QuantizeConfig(), workdir: str | Path | None = None):
    """fp32 against int8 ONNX Runtime latency, side by side, for every preset ("t" = "rtmpose-t").

    The latency protocol of :mod:`rtmposelib.export.latency` (batch 1, ``threads`` intra-op threads,
    ``warmup`` untimed + ``runs`` timed calls, median), split into ``rounds`` alternating fp32 / int8
    blocks so that machine noise reaches both files alike. Weights are random and calibration uses
    random crops: this measures speed only (accuracy needs trained weights and real crops).
    Returns a DataFrame: preset, ort_fp32_ms, ort_int8_ms, int8_speedup (fp32 / int8).
    """
    import pandas as pd
    import torch

    from rtmposelib.config import preset as get_preset
    from rtmposelib.export.latency import time_runs
    from rtmposelib.export.onnx import export_onnx
    from rtmposelib.export.ort_runner import make_session
    from rtmposelib.models.pose_model import build_model

    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    rows = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for name in presets:
            name = name if name.startswith("rtmpose") else f"rtmpose-{name}"
            cfg = get_preset(name)
            torch.manual_seed(0)
            model = build_model(cfg.model).eval()
            w, h = cfg.model.input_size
            fp32 = export_onnx(model, Path(tmp) / f"{name}.onnx", input_size=(w, h))
            crops = np.random.default_rng(0).standard_normal((16, 3, h, w)).astype(np.float32)
            int8 = quantize_onnx(fp32, Path(tmp) / f"{name}.int8.onnx", crops, qcfg)
            sessions = {"fp32": make_session(fp32, threads=threads), "int8": make_session(int8, threads=threads)}
            x = {"input": crops[:1]}
            per_round = max(1, runs // rounds)
            times: dict[str, list[float]] = {"fp32": [], "int8": []}
            for _ in range(rounds):
                for key, sess in sessions.items():
                    times[key].append(time_runs(partial(sess.run, None, x), runs=per_round,
                                                warmup=warmup)["median_ms"])
            fp32_ms, int8_ms = float(np.median(times["fp32"])), float(np.median(times["int8"]))
            rows.append({"preset": name, "ort_fp32_ms": fp32_ms, "ort_int8_ms": int8_ms,
                         "int8_speedup": fp32_ms / int8_ms, "threads": threads})
    return pd.DataFrame(rows)
