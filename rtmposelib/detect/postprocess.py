"""RTMDet inference post-processing: decode the head's outputs into boxes, score threshold, NMS.

Matches MMDetection's ``BaseDenseHead._predict_by_feat_single`` with RTMDet-nano's ``test_cfg``
(docs/official-behaviour.md "Model zoo"): per level, sigmoid scores, keep ``score > score_thr`` (0.05) and the
``nms_pre``
(1000) best (prior, class) pairs, boxes = prior point -/+ distances (``DistancePointBBoxCoder``),
clipped to the image, class-aware IoU-NMS (0.6), at most ``max_per_img`` (100) boxes, best first.

Output convention is MMDeploy's end-to-end detector (what ``rtmposelib.infer.detector.RTMDetDetector``
reads): ``dets`` (1, N, 5) float32 = x1, y1, x2, y2, score in letterboxed input pixels, and ``labels``
(1, N) int64. The graph has no knowledge of the letterbox's content region, so boxes are clipped to the
whole input (the mmdet test path clips to the resized image before padding; the reader clips again to
the original image after undoing the resize). Everything here is torch and exports to ONNX
(``torchvision.ops.nms`` becomes ``NonMaxSuppression``).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torchvision.ops import nms

from rtmposelib.detect.rtmdet import RTMDet, distance_to_box, grid_priors

SCORE_THR = 0.05
NMS_PRE = 1000
IOU_THR = 0.6
MAX_PER_IMG = 100


def predict_single(cls_scores: tuple[torch.Tensor, ...], bbox_preds: tuple[torch.Tensor, ...],
                   strides: tuple[int, ...], *, image_size: tuple[int, int], score_thr: float = SCORE_THR,
                   nms_pre: int = NMS_PRE, iou_thr: float = IOU_THR, max_per_img: int = MAX_PER_IMG,
                   batch_index: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Detections of image ``batch_index`` of the head's outputs.

    cls_scores[i]: (B, C, H_i, W_i) logits; bbox_preds[i]: (B, 4, H_i, W_i) distances, input px.
    image_size: (w, h) of the input, boxes are clipped to it.
    Returns dets (N, 5) float32 (x1, y1, x2, y2, score; input px; best first) and labels (N,) int64.
    """
    sizes = [(c.shape[-2], c.shape[-1]) for c in cls_scores]
    priors = grid_priors(sizes, strides, device=cls_scores[0].device)
    boxes, scores, labels = [], [], []
    start = 0
    for cls, reg in zip(cls_scores, bbox_preds):
        num_classes, h, w = cls.shape[1:]
        level_priors = priors[start:start + h * w]
        start += h * w
        prob = cls[batch_index].permute(1, 2, 0).reshape(-1).sigmoid()    # (H W C,), prior-major
        dist = reg[batch_index].permute(1, 2, 0).reshape(-1, 4)           # (H W, 4)
        # 1. best nms_pre (prior, class) pairs of the level, then the score threshold
        top, idx = prob.topk(min(nms_pre, prob.shape[0]))
        keep = top > score_thr
        top, idx = top[keep], idx[keep]
        prior_idx = torch.div(idx, num_classes, rounding_mode="floor")
        # 2. decode: prior point -/+ (l, t, r, b)
        boxes.append(distance_to_box(level_priors[prior_idx], dist[prior_idx]))
        scores.append(top)
        labels.append(idx - prior_idx * num_classes)
    boxes, scores, labels = torch.cat(boxes), torch.cat(scores), torch.cat(labels)
    w_img, h_img = image_size
    boxes = torch.stack([boxes[:, 0].clamp(0, w_img), boxes[:, 1].clamp(0, h_img),
                         boxes[:, 2].clamp(0, w_img), boxes[:, 3].clamp(0, h_img)], dim=1)
    # 3. class-aware NMS: shift each class's boxes apart so they never overlap (mmcv batched_nms)
    offsets = labels.to(boxes.dtype)[:, None] * (max(w_img, h_img) + 1.0)
    keep = nms(boxes + offsets, scores, iou_thr)[:max_per_img]            # sorted by score
    dets = torch.cat([boxes[keep], scores[keep, None]], dim=1)
    return dets, labels[keep].to(torch.int64)


def predict_batch(model: RTMDet, images: torch.Tensor, **kwargs) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Run ``model`` on (B, 3, H, W) images -> per image (dets (N, 5), labels (N,)), input pixels."""
    with torch.no_grad():
        cls_scores, bbox_preds = model(images)
    size = (images.shape[3], images.shape[2])
    return [predict_single(cls_scores, bbox_preds, model.strides, image_size=size, batch_index=b, **kwargs)
            for b in range(images.shape[0])]


class RTMDetEndToEnd(nn.Module):
    """RTMDet plus post-processing with MMDeploy's end-to-end I/O, for ONNX export and the pipeline.

    forward(input (1, 3, H, W) float32, letterboxed, normalised BGR) -> (dets (1, N, 5) float32,
    labels (1, N) int64), input pixels, best first.
    """

    def __init__(self, model: RTMDet, *, score_thr: float = SCORE_THR, nms_pre: int = NMS_PRE,
                 iou_thr: float = IOU_THR, max_per_img: int = MAX_PER_IMG) -> None:
        super().__init__()
        self.model = model
        self.kwargs: dict[str, Any] = dict(score_thr=score_thr, nms_pre=nms_pre, iou_thr=iou_thr,
                                           max_per_img=max_per_img)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if images.ndim != 4 or images.shape[0] != 1 or images.shape[1] != 3:
            raise ValueError(f"RTMDetEndToEnd expects one image (1, 3, H, W), got {tuple(images.shape)}")
        cls_scores, bbox_preds = self.model(images)
        dets, labels = predict_single(cls_scores, bbox_preds, self.model.strides,
                                      image_size=(images.shape[3], images.shape[2]), **self.kwargs)
        return dets[None], labels[None]
