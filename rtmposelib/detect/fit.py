"""Training and box-AP evaluation of RTMDet (the detector's own small fit loop).

Recipe of ``mmdet::rtmdet_l_8xb32-300e_coco.py`` as RTMDet-nano inherits it (docs/official-behaviour.md "Model zoo"),
reusing the
pose engine's pieces (``rtmposelib/train``):

- AdamW, lr 0.004, weight decay 0.05, no decay on norm layers and biases (``train.optim.param_groups``);
- linear warm-up from 1e-5 over 1000 iterations (capped at 10 % of a short run), flat, then cosine over
  the second half down to 0.05 x lr (``train.schedule.lr_factor``, the same shape as the official
  LinearLR + CosineAnnealingLR(150 -> 300 epochs));
- EMA of the weights, ``ExpMomentumEMA`` momentum 2e-4 (``train.ema``); evaluation uses the EMA;
- losses and assigner of ``det_losses.py``; data pipeline of ``det_data.py``.

Evaluation is COCO box AP with pycocotools (``iouType='bbox'``) on the person category, detections
with the nano ``test_cfg`` (score > 0.05, NMS 0.6, 100 per image) mapped back to image pixels.
A non-finite loss stops training with a ValueError naming the iteration.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from torch.utils.data import DataLoader

from rtmposelib.detect.det_data import DetectionDataset, collate
from rtmposelib.detect.det_losses import RTMDetLoss
from rtmposelib.detect.postprocess import predict_batch
from rtmposelib.detect.rtmdet import RTMDet, RTMDetConfig, build_rtmdet
from rtmposelib.train.checkpoint import atomic_save
from rtmposelib.train.ema import ExpMomentumEMA
from rtmposelib.train.optim import param_groups
from rtmposelib.train.schedule import effective_warmup, lr_factor, set_lr

BOX_METRICS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


@dataclass(frozen=True)
class DetTrainConfig:
    """The detector's training recipe; defaults are the official ones where they apply to a CPU run."""
    epochs: int = 10
    batch_size: int = 16                          # official 8 x 32
    base_lr: float = 0.004
    weight_decay: float = 0.05
    warmup_iters: int = 1000
    cosine_start_frac: float = 0.5                # cosine over epochs 150 -> 300 of 300
    eta_min_ratio: float = 0.05
    ema_momentum: float = 2e-4
    seed: int = 0
    num_workers: int = 0
    max_iters: int | None = None                  # stop early (tests, smoke runs)


@dataclass
class DetFitResult:
    model: RTMDet
    ema_model: RTMDet
    metrics: dict
    history: pd.DataFrame
    checkpoint: Path | None


def fit_detector(*, ann_file: str | Path, image_dir: str | Path, out_dir: str | Path | None = None,
                 val_ann_file: str | Path | None = None, val_image_dir: str | Path | None = None,
                 cfg: DetTrainConfig = DetTrainConfig(), model_cfg: RTMDetConfig = RTMDetConfig(),
                 progress: bool = False) -> DetFitResult:
    """Train RTMDet on the boxes of a COCO-format file; evaluate box AP on the val set if given.

    Writes ``detector.pth`` (dict(state_dict = EMA weights, model_config, train_config, metrics)) and
    ``metrics.json`` to ``out_dir`` when given.
    """
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    model = build_rtmdet(model_cfg)
    train_set = DetectionDataset(ann_file=ann_file, image_dir=image_dir, input_size=model_cfg.input_size,
                                 train=True, seed=cfg.seed)
    if len(train_set) == 0:
        raise ValueError(f"{ann_file}: no image with a usable box (skipped: {dict(train_set.skipped)})")
    generator = torch.Generator().manual_seed(cfg.seed)
    total = cfg.epochs * math.ceil(len(train_set) / cfg.batch_size)
    if cfg.max_iters is not None:
        total = min(total, cfg.max_iters)
    optimizer = torch.optim.AdamW(param_groups(model, weight_decay=cfg.weight_decay, decay_norm_and_bias=False),
                                  lr=cfg.base_lr)
    warmup = effective_warmup(cfg.warmup_iters, total)
    criterion = RTMDetLoss(strides=model_cfg.strides)
    ema = ExpMomentumEMA(model, momentum=cfg.ema_momentum)
    rows, it, start = [], 0, time.perf_counter()
    model.train()
    for epoch in range(cfg.epochs):
        if it >= total:
            break
        train_set.set_epoch(epoch)
        loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True, drop_last=False,
                            num_workers=cfg.num_workers, collate_fn=collate, generator=generator)
        for batch in loader:
            if it >= total:
                break
            lr = cfg.base_lr * lr_factor(it, total_iters=total, warmup_iters=warmup,
                                         cosine_start_frac=cfg.cosine_start_frac,
                                         eta_min_ratio=cfg.eta_min_ratio)
            set_lr(optimizer, lr)
            losses = criterion(model(batch["image"]), batch["boxes"], batch["labels"])
            if not torch.isfinite(losses["loss"]):
                raise ValueError(f"non-finite detector loss at iteration {it} (epoch {epoch}): "
                                 f"{ {k: float(v.detach()) for k, v in losses.items()} }")
            optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            optimizer.step()
            ema.update(model)
            rows.append(dict(iter=it, epoch=epoch, lr=lr, **{k: float(v.detach()) for k, v in losses.items()}))
            if progress and it % 20 == 0:
                print(f"iter {it}/{total} epoch {epoch} lr {lr:.2e} loss {rows[-1]['loss']:.4f} "
                      f"(cls {rows[-1]['loss_cls']:.4f} box {rows[-1]['loss_bbox']:.4f}) "
                      f"{time.perf_counter() - start:.0f}s", flush=True)
            it += 1
    model.eval()
    metrics = dict(iters=it, train_seconds=time.perf_counter() - start, skipped=dict(train_set.skipped))
    if val_ann_file is not None:
        val_set = DetectionDataset(ann_file=val_ann_file, image_dir=val_image_dir or image_dir,
                                   input_size=model_cfg.input_size)
        metrics.update(evaluate_detector(ema.module, val_set))
    checkpoint = None
    if out_dir is not None:
        out_dir = Path(out_dir)
        checkpoint = atomic_save(dict(state_dict=ema.module.state_dict(), model_config=asdict(model_cfg),
                                      train_config=asdict(cfg), metrics=metrics), out_dir / "detector.pth")
        (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return DetFitResult(model=model, ema_model=ema.module, metrics=metrics, history=pd.DataFrame(rows),
                        checkpoint=checkpoint)


def detect_dataset(model: RTMDet, dataset: DetectionDataset, *, batch_size: int = 8) -> list[dict]:
    """COCO detection results (image_id, category_id, bbox xywh image px, score) of ``model`` on an
    evaluation-mode ``dataset``."""
    if dataset.train:
        raise ValueError("detect_dataset needs an evaluation dataset (train=False)")
    model.eval()
    results = []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate)
    for batch in loader:
        for (dets, _labels), image_id, ratio, (w, h) in zip(predict_batch(model, batch["image"]),
                                                           batch["image_id"], batch["ratio"], batch["orig_size"]):
            boxes = dets[:, :4].numpy() / ratio
            boxes[:, 0::2] = boxes[:, 0::2].clip(0, w)
            boxes[:, 1::2] = boxes[:, 1::2].clip(0, h)
            for box, score in zip(boxes, dets[:, 4].tolist()):
                x1, y1, x2, y2 = (float(v) for v in box)
                results.append(dict(image_id=image_id, category_id=dataset.category_id,
                                    bbox=[x1, y1, x2 - x1, y2 - y1], score=float(score)))
    return results


def coco_box_eval(ann_file: str | Path, results: list[dict], *, category_id: int = 1) -> dict:
    """pycocotools box AP/AR of ``results`` on ``ann_file``, restricted to ``category_id``; all zeros
    when there are no detections."""
    if not results:
        return {k: 0.0 for k in BOX_METRICS}
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(ann_file))
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, iouType="bbox")
        ev.params.catIds = [category_id]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {k: float(v) for k, v in zip(BOX_METRICS, ev.stats)}


def evaluate_detector(model: RTMDet, dataset: DetectionDataset, *, batch_size: int = 8) -> dict:
    """Box AP metrics of ``model`` on ``dataset`` (pycocotools), plus ``num_detections``."""
    results = detect_dataset(model, dataset, batch_size=batch_size)
    return dict(coco_box_eval(dataset.ann_file, results, category_id=dataset.category_id),
                num_detections=len(results))
