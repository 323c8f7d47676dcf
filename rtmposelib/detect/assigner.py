"""RTMDet's dynamic soft-label assigner (RTMDet paper Sec. 3.3, "dynamic soft label assignment").

Matches MMDetection's ``mmdet/models/task_modules/assigners/dynamic_soft_label_assigner.py``
(``DynamicSoftLabelAssigner(topk=13)``, soft_center_radius 3, iou_weight 3) for one image:

1. candidates: priors whose point lies strictly inside at least one ground-truth box;
2. cost of (prior, gt) = soft classification cost + IoU cost + soft centre prior, where
   - soft classification cost = sum over classes of BCE(logit, soft label) * |soft label - sigmoid|^2,
     the soft label being the one-hot gt class times IoU(predicted box, gt box);
   - IoU cost = -log(IoU + 1e-7) * 3;
   - soft centre prior = 10 ** (distance(prior, gt centre) / stride - 3);
3. dynamic k: each gt takes k = max(1, int(sum of its 13 largest IoUs)) lowest-cost candidates; a prior
   claimed by several gts keeps the one of lowest cost.

Returns, per prior: the matched gt index (-1 = background) and the IoU of its predicted box with that
gt (the quality target of the QFL and the weight of the GIoU loss). No gradients flow through it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-7


def box_iou(a: torch.Tensor, b: torch.Tensor, *, eps: float = 1e-6) -> torch.Tensor:
    """Pairwise IoU of (N, 4) and (M, 4) xyxy boxes -> (N, M)."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return inter / union.clamp(min=eps)


@torch.no_grad()
def dynamic_soft_label_assign(*, priors: torch.Tensor, pred_logits: torch.Tensor, pred_boxes: torch.Tensor,
                              gt_boxes: torch.Tensor, gt_labels: torch.Tensor, topk: int = 13,
                              soft_center_radius: float = 3.0, iou_weight: float = 3.0
                              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Assign priors of one image to ground truths.

    priors: (P, 4) (x, y, stride, stride) input px; pred_logits: (P, C); pred_boxes: (P, 4) xyxy input px;
    gt_boxes: (G, 4) xyxy input px; gt_labels: (G,) int64 in [0, C).
    Returns (assigned_gt (P,) int64, -1 = background; assigned_iou (P,) float32, 0 for background).
    """
    num_priors, num_gt = priors.shape[0], gt_boxes.shape[0]
    assigned_gt = torch.full((num_priors,), -1, dtype=torch.long, device=priors.device)
    assigned_iou = torch.zeros(num_priors, device=priors.device)
    if num_gt == 0 or num_priors == 0:
        return assigned_gt, assigned_iou
    # 1. candidates: prior point strictly inside some gt box
    points = priors[:, :2]
    deltas = torch.cat([points[:, None] - gt_boxes[None, :, :2], gt_boxes[None, :, 2:] - points[:, None]], -1)
    valid = deltas.min(dim=-1).values.gt(0).any(dim=1)                     # (P,)
    if not valid.any():
        return assigned_gt, assigned_iou
    v_priors, v_logits, v_boxes = priors[valid], pred_logits[valid].float(), pred_boxes[valid].float()
    # 2. cost matrix (V, G)
    gt_centers = (gt_boxes[:, :2] + gt_boxes[:, 2:]) / 2
    distance = (v_priors[:, None, :2] - gt_centers[None]).pow(2).sum(-1).sqrt() / v_priors[:, 2:3]
    soft_center_prior = torch.pow(10, distance - soft_center_radius)
    ious = box_iou(v_boxes, gt_boxes)                                      # (V, G)
    iou_cost = -torch.log(ious + EPS) * iou_weight
    onehot = F.one_hot(gt_labels.long(), v_logits.shape[-1]).float()[None]  # (1, G, C)
    soft_label = onehot * ious[..., None]                                  # (V, G, C)
    logits = v_logits[:, None].expand(-1, num_gt, -1)
    scale = (soft_label - logits.sigmoid()).abs().pow(2.0)
    cls_cost = (F.binary_cross_entropy_with_logits(logits, soft_label, reduction="none") * scale).sum(-1)
    cost = cls_cost + iou_cost + soft_center_prior
    # 3. dynamic-k matching
    matched_gt, matched_iou, fg = _dynamic_k_matching(cost, ious, topk)
    valid_idx = valid.nonzero().squeeze(1)[fg]
    assigned_gt[valid_idx] = matched_gt
    assigned_iou[valid_idx] = matched_iou
    return assigned_gt, assigned_iou


def _dynamic_k_matching(cost: torch.Tensor, ious: torch.Tensor, topk: int
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(V, G) cost and IoU -> (gt index per matched prior, its IoU, (V,) bool mask of matched priors)."""
    matching = torch.zeros_like(cost, dtype=torch.uint8)
    k_candidates = min(topk, ious.shape[0])
    dynamic_ks = ious.topk(k_candidates, dim=0).values.sum(0).int().clamp(min=1)   # (G,)
    for g in range(cost.shape[1]):
        pos = cost[:, g].topk(int(dynamic_ks[g]), largest=False).indices
        matching[pos, g] = 1
    shared = matching.sum(1) > 1                    # prior claimed by several gts: lowest cost wins
    if shared.any():
        best = cost[shared].argmin(dim=1)
        matching[shared] = 0
        matching[shared.nonzero().squeeze(1), best] = 1
    fg = matching.sum(1) > 0
    matched_gt = matching[fg].argmax(1)
    matched_iou = (matching.float() * ious).sum(1)[fg]
    return matched_gt, matched_iou, fg
