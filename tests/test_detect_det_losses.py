"""QFL and GIoU against hand computations / torchvision; the composed RTMDet loss trains the head."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torchvision.ops import box_iou, generalized_box_iou_loss

from rtmposelib.detect.det_losses import RTMDetLoss, giou_loss, quality_focal_loss
from rtmposelib.detect.postprocess import predict_single
from rtmposelib.detect.rtmdet import RTMDetConfig, build_rtmdet


def test_giou_loss_equals_torchvision():
    g = torch.Generator().manual_seed(1)
    a = torch.rand(9, 2, generator=g) * 50
    a = torch.cat([a, a + torch.rand(9, 2, generator=g) * 30 + 1], 1)
    b = torch.rand(9, 2, generator=g) * 50
    b = torch.cat([b, b + torch.rand(9, 2, generator=g) * 30 + 1], 1)
    torch.testing.assert_close(giou_loss(a, b), generalized_box_iou_loss(a, b), atol=1e-5, rtol=1e-5)


def test_quality_focal_loss_by_hand():
    logits = torch.tensor([[0.5, -1.0], [2.0, 0.0]])
    labels = torch.tensor([1, -1])                   # prior 0 positive for class 1 with IoU 0.7
    quality = torch.tensor([0.7, 0.0])
    loss = quality_focal_loss(logits, labels, quality)
    p = logits.sigmoid()

    def neg(x, s):
        return -torch.log(1 - s) * s ** 2                 # BCE(x, 0) * sigmoid^2

    pos = F.binary_cross_entropy_with_logits(logits[0, 1], torch.tensor(0.7)) * (0.7 - p[0, 1]).abs() ** 2
    expected = torch.stack([neg(logits[0, 0], p[0, 0]) + pos, neg(logits[1, 0], p[1, 0]) + neg(logits[1, 1], p[1, 1])])
    torch.testing.assert_close(loss, expected)


def test_rtmdet_loss_is_finite_handles_empty_images_and_learns_the_box():
    """40 AdamW steps on one object (and one empty image) move the top detection onto the object and
    raise its score above the prior's. Thresholds hold on any CPU kernel: over seeds 0-2 under
    ATEN_CPU_CAPABILITY default / avx2 / avx512 the top box had IoU 0.68-0.97 and score 0.028-0.76
    (from 0.011 untrained); one trajectory is asserted only with those margins."""
    torch.manual_seed(0)
    model = build_rtmdet(RTMDetConfig(widen_factor=0.125, neck_channels=16)).train()
    crit = RTMDetLoss(strides=model.strides)
    images = torch.randn(2, 3, 64, 64)
    gt = torch.tensor([[8.0, 4.0, 40.0, 60.0]])
    boxes, labels = [gt, torch.zeros(0, 4)], [torch.tensor([0]), torch.zeros(0, dtype=torch.long)]
    with torch.no_grad():
        untrained, _ = predict_single(*model(images), model.strides, image_size=(64, 64), score_thr=0.0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(40):
        losses = crit(model(images), boxes, labels)
        assert all(torch.isfinite(v) for v in losses.values())
        opt.zero_grad()
        losses["loss"].backward()
        opt.step()
    assert float(losses["loss_bbox"].detach()) > 0                      # the box branch has positives
    with torch.no_grad():        # train-mode BN: 40 steps do not settle the running statistics
        dets, _ = predict_single(*model(images), model.strides, image_size=(64, 64), score_thr=0.0)
    assert box_iou(dets[:1, :4], gt).item() > 0.5              # the top box is on the object
    assert dets[0, 4] > 1.5 * untrained[0, 4]                  # and its score rose above the prior's


def test_rtmdet_loss_checks_batch_length():
    model = build_rtmdet(RTMDetConfig(widen_factor=0.125, neck_channels=16))
    crit = RTMDetLoss(strides=model.strides)
    outputs = model(torch.zeros(2, 3, 64, 64))
    try:
        crit(outputs, [torch.zeros(0, 4)], [torch.zeros(0, dtype=torch.long)])
    except ValueError as err:
        assert "2 images but 1" in str(err)
    else:
        raise AssertionError("expected a ValueError")
