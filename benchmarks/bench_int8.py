"""int8 deployment against fp32: ONNX Runtime latency side by side for RTMPose-t/s/m/l, and, with a
trained checkpoint, AP on its validation set and the keypoint error on real COCO sample images.

Latency: :func:`rtmposelib.export.quantize.int8_latency` (batch 1, 1 thread, fp32 and int8 alternating
in rounds; random weights, speed only). Accuracy (``--checkpoint``): the checkpoint's run config and
val split, evaluated through the official protocol (:func:`rtmposelib.eval.evaluate.evaluate`, flip test
as the config says) with the fp32 file and the int8 file calibrated on ``--calib-crops`` training
crops; then the ground-truth boxes of the real samples (``--samples``, a folder with
``test_coco.json``) are cropped, run through both files, and the keypoint distance between the two
is reported in image pixels and as a fraction of the box diagonal. ``--variants`` repeats the
accuracy part for other quantisation settings (name=field:value[,field:value], e.g.
``head=exclude:head``) and times each of them on ``--latency-presets``.

    python benchmarks/bench_int8.py [--presets t,s,m,l] [--checkpoint runs/t/best.pth]
        [--samples <folder with test_coco.json>] [--variants head=exclude:head]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from rtmposelib.export.quantize import QuantizeConfig, calibration_crops, compare_outputs, int8_latency, quantize_onnx


class OrtModule(nn.Module):
    """An ONNX file as a torch module (CPU, float32 in and out), so evaluation code can run it."""

    def __init__(self, path: str | Path, threads: int = 2) -> None:
        super().__init__()
        from rtmposelib.export.ort_runner import make_session
        self.session = make_session(path, threads=threads)

    def forward(self, images: torch.Tensor):
        outs = self.session.run(None, {"input": images.detach().cpu().float().numpy()})
        return tuple(torch.from_numpy(o) for o in outs)


def parse_variant(text: str) -> tuple[str, QuantizeConfig]:
    """'name=field:value,field:value' -> (name, QuantizeConfig with those fields)."""
    name, _, spec = text.partition("=")
    kinds = {f.name: f.type for f in fields(QuantizeConfig)}
    values = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition(":")
        if key not in kinds:
            raise ValueError(f"unknown QuantizeConfig field {key!r} in {text!r}; fields: {sorted(kinds)}")
        kind = kinds[key]
        values[key] = (value == "true") if kind in (bool, "bool") else \
            float(value) if kind in (float, "float") else value
    return name, QuantizeConfig(**values)


def real_sample_error(fp32: Path, int8: Path, samples: Path, codec) -> dict:
    """Keypoint distance fp32 vs int8 on the ground-truth person boxes of ``samples/test_coco.json``."""
    import cv2

    from rtmposelib.data.metainfo import get_metainfo
    from rtmposelib.infer.topdown import TopdownPipeline

    ann = json.loads((samples / "test_coco.json").read_text())
    meta = get_metainfo("coco")
    pipes = [TopdownPipeline(str(p), metainfo=meta, codec=codec, pose_nms_thr=None) for p in (fp32, int8)]
    dists, diags = [], []
    for img in ann["images"]:
        boxes = np.array([a["bbox"] for a in ann["annotations"] if a["image_id"] == img["id"]
                          and a.get("num_keypoints", 1) > 0], np.float32).reshape(-1, 4)
        if not len(boxes):
            continue
        boxes[:, 2:] += boxes[:, :2]
        image = cv2.imread(str(samples / img["file_name"]))
        a, b = (p.estimate(image, boxes, nms=False) for p in pipes)
        dists.append(np.linalg.norm(a.keypoints - b.keypoints, axis=-1))
        diags.append(np.repeat(np.hypot(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])[:, None],
                               a.keypoints.shape[1], axis=1))
    d, g = np.concatenate(dists), np.concatenate(diags)
    return {"instances": int(d.shape[0]), "mean_px": float(d.mean()), "median_px": float(np.median(d)),
            "max_px": float(d.max()), "mean_frac_diag": float((d / g).mean()),
            "same_within_1px": float((d <= 1.0).mean())}


def accuracy(checkpoint: str, variants: dict[str, QuantizeConfig], calib: int, samples: Path | None) -> list[dict]:
    from rtmposelib.codecs import SimCCCodec, build_codec
    from rtmposelib.eval.evaluate import evaluate
    from rtmposelib.export.onnx import export_onnx
    from rtmposelib.models.pose_model import build_model
    from rtmposelib.train.checkpoint import checkpoint_run_config, load_pose_weights

    cfg = checkpoint_run_config(checkpoint, None)
    model = build_model(cfg.model).eval()
    load_pose_weights(model, checkpoint, use_ema=None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_onnx(model, Path(tmp) / "fp32.onnx", input_size=cfg.model.input_size)
        crops = calibration_crops(cfg, calib)
        ap32 = evaluate(OrtModule(fp32), cfg, split="val")["AP"]
        rows.append({"file": "fp32", "AP": ap32})
        codec = build_codec(cfg.codec)
        for name, qcfg in variants.items():
            int8 = quantize_onnx(fp32, Path(tmp) / f"{name}.onnx", crops, qcfg)
            row = {"file": f"int8:{name}", "AP": evaluate(OrtModule(int8), cfg, split="val")["AP"]}
            row["AP_drop_points"] = 100 * (ap32 - row["AP"])
            row.update({f"calib_{k}": v for k, v in compare_outputs(
                fp32, int8, crops, codec=codec if isinstance(codec, SimCCCodec) else None).items()})
            if samples is not None:
                row.update({f"real_{k}": v for k, v in
                            real_sample_error(fp32, int8, samples, codec).items()})
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="t,s,m,l", help="latency presets ('' = skip latency)")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4, help="fp32 / int8 alternations per preset")
    parser.add_argument("--checkpoint", help="a trained checkpoint for the AP / keypoint-error part")
    parser.add_argument("--calib-crops", type=int, default=128)
    parser.add_argument("--samples", help="folder with test_coco.json and its images (real samples)")
    parser.add_argument("--variants", default="", help="extra settings: name=field:value[,...];name2=...")
    args = parser.parse_args(argv)
    variants = {"default": QuantizeConfig()}
    variants.update(parse_variant(v) for v in filter(None, args.variants.split(";")))
    torch.set_num_threads(1)
    for name, qcfg in variants.items():
        presets = [p for p in args.presets.split(",") if p]
        if presets:
            table = pd.concat([int8_latency([p], runs=args.runs, warmup=args.warmup, rounds=args.rounds, qcfg=qcfg)
                               for p in tqdm(presets, desc=f"int8 latency ({name})", unit="model", disable=None)],
                              ignore_index=True)
            for row in table.to_dict("records"):
                print("RESULT " + json.dumps({"part": "latency", "variant": name, **row}), flush=True)
            print(f"# latency, variant {name} ({qcfg}):")
            print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"), flush=True)
    if args.checkpoint:
        torch.set_num_threads(2)
        samples = Path(args.samples) if args.samples else None
        if samples is not None and not (samples / "test_coco.json").is_file():
            print(f"error: {samples / 'test_coco.json'} not found", file=sys.stderr)
            return 2
        for row in accuracy(args.checkpoint, variants, args.calib_crops, samples):
            print("RESULT " + json.dumps({"part": "accuracy", **row}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
