"""RTMDet's training losses: quality focal loss (classification) and GIoU loss (boxes), composed as
MMDetection's ``RTMDetHead.loss_by_feat`` (RTMDet paper Sec. 3.3; config ``rtmdet_l_8xb32-300e_coco``).

- Quality focal loss (Li et al. 2020, GFL; ``QualityFocalLoss(use_sigmoid=True, beta=2)``): sigmoid
  BCE per (prior, class) against a soft target that is the IoU of the assigned prediction for the gt
  class and 0 elsewhere, modulated by |target - sigmoid|^beta; summed over classes and priors.
- GIoU loss (Rezatofighi et al. 2019, ``GIoULoss(loss_weight=2)``): 1 - GIoU(pred, gt) on positive
  priors, weighted by their assigned IoU.
- normalisation: the classification sum is divided by max(1, sum of assigned IoUs over the batch), the
  box sum by max(1, sum of its weights) (the same number); the box loss is then multiplied by 2.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rtmposelib.detect.assigner import dynamic_soft_label_assign
from rtmposelib.detect.rtmdet import distance_to_box, flatten_outputs, grid_priors


def quality_focal_loss(logits: torch.Tensor, labels: torch.Tensor, quality: torch.Tensor, *,
                       beta: float = 2.0) -> torch.Tensor:
    """Per-prior QFL. logits (P, C); labels (P,) int64 with -1 = background; quality (P,) IoU targets.

    Returns (P,) losses (summed over classes).
    """
    prob = logits.sigmoid()
    loss = F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits), reduction="none") * prob.pow(beta)
    pos = (labels >= 0).nonzero().squeeze(1)
    if pos.numel():
        cls = labels[pos]
        target = quality[pos].to(logits.dtype)
        pos_logits = logits[pos, cls]
        scale = (target - prob[pos, cls]).abs().pow(beta)
        loss = loss.index_put((pos, cls), F.binary_cross_entropy_with_logits(
            pos_logits, target, reduction="none") * scale)
    return loss.sum(dim=1)


def giou_loss(pred: torch.Tensor, target: torch.Tensor, *, eps: float = 1e-7) -> torch.Tensor:
    """1 - GIoU of aligned (N, 4) xyxy boxes -> (N,)."""
    area_p = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    area_t = (target[:, 2] - target[:, 0]) * (target[:, 3] - target[:, 1])
    wh = (torch.min(pred[:, 2:], target[:, 2:]) - torch.max(pred[:, :2], target[:, :2])).clamp(min=0)
    inter = wh[:, 0] * wh[:, 1]
    union = (area_p + area_t - inter).clamp(min=eps)
    ious = inter / union
    enclose_wh = (torch.max(pred[:, 2:], target[:, 2:]) - torch.min(pred[:, :2], target[:, :2])).clamp(min=0)
    enclose = (enclose_wh[:, 0] * enclose_wh[:, 1]).clamp(min=eps)
    return 1 - (ious - (enclose - union) / enclose)


class RTMDetLoss(nn.Module):
    """loss(outputs, gt_boxes, gt_labels) -> dict(loss_cls, loss_bbox, loss) scalars.

    outputs: the model's (cls_scores, bbox_preds); gt_boxes: list of (G_b, 4) xyxy input px tensors,
    gt_labels: list of (G_b,) int64, one per image of the batch.
    """

    def __init__(self, *, strides: tuple[int, ...], topk: int = 13, beta: float = 2.0,
                 bbox_weight: float = 2.0) -> None:
        super().__init__()
        self.strides = tuple(strides)
        self.topk = topk
        self.beta = beta
        self.bbox_weight = bbox_weight

    def forward(self, outputs, gt_boxes: list[torch.Tensor], gt_labels: list[torch.Tensor]) -> dict:
        logits, dists, sizes = flatten_outputs(*outputs)                 # (B, P, C), (B, P, 4)
        if len(gt_boxes) != logits.shape[0] or len(gt_labels) != logits.shape[0]:
            raise ValueError(f"RTMDetLoss: {logits.shape[0]} images but {len(gt_boxes)} box lists")
        priors = grid_priors(sizes, self.strides, device=logits.device)
        boxes = distance_to_box(priors[None], dists)                     # (B, P, 4)
        cls_terms, box_terms, norm = [], [], logits.new_zeros(())
        for b in range(logits.shape[0]):
            gt_b = gt_boxes[b].to(logits.device, torch.float32).reshape(-1, 4)
            assigned, quality = dynamic_soft_label_assign(
                priors=priors, pred_logits=logits[b].detach(), pred_boxes=boxes[b].detach(), gt_boxes=gt_b,
                gt_labels=gt_labels[b].to(logits.device), topk=self.topk)
            labels = torch.full_like(assigned, -1)
            pos = assigned >= 0
            labels[pos] = gt_labels[b].to(logits.device)[assigned[pos]]
            cls_terms.append(quality_focal_loss(logits[b], labels, quality, beta=self.beta).sum())
            if pos.any():
                weight = quality[pos]
                box_terms.append((giou_loss(boxes[b][pos], gt_b[assigned[pos]]) * weight).sum())
                norm = norm + weight.sum()
        norm = norm.clamp(min=1.0)
        loss_cls = torch.stack(cls_terms).sum() / norm
        loss_bbox = (torch.stack(box_terms).sum() if box_terms else dists.sum() * 0) / norm * self.bbox_weight
        return dict(loss_cls=loss_cls, loss_bbox=loss_bbox, loss=loss_cls + loss_bbox)
