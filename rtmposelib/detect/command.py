"""``rtmpose detector``: train, evaluate and export the RTMDet-nano person detector.

    rtmpose detector train --data synth:cpu --out runs/det --epochs 1 --max-iters 150
    rtmpose detector eval --checkpoint runs/det/detector.pth --data synth:cpu
    rtmpose detector export --checkpoint runs/det/detector.pth --out runs/det/rtmdet-nano.onnx

``--data`` is ``synth:<size>`` or a COCO-format root (``rtmposelib.data.sources.resolve_data``); the
person boxes of its keypoint files are used. ``--checkpoint`` is our ``detector.pth`` or an official
MMDetection RTMDet-nano checkpoint. The ONNX file is what ``rtmpose demo`` / ``RTMDetDetector.from_onnx``
read (MMDeploy end-to-end: ``input`` -> ``dets``, ``labels``).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    train = sub.add_parser("train", help="train on the person boxes of a COCO-format set")
    train.add_argument("--data", default="synth:smoke", help="synth:smoke | synth:cpu | synth:<n> | COCO root")
    train.add_argument("--out", required=True, help="folder for detector.pth, metrics.json, history.csv")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--batch-size", type=int, default=16)
    train.add_argument("--lr", type=float, default=0.004)
    train.add_argument("--max-iters", type=int, help="stop after this many iterations")
    train.add_argument("--workers", type=int, default=0, help="DataLoader workers")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--no-eval", action="store_true", help="skip the box-AP evaluation on val")
    evaluate = sub.add_parser("eval", help="COCO box AP of a checkpoint on the val split")
    evaluate.add_argument("--checkpoint", required=True)
    evaluate.add_argument("--data", default="synth:smoke")
    evaluate.add_argument("--ema", action="store_true", help="load the EMA weights of an mmdet checkpoint")
    export = sub.add_parser("export", help="export to ONNX (MMDeploy end-to-end outputs dets, labels)")
    export.add_argument("--checkpoint", help="detector.pth or mmdet checkpoint (default: untrained weights)")
    export.add_argument("--out", required=True, help="the .onnx file to write")
    export.add_argument("--ema", action="store_true", help="load the EMA weights of an mmdet checkpoint")
    export.add_argument("--score-thr", type=float, default=0.05)
    export.add_argument("--iou-thr", type=float, default=0.6)
    export.add_argument("--max-per-img", type=int, default=100)


def _paths(source: str):
    from rtmposelib.config import DataConfig
    from rtmposelib.data.sources import resolve_data

    return resolve_data(DataConfig(source=source))


def run(args: argparse.Namespace) -> int:
    if args.action == "train":
        from rtmposelib.detect.fit import DetTrainConfig, fit_detector

        paths = _paths(args.data)
        cfg = replace(DetTrainConfig(), epochs=args.epochs, batch_size=args.batch_size, base_lr=args.lr,
                      max_iters=args.max_iters, num_workers=args.workers, seed=args.seed)
        result = fit_detector(ann_file=paths.train_ann, image_dir=paths.train_images, out_dir=args.out,
                              val_ann_file=None if args.no_eval else paths.val_ann,
                              val_image_dir=paths.val_images, cfg=cfg, progress=True)
        result.history.to_csv(f"{args.out}/history.csv", index=False)
        print(json.dumps(result.metrics, indent=1))
        print(f"wrote {result.checkpoint}")
        return 0
    from rtmposelib.detect.mmdet_checkpoint import load_detector

    if args.action == "eval":
        from rtmposelib.detect.det_data import DetectionDataset
        from rtmposelib.detect.fit import evaluate_detector

        model = load_detector(args.checkpoint, use_ema=args.ema)
        paths = _paths(args.data)
        dataset = DetectionDataset(ann_file=paths.val_ann, image_dir=paths.val_images)
        print(json.dumps(evaluate_detector(model, dataset), indent=1))
        return 0
    from rtmposelib.detect.onnx_export import export_rtmdet_onnx
    from rtmposelib.detect.rtmdet import build_rtmdet_nano

    model = load_detector(args.checkpoint, use_ema=args.ema) if args.checkpoint else build_rtmdet_nano().eval()
    path = export_rtmdet_onnx(model, args.out, score_thr=args.score_thr, iou_thr=args.iou_thr,
                              max_per_img=args.max_per_img)
    print(f"wrote {path}")
    return 0
