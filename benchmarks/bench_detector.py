"""RTMDet-nano detector latency per frame, one thread: our exported end-to-end ONNX file in ONNX
Runtime (letterbox + network + NMS, what the pipeline runs) vs the same network in PyTorch eager,
measured in the same run on the same SynthPose frames. Also the pose model it feeds (RTMPose-t, one
256 x 192 crop, PyTorch) as a scale reference: the paper pairs the two (Table 12). Prints ms and ratios.

    python benchmarks/bench_detector.py [--frames 30] [--checkpoint runs/det/detector.pth]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from rtmposelib.config import PRESETS
from rtmposelib.data.synth_video import synth_video
from rtmposelib.detect.mmdet_checkpoint import load_detector
from rtmposelib.detect.onnx_export import export_rtmdet_onnx
from rtmposelib.detect.postprocess import RTMDetEndToEnd
from rtmposelib.detect.rtmdet import build_rtmdet_nano
from rtmposelib.infer.detector import RTMDetDetector
from rtmposelib.models.pose_model import build_model


def _ms_per_call(fn, items) -> float:
    fn(items[0])                                               # warm-up
    start = time.perf_counter()
    for item in items:
        fn(item)
    return 1000 * (time.perf_counter() - start) / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--checkpoint", help="detector.pth or mmdet checkpoint (default: untrained weights)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_detector(args.checkpoint) if args.checkpoint else build_rtmdet_nano().eval()
    frames, _ = synth_video(n_frames=args.frames, n_people=3, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_det = RTMDetDetector.from_onnx(export_rtmdet_onnx(model, Path(tmp) / "det.onnx"), threads=1)
        torch_det = RTMDetDetector.from_torch(RTMDetEndToEnd(model))
        ort_ms = _ms_per_call(onnx_det, frames)
        torch_ms = _ms_per_call(torch_det, frames)
    pose = build_model(PRESETS["rtmpose-t"].model).eval()
    crop = torch.zeros(1, 3, 256, 192)
    with torch.inference_mode():
        pose_ms = _ms_per_call(lambda _: pose(crop), frames)
    print(f"RTMDet-nano 320x320, per frame, 1 thread ({args.frames} SynthPose frames)")
    print(f"  ONNX Runtime end-to-end (ours, deployed): {ort_ms:8.2f} ms")
    print(f"  PyTorch eager (reference):                {torch_ms:8.2f} ms   "
          f"ratio ORT / torch = {ort_ms / torch_ms:.2f}")
    print(f"  RTMPose-t one crop, PyTorch (reference):  {pose_ms:8.2f} ms   "
          f"ratio det(ORT) / pose = {ort_ms / pose_ms:.2f}")


if __name__ == "__main__":
    main()
