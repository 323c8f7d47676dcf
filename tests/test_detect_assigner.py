"""Dynamic soft-label assignment: hand-built cases (candidates, dynamic k, conflicts, empty inputs)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torchvision.ops import box_iou as tv_box_iou

from rtmposelib.detect.assigner import box_iou, dynamic_soft_label_assign


def priors_at(points, stride=8.0):
    pts = torch.tensor(points, dtype=torch.float32)
    return torch.cat([pts, torch.full_like(pts, stride)], dim=1)


def test_box_iou_equals_torchvision():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(7, 2, generator=g) * 50
    a = torch.cat([a, a + torch.rand(7, 2, generator=g) * 30 + 1], 1)
    b = torch.rand(5, 2, generator=g) * 50
    b = torch.cat([b, b + torch.rand(5, 2, generator=g) * 30 + 1], 1)
    torch.testing.assert_close(box_iou(a, b), tv_box_iou(a, b))


def test_only_priors_strictly_inside_a_box_are_candidates():
    gt = torch.tensor([[10.0, 10.0, 30.0, 30.0]])
    priors = priors_at([[20, 20], [10, 20], [40, 40], [25, 15]])      # inside, on the edge, outside, inside
    pred = torch.tensor([[10.0, 10, 30, 30]]).repeat(4, 1)            # perfect boxes everywhere
    assigned, iou = dynamic_soft_label_assign(priors=priors, pred_logits=torch.zeros(4, 1), pred_boxes=pred,
                                              gt_boxes=gt, gt_labels=torch.tensor([0]))
    # IoU 1 for both candidates -> k = int(1 + 1) = 2: both inside priors, never the edge / outside ones
    assert assigned.tolist() == [0, -1, -1, 0]
    torch.testing.assert_close(iou, torch.tensor([1.0, 0.0, 0.0, 1.0]))


def test_dynamic_k_is_the_sum_of_top_ious_and_lowest_cost_wins():
    gt = torch.tensor([[0.0, 0.0, 40.0, 40.0]])
    priors = priors_at([[20, 20], [8, 8], [32, 32]])
    # prior 0 predicts the gt exactly; priors 1, 2 predict poor boxes (IoU 0.25, 0.0625)
    pred = torch.tensor([[0.0, 0, 40, 40], [0, 0, 20, 20], [30, 30, 40, 40]])
    assigned, iou = dynamic_soft_label_assign(priors=priors, pred_logits=torch.zeros(3, 1), pred_boxes=pred,
                                              gt_boxes=gt, gt_labels=torch.tensor([0]))
    # k = int(1 + 0.25 + 0.0625) = 1: only the lowest-cost prior (the exact one, at the centre)
    assert assigned.tolist() == [0, -1, -1]
    assert iou[0].item() == 1.0


def test_cost_terms_by_hand():
    """Two gts competing for one prior: the prior goes to the gt of lower total cost."""
    gt = torch.tensor([[0.0, 0.0, 32.0, 32.0], [8.0, 8.0, 48.0, 48.0]])
    priors = priors_at([[16, 16]])
    pred = torch.tensor([[0.0, 0.0, 32.0, 32.0]])
    logits = torch.tensor([[0.3]])
    assigned, iou = dynamic_soft_label_assign(priors=priors, pred_logits=logits, pred_boxes=pred,
                                              gt_boxes=gt, gt_labels=torch.tensor([0, 0]))
    ious = tv_box_iou(pred, gt)[0]
    costs = []
    for g in range(2):
        centre = (gt[g, :2] + gt[g, 2:]) / 2
        dist = torch.linalg.norm(priors[0, :2] - centre) / 8.0
        soft = ious[g]
        cls = F.binary_cross_entropy_with_logits(logits[0, 0], soft) * (soft - logits.sigmoid()[0, 0]).abs() ** 2
        costs.append(cls - 3 * math.log(soft + 1e-7) + 10 ** (dist - 3))
    assert assigned.item() == int(torch.stack(costs).argmin())
    assert iou.item() == ious[assigned.item()].item()


def test_no_gt_or_no_candidate_gives_background():
    priors = priors_at([[4, 4], [12, 4]])
    a, q = dynamic_soft_label_assign(priors=priors, pred_logits=torch.zeros(2, 1), pred_boxes=torch.zeros(2, 4),
                                     gt_boxes=torch.zeros(0, 4), gt_labels=torch.zeros(0, dtype=torch.long))
    assert a.tolist() == [-1, -1] and q.tolist() == [0, 0]
    a, q = dynamic_soft_label_assign(priors=priors, pred_logits=torch.zeros(2, 1), pred_boxes=torch.zeros(2, 4),
                                     gt_boxes=torch.tensor([[50.0, 50, 60, 60]]), gt_labels=torch.tensor([0]))
    assert a.tolist() == [-1, -1]
